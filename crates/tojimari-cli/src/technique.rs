//! Which engine and techniques a run uses, and its host discovery probes, from nmap's flags.
//!
//! nmap's rules: one TCP technique at most (-sS, -sT, -sF, -sN, -sX, -sA, -sW, -sM, --scanflags, -sI, -b), optionally
//! with -sU. Without a technique, SYN when the process may open raw sockets, else connect. Without the
//! privilege, -sS falls back to connect with a one-line notice; techniques that only exist as raw packets
//! say why they cannot run.

use tojimari_core::{Protocol, ScanType};
use tojimari_engine::raw::PingProbe;
use tojimari_packet::tcp;

use crate::args::ScanArgs;
use crate::plan::UsageError;

/// Techniques chosen for a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Techniques {
    /// The TCP technique: [`ScanType::Connect`] (the connect engine) or a raw one (`-sS`, ..., `--scanflags`);
    /// never `Udp`, `PingOnly` or `List`.
    pub tcp: Option<ScanType>,
    pub udp: bool,
    /// The SCTP technique, `-sY` or `-sZ`.
    pub sctp: Option<ScanType>,
    /// `-sO`.
    pub ip_proto: bool,
}

impl Techniques {
    pub fn needs_raw(&self) -> bool {
        self.udp || self.tcp.is_some_and(ScanType::is_raw) || self.sctp.is_some() || self.ip_proto
    }
}

/// Chooses the techniques; `raw_allowed` says whether raw sockets can be opened, `notice` hears about a
/// fallback.
pub fn select(args: &ScanArgs, raw_allowed: bool, notice: &mut dyn FnMut(String)) -> Result<Techniques, UsageError> {
    let mut tcp: Vec<ScanType> = [
        (args.connect, ScanType::Connect),
        (args.syn, ScanType::Syn),
        (args.fin, ScanType::Fin),
        (args.null, ScanType::Null),
        (args.xmas, ScanType::Xmas),
        (args.ack, ScanType::Ack),
        (args.window, ScanType::Window),
        (args.maimon, ScanType::Maimon),
    ]
    .into_iter()
    .filter_map(|(on, t)| on.then_some(t))
    .collect();
    if let Some(flags) = &args.scanflags {
        tcp.push(ScanType::Custom(parse_scanflags(flags)?));
    }
    if args.idle_scan.is_some() {
        tcp.push(ScanType::Idle);
    }
    if args.bounce.is_some() {
        tcp.push(ScanType::Bounce);
    }
    if tcp.len() > 1 {
        return Err(UsageError::new(
            format!("{} and {} contradict each other", tcp[0].option(), tcp[1].option()),
            "choose one TCP scan type (it may be combined with -sU)",
        ));
    }
    if args.ping_only {
        if let Some(t) = tcp.first() {
            return Err(UsageError::new(
                format!("-sn (no port scan) and {} contradict each other", t.option()),
                "use one of them",
            ));
        }
        if args.udp {
            return Err(UsageError::new("-sn (no port scan) and -sU contradict each other", "use one of them"));
        }
    }
    let sctp = sctp_technique(args)?;
    if args.ping_only && (sctp.is_some() || args.ip_protocol) {
        let t = sctp.unwrap_or(ScanType::IpProto);
        return Err(UsageError::new(
            format!("-sn (no port scan) and {} contradict each other", t.option()),
            "use one of them",
        ));
    }
    if args.ip_protocol && (sctp.is_some() || args.udp || !tcp.is_empty()) {
        let other = sctp.or(tcp.first().copied()).unwrap_or(ScanType::Udp);
        return Err(UsageError::new(
            format!("-sO cannot be combined with {} yet", other.option()),
            "run the IP protocol scan (-sO) on its own: its -p names protocols, not ports",
        ));
    }
    let mut chosen = Techniques { tcp: tcp.first().copied(), udp: args.udp, sctp, ip_proto: args.ip_protocol };
    if chosen.tcp.is_none() && !chosen.udp && chosen.sctp.is_none() && !chosen.ip_proto && !args.ping_only {
        chosen.tcp = Some(if raw_allowed { ScanType::Syn } else { ScanType::Connect });
    }
    if chosen.tcp == Some(ScanType::Bounce) && chosen.udp {
        return Err(UsageError::new(
            "-b (FTP bounce) cannot be combined with -sU",
            "an FTP server connects over TCP only; run the UDP scan separately",
        ));
    }
    if chosen.tcp == Some(ScanType::Connect) && chosen.udp {
        return Err(UsageError::new(
            "-sT cannot be combined with -sU yet",
            "use -sS -sU (needs raw sockets), or run the two scans separately",
        ));
    }
    if !raw_allowed {
        if args.syn && chosen.tcp == Some(ScanType::Syn) && !chosen.udp {
            notice(if args.unprivileged {
                "-sS needs raw sockets, which --unprivileged rules out: falling back to -sT (TCP connect scan)".into()
            } else {
                format!("{}: falling back to -sT (TCP connect scan)", crate::messages::needs_raw("-sS"))
            });
            chosen.tcp = Some(ScanType::Connect);
        }
        if chosen.needs_raw() {
            let name = match chosen.tcp {
                Some(t) if t.is_raw() => t.option(),
                _ if chosen.ip_proto => "-sO",
                _ => chosen.sctp.map_or("-sU", ScanType::option),
            };
            if args.unprivileged {
                return Err(UsageError::new(
                    format!("{name} sends raw packets, which --unprivileged rules out"),
                    "drop --unprivileged, or use -sT",
                ));
            }
            return Err(UsageError::privilege(
                crate::messages::needs_raw(name),
                crate::messages::raw_hint("use -sT, which needs no privilege"),
            ));
        }
    }
    Ok(chosen)
}

