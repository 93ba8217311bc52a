//! Raw command-line flags, as clap parses them. No validation and no side effects here: the
//! [`crate::plan`] module turns these into a checked scan plan.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// tojimari (戸締り, "locking up"): check that every door is shut.
#[derive(Debug, Parser)]
#[command(
    name = "tojimari",
    version,
    about = "tojimari (戸締り, \"locking up\"): a port scanner that checks every door is shut.",
    long_about = None,
    after_help = "Options follow nmap's: `tojimari scan -sT -p 1-1024 -oX out.xml 198.18.0.0/24`.\n\
                  Exit status: 0 success, 1 runtime failure (or interrupted), 2 bad usage.",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan hosts for open ports (nmap's options; SYN scan with raw-socket privilege, else TCP connect).
    Scan(Box<ScanArgs>),
    /// Look up ports or service names in tojimari's services table.
    Ports(PortsArgs),
    /// Ready-made checks in plain words: quick, stealth, trojan, tcp, udp, prescan.
    Check(CheckArgs),
    /// This machine's listening ports and the processes that own them (like ss -ltnup).
    Local(LocalCliArgs),
    /// Detect port scans against this machine, live or from captures and firewall logs.
    Watch(WatchCliArgs),
    /// The recorded scans, newest first; with a target, its timeline per port.
    History(crate::history_cmd::HistoryArgs),
    /// What changed between two recorded scans, with ndiff's meaning and exit status.
    Diff(crate::diff_cmd::DiffArgs),
    /// Write a recorded scan's files again (-oN/-oX/-oG/-oJ/-oA), as the scan wrote them.
    Export(ExportArgs),
    /// Record an nmap, masscan or tojimari result file in the result store as one scan.
    Import(ImportArgs),
    /// The web UI over the result store: start checks, watch them run, see what is open and what changed.
    Serve(crate::serve::ServeArgs),
    /// Claim chunks of fleet scans (`scan --workers`) from PostgreSQL, scan them, commit their results.
    Worker(crate::worker::WorkerArgs),
    /// Progress of fleet scans, per chunk and per worker.
    Jobs(crate::jobs::JobsArgs),
    /// Print a shell completion script (bash, zsh or fish) for tojimari to standard output.
    Completions(CompletionsArgs),
    /// Print tojimari's man page (roff) to standard output.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari export latest -oX last.xml\n  tojimari export 12 -oA scan12\n  \
                  tojimari export 12 --db postgres://scans@db.example/tojimari -oJ -")]
pub struct ExportArgs {
    /// The scan: its number (tojimari history lists them) or latest.
    #[arg(value_name = "SCAN")]
    pub scan: String,
    /// Normal output to FILE (- for standard output; the default when no output is given) [-oN].
    #[arg(long = "output-normal", value_name = "FILE")]
    pub output_normal: Option<String>,
    /// nmap-compatible XML to FILE [-oX].
    #[arg(long = "output-xml", value_name = "FILE")]
    pub output_xml: Option<String>,
    /// Grepable output to FILE [-oG].
    #[arg(long = "output-grepable", value_name = "FILE")]
    pub output_grepable: Option<String>,
    /// JSON Lines to FILE [-oJ].
    #[arg(long = "output-json", value_name = "FILE")]
    pub output_json: Option<String>,
    /// All formats at once: BASE.nmap, BASE.xml, BASE.gnmap, BASE.jsonl [-oA].
    #[arg(long = "output-all", value_name = "BASE")]
    pub output_all: Option<String>,
    #[command(flatten)]
    pub store: crate::store_plan::StoreOptions,
}

#[derive(Debug, Args)]
#[command(after_help = "The format is told from the file's first bytes unless --format names it. A file that cannot \
                  be read whole records nothing.\nExamples:\n  tojimari import scan.xml\n  \
                  masscan -p1-1024 198.18.0.0/24 -oJ - | tojimari import -\n  \
                  tojimari import --db postgres://scanner@db.example/tojimari results.jsonl\n  \
                  tojimari import shard-1.xml shard-2.xml shard-3.xml   (the shards of one scan, as one scan)")]
pub struct ImportArgs {
    /// The result file (- reads standard input). Several files are the shards of one scan (--shard I/N, one
    /// --seed), recorded as one scan.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: crate::store_plan::StoreOptions,
    /// The file's format, when not told from its first bytes.
    #[arg(long, value_name = "FORMAT", value_parser = ["nmap-xml", "masscan-xml", "masscan-json", "masscan-list", "jsonl"])]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari completions bash > /etc/bash_completion.d/tojimari\n  \
                  tojimari completions zsh > ~/.zfunc/_tojimari\n  \
                  tojimari completions fish > ~/.config/fish/completions/tojimari.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: CompletionShell,
}

/// The shells `tojimari completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
#[command(after_help = "Live capture needs root (CAP_NET_RAW). Alerts: one line on stderr each, JSON Lines with -oJ, \
                  syslog with --syslog.\nExamples:\n  sudo tojimari watch\n  sudo tojimari watch -i eth0 -oJ alerts.jsonl\n  \
                  tojimari watch --pcap capture.pcap\n  tojimari watch --log /var/log/kern.log")]
pub struct WatchCliArgs {
    /// Capture on this interface (repeatable; default: every interface).
    #[arg(short = 'i', value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// Replay a pcap or pcapng capture instead of capturing live (repeatable; - reads standard input;
    /// packets of at most 256 KiB).
    #[arg(long, value_name = "FILE")]
    pub pcap: Vec<PathBuf>,
    /// Read iptables/nftables LOG lines (kernel log, journal export, dmesg) instead of capturing (repeatable;
    /// - reads standard input, e.g. `journalctl -k | tojimari watch --log -`; lines of at most 64 KiB).
    #[arg(long, value_name = "FILE")]
    pub log: Vec<PathBuf>,
    /// Also record every alert record in the result store (see --db).
    #[arg(long)]
    pub store: bool,
    /// The result store for --store: a file (SQLite) or a postgres:// URL (default: $TOJIMARI_DB, else
    /// $XDG_DATA_HOME/tojimari/store.db).
    #[arg(long, value_name = "PATH|URL", requires = "store")]
    pub db: Option<String>,
    /// Write alerts as JSON Lines to FILE (- for standard output) [-oJ].
    #[arg(long = "output-json", value_name = "FILE")]
    pub output_json: Option<PathBuf>,
    /// Also send each alert to syslog (authpriv.warning).
    #[arg(long)]
    pub syslog: bool,
    /// Stop after this long (30s, 10m, 2h); default: until Ctrl-C.
    #[arg(long = "for", value_name = "TIME")]
    pub duration: Option<String>,
    /// Also watch this network (CIDR, repeatable): a subnet this host routes or mirrors, for host sweeps.
    #[arg(long, value_name = "CIDR")]
    pub net: Vec<String>,
    /// No readable alert lines on stderr (JSON and syslog are still written).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Run as root to see every owner. Examples:\n  tojimari local\n  tojimari local --port 5432\n  \
                  tojimari local -oJ sockets.jsonl\n  sudo tojimari local --port 8080 --stop")]
pub struct LocalCliArgs {
    /// Who holds this port, and how to stop it.
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Stop whoever holds --port, after asking: systemctl stop for a systemd service, otherwise SIGTERM, then
    /// SIGKILL after the grace period; then check that the port is closed.
    #[arg(long)]
    pub stop: bool,
    /// Do not ask before --stop (for scripts).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// How long --stop waits after SIGTERM before SIGKILL (500ms, 5s, 1m; default 5s).
    #[arg(long, value_name = "TIME")]
    pub grace: Option<String>,
    /// Also record this snapshot of the listening sockets in the result store (see --db).
    #[arg(long)]
    pub store: bool,
    /// The result store for --store: a file (SQLite) or a postgres:// URL (default: $TOJIMARI_DB, else
    /// $XDG_DATA_HOME/tojimari/store.db).
    #[arg(long, value_name = "PATH|URL", requires = "store")]
    pub db: Option<String>,
    /// Also write JSON Lines, one object per socket, to FILE (- for standard output) [-oJ].
    #[arg(long = "output-json", value_name = "FILE")]
    pub output_json: Option<String>,
    /// TCP sockets only.
    #[arg(long, conflicts_with = "udp")]
    pub tcp: bool,
    /// UDP sockets only.
    #[arg(long)]
    pub udp: bool,
}

/// Which ready-made check to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckKind {
    /// The common service ports (FTP, SSH, Telnet, SMTP, DNS, Finger, HTTP, POP3, Ident, MS-RPC, NetBIOS,
    /// HTTPS, SMB, SOCKS, UPnP, HTTP proxy), well-known trojan ports and ICMP echo.
    Quick,
    /// The same ports probed with SYN and with FIN, NULL and Xmas, to tell a stateful firewall from a
    /// stateless one (needs root).
    Stealth,
    /// Well-known trojan and backdoor ports, with their names.
    Trojan,
    /// Every TCP port up to 1024.
    Tcp,
    /// Every UDP port up to 1024 (needs root).
    Udp,
    /// Banners of FTP, SMTP, POP3, HTTP, proxy, SSH, Telnet, Finger, Ident and SOCKS servers.
    Prescan,
}

impl CheckKind {
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Quick => "quick",
            CheckKind::Stealth => "stealth",
            CheckKind::Trojan => "trojan",
            CheckKind::Tcp => "tcp",
            CheckKind::Udp => "udp",
            CheckKind::Prescan => "prescan",
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Results in plain words: OPEN (a program answers), CLOSED (the machine answered that nothing \
                  listens, so it is visible), STEALTH (no answer at all). A machine that serves nothing should show \
                  every port STEALTH.\nExamples:\n  tojimari check quick 198.18.0.2\n  sudo tojimari check stealth \
                  198.18.0.2")]
pub struct CheckArgs {
    /// Which check.
    #[arg(value_enum, value_name = "CHECK")]
    pub kind: CheckKind,
    /// Hosts to check (addresses, CIDR blocks or names).
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<String>,
    /// Leave these hosts out (comma-separated targets), as `tojimari scan --exclude`.
    #[arg(long, value_name = "LIST")]
    pub exclude: Vec<String>,
    /// Leave out the hosts listed in FILE, as `tojimari scan --excludefile`.
    #[arg(long, value_name = "FILE")]
    pub excludefile: Option<PathBuf>,
    /// Send through this network interface.
    #[arg(short = 'e', value_name = "IFACE")]
    pub interface: Option<String>,
    /// The report's language: en (English) or ja (Japanese). Default: from LC_ALL, LC_MESSAGES or LANG.
    #[arg(long = "lang", value_name = "LANG")]
    pub lang: Option<String>,
    /// nmap's output options (-oN, -oX, -oG, -oJ, -oA), accepted here only to be refused with a clear
    /// message: a check writes its report to standard output.
    #[command(flatten)]
    pub outputs: CheckOutputs,
    /// The result store the check is recorded into (`--db`, `--no-store`).
    #[command(flatten)]
    pub record: crate::store_plan::RecordArgs,
    /// Print a progress line every TIME (e.g. 10s) on standard error.
    #[arg(long = "stats-every", value_name = "TIME")]
    pub stats_every: Option<String>,
    /// Refuse every target outside LIST (see `tojimari scan --allowed-targets`).
    #[arg(long = "allowed-targets", value_name = "LIST", hide = true)]
    pub allowed_targets: Option<String>,
}

/// The output options `tojimari check` refuses (see [`CheckArgs::outputs`]).
#[derive(Debug, Default, Args)]
pub struct CheckOutputs {
    #[arg(long = "output-normal", value_name = "FILE", hide = true)]
    pub normal: Option<String>,
    #[arg(long = "output-xml", value_name = "FILE", hide = true)]
    pub xml: Option<String>,
    #[arg(long = "output-grepable", value_name = "FILE", hide = true)]
    pub grepable: Option<String>,
    #[arg(long = "output-json", value_name = "FILE", hide = true)]
    pub json: Option<String>,
    #[arg(long = "output-all", value_name = "BASE", hide = true)]
    pub all: Option<String>,
}

/// `Default` lets `tojimari check` build its scans in code (every flag off, no value given).
#[derive(Debug, Default, Args)]
#[command(after_help = "Two-letter options are nmap's: -sS -sT -sU -sY -sZ -sO -sV -sC -sL -sn (combined as -sSV, -sSU), \
                  -Pn, -PE/-PS22/..., -A, -d, -iL FILE, -oN/-oX/-oG/-oJ FILE, -oA BASE.\n\
                  nmap options tojimari lacks are refused by name: docs/nmap-options.md lists them.\n\
                  Examples:\n  tojimari scan 127.0.0.1\n  tojimari scan -p- -T4 --open 198.18.0.2\n  \
                  tojimari scan -p 22,80,443 -oA results 198.18.0.0/24 2001:db8::/120",
    // As in nmap, a flag given twice (-sCV -sV, -n -n) is simply on; a value given twice keeps the last.
    args_override_self = true
)]
pub struct ScanArgs {
    /// Hosts to scan: addresses, CIDR blocks (198.18.0.0/24, 2001:db8::/120), octet ranges
    /// (198.18.0.1-20, 198.18.0-3.1) or host names.
    #[arg(value_name = "TARGET", help_heading = "Target specification")]
    pub targets: Vec<String>,
    /// Read targets from FILE (one or more per line, # comments; - for standard input; lines of at most
    /// 16 KiB, at most 2 million targets) [-iL].
    #[arg(long = "input-list", value_name = "FILE", help_heading = "Target specification")]
    pub input_list: Option<String>,
    /// Exclude hosts (comma-separated targets).
    #[arg(long, value_name = "LIST", help_heading = "Target specification")]
    pub exclude: Vec<String>,
    /// Exclude the hosts listed in FILE (as -iL; at most 1 million targets).
    #[arg(long, value_name = "FILE", help_heading = "Target specification")]
    pub excludefile: Option<PathBuf>,
    /// Send through this network interface only (hosts not routed through it are reported unreachable).
    #[arg(short = 'e', value_name = "IFACE", help_heading = "Target specification")]
    pub interface: Option<String>,
    /// Scan IPv6: host names resolve to IPv6 addresses, and IPv4 targets are refused.
    #[arg(short = '6', help_heading = "Target specification")]
    pub ipv6: bool,

