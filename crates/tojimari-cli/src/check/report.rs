//! The plain-words report of `tojimari check`.
//!
//! Per host: the ping answer (quick), a table of ports with OPEN / CLOSED / STEALTH, then the verdict with
//! one line of advice per OPEN port. Long checks (tcp, udp, trojan) list only the ports that answered and
//! count the STEALTH ones; the short ones list every port. The stealth check shows the four probe types side
//! by side and says what kind of firewall the answers point to.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::net::IpAddr;

use tojimari_core::report::PortResult;
use tojimari_core::{HostState, PortState, Protocol, Reason};

use super::{COMMON_TCP, COMMON_UDP, PRESCAN_TCP, Results, advice, port_in, trojans};
use crate::args::CheckKind;

/// A port's answer in plain words.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// A program answers on this port.
    Open,
    /// The host answered that nothing listens (or a firewall rejected the probe): it is visible.
    Closed,
    /// No answer at all.
    Stealth,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Open => "OPEN",
            Verdict::Closed => "CLOSED",
            Verdict::Stealth => "STEALTH",
        }
    }

    /// The verdict for one scan's result. UDP ports that stayed silent may still be open: nothing in the
    /// packets can tell, so they are STEALTH as the plain words define it (no answer at all).
    pub fn of(port: Option<&PortResult>) -> Verdict {
        let Some(port) = port else { return Verdict::Stealth };
        match port.state {
            PortState::Open => Verdict::Open,
            PortState::Closed | PortState::Unfiltered | PortState::ClosedFiltered => Verdict::Closed,
            PortState::Filtered | PortState::OpenFiltered => {
                if answered(port.reason) {
                    Verdict::Closed
                } else {
                    Verdict::Stealth
                }
            }
        }
    }
}

/// Whether a filtered port's reason is an answer (an ICMP error) rather than silence.
fn answered(reason: Reason) -> bool {
    !matches!(reason, Reason::NoResponse | Reason::Unknown)
}

/// The name a check gives a port.
fn port_name(kind: CheckKind, proto: Protocol, port: u16) -> String {
    let table = match (kind, proto) {
        (_, Protocol::Udp) => COMMON_UDP,
        (CheckKind::Prescan, _) => PRESCAN_TCP,
        _ => COMMON_TCP,
    };
    if let Some((_, name)) = table.iter().find(|(p, _)| *p == port) {
        return (*name).to_string();
    }
    if proto == Protocol::Tcp
        && let Some(name) = trojans::name(port)
    {
        return format!("trojan: {name}");
    }
    tojimari_core::services::lookup(proto, port).map_or_else(|| "-".to_string(), |e| e.name.to_string())
}