/// `-sY` or `-sZ` (nmap runs one SCTP technique at most).
fn sctp_technique(args: &ScanArgs) -> Result<Option<ScanType>, UsageError> {
    match (args.sctp_init, args.sctp_cookie_echo) {
        (true, true) => Err(UsageError::new(
            "-sY and -sZ contradict each other",
            "choose one SCTP scan type (it may be combined with a TCP scan and -sU)",
        )),
        (true, false) => Ok(Some(ScanType::SctpInit)),
        (false, true) => Ok(Some(ScanType::SctpCookieEcho)),
        (false, false) => Ok(None),
    }
}

/// `--scanflags`: flag names in any order (URG ACK PSH RST SYN FIN ECE CWR, as in "SYNFIN") or a number.
pub fn parse_scanflags(s: &str) -> Result<u8, UsageError> {
    let bad = || {
        UsageError::new(
            format!("--scanflags \"{s}\" is neither flag names nor a number"),
            "for example --scanflags SYNFIN, --scanflags URGACKPSHRSTSYNFIN or --scanflags 0x29",
        )
    };
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u8::from_str_radix(hex, 16).map_err(|_| bad());
    }
    if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        return t.parse().map_err(|_| bad());
    }
    let upper = t.to_ascii_uppercase();
    let mut rest = upper.as_str();
    let mut flags = 0u8;
    const NAMES: [(&str, u8); 8] = [
        ("URG", tcp::URG),
        ("ACK", tcp::ACK),
        ("PSH", tcp::PSH),
        ("RST", tcp::RST),
        ("SYN", tcp::SYN),
        ("FIN", tcp::FIN),
        ("ECE", tcp::ECE),
        ("CWR", tcp::CWR),
    ];
    while !rest.is_empty() {
        let (name, bit) = NAMES.iter().find(|(n, _)| rest.starts_with(n)).ok_or_else(bad)?;
        flags |= bit;
        rest = &rest[name.len()..];
    }
    if t.is_empty() {
        return Err(bad());
    }
    Ok(flags)
}

