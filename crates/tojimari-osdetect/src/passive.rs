//! Passive guesses from one SYN/ACK (a scan's answer, to a SYN carrying only an MSS option) or one SYN
//! (a scanning source's own probe), without any probe of ours: TTL, window, option order, DF, window
//! scale and MSS, matched against the entries' `passive.synack.*` / `passive.syn.*` facts.
//!
//! Six facts say less than sixteen probes, so a passive accuracy is capped at [`CAP`] percent.

use crate::db::Db;
use crate::matcher::score;
use crate::notation::{Value, initial_ttl};
use crate::reply::{self, Opt, TCP};
use crate::report::to_match;
use tojimari_core::os::OsMatch;
use tojimari_wire::tcp::flags;

/// The highest accuracy a passive guess states.
pub const CAP: u8 = 85;
/// Guesses below this accuracy are not listed.
pub const FLOOR: u8 = 50;

/// What a SYN or SYN/ACK says without any probe of ours: the facts kept per host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    pub ttl: u8,
    pub window: u16,
    pub df: bool,
    /// The TCP options' kinds in order, with the MSS and window scale values.
    pub options: Vec<u8>,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    /// True for a SYN/ACK (an answer), false for a SYN (a client's own choice).
    pub syn_ack: bool,
}

/// Reads the facts from an IP packet (IPv4 or IPv6) carrying a SYN or SYN/ACK; `None` for anything else.
pub fn read(ip_packet: &[u8]) -> Option<Handshake> {
    let ip = reply::ip(ip_packet)?;
    if ip.proto != TCP {
        return None;
    }
    let tcp = reply::tcp(ip.payload)?;
    let f = tcp.flags & (flags::SYN | flags::ACK | flags::RST | flags::FIN);
    let syn_ack = match f {
        x if x == flags::SYN => false,
        x if x == flags::SYN | flags::ACK => true,
        _ => return None,
    };
    let mut options = Vec::new();
    let (mut mss, mut wscale) = (None, None);
    for o in &tcp.options {
        options.push(match *o {
            Opt::Mss(v) => {
                mss = Some(v);
                2
            }
            Opt::Ws(s) => {
                wscale = Some(s);
                3
            }
            Opt::Sack => 4,
            Opt::Ts(..) => 8,
            Opt::Nop => 1,
            Opt::Eol => 0,
            Opt::Other(k) => k,
            Opt::Broken => 255,
        });
    }
    Some(Handshake { ttl: ip.ttl, window: tcp.window, df: ip.df.unwrap_or(false), options, mss, wscale, syn_ack })
}

impl Handshake {
    /// The facts in the database's notation (`passive.synack.ttl = 64`, ...).
    pub fn values(&self) -> Vec<(String, Value)> {
        let side = if self.syn_ack { "synack" } else { "syn" };
        let letters: String = self
            .options
            .iter()
            .map(|k| match k {
                0 => 'E',
                1 => 'N',
                2 => 'M',
                3 => 'W',
                4 => 'S',
                8 => 'T',
                255 => 'X',
                _ => 'U',
            })
            .collect();
        let opt = |v: Option<u32>| v.map_or(Value::word("none"), Value::Num);
        vec![
            (format!("passive.{side}.ttl"), Value::Num(u32::from(initial_ttl(self.ttl)))),
            (format!("passive.{side}.win"), Value::Num(u32::from(self.window))),
            (format!("passive.{side}.opts"), Value::Word(if letters.is_empty() { "none".into() } else { letters })),
            (format!("passive.{side}.df"), Value::yes_no(self.df)),
            (format!("passive.{side}.ws"), opt(self.wscale.map(u32::from))),
            (format!("passive.{side}.mss"), opt(self.mss.map(u32::from))),
        ]
    }
}

