//! The scan types of nmap's command line, with every name they go by: the option that asks for one (`-sS`),
//! nmap's XML `scaninfo type`, and the words of nmap's normal output ("SYN Stealth Scan").
//!
//! This is the one vocabulary of techniques. The CLI parses its options into it, the raw engine runs it
//! (the packets each type sends and how replies are read live in `tojimari-packet`, keyed by this enum),
//! printers name it, and the watcher's observed scans wrap it.
//!
//! # `--scanflags`
//! [`ScanType::Custom`] carries the TCP flags byte the user chose. nmap runs `--scanflags` as the base scan
//! type it is combined with, SYN when alone, and records it under that type: nmap 7.93 writes
//! `<scaninfo type="syn" scanflags="FINSYN" .../>` for `--scanflags SYNFIN` (and `type="ack"` with `-sA`), and
//! its DTD's `scan_types` has no `custom`. So the XML name of `Custom` is `syn`, as nmap's. (tojimari does not
//! write nmap's extra `scanflags` attribute yet.)
//!
//! nmap's normal output then says "Initiating SYN Stealth Scan", because it reads the replies as a SYN scan's.
//! tojimari reads them by the flags actually sent (a probe without SYN is judged like a FIN probe), so its own
//! wording, in the `-d` report, is "Custom Scan".

/// A scan technique: what a run does to each port (or, for `-sn` and `-sL`, that it probes none).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScanType {
    /// `-sT`: full TCP connect through the operating system.
    Connect,
    /// `-sS`: half-open SYN scan.
    Syn,
    /// `-sF`: FIN only.
    Fin,
    /// `-sN`: no flags.
    Null,
    /// `-sX`: FIN, PSH and URG.
    Xmas,
    /// `-sA`: ACK only; tells filtered from unfiltered.
    Ack,
    /// `-sW`: ACK probe, open/closed told from the RST's window.
    Window,
    /// `-sM`: FIN|ACK (Uriel Maimon's BSD trick).
    Maimon,
    /// `--scanflags`: probes with exactly these TCP flags (the header's flags byte, FIN = 0x01).
    Custom(u8),
    /// `-sU`: UDP.
    Udp,
    /// `-sI`: the idle scan, through a zombie's IP ID counter (the zombie is in the plan, not here).
    Idle,
    /// `-sO`: IP protocol scan; the "ports" are IP protocol numbers.
    IpProto,
    /// `-sY`: SCTP INIT scan (half-open, as `-sS` for TCP).
    SctpInit,
    /// `-sZ`: SCTP COOKIE ECHO scan.
    SctpCookieEcho,
    /// `-b`: FTP bounce, an FTP server connects to the target for us.
    Bounce,
    /// `-sn`: host discovery only, no port scan.
    PingOnly,
    /// `-sL`: the targets listed, nothing sent.
    List,
}

impl ScanType {
    /// The raw TCP techniques with fixed flags, in nmap's option order (`--scanflags` carries its own).
    pub const RAW_TCP: [ScanType; 7] = [
        ScanType::Syn,
        ScanType::Fin,
        ScanType::Null,
        ScanType::Xmas,
        ScanType::Ack,
        ScanType::Window,
        ScanType::Maimon,
    ];