/// nmap's -P options (already rewritten by the pre-pass to `--raw-discovery=<rest>`).
pub fn ping_probes(specs: &[String]) -> Result<Option<Vec<PingProbe>>, UsageError> {
    if specs.is_empty() {
        return Ok(None);
    }
    let mut probes = Vec::new();
    for spec in specs {
        let (kind, ports) = spec.split_at(spec.chars().next().map_or(0, char::len_utf8));
        match kind {
            "E" if ports.is_empty() => probes.push(PingProbe::Echo),
            "P" if ports.is_empty() => probes.push(PingProbe::Timestamp),
            "M" if ports.is_empty() => probes.push(PingProbe::AddressMask),
            "S" => probes.extend(ping_ports(spec, ports, Protocol::Tcp, 80)?.into_iter().map(PingProbe::Syn)),
            "A" => probes.extend(ping_ports(spec, ports, Protocol::Tcp, 80)?.into_iter().map(PingProbe::Ack)),
            "U" => probes.extend(ping_ports(spec, ports, Protocol::Udp, 40125)?.into_iter().map(PingProbe::Udp)),
            "Y" => probes.extend(ping_ports(spec, ports, Protocol::Sctp, 80)?.into_iter().map(PingProbe::Sctp)),
            "O" => probes.extend(protocols(spec, ports)?),
            // ARP ping is what tojimari always does on the local link.
            "R" if ports.is_empty() => {}
            _ => {
                return Err(UsageError::new(
                    format!("unknown or unsupported host discovery option -P{spec}"),
                    "use -PE, -PP, -PM, -PS<ports>, -PA<ports>, -PU<ports>, -PY<ports>, -PO<protocols>, -PR or -Pn",
                ));
            }
        }
    }
    Ok(Some(probes))
}

/// The ports of `-PS`, `-PA`, `-PU` and `-PY` (`default` when none are given): numbers, ranges and (TCP,
/// UDP) service names, as `-p` reads them for `proto`, without a protocol prefix.
fn ping_ports(spec: &str, list: &str, proto: Protocol, default: u16) -> Result<Vec<u16>, UsageError> {
    if list.is_empty() {
        return Ok(vec![default]);
    }
    let (prefix, hint) = match proto {
        Protocol::Udp => ("U", "for example -PU53,161 or -PU40000-40010 (UDP ports and ranges)"),
        Protocol::Sctp => ("S", "for example -PY80 or -PY80,2905,3868-3869 (SCTP ports and ranges)"),
        _ => ("T", "for example -PS22,80,443 or -PS1-1024 (TCP ports and ranges)"),
    };
    if list.contains(':') {
        return Err(UsageError::new(format!("-P{spec}: -P{} takes ports without a protocol prefix", &spec[..1]), hint));
    }
    let parsed = tojimari_core::portspec::parse_port_list(&format!("{prefix}:{list}"))
        .map_err(|e| UsageError::new(format!("-P{spec}: {e}"), hint))?;
    let ports = parsed.for_protocol(proto).as_slice().to_vec();
    if ports.is_empty() {
        return Err(UsageError::new(format!("-P{spec}: no port named \"{list}\""), hint));
    }
    Ok(ports)
}

