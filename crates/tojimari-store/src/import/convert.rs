//! A file's [`Record`]s as the values core's sinks and the store take: the header as a [`RunInfo`], the
//! run's end as a [`RunSummary`], and the scope (targets and ports) the header states.
//!
//! nmap's XML keeps the command line (`args`) and the ports per protocol (`<scaninfo services>`), not the
//! targets, so the targets are the words of the command line that are neither options nor their values;
//! tojimari's JSON Lines keep the command line only, so the ports are its `-p`. masscan's files state no
//! scope, nor do their JSON and list files have a summary: a [`Tally`] of their hosts stands in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tojimari_core::Protocol;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{DisplayOptions, HostReport, HostState, RunExit, RunInfo, RunSummary, ScanInfo, ScanType};

use crate::import::nmap_xml::{Record, ScanInfoRecord};
use crate::import::ranges::for_each_port;

/// The targets and ports a file says were asked, as text; empty when it does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub targets: String,
    pub ports: String,
}

/// The header of a [`Record::Run`]; `None` for other records. A `<scaninfo>` of a type or protocol core
/// does not have (`bounce`, `idle` until they exist) is left out.
pub fn run_info(record: &Record) -> Option<RunInfo> {
    let Record::Run { args, start, version, scaninfo, verbose, debug, .. } = record else { return None };
    Some(RunInfo {
        args: args.clone(),
        start: start.unwrap_or(UNIX_EPOCH),
        version: version.clone(),
        scans: scaninfo.iter().filter_map(scan_info).collect(),
        display: DisplayOptions { verbose: *verbose, debug: *debug, ..DisplayOptions::default() },
    })
}

/// The summary of a [`Record::RunEnd`]; `None` for other records. A missing end time is the epoch and a
/// missing elapsed time zero.
pub fn summary(record: &Record) -> Option<RunSummary> {
    let Record::RunEnd { end, elapsed, exit, hosts_up, hosts_down, hosts_total } = record else { return None };
    Some(RunSummary {
        end: end.unwrap_or(UNIX_EPOCH),
        elapsed: elapsed.unwrap_or(Duration::ZERO),
        hosts_up: *hosts_up,
        hosts_down: *hosts_down,
        hosts_total: *hosts_total,
        exit: exit.clone(),
    })
}

/// The scope a [`Record::Run`] states (see the module documentation); empty for other records.
pub fn scope(record: &Record) -> Scope {
    let Record::Run { args, scaninfo, .. } = record else { return Scope::default() };
    let (targets, asked_ports) = split_command_line(args);
    let listed: Vec<&ScanInfoRecord> = scaninfo.iter().filter(|s| !s.services.is_empty()).collect();
    let ports = match listed.as_slice() {
        [] => asked_ports.unwrap_or_default(),
        [one] if one.protocol == "tcp" => one.services.clone(),
        many => many
            .iter()
            .map(|s| format!("{}:{}", s.protocol.chars().next().unwrap_or('?').to_ascii_uppercase(), s.services))
            .collect::<Vec<_>>()
            .join(","),
    };
    Scope { targets: targets.join(" "), ports }
}

/// When the file says when the run started: the header's start, else a host's start.
pub fn started(record: &Record) -> Option<SystemTime> {
    match record {
        Record::Run { start, .. } => *start,
        Record::Host(host) => Some(host.start),
        Record::RunEnd { .. } => None,
    }
}

/// What a file without a summary (masscan's JSON and list) says about its run, counted host by host: its
/// [`summary`](Tally::summary) is a successful run from the first host's start to the last host's end.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub first_start: Option<SystemTime>,
    pub last_end: Option<SystemTime>,
}

impl Tally {
    pub fn add(&mut self, host: &HostReport) {
        match host.state {
            HostState::Down => self.hosts_down += 1,
            _ => self.hosts_up += 1,
        }
        self.first_start = Some(self.first_start.map_or(host.start, |t| t.min(host.start)));
        self.last_end = Some(self.last_end.map_or(host.end, |t| t.max(host.end)));
    }

