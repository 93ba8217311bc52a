//! The test bed itself: a `switch` namespace with a bridge, a `scanner` namespace and N
//! `target` namespaces, each joined to the bridge by a veth pair, with no route out.
//!
//! Building it takes N+3 `ip` processes (one batch per namespace) plus a few in-process
//! sysctl writes; dropping it kills the processes left in its namespaces and deletes them.

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use ipnet::{Ipv4Net, Ipv6Net};

use crate::error::{Error, Result};
use crate::netns::{NETNS_DIR, Netns, run_checked};
use crate::persona::{Persona, PersonaHost, persona_v4, persona_v6};

/// The prefix of every namespace name this crate makes: `tjm{pid}x{counter}-{role}`.
pub const PREFIX: &str = "tjm";

/// The scanner's IPv4 address, on 198.18.0.0/24.
pub const SCANNER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The scanner's IPv6 address, on 2001:db8:18::/64.
pub const SCANNER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 1);
/// The most targets one bed holds (198.18.0.2 ..= 198.18.0.254).
pub const MAX_TARGETS: usize = 253;

/// Networks a route added by the bed may cover: the RFC 2544 benchmarking range and the
/// IPv6 documentation range. Anything else is refused, so no test can route real traffic.
const ALLOWED_V4: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15) {
    Ok(net) => net,
    Err(_) => panic!("bad constant"),
};
const ALLOWED_V6: Ipv6Net = match Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32) {
    Ok(net) => net,
    Err(_) => panic!("bad constant"),
};

/// Per-process counter that makes each bed's prefix unique.
static NEXT_BED: AtomicU32 = AtomicU32::new(0);
/// Beds are built one at a time per process: `ip netns add` sets up the shared `/run/netns`
/// mount on first use and is not safe to race with itself. Teardown is not serialised.
static BUILDING: Mutex<()> = Mutex::new(());

/// The IPv4 address of target `i` (0-based): 198.18.0.(i+2).
pub fn target_v4(i: usize) -> Ipv4Addr {
    let host = u8::try_from(i + 2).expect("target index beyond MAX_TARGETS");
    Ipv4Addr::new(198, 18, 0, host)
}

/// The IPv6 address of target `i` (0-based): 2001:db8:18::(i+2).
pub fn target_v6(i: usize) -> Ipv6Addr {
    let host = u16::try_from(i + 2).expect("target index beyond u16");
    Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, host)
}

/// One target host: its namespace and addresses.
#[derive(Debug)]
pub struct Target {
    /// The target's namespace (interface `eth0`, plus `lo`).
    pub ns: Netns,
    /// Its IPv4 address, see [`target_v4`].
    pub v4: Ipv4Addr,
    /// Its IPv6 address, see [`target_v6`].
    pub v6: Ipv6Addr,
}

impl Target {
    /// Loads an nft ruleset in the target, e.g. one from [`crate::firewall`].
    pub fn firewall(&self, ruleset: &str) -> Result<()> {
        self.ns.nft(ruleset)
    }

    /// Lifts the kernel's ICMP error rate limits in this target, so every probe that should
    /// get an unreachable (closed UDP port, `reject with icmpx ...`) gets one: Linux otherwise
    /// sends at most one dest-unreach per destination per second (`icmp_ratelimit`, and
    /// `net.ipv6.icmp.ratelimit`) and caps all ICMP errors (`icmp_msgs_per_sec`/`_burst`).
    pub fn unlimit_icmp(&self) -> Result<()> {
        let mut settings = vec![("net.ipv4.icmp_ratelimit", "0"), ("net.ipv6.icmp.ratelimit", "0")];
        // Per-namespace only on newer kernels; where they are global, leave them alone.
        for key in ["net.ipv4.icmp_msgs_per_sec", "net.ipv4.icmp_msgs_burst"] {
            if self.ns.read_sysctl(key).is_ok() {
                settings.push((key, "100000"));
            }
        }
        self.ns.sysctls(&settings)
    }
}

/// A scanner namespace and `N` target namespaces on one bridge, with no route out.
///
/// | namespace          | interface | IPv4           | IPv6             |
/// |--------------------|-----------|----------------|------------------|
/// | `{prefix}-sw`      | `br0` + one veth per host (`scan`, `t0`, `t1`, ...) | - | - |
/// | `{prefix}-scan`    | `eth0`    | 198.18.0.1/24  | 2001:db8:18::1/64 |
/// | `{prefix}-t{i}`    | `eth0`    | 198.18.0.(i+2)/24 | 2001:db8:18::(i+2)/64 |
///
/// Every namespace has `lo` up and only connected routes (no default route), IPv6 addresses
/// are added `nodad` so they work at once, and DAD and router solicitations are off. The
/// switch namespace has IPv6 disabled so it adds no packets of its own.
///
/// Dropping the bed (also while a test unwinds from a panic) SIGKILLs the processes left in
/// its namespaces and deletes the namespaces, which destroys the veths and the bridge.
#[derive(Debug)]
pub struct TestBed {
    prefix: String,
    switch: Netns,
    scanner: Netns,
    targets: Vec<Target>,
}

