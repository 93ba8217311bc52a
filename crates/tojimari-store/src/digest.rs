//! A host observation's digest: a 64-bit FNV-1a hash (hex) of everything `diff` compares about the host in
//! one scan (its state, names and OS; each listed port's state, service, product, version, tunnel and
//! certificate; the folds' states and ranges; the findings), kept in `host_obs.digest`. Two scans' hosts
//! with equal digests have no difference, so a comparison loads only the hosts whose digests differ
//! (`browse::compare`). Fixed, hand-written hash: the same rows give the same digest in every version.

use crate::rows::HostRows;

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A field, length first (so `ab`+`c` and `a`+`bc` differ).
    fn field(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        match s {
            None => self.bytes(&[0]),
            Some(s) => {
                self.bytes(&[1]);
                self.field(s);
            }
        }
    }
}

/// The digest of one host's rows.
pub(crate) fn host_digest(r: &HostRows) -> String {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.field(r.host.state);
    h.field(&r.host.hostnames);
    h.opt(r.host.os_name.as_deref());
    let mut ports: Vec<_> = r.ports.iter().collect();
    ports.sort_by_key(|p| (p.proto, p.port));
    h.bytes(&(ports.len() as u64).to_le_bytes());
    for p in ports {
        h.field(p.proto);
        h.bytes(&p.port.to_le_bytes());
        h.field(p.state);
        h.opt(p.service.as_deref());
        h.opt(p.product.as_deref());
        h.opt(p.version.as_deref());
        h.opt(p.tunnel);
        h.opt(p.cert.as_deref());
    }
    let mut folds: Vec<_> = r.folds.iter().collect();
    folds.sort_by_key(|f| (f.proto, f.state, f.reason));
    h.bytes(&(folds.len() as u64).to_le_bytes());
    for f in folds {
        h.field(f.proto);
        h.field(f.state);
        h.field(&f.ports);
    }
    let mut findings: Vec<_> = r.findings.iter().collect();
    findings.sort_by(|a, b| (a.proto, a.port, &a.id).cmp(&(b.proto, b.port, &b.id)));
    h.bytes(&(findings.len() as u64).to_le_bytes());
    for f in findings {
        h.field(f.proto);
        h.bytes(&f.port.to_le_bytes());
        h.field(&f.id);
        h.field(f.severity);
        h.field(&f.evidence);
    }
    format!("{:016x}", h.0)
}