/// The likely systems, best first, each with accuracy (at most [`CAP`]).
pub fn guess(db: &Db, handshake: &Handshake) -> Vec<OsMatch> {
    let values = handshake.values();
    let full: u32 = values.iter().filter_map(|(k, _)| crate::db::keys::info(k)).map(|i| i.weight).sum();
    let mut scored: Vec<(u8, u32, &crate::db::Entry)> = db
        .entries
        .iter()
        .map(|e| {
            let s = score(e, &values, true, full);
            let acc = (u32::from(s.accuracy) * u32::from(CAP) / 100) as u8;
            (acc, s.compared, e)
        })
        .filter(|(acc, _, _)| *acc >= FLOOR)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.line.cmp(&b.2.line)));
    scored.into_iter().take(5).map(|(acc, _, e)| to_match(e, acc)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 SYN/ACK from 198.18.0.2:22 with the given TTL, window and options block.
    pub(crate) fn synack(ttl: u8, window: u16, df: bool, opts: &[u8], flags: u8) -> Vec<u8> {
        let tcp_len = 20 + opts.len();
        let mut p = vec![0u8; 20 + tcp_len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        if df {
            p[6] = 0x40;
        }
        p[8] = ttl;
        p[9] = 6;
        p[12..16].copy_from_slice(&[198, 18, 0, 2]);
        p[16..20].copy_from_slice(&[198, 18, 0, 1]);
        p[20..22].copy_from_slice(&22u16.to_be_bytes());
        p[22..24].copy_from_slice(&40000u16.to_be_bytes());
        p[32] = ((tcp_len / 4) as u8) << 4;
        p[33] = flags;
        p[34..36].copy_from_slice(&window.to_be_bytes());
        p[40..].copy_from_slice(opts);
        p
    }

    #[test]
    fn reads_a_synack() {
        let opts = [2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7];
        let h = read(&synack(61, 64240, true, &opts, 0x12)).unwrap();
        assert_eq!(h.ttl, 61);
        assert_eq!(h.window, 64240);
        assert!(h.df && h.syn_ack);
        assert_eq!(h.options, vec![2, 1, 1, 4, 1, 3]);
        assert_eq!((h.mss, h.wscale), (Some(1460), Some(7)));
        let v = h.values();
        assert_eq!(v[0], ("passive.synack.ttl".into(), Value::Num(64)));
        assert_eq!(v[2], ("passive.synack.opts".into(), Value::word("MNNSNW")));
        // A SYN is a client's; RST or plain ACK are neither.
        assert!(!read(&synack(61, 1, true, &[], 0x02)).unwrap().syn_ack);
        assert!(read(&synack(61, 1, true, &[], 0x14)).is_none());
        assert!(read(&synack(61, 1, true, &[], 0x13)).is_none());
        assert!(read(&[0x45, 0, 0]).is_none());
        // Truncated options: read what there is, no panic.
        let h = read(&synack(64, 1, false, &[2, 4, 5, 0xb4, 3, 9, 0, 0], 0x12)).unwrap();
        assert_eq!(h.options, vec![2, 255]);
    }

    #[test]
    fn reads_ipv6() {
        let v4 = synack(64, 28800, false, &[2, 4, 5, 0xa0, 4, 2, 1, 1], 0x12);
        let tcp = &v4[20..];
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&(tcp.len() as u16).to_be_bytes());
        p[6] = 6;
        p[7] = 57;
        p[8] = 0x20;
        p[24] = 0x20;
        p.extend_from_slice(tcp);
        let h = read(&p).unwrap();
        assert_eq!((h.ttl, h.window, h.df), (57, 28800, false));
        assert_eq!(h.options, vec![2, 4, 1, 1]);
    }

    #[test]
    fn guesses_from_the_builtin_database() {
        let db = Db::builtin();
        // Windows' answer to an MSS-only SYN: TTL 128, window 65535 or 64240, MSS only, DF.
        let h = read(&synack(127, 65535, true, &[2, 4, 5, 0xb4], 0x12)).unwrap();
        let g = guess(db, &h);
        assert!(!g.is_empty());
        assert_eq!(g[0].classes[0].family, "Windows", "{g:?}");
        assert!(g.iter().all(|m| m.accuracy <= CAP));
        // Linux's: TTL 64, MSS only (no SACK offered), window 64240, DF.
        let h = read(&synack(64, 64240, true, &[2, 4, 5, 0xb4], 0x12)).unwrap();
        let g = guess(db, &h);
        assert_eq!(g[0].classes[0].family, "Linux", "{g:?}");
    }
}