impl TestBed {
    /// Builds a bed with `targets` target namespaces (0 ..= [`MAX_TARGETS`]).
    ///
    /// Fails with [`Error::NotRoot`] or [`Error::NamespacesUnavailable`] where this machine
    /// cannot host a bed (see [`Error::is_unavailable`]); any other error is a real fault.
    /// Also removes namespaces left behind by crashed runs ([`cleanup_stale`]).
    pub fn new(targets: usize) -> Result<TestBed> {
        let euid = nix::unistd::geteuid();
        if !euid.is_root() {
            return Err(Error::NotRoot { euid: euid.as_raw() });
        }
        if targets > MAX_TARGETS {
            return Err(Error::Invalid(format!("{targets} targets; a bed holds at most {MAX_TARGETS}")));
        }
        let _building = BUILDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = cleanup_stale(PREFIX);

        let prefix = format!("{PREFIX}{}x{}", std::process::id(), NEXT_BED.fetch_add(1, Ordering::Relaxed));
        // From here on the bed exists as a value, so an error below drops it and removes
        // whatever was already made.
        let bed = TestBed {
            switch: Netns::new(format!("{prefix}-sw")),
            scanner: Netns::new(format!("{prefix}-scan")),
            targets: (0..targets)
                .map(|i| Target { ns: Netns::new(format!("{prefix}-t{i}")), v4: target_v4(i), v6: target_v6(i) })
                .collect(),
            prefix,
        };
        bed.create_namespaces()?;
        bed.configure()?;
        Ok(bed)
    }

    fn create_namespaces(&self) -> Result<()> {
        let script: String = self.namespaces().map(|ns| format!("netns add {}\n", ns.name())).collect();
        let mut command = Command::new("ip");
        command.args(["-batch", "-"]);
        run_checked(&mut command, Some(&script)).map_err(|e| Error::NamespacesUnavailable { reason: e.to_string() })?;
        Ok(())
    }

    fn configure(&self) -> Result<()> {
        // Sysctls first: a veth end takes its IPv6 settings from `default` when it appears.
        self.switch.sysctls(&[("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1")])?;
        for ns in self.hosts() {
            ns.sysctls(&[
                ("net.ipv6.conf.all.accept_dad", "0"),
                ("net.ipv6.conf.default.accept_dad", "0"),
                ("net.ipv6.conf.all.router_solicitations", "0"),
                ("net.ipv6.conf.default.router_solicitations", "0"),
            ])?;
        }

        // The switch: a bridge without STP (ports forward at once) or multicast snooping
        // (so neighbour discovery is simply flooded), and one veth per host whose peer is
        // created directly inside that host's namespace as `eth0`. Nothing touches the root
        // namespace.
        let mut switch = String::from(
            "link set lo up\n\
             link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0\n\
             link set br0 up\n",
        );
        let ports = std::iter::once(("scan".to_owned(), &self.scanner))
            .chain(self.targets.iter().enumerate().map(|(i, t)| (format!("t{i}"), &t.ns)));
        for (port, ns) in ports {
            switch.push_str(&format!(
                "link add {port} type veth peer name eth0 netns {}\n\
                 link set {port} master br0 up\n",
                ns.name()
            ));
        }
        self.switch.ip_batch(&switch)?;

        let hosts = std::iter::once((&self.scanner, SCANNER_V4, SCANNER_V6))
            .chain(self.targets.iter().map(|t| (&t.ns, t.v4, t.v6)));
        for (ns, v4, v6) in hosts {
            ns.ip_batch(&format!(
                "link set lo up\n\
                 addr add {v4}/24 dev eth0\n\
                 addr add {v6}/64 dev eth0 nodad\n\
                 link set eth0 up\n"
            ))?;
        }
        Ok(())
    }

    /// The per-run prefix of this bed's namespace names, e.g. `tjm4242x0`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The namespace that holds the bridge.
    pub fn switch(&self) -> &Netns {
        &self.switch
    }

    /// The scanner namespace: run the scanner (or a test's client code) here.
    pub fn scanner(&self) -> &Netns {
        &self.scanner
    }

    /// Target `i` (0-based).
    ///
    /// # Panics
    /// If `i` is not below the number of targets the bed was built with.
    pub fn target(&self, i: usize) -> &Target {
        &self.targets[i]
    }

    /// All targets, in order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Every namespace of the bed: switch, scanner, then the targets.
    pub fn namespaces(&self) -> impl Iterator<Item = &Netns> {
        std::iter::once(&self.switch).chain(self.hosts())
    }