    pub fn summary(&self) -> RunSummary {
        let end = self.last_end.unwrap_or(UNIX_EPOCH);
        let start = self.first_start.unwrap_or(end);
        RunSummary {
            end,
            elapsed: end.duration_since(start).unwrap_or(Duration::ZERO),
            hosts_up: self.hosts_up,
            hosts_down: self.hosts_down,
            hosts_total: self.hosts_up + self.hosts_down,
            exit: RunExit::Success,
        }
    }
}

/// The scan type of nmap's `scaninfo type` name (the inverse of [`ScanType::xml_name`]).
fn scan_type(name: &str) -> Option<ScanType> {
    [
        ScanType::Connect,
        ScanType::Syn,
        ScanType::Fin,
        ScanType::Null,
        ScanType::Xmas,
        ScanType::Ack,
        ScanType::Window,
        ScanType::Maimon,
        ScanType::Udp,
        ScanType::Idle,
        ScanType::IpProto,
        ScanType::SctpInit,
        ScanType::SctpCookieEcho,
        ScanType::Bounce,
        ScanType::PingOnly,
        ScanType::List,
    ]
    .into_iter()
    .find(|t| t.xml_name() == name)
}

fn scan_info(record: &ScanInfoRecord) -> Option<ScanInfo> {
    let scan_type = scan_type(&record.scan_type)?;
    let proto: Protocol = record.protocol.parse().ok()?;
    let mut ports = Vec::new();
    // A list of at most 65536 ports each once: for_each_port stops a hostile one there.
    for_each_port(&record.services, |p| {
        ports.push(p);
        ports.len() <= 65_536
    })?;
    Some(ScanInfo { scan_type, proto, ports: PortSet::from_ports(ports) })
}

/// nmap's (and masscan's, and tojimari's) options that take the next word as their value.
const VALUE_OPTIONS: &[&str] = &[
    "-p",
    "--ports",
    "-sI",
    "--idle-scan",
    "-e",
    "-S",
    "-D",
    "-g",
    "-iL",
    "-iR",
    "-oN",
    "-oX",
    "-oG",
    "-oA",
    "-oS",
    "-oJ",
    "-oL",
    "-oB",
    "-oH",
    "-oU",
    "-oD",
    "-oM",
    "--exclude",
    "--excludefile",
    "--exclude-ports",
    "--max-retries",
    "--host-timeout",
    "--scan-delay",
    "--max-scan-delay",
    "--min-rate",
    "--max-rate",
    "--rate",
    "--min-parallelism",
    "--max-parallelism",
    "--min-hostgroup",
    "--max-hostgroup",
    "--min-rtt-timeout",
    "--max-rtt-timeout",
    "--initial-rtt-timeout",
    "--ttl",
    "--data",
    "--data-string",
    "--data-length",
    "--source-port",
    "--spoof-mac",
    "--script",
    "--script-args",
    "--script-args-file",
    "--version-intensity",
    "--top-ports",
    "--seed",
    "--shard",
    "--port-ratio",
    "--dns-servers",
    "--mtu",
    "--proxies",
    "--stylesheet",
    "--datadir",
    "--servicedb",
    "--versiondb",
    "--scanflags",
    "--max-os-tries",
    "--resume",
    "--wait",
    "--router-mac",
    "--adapter-ip",
    "--adapter-mac",
    "--adapter-port",
    "--source-ip",
    "--output-filename",
    "--output-format",
    "--output-json",
    "--output-xml",
    "--output-normal",
    "--output-grepable",
    "--stats-every",
    "--host-parallelism",
];