    /// nmap's XML `scaninfo type` attribute (`connect`, `syn`, ...); `--scanflags` is `syn` (see the module).
    pub fn xml_name(self) -> &'static str {
        match self {
            ScanType::Connect => "connect",
            ScanType::Syn | ScanType::Custom(_) => "syn",
            ScanType::Fin => "fin",
            ScanType::Null => "null",
            ScanType::Xmas => "xmas",
            ScanType::Ack => "ack",
            ScanType::Window => "window",
            ScanType::Maimon => "maimon",
            ScanType::Udp => "udp",
            ScanType::Idle => "idle",
            ScanType::IpProto => "ipproto",
            ScanType::SctpInit => "sctpinit",
            ScanType::SctpCookieEcho => "sctpcookieecho",
            ScanType::Bounce => "bounce",
            ScanType::PingOnly => "ping",
            ScanType::List => "list",
        }
    }

    /// The name in nmap's normal output and timing lines ("Connect Scan", "SYN Stealth Scan"); for
    /// `--scanflags`, tojimari's "Custom Scan" (see the module).
    pub fn display_name(self) -> &'static str {
        match self {
            ScanType::Connect => "Connect Scan",
            ScanType::Syn => "SYN Stealth Scan",
            ScanType::Fin => "FIN Scan",
            ScanType::Null => "NULL Scan",
            ScanType::Xmas => "XMAS Scan",
            ScanType::Ack => "ACK Scan",
            ScanType::Window => "Window Scan",
            ScanType::Maimon => "Maimon Scan",
            ScanType::Custom(_) => "Custom Scan",
            ScanType::Udp => "UDP Scan",
            ScanType::Idle => "IdleScan",
            ScanType::IpProto => "IPProto Scan",
            ScanType::SctpInit => "SCTP INIT Scan",
            ScanType::SctpCookieEcho => "SCTP COOKIE-ECHO Scan",
            ScanType::Bounce => "FTP bounce Scan",
            ScanType::PingOnly => "Ping Scan",
            ScanType::List => "List Scan",
        }
    }

    /// The option that asks for it (`-sS`, `--scanflags`, `-sn`), for messages.
    pub fn option(self) -> &'static str {
        match self {
            ScanType::Connect => "-sT",
            ScanType::Syn => "-sS",
            ScanType::Fin => "-sF",
            ScanType::Null => "-sN",
            ScanType::Xmas => "-sX",
            ScanType::Ack => "-sA",
            ScanType::Window => "-sW",
            ScanType::Maimon => "-sM",
            ScanType::Custom(_) => "--scanflags",
            ScanType::Udp => "-sU",
            ScanType::Idle => "-sI",
            ScanType::IpProto => "-sO",
            ScanType::SctpInit => "-sY",
            ScanType::SctpCookieEcho => "-sZ",
            ScanType::Bounce => "-b",
            ScanType::PingOnly => "-sn",
            ScanType::List => "-sL",
        }
    }

    /// Whether this scan probes ports (not `-sn`, not `-sL`).
    pub fn is_port_scan(self) -> bool {
        !matches!(self, ScanType::PingOnly | ScanType::List)
    }

    /// Whether this is the UDP scan.
    pub fn is_udp(self) -> bool {
        matches!(self, ScanType::Udp)
    }

    /// Whether this is an SCTP scan (`-sY`, `-sZ`).
    pub fn is_sctp(self) -> bool {
        matches!(self, ScanType::SctpInit | ScanType::SctpCookieEcho)
    }

    /// Whether this scan probes TCP ports (connect, the raw TCP techniques, `--scanflags`).
    pub fn is_tcp(self) -> bool {
        self.is_port_scan() && !self.is_udp() && !self.is_sctp() && self != ScanType::IpProto
    }

    /// The protocol of the ports this scan probes (TCP for `-sn` and `-sL`, which probe none).
    pub fn protocol(self) -> crate::Protocol {
        match self {
            ScanType::Udp => crate::Protocol::Udp,
            ScanType::SctpInit | ScanType::SctpCookieEcho => crate::Protocol::Sctp,
            ScanType::IpProto => crate::Protocol::Ip,
            _ => crate::Protocol::Tcp,
        }
    }

    /// Whether the scan sends packets it builds itself (raw sockets): every port scan but `-sT` and `-b`.
    pub fn is_raw(self) -> bool {
        self.is_port_scan() && !matches!(self, ScanType::Connect | ScanType::Bounce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every port scan: connect, the raw TCP ones, a custom one, UDP.
    fn port_scans() -> Vec<ScanType> {
        let mut all = vec![ScanType::Connect];
        all.extend(ScanType::RAW_TCP);
        all.extend([ScanType::Custom(0x03), ScanType::Udp]);
        all
    }

    #[test]
    fn xml_names_are_nmaps_dtd_values() {
        let xml: Vec<_> = port_scans().iter().map(|t| t.xml_name()).collect();
        assert_eq!(xml, ["connect", "syn", "fin", "null", "xmas", "ack", "window", "maimon", "syn", "udp"]);
        // nmap's DTD scan_types: no "custom"; --scanflags alone runs as (and is recorded as) a SYN scan.
        let dtd = ["syn", "ack", "bounce", "connect", "null", "xmas", "window", "maimon", "fin", "udp"];
        assert!(port_scans().iter().all(|t| dtd.contains(&t.xml_name())));
        assert_eq!((ScanType::PingOnly.xml_name(), ScanType::List.xml_name()), ("ping", "list"));
        assert!(dtd.contains(&ScanType::Bounce.xml_name()));
        assert_eq!((ScanType::Bounce.display_name(), ScanType::Bounce.option()), ("FTP bounce Scan", "-b"));
        assert!(!ScanType::Bounce.is_raw() && ScanType::Bounce.is_port_scan() && !ScanType::Bounce.is_udp());
    }

    #[test]
    fn display_names() {
        let shown: Vec<_> = port_scans().iter().map(|t| t.display_name()).collect();
        assert_eq!(
            shown,
            [
                "Connect Scan",
                "SYN Stealth Scan",
                "FIN Scan",
                "NULL Scan",
                "XMAS Scan",
                "ACK Scan",
                "Window Scan",
                "Maimon Scan",
                "Custom Scan",
                "UDP Scan"
            ]
        );
    }

    #[test]
    fn options() {
        let options: Vec<_> = port_scans().iter().map(|t| t.option()).collect();
        assert_eq!(options, ["-sT", "-sS", "-sF", "-sN", "-sX", "-sA", "-sW", "-sM", "--scanflags", "-sU"]);
        assert_eq!((ScanType::PingOnly.option(), ScanType::List.option()), ("-sn", "-sL"));
    }

    #[test]
    fn idle_names() {
        let i = ScanType::Idle;
        assert_eq!((i.xml_name(), i.display_name(), i.option()), ("idle", "IdleScan", "-sI"));
        assert!(i.is_port_scan() && i.is_raw() && !i.is_udp(), "it sends packets it builds itself");
    }

    #[test]
    fn sctp_and_protocol_scans() {
        let t = [ScanType::IpProto, ScanType::SctpInit, ScanType::SctpCookieEcho];
        assert_eq!(t.map(ScanType::xml_name), ["ipproto", "sctpinit", "sctpcookieecho"]);
        assert_eq!(t.map(ScanType::display_name), ["IPProto Scan", "SCTP INIT Scan", "SCTP COOKIE-ECHO Scan"]);
        assert_eq!(t.map(ScanType::option), ["-sO", "-sY", "-sZ"]);
        assert_eq!(t.map(ScanType::protocol), [crate::Protocol::Ip, crate::Protocol::Sctp, crate::Protocol::Sctp]);
        assert!(t.iter().all(|t| t.is_raw() && !t.is_tcp() && !t.is_udp()));
        assert!(ScanType::SctpInit.is_sctp() && !ScanType::IpProto.is_sctp());
        assert!(ScanType::Syn.is_tcp() && ScanType::Connect.is_tcp() && !ScanType::Udp.is_tcp());
        assert_eq!(ScanType::Udp.protocol(), crate::Protocol::Udp);
    }

    #[test]
    fn kinds() {
        assert!(ScanType::Udp.is_udp() && port_scans()[..9].iter().all(|t| !t.is_udp()));
        assert!(!ScanType::Connect.is_raw() && !ScanType::PingOnly.is_raw() && !ScanType::List.is_raw());
        assert!(port_scans()[1..].iter().all(|t| t.is_raw() && t.is_port_scan()));
        assert!(!ScanType::PingOnly.is_port_scan() && !ScanType::List.is_port_scan());
    }
}