    /// The scanner and the targets (every namespace with an address).
    fn hosts(&self) -> impl Iterator<Item = &Netns> {
        std::iter::once(&self.scanner).chain(self.targets.iter().map(|t| &t.ns))
    }

    /// Makes target `target` answer for a whole IPv4 network (AnyIP): inside the target
    /// `ip route add local NET dev lo`, and in the scanner a route for NET via the target's
    /// address. `net` must lie inside 198.18.0.0/15 and not overlap the bed's own
    /// 198.18.0.0/24, e.g. `"198.19.0.0/16"`. Listeners must bind the wildcard address to
    /// accept on these addresses ([`Target::listen_tcp`](crate::Target::listen_tcp) does).
    pub fn add_anyip_v4(&self, target: usize, net: &str) -> Result<()> {
        let parsed: Ipv4Net = net.parse().map_err(|e| Error::Invalid(format!("{net}: {e}")))?;
        let bed_net = Ipv4Net::new(SCANNER_V4, 24).expect("valid prefix").trunc();
        if !ALLOWED_V4.contains(&parsed) || parsed.contains(&bed_net) || bed_net.contains(&parsed) {
            return Err(Error::Invalid(format!("{net} is not inside {ALLOWED_V4} or overlaps {bed_net}")));
        }
        let t = self.checked_target(target)?;
        let net = parsed.trunc().to_string();
        t.ns.ip(&["route", "add", "local", &net, "dev", "lo"])?;
        self.scanner.ip(&["route", "add", &net, "via", &t.v4.to_string()])?;
        Ok(())
    }

    /// The IPv6 form of [`add_anyip_v4`](TestBed::add_anyip_v4): `net` must lie inside
    /// 2001:db8::/32 and not overlap 2001:db8:18::/64, e.g. `"2001:db8:19::/64"`.
    pub fn add_anyip_v6(&self, target: usize, net: &str) -> Result<()> {
        let parsed: Ipv6Net = net.parse().map_err(|e| Error::Invalid(format!("{net}: {e}")))?;
        let bed_net = Ipv6Net::new(SCANNER_V6, 64).expect("valid prefix").trunc();
        if !ALLOWED_V6.contains(&parsed) || parsed.contains(&bed_net) || bed_net.contains(&parsed) {
            return Err(Error::Invalid(format!("{net} is not inside {ALLOWED_V6} or overlaps {bed_net}")));
        }
        let t = self.checked_target(target)?;
        let net = parsed.trunc().to_string();
        t.ns.ip(&["-6", "route", "add", "local", &net, "dev", "lo"])?;
        self.scanner.ip(&["-6", "route", "add", &net, "via", &t.v6.to_string()])?;
        Ok(())
    }

    /// Starts `persona` on the bed's network: a TAP device in the switch namespace attached to `br0`,
    /// answering for `v4` (and `v6`) with its own MAC, one hop from the scanner. By convention personas
    /// take 198.18.0.200-198.18.0.253 and 2001:db8:18::c8-::fd; `v4` must lie in 198.18.0.0/24 and not be
    /// the scanner's or a target's address, `v6` in 2001:db8:18::/64. Drop the [`PersonaHost`] before the
    /// bed; dropping it stops the responder and removes the device.
    pub fn add_persona(&self, persona: Persona, v4: Ipv4Addr, v6: Option<Ipv6Addr>) -> Result<PersonaHost> {
        self.add_persona_with(persona, v4, v6, Vec::new())
    }

    /// As [`add_persona`](TestBed::add_persona), with `handlers` answering their protocols in place of the
    /// built-in ones (a target that answers garbage, a protocol the built-ins lack).
    pub fn add_persona_with(
        &self,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
        handlers: Vec<Box<dyn crate::persona::IpHandler>>,
    ) -> Result<PersonaHost> {
        self.add_persona_chatty(persona, v4, v6, handlers, None)
    }

    /// As [`add_persona_with`](TestBed::add_persona_with), the persona also sending packets of its own
    /// as `chatter` says (a busy idle-scan zombie).
    pub fn add_persona_chatty(
        &self,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
        handlers: Vec<Box<dyn crate::persona::IpHandler>>,
        chatter: Option<crate::persona::Chatter>,
    ) -> Result<PersonaHost> {
        let bed_net = Ipv4Net::new(SCANNER_V4, 24).expect("valid prefix").trunc();
        let taken = v4 == SCANNER_V4 || self.targets.iter().any(|t| t.v4 == v4);
        let octet = v4.octets()[3];
        if !bed_net.contains(&v4) || taken || octet == 0 || octet == 255 {
            return Err(Error::Invalid(format!("persona address {v4} is not a free host address of {bed_net}")));
        }
        if let Some(v6) = v6 {
            let v6_net = Ipv6Net::new(SCANNER_V6, 64).expect("valid prefix").trunc();
            if !v6_net.contains(&v6) || v6 == SCANNER_V6 || self.targets.iter().any(|t| t.v6 == v6) {
                return Err(Error::Invalid(format!("persona address {v6} is not a free host address of {v6_net}")));
            }
        }
        let at =
            crate::persona::Attachment { switch: &self.switch, bridge: "br0", distance: 1, tap: format!("pt{octet}") };
        PersonaHost::start_chatty(at, persona, v4, v6, handlers, chatter)
    }