/// The words of a command line that are targets, and the value of its `-p` if any.
fn split_command_line(args: &str) -> (Vec<String>, Option<String>) {
    let mut iter = args.split_whitespace().skip(1).peekable();
    // `tojimari scan ...`: the subcommand is not a target.
    iter.next_if(|w| *w == "scan");
    // `tojimari check quick ...`: nor is the check.
    if iter.next_if(|w| *w == "check").is_some() {
        iter.next();
    }
    let (mut targets, mut ports) = (Vec::new(), None);
    while let Some(word) = iter.next() {
        if let Some(value) = word.strip_prefix("-p").filter(|v| !v.is_empty() && !word.starts_with("--")) {
            ports = Some(value.to_string());
        } else if VALUE_OPTIONS.contains(&word) {
            let value = iter.next();
            if matches!(word, "-p" | "--ports") {
                ports = value.map(str::to_string);
            }
        } else if word.starts_with('-') {
            if let Some((name, value)) = word.split_once('=')
                && matches!(name, "--ports")
            {
                ports = Some(value.to_string());
            }
        } else {
            targets.push(word.to_string());
        }
    }
    (targets, ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &str, scaninfo: &[(&str, &str, &str)]) -> Record {
        Record::Run {
            scanner: "nmap".into(),
            args: args.into(),
            start: Some(UNIX_EPOCH + Duration::from_secs(5)),
            version: "7.93".into(),
            scaninfo: scaninfo
                .iter()
                .map(|(t, p, s)| ScanInfoRecord {
                    scan_type: (*t).into(),
                    protocol: (*p).into(),
                    services: (*s).into(),
                })
                .collect(),
            verbose: 1,
            debug: 0,
        }
    }

    #[test]
    fn the_scope_of_a_command_line() {
        let r = run("nmap -n -sS -sV -O --reason -p 22,80,81 -oX - 198.18.0.2", &[("syn", "tcp", "22,80-81")]);
        assert_eq!(scope(&r), Scope { targets: "198.18.0.2".into(), ports: "22,80-81".into() });
        let r =
            run("nmap -sS -sU -T4 -e eth0 198.18.0.0/24 198.18.1.1", &[("syn", "tcp", "1-3"), ("udp", "udp", "53")]);
        assert_eq!(scope(&r), Scope { targets: "198.18.0.0/24 198.18.1.1".into(), ports: "T:1-3,U:53".into() });
        // The idle scan's zombie is not a target.
        let r = run("nmap -sI 198.18.0.200:80 -Pn -p 22 198.18.0.2", &[("idle", "tcp", "22")]);
        assert_eq!(scope(&r), Scope { targets: "198.18.0.2".into(), ports: "22".into() });
        assert_eq!(scan_type("idle"), Some(ScanType::Idle));
        let r = run("tojimari scan -sT -p1-100 --no-progress 198.18.0.2", &[("connect", "tcp", "")]);
        assert_eq!(scope(&r), Scope { targets: "198.18.0.2".into(), ports: "1-100".into() });
        let r = run("tojimari check quick 198.18.0.2 198.18.0.3", &[]);
        assert_eq!(scope(&r).targets, "198.18.0.2 198.18.0.3");
        assert_eq!(
            scope(&Record::RunEnd {
                end: None,
                elapsed: None,
                exit: tojimari_core::report::RunExit::Success,
                hosts_up: 0,
                hosts_down: 0,
                hosts_total: 0
            }),
            Scope::default()
        );
    }

    #[test]
    fn the_header_as_core_takes_it() {
        let r = run("nmap -sS x", &[("syn", "tcp", "22,80-81"), ("sctpinit", "sctp", "1"), ("udp", "udp", "9-1")]);
        let info = run_info(&r).unwrap();
        assert_eq!(info.scans.len(), 2, "a bad list is left out");
        assert_eq!((info.scans[1].scan_type, info.scans[1].proto), (ScanType::SctpInit, Protocol::Sctp));
        let ipproto = run_info(&run("nmap -sO x", &[("ipproto", "ip", "0-255"), ("frobnicate", "tcp", "1")])).unwrap();
        assert_eq!(ipproto.scans.len(), 1, "a type core does not have is left out");
        assert_eq!((ipproto.scans[0].proto, ipproto.scans[0].ports.len()), (Protocol::Ip, 256));
        assert_eq!((info.scans[0].scan_type, info.scans[0].ports.as_slice()), (ScanType::Syn, &[22, 80, 81][..]));
        assert_eq!((info.version.as_str(), info.display.verbose), ("7.93", 1));
        assert!(summary(&r).is_none());
    }
}