pub fn write(
    out: &mut dyn Write,
    kind: CheckKind,
    runs: &[(&'static str, Results)],
    ping: Option<&Results>,
    raw: bool,
) -> io::Result<()> {
    let addrs: BTreeSet<IpAddr> = runs.iter().flat_map(|(_, r)| r.keys().copied()).collect();
    for addr in addrs {
        writeln!(out, "tojimari check {}: {addr}", kind.name())?;
        if kind == CheckKind::Quick {
            let not_tested = format!("not tested: sending ICMP echo needs {}", crate::messages::RAW_PRIVILEGE);
            let word = match ping.and_then(|p| p.get(&addr)) {
                Some(host) if host.state == HostState::Up => "ANSWERED: the host answers ping, so it shows it exists",
                Some(_) => "STEALTH: no echo reply",
                None if raw => "STEALTH: no echo reply",
                None => &not_tested,
            };
            writeln!(out, "  ICMP echo: {word}")?;
        }
        if kind == CheckKind::Stealth {
            write_stealth(out, addr, runs)?;
        } else {
            write_ports(out, kind, addr, &runs[0].1)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_ports(out: &mut dyn Write, kind: CheckKind, addr: IpAddr, results: &Results) -> io::Result<()> {
    let Some(host) = results.get(&addr) else { return Ok(()) };
    // Every port of the short lists is shown; of the long ones (tcp, udp, the trojan ports inside quick) only
    // the OPEN ones, with the rest counted.
    let listed = |port: &PortResult| match kind {
        CheckKind::Trojan | CheckKind::Prescan => true,
        CheckKind::Quick => {
            let table = if port.proto == Protocol::Udp { COMMON_UDP } else { COMMON_TCP };
            table.iter().any(|(p, _)| *p == port.port)
        }
        CheckKind::Tcp | CheckKind::Udp | CheckKind::Stealth => false,
    };
    let mut counts = [0usize; 3];
    let mut unlisted = [0usize; 3];
    let mut rows = Vec::new();
    let mut open = Vec::new();
    for port in &host.ports {
        let verdict = Verdict::of(Some(port));
        counts[verdict as usize] += 1;
        if listed(port) || verdict == Verdict::Open {
            rows.push((port, verdict));
        } else {
            unlisted[verdict as usize] += 1;
        }
        if verdict == Verdict::Open {
            open.push(port);
        }
    }
    writeln!(out, "  {:<10} {:<34} RESULT", "PORT", "NAME")?;
    for (port, verdict) in &rows {
        let mut name = port_name(kind, port.proto, port.port);
        if name.chars().count() > 34 {
            name = name.chars().take(33).chain(['…']).collect();
        }
        let mut line = format!("  {:<10} {name:<34} {}", format!("{}/{}", port.port, port.proto), verdict.word());
        if let Some(info) = port.service.as_deref() {
            let version = info.version_line();
            let what = if version.is_empty() { info.name.clone() } else { format!("{} {version}", info.name) };
            line.push_str(&format!("  {}", crate::check::advice::printable(&what)));
        }
        if *verdict == Verdict::Closed && port.state != PortState::Closed {
            line.push_str(&format!("  (a firewall answered: {})", port.reason.as_str()));
        }
        writeln!(out, "{line}")?;
        if let Some(info) = port.service.as_deref() {
            for detail in info.details.iter().filter(|d| d.id == "banner") {
                writeln!(out, "  {:<10} banner: {}", "", advice::printable(&detail.output))?;
            }
        }
    }
    if unlisted[1] + unlisted[2] > 0 {
        writeln!(out, "  (other ports: {} CLOSED, {} STEALTH)", unlisted[1], unlisted[2])?;
    }
    writeln!(
        out,
        "Verdict: {} OPEN, {} CLOSED, {} STEALTH of {} ports.",
        counts[0],
        counts[1],
        counts[2],
        host.ports.len()
    )?;
    writeln!(out, "  A machine that serves nothing should show every port STEALTH.")?;
    if counts[1] > 0 {
        writeln!(
            out,
            "  CLOSED ports tell a scanner the machine is there: have the firewall drop unsolicited packets instead \
             of answering them."
        )?;
    }
    if counts[0] == 0 && counts[1] == 0 {
        writeln!(out, "  Every port is STEALTH: nothing answered. This machine shows no open door on these ports.")?;
    }
    for port in open {
        writeln!(out, "  {}/{} OPEN: {}", port.port, port.proto, advice::for_port(port))?;
        if let Some(info) = port.service.as_deref() {
            for f in &info.findings {
                writeln!(
                    out,
                    "    {} [{}]: {} -- {}",
                    f.id,
                    f.severity.as_str(),
                    advice::printable(&f.evidence),
                    advice::printable(&f.advice)
                )?;
            }
        }
    }
    Ok(())
}

/// SYN, FIN, NULL and Xmas side by side, and what they say about the firewall.
fn write_stealth(out: &mut dyn Write, addr: IpAddr, runs: &[(&'static str, Results)]) -> io::Result<()> {
    writeln!(out, "  {:<10} {:<22} {:<8} {:<8} {:<8} XMAS", "PORT", "NAME", "SYN", "FIN", "NULL")?;
    let mut syn_silent_others_answer = 0;
    let mut all_silent = 0;
    let mut all_answer = 0;
    let mut open = Vec::new();
    for &(port, name) in COMMON_TCP {
        let verdicts: Vec<Verdict> =
            runs.iter().map(|(_, r)| Verdict::of(port_in(r, addr, Protocol::Tcp, port))).collect();
        // FIN/NULL/Xmas get no answer from an open port either (RFC 793): "open|filtered" reads STEALTH.
        let line = format!(
            "  {:<10} {:<22} {:<8} {:<8} {:<8} {:<8}",
            format!("{port}/tcp"),
            name,
            verdicts.first().map_or("-", |v| v.word()),
            verdicts.get(1).map_or("-", |v| v.word()),
            verdicts.get(2).map_or("-", |v| v.word()),
            verdicts.get(3).map_or("-", |v| v.word()),
        );
        writeln!(out, "{}", line.trim_end())?;
        let syn = verdicts.first().copied().unwrap_or(Verdict::Stealth);
        let others_answer = verdicts.iter().skip(1).any(|v| *v == Verdict::Closed);
        match syn {
            Verdict::Open => {
                if let Some(p) = runs.first().and_then(|(_, r)| port_in(r, addr, Protocol::Tcp, port)) {
                    open.push(p.clone());
                }
            }
            Verdict::Stealth if others_answer => syn_silent_others_answer += 1,
            Verdict::Stealth => all_silent += 1,
            Verdict::Closed => all_answer += 1,
        }
    }
    let total = COMMON_TCP.len();
    writeln!(out, "Verdict:")?;
    if syn_silent_others_answer > 0 {
        writeln!(
            out,
            "  {syn_silent_others_answer} ports drop SYN but answer FIN/NULL/Xmas with a reset: a STATELESS filter that only \
             blocks connection attempts. Scanners still map the machine with FIN/NULL/Xmas probes: use a stateful \
             firewall that drops every unsolicited packet (nftables: ct state new,invalid drop)."
        )?;
    }
    if all_silent == total {
        writeln!(
            out,
            "  Every port is STEALTH to every probe type: a stateful firewall (or no machine) is dropping everything. \
             That is what a machine serving nothing should show."
        )?;
    } else if all_silent > 0 && syn_silent_others_answer == 0 {
        writeln!(out, "  {all_silent} ports are STEALTH to every probe type: consistent with a stateful firewall.")?;
    }
    if all_answer > 0 {
        writeln!(
            out,
            "  {all_answer} ports answer CLOSED: no firewall drops packets to them, so the machine is visible. Drop \
             unsolicited packets to make them STEALTH."
        )?;
    }
    for port in open {
        writeln!(out, "  {}/tcp OPEN: {}", port.port, advice::for_port(&port))?;
    }
    Ok(())
}