    /// Starts each of `personas` at the conventional addresses ([`persona_v4`], [`persona_v6`]: the
    /// `i`-th at 198.18.0.(200+i) and 2001:db8:18::(c8+i)), e.g. with
    /// [`catalog::all`](crate::persona::catalog::all). At most 54.
    pub fn add_personas(&self, personas: Vec<Persona>) -> Result<Vec<PersonaHost>> {
        if persona_v4(personas.len().saturating_sub(1)).is_none() {
            return Err(Error::Invalid(format!("{} personas; the bed holds at most 54", personas.len())));
        }
        personas
            .into_iter()
            .enumerate()
            .map(|(i, persona)| match (persona_v4(i), persona_v6(i)) {
                (Some(v4), v6) => self.add_persona(persona, v4, v6),
                _ => Err(Error::Invalid(format!("persona {i}: the bed holds at most 54"))),
            })
            .collect()
    }

    fn checked_target(&self, i: usize) -> Result<&Target> {
        self.targets
            .get(i)
            .ok_or_else(|| Error::Invalid(format!("target {i}, but the bed has {} targets", self.targets.len())))
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        let names: Vec<String> = self.namespaces().map(|ns| ns.name().to_owned()).collect();
        if let Err(e) = delete_namespaces(&names) {
            eprintln!("tojimari-testbed: teardown of {} incomplete: {e}", self.prefix);
        }
    }
}

/// Kills the processes in the named namespaces (by pid), then deletes them in one `ip` batch.
/// Names that no longer exist are skipped.
pub(crate) fn delete_namespaces(names: &[String]) -> Result<()> {
    let existing: Vec<&String> =
        names.iter().filter(|name| fs::exists(format!("{NETNS_DIR}/{name}")).unwrap_or(true)).collect();
    if existing.is_empty() {
        return Ok(());
    }
    for name in &existing {
        Netns::new((*name).clone()).kill_processes();
    }
    let script: String = existing.iter().map(|name| format!("netns del {name}\n")).collect();
    let mut command = Command::new("ip");
    command.args(["-force", "-batch", "-"]);
    run_checked(&mut command, Some(&script)).map(drop)
}

/// Deletes namespaces named by this crate's scheme (`{prefix}{pid}x{n}-{role}`) whose
/// creating process `pid` no longer exists, killing any process still inside them first.
/// Namespaces of live processes, and names that do not follow the scheme, are left alone.
/// Returns the names it deleted.
pub fn cleanup_stale(prefix: &str) -> Result<Vec<String>> {
    let entries = match fs::read_dir(NETNS_DIR) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("read {NETNS_DIR}"), e)),
    };
    let stale: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| creator_pid(prefix, name).is_some_and(|pid| !fs::exists(format!("/proc/{pid}")).unwrap_or(true)))
        .collect();
    delete_namespaces(&stale)?;
    Ok(stale)
}

/// The creating pid in `{prefix}{pid}x{n}-{role}`, if `name` follows the scheme.
fn creator_pid(prefix: &str, name: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let (pid, rest) = rest.split_once('x')?;
    let (counter, role) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(counter) || role.is_empty() {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creator_pid_follows_the_scheme_only() {
        assert_eq!(creator_pid("tjm", "tjm4242x0-scan"), Some(4242));
        assert_eq!(creator_pid("tjm", "tjm4242x17-t3"), Some(4242));
        assert_eq!(creator_pid("tjm", "tjm4242x-scan"), None);
        assert_eq!(creator_pid("tjm", "tjmx0-scan"), None);
        assert_eq!(creator_pid("tjm", "tjm42a2x0-scan"), None);
        assert_eq!(creator_pid("tjm", "tjm4242x0-"), None);
        assert_eq!(creator_pid("tjm", "other4242x0-sw"), None);
        assert_eq!(creator_pid("tjm", "tjm4242x0"), None);
    }

    #[test]
    fn addresses_follow_the_plan() {
        assert_eq!(target_v4(0), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(target_v4(252), Ipv4Addr::new(198, 18, 0, 254));
        assert_eq!(target_v6(1).to_string(), "2001:db8:18::3");
        assert_eq!(SCANNER_V6.to_string(), "2001:db8:18::1");
    }
}