    /// Skip host discovery: treat every host as up [-Pn].
    #[arg(long = "no-ping", help_heading = "Host discovery")]
    pub no_ping: bool,
    /// Host discovery only, no port scan [-sn].
    #[arg(long = "ping-only", help_heading = "Host discovery")]
    pub ping_only: bool,
    /// Never do reverse DNS resolution.
    #[arg(short = 'n', help_heading = "Host discovery")]
    pub no_dns: bool,
    /// Discovery probes instead of the defaults (repeatable; needs raw sockets), typed as nmap's: -PE (ICMP
    /// echo), -PP (timestamp), -PM (address mask), -PS<ports> (TCP SYN), -PA<ports> (TCP ACK), -PU<ports>
    /// (UDP), -PY<ports> (SCTP INIT), -PO<protocols> (IP protocol ping; default 1,2,4), -PR (ARP: always
    /// used on the local link, as is IPv6 neighbor discovery).
    // This text is also --help's, which prints it as written: `<ports>` is nmap's notation, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long = "ping-probe", value_name = "PROBE", help_heading = "Host discovery")]
    pub raw_discovery: Vec<String>,
    /// Trace the hops to each up host after its scan, with a probe the host answered (needs raw sockets).
    #[arg(long, help_heading = "Host discovery")]
    pub traceroute: bool,