/// `-PO`'s protocols (nmap's ICMP, IGMP and IP-in-IP when none are given): numbers, ranges and names, as
/// in `-sO -p`.
fn protocols(spec: &str, list: &str) -> Result<Vec<PingProbe>, UsageError> {
    if list.is_empty() {
        return Ok(PingProbe::proto_defaults());
    }
    let parsed = tojimari_core::portspec::parse_protocol_list(list).map_err(|e| {
        UsageError::new(format!("-P{spec}: {e}"), "for example -PO1,2,4 or -POicmp,tcp (IP protocols 0-255)")
    })?;
    Ok(parsed.as_slice().iter().filter_map(|&p| u8::try_from(p).ok()).map(PingProbe::Proto).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanflags_by_name_and_number() {
        assert_eq!(parse_scanflags("SYNFIN").unwrap(), tcp::SYN | tcp::FIN);
        assert_eq!(parse_scanflags("urgackpshrstsynfin").unwrap(), 0x3f);
        assert_eq!(parse_scanflags("0x29").unwrap(), 0x29);
        assert_eq!(parse_scanflags("18").unwrap(), 18);
        assert!(parse_scanflags("SYNX").is_err());
        assert!(parse_scanflags("").is_err());
    }

    /// `tojimari scan` with these options, as clap reads them (long names: the pre-pass has run).
    fn scan_args(options: &[&str]) -> ScanArgs {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            scan: ScanArgs,
        }
        let argv = std::iter::once("tojimari").chain(options.iter().copied()).chain(["198.18.0.2"]);
        Cli::parse_from(argv).scan
    }

    fn chosen(options: &[&str], raw: bool) -> Result<Techniques, UsageError> {
        select(&scan_args(options), raw, &mut |_| {})
    }

    #[test]
    fn sctp_and_protocol_scans() {
        let t = chosen(&["--sctp-init"], true).unwrap();
        assert_eq!(t, Techniques { sctp: Some(ScanType::SctpInit), ..Techniques::default() }, "no default SYN scan");
        assert!(t.needs_raw());
        let t = chosen(&["--syn", "--udp", "--sctp-cookie-echo"], true).unwrap();
        assert_eq!((t.tcp, t.udp, t.sctp), (Some(ScanType::Syn), true, Some(ScanType::SctpCookieEcho)));
        let t = chosen(&["--ip-protocol"], true).unwrap();
        assert!(t.ip_proto && t.tcp.is_none() && t.sctp.is_none() && t.needs_raw());
        let e = chosen(&["--sctp-init", "--sctp-cookie-echo"], true).unwrap_err();
        assert_eq!(e.message, "-sY and -sZ contradict each other");
        let e = chosen(&["--ip-protocol", "--udp"], true).unwrap_err();
        assert_eq!(e.message, "-sO cannot be combined with -sU yet");
        let e = chosen(&["--ip-protocol", "--ping-only"], true).unwrap_err();
        assert!(e.message.contains("-sn") && e.message.contains("-sO"), "{}", e.message);
        let e = chosen(&["--sctp-init"], false).unwrap_err();
        assert!(e.message.contains("-sY"), "{}", e.message);
        let e = chosen(&["--ip-protocol"], false).unwrap_err();
        assert!(e.message.contains("-sO"), "{}", e.message);
    }

    #[test]
    fn ping_options() {
        let p = ping_probes(&["E".into(), "S22,443".into(), "A".into(), "U".into()]).unwrap().unwrap();
        assert_eq!(
            p,
            [PingProbe::Echo, PingProbe::Syn(22), PingProbe::Syn(443), PingProbe::Ack(80), PingProbe::Udp(40125)]
        );
        assert!(ping_probes(&["Sx".into()]).is_err());
        // Ranges and service names, as nmap reads every -P port list.
        let p = ping_probes(&["S20-22".into(), "Ahttp".into(), "U53,161-162".into()]).unwrap().unwrap();
        assert_eq!(
            p,
            [
                PingProbe::Syn(20),
                PingProbe::Syn(21),
                PingProbe::Syn(22),
                PingProbe::Ack(80),
                PingProbe::Udp(53),
                PingProbe::Udp(161),
                PingProbe::Udp(162),
            ]
        );
        let e = ping_probes(&["S70000".into()]).unwrap_err();
        assert!(e.message.starts_with("-PS70000: ") && e.hint.contains("-PS22,80,443"), "{}", e.message);
        let e = ping_probes(&["UT:53".into()]).unwrap_err();
        assert_eq!(e.message, "-PUT:53: -PU takes ports without a protocol prefix");
        assert_eq!(ping_probes(&[]).unwrap(), None);
        let p = ping_probes(&["Y".into(), "Y2905,3868-3869".into(), "O".into(), "O6,udp,132-133".into()]);
        assert_eq!(
            p.unwrap().unwrap(),
            [
                PingProbe::Sctp(80),
                PingProbe::Sctp(2905),
                PingProbe::Sctp(3868),
                PingProbe::Sctp(3869),
                PingProbe::Proto(1),
                PingProbe::Proto(2),
                PingProbe::Proto(4),
                PingProbe::Proto(6),
                PingProbe::Proto(17),
                PingProbe::Proto(132),
                PingProbe::Proto(133),
            ]
        );
        let e = ping_probes(&["Y70000".into()]).unwrap_err();
        assert_eq!(e.message, "-PY70000: port 70000 is out of range (0-65535)");
        let e = ping_probes(&["O256".into()]).unwrap_err();
        assert_eq!(e.message, "-PO256: protocol 256 is out of range (0-255)");
        let e = ping_probes(&["Ofoo".into()]).unwrap_err();
        assert!(e.message.starts_with("-POfoo: ") && e.message.contains("\"foo\""), "{}", e.message);
        assert!(ping_probes(&["YT:80".into()]).is_err());
    }
}