    /// List scan: list the targets that would be scanned (with reverse DNS unless -n) and send them
    /// nothing [-sL].
    #[arg(long, help_heading = "Scan techniques")]
    pub list: bool,
    /// TCP connect scan, the default without raw-socket privilege [-sT].
    #[arg(long, help_heading = "Scan techniques")]
    pub connect: bool,
    /// TCP SYN scan, the default with raw-socket privilege (root or CAP_NET_RAW) [-sS].
    #[arg(long, help_heading = "Scan techniques")]
    pub syn: bool,
    /// UDP scan [-sU] (may be combined with one TCP scan).
    #[arg(long, help_heading = "Scan techniques")]
    pub udp: bool,
    /// SCTP INIT scan [-sY] (may be combined with a TCP scan and -sU; SCTP ports as -p S:N).
    #[arg(long = "sctp-init", help_heading = "Scan techniques")]
    pub sctp_init: bool,
    /// SCTP COOKIE ECHO scan [-sZ].
    #[arg(long = "sctp-cookie-echo", help_heading = "Scan techniques")]
    pub sctp_cookie_echo: bool,
    /// IP protocol scan [-sO]: which IP protocols (0-255, -p) the hosts speak.
    #[arg(long = "ip-protocol", help_heading = "Scan techniques")]
    pub ip_protocol: bool,
    /// FIN scan [-sF].
    #[arg(long, help_heading = "Scan techniques")]
    pub fin: bool,
    /// NULL scan (no flags) [-sN].
    #[arg(long, help_heading = "Scan techniques")]
    pub null: bool,
    /// Xmas scan (FIN, PSH, URG) [-sX].
    #[arg(long, help_heading = "Scan techniques")]
    pub xmas: bool,
    /// ACK scan: unfiltered or filtered [-sA].
    #[arg(long, help_heading = "Scan techniques")]
    pub ack: bool,
    /// Window scan: open or closed by the RST's window [-sW].
    #[arg(long, help_heading = "Scan techniques")]
    pub window: bool,
    /// Maimon scan (FIN/ACK) [-sM].
    #[arg(long, help_heading = "Scan techniques")]
    pub maimon: bool,
    /// UDP: after the normal passes, probe silent ports again at the ICMP rate the target allows, until
    /// every closed port has answered (Linux allows about one unreachable per second: slow, but exact; -sO
    /// always does so).
    #[arg(long = "udp-full-split", help_heading = "Scan techniques")]
    pub udp_full_split: bool,
    /// -sO: do not wait out the targets' ICMP rate limits; protocols whose unreachable was suppressed stay
    /// open|filtered (quick, inexact).
    #[arg(long = "defeat-icmp-ratelimit", help_heading = "Scan techniques")]
    pub defeat_icmp_ratelimit: bool,
    /// Idle scan: read the target's ports through ZOMBIE's IP ID counter, probing the zombie at PORT (80);
    /// nothing is sent to the target from this host's address [-sI].
    #[arg(long = "idle-scan", value_name = "ZOMBIE[:PORT]", help_heading = "Scan techniques")]
    pub idle_scan: Option<String>,
    /// TCP scan with these flags: names (SYNFIN, URGACKPSHRSTSYNFIN) or a number.
    #[arg(long, value_name = "FLAGS", help_heading = "Scan techniques")]
    pub scanflags: Option<String>,
    /// FTP bounce scan: the FTP server RELAY, written [USER[:PASS]@]SERVER[:PORT], connects to the targets'
    /// ports for us; anonymous login (password -wwwuser@) and port 21 unless given; IPv4 targets only [-b].
    // This text is also --help's, which prints it as written: the brackets are nmap's notation, not links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(short = 'b', long = "ftp-bounce", value_name = "RELAY", help_heading = "Scan techniques")]
    pub bounce: Option<String>,
    /// Probe open ports for service, product and version [-sV], with TLS details and exposure findings.
    #[arg(long = "service-version", help_heading = "Service and version detection")]
    pub service_version: bool,
    /// How many probes to try on a port the port hints do not name: 0 (light) to 9 (all); default 7.
    #[arg(
        long = "version-intensity",
        value_name = "0-9",
        allow_hyphen_values = true,
        help_heading = "Service and version detection"
    )]
    pub version_intensity: Option<String>,
    /// --version-intensity 2.
    #[arg(long = "version-light", help_heading = "Service and version detection")]
    pub version_light: bool,
    /// --version-intensity 9.
    #[arg(long = "version-all", help_heading = "Service and version detection")]
    pub version_all: bool,
    /// Use this probe database instead of the built-in one (format: docs/probe-db.md; at most 8 MiB).
    #[arg(long = "versiondb", value_name = "FILE", help_heading = "Service and version detection")]
    pub versiondb: Option<PathBuf>,
    /// With -sV: show the first line each service sends unasked (its banner).
    #[arg(long = "banners", help_heading = "Service and version detection")]
    pub banners: bool,
    /// With -sV: name services and versions only, without exposure checks.
    #[arg(long = "no-findings", help_heading = "Service and version detection")]
    pub no_findings: bool,
    /// Exposure checks on open ports, tojimari's counterpart of nmap's default scripts [-sC]. They feed on
    /// what version detection finds, so -sC turns on -sV.
    #[arg(long, help_heading = "Service and version detection")]
    pub checks: bool,
    /// nmap's -A: -sV, -sC, -O and --traceroute (those that cannot run in this scan are left out, and a note
    /// says why) [-A].
    #[arg(long, help_heading = "Service and version detection")]
    pub aggressive: bool,

    /// OS detection: probes an open and a closed port of each up host and matches the answers against
    /// tojimari's own fingerprint database (needs raw sockets).
    #[arg(short = 'O', long = "os-detect", help_heading = "OS detection")]
    pub os_detect: bool,
    /// With -O: only hosts where the scan found an open and a closed TCP port.
    #[arg(long = "osscan-limit", help_heading = "OS detection")]
    pub osscan_limit: bool,
    /// With -O: list the nearest systems even when none matches closely enough to be stated.
    #[arg(long = "osscan-guess", visible_alias = "fuzzy", help_heading = "OS detection")]
    pub osscan_guess: bool,
    /// With -O: send each OS probe at most N times (1-50, default 2).
    #[arg(long = "max-os-tries", value_name = "N", allow_hyphen_values = true, help_heading = "OS detection")]
    pub max_os_tries: Option<String>,
    /// With -O: use this fingerprint database instead of the built-in one (format: docs/os-db.md; at most
    /// 4 MiB).
    #[arg(long = "osdb", value_name = "FILE", help_heading = "OS detection")]
    pub osdb: Option<PathBuf>,

    /// Ports to scan: 22,80,1000-2000, - or 1-65535 for all, service names (http,ssh), T:/U: prefixes.
    #[arg(short = 'p', value_name = "PORTS", allow_hyphen_values = true, help_heading = "Port specification")]
    pub ports: Option<String>,
    /// Scan the N most common ports of tojimari's ranking.
    #[arg(long = "top-ports", allow_hyphen_values = true, value_name = "N", help_heading = "Port specification")]
    pub top_ports: Option<String>,
    /// Fast mode: the 100 most common ports.
    #[arg(short = 'F', help_heading = "Port specification")]
    pub fast: bool,
    /// Ports not to scan (same syntax as -p).
    #[arg(
        long = "exclude-ports",
        value_name = "PORTS",
        allow_hyphen_values = true,
        help_heading = "Port specification"
    )]
    pub exclude_ports: Option<String>,
    /// Scan ports in ascending order instead of a random one.
    #[arg(short = 'r', help_heading = "Port specification")]
    pub sequential: bool,
    /// Seed of the random port order (the same seed gives the same order).
    #[arg(long, allow_hyphen_values = true, value_name = "N", help_heading = "Port specification")]
    pub seed: Option<String>,
    /// Scan only shard I of N: the probes (host x port) at positions I, I+N, ... of the seeded order. The
    /// shards of one scan share its --seed; together they are the whole scan.
    #[arg(long, value_name = "I/N", help_heading = "Port specification")]
    pub shard: Option<String>,

    /// Timing template: 0-5 or paranoid|sneaky|polite|normal|aggressive|insane [-T4].
    #[arg(short = 'T', value_name = "0-5", help_heading = "Timing and performance")]
    pub timing: Option<String>,
    /// Send at least N probes per second.
    #[arg(long = "min-rate", allow_hyphen_values = true, value_name = "N", help_heading = "Timing and performance")]
    pub min_rate: Option<String>,
    /// Send at most N probes per second.
    #[arg(long = "max-rate", allow_hyphen_values = true, value_name = "N", help_heading = "Timing and performance")]
    pub max_rate: Option<String>,
    /// Retransmissions of an unanswered probe at most.
    #[arg(long = "max-retries", allow_hyphen_values = true, value_name = "N", help_heading = "Timing and performance")]
    pub max_retries: Option<String>,
    /// Give up on a host after this long (e.g. 30s, 5m).
    #[arg(
        long = "host-timeout",
        allow_hyphen_values = true,
        value_name = "TIME",
        help_heading = "Timing and performance"
    )]
    pub host_timeout: Option<String>,
    /// Wait this long between probes to a host (e.g. 100ms).
    #[arg(
        long = "scan-delay",
        allow_hyphen_values = true,
        value_name = "TIME",
        help_heading = "Timing and performance"
    )]
    pub scan_delay: Option<String>,
    /// Probe timeout before any round trip was measured.
    #[arg(long = "initial-rtt-timeout", value_name = "TIME", help_heading = "Timing and performance")]
    pub initial_rtt_timeout: Option<String>,
    /// Shortest probe timeout.
    #[arg(long = "min-rtt-timeout", value_name = "TIME", help_heading = "Timing and performance")]
    pub min_rtt_timeout: Option<String>,
    /// Longest probe timeout.
    #[arg(long = "max-rtt-timeout", value_name = "TIME", help_heading = "Timing and performance")]
    pub max_rtt_timeout: Option<String>,
    /// Probes in flight at most.
    #[arg(
        long = "max-parallelism",
        allow_hyphen_values = true,
        value_name = "N",
        help_heading = "Timing and performance"
    )]
    pub max_parallelism: Option<String>,

    /// Normal output to FILE (- for standard output) [-oN].
    #[arg(long = "output-normal", value_name = "FILE", help_heading = "Output")]
    pub output_normal: Option<String>,
    /// nmap-compatible XML to FILE [-oX].
    #[arg(long = "output-xml", value_name = "FILE", help_heading = "Output")]
    pub output_xml: Option<String>,
    /// Grepable output to FILE [-oG].
    #[arg(long = "output-grepable", value_name = "FILE", help_heading = "Output")]
    pub output_grepable: Option<String>,
    /// JSON Lines to FILE [-oJ].
    #[arg(long = "output-json", value_name = "FILE", help_heading = "Output")]
    pub output_json: Option<String>,
    /// All formats at once: BASE.nmap, BASE.xml, BASE.gnmap, BASE.jsonl [-oA].
    #[arg(long = "output-all", value_name = "BASE", help_heading = "Output")]
    pub output_all: Option<String>,
    /// Show why each port has its state.
    #[arg(long, help_heading = "Output")]
    pub reason: bool,
    /// Show only open (or possibly open) ports.
    #[arg(long, help_heading = "Output")]
    pub open: bool,
    /// More output (repeat for more).
    #[arg(short = 'v', action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
    /// Print a progress line every TIME (e.g. 10s), also when not on a terminal.
    #[arg(long = "stats-every", value_name = "TIME", help_heading = "Output")]
    pub stats_every: Option<String>,
    /// Refuse every target outside LIST (addresses, CIDR blocks, `local`), after names are resolved: what
    /// `tojimari serve` gives the checks it runs.
    #[arg(long = "allowed-targets", value_name = "LIST", hide = true)]
    pub allowed_targets: Option<String>,
    /// No progress line on a terminal.
    #[arg(long = "no-progress", help_heading = "Output")]
    pub no_progress: bool,
    /// Debugging on stderr: the plan (techniques, ports, targets, timing values) and one line per raw-engine
    /// pass at -d; from -dd on, also every packet sent and received, as --packet-trace [-d, -dd].
    #[arg(long, action = ArgAction::Count, help_heading = "Output")]
    pub debug: u8,
    /// Show every packet sent and received on stderr (SENT/RCVD lines; CONN lines for a connect scan).
    #[arg(long = "packet-trace", help_heading = "Output")]
    pub packet_trace: bool,
    /// List this machine's interfaces and routes, and exit (no targets needed).
    #[arg(long, help_heading = "Miscellaneous")]
    pub iflist: bool,
    /// Act as without raw-socket privilege: TCP connect scan and connect discovery.
    #[arg(long, help_heading = "Miscellaneous")]
    pub unprivileged: bool,
    /// Continue the scan paused (Ctrl-C, SIGTERM) or killed whose checkpoint is FILE, with its own options:
    /// give no other (docs/resume.md).
    #[arg(long, value_name = "FILE", exclusive = true, help_heading = "Miscellaneous")]
    pub resume: Option<PathBuf>,
    /// Where a raw scan keeps its checkpoint for --resume once it has run --checkpoint-every
    /// (default ./tojimari.resume; removed when the scan completes).
    #[arg(long, value_name = "FILE", help_heading = "Miscellaneous")]
    pub checkpoint: Option<PathBuf>,
    /// How often the checkpoint is written (default 5s; also at every group of hosts finished).
    #[arg(long = "checkpoint-every", value_name = "TIME", help_heading = "Miscellaneous")]
    pub checkpoint_every: Option<String>,
    /// The result store this scan is recorded into (`--db`, `--no-store`).
    #[command(flatten, next_help_heading = "Result store")]
    pub record: crate::store_plan::RecordArgs,
    /// Do not scan here: split the scan into chunks held as jobs in the --db PostgreSQL, for `tojimari
    /// worker`s on any number of machines (docs/fleet.md).
    #[arg(long, help_heading = "Fleet")]
    pub workers: bool,
    /// Probes per chunk with --workers (default: about 262,000, fewer for small scans).
    #[arg(long = "chunk-size", value_name = "N", requires = "workers", help_heading = "Fleet")]
    pub chunk_size: Option<u64>,
    /// nmap's firewall/IDS evasion and spoofing options (raw scans; docs/evasion.md).
    #[command(flatten, next_help_heading = "Firewall/IDS evasion and spoofing")]
    pub evasion: crate::evasion::EvasionArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari ports 8080\n  tojimari ports ssh 1-5 U:53")]
pub struct PortsArgs {
    /// Ports, ranges or service names, in -p syntax.
    #[arg(value_name = "PORT", required = true, allow_hyphen_values = true)]
    pub ports: Vec<String>,
}
