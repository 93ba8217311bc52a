# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tojimari_global_optspecs
    string join \n h/help V/version
end

function __fish_tojimari_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tojimari_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tojimari_using_subcommand
    set -l cmd (__fish_tojimari_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tojimari -n "__fish_tojimari_needs_command" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_needs_command" -s V -l version -d 'Print version'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "scan" -d 'Scan hosts for open ports (nmap\'s options; SYN scan with raw-socket privilege, else TCP connect)'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "ports" -d 'Look up ports or service names in tojimari\'s services table'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "check" -d 'Ready-made checks in plain words: quick, stealth, trojan, tcp, udp, prescan'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "local" -d 'This machine\'s listening ports and the processes that own them (like ss -ltnup)'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "watch" -d 'Detect port scans against this machine, live or from captures and firewall logs'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "history" -d 'The recorded scans, newest first; with a target, its timeline per port'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "diff" -d 'What changed between two recorded scans, with ndiff\'s meaning and exit status'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "export" -d 'Write a recorded scan\'s files again (-oN/-oX/-oG/-oJ/-oA), as the scan wrote them'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "import" -d 'Record an nmap, masscan or tojimari result file in the result store as one scan'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "serve" -d 'The web UI over the result store: start checks, watch them run, see what is open and what changed'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "worker" -d 'Claim chunks of fleet scans (`scan --workers`) from PostgreSQL, scan them, commit their results'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "jobs" -d 'Progress of fleet scans, per chunk and per worker'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh or fish) for tojimari to standard output'
complete -c tojimari -n "__fish_tojimari_needs_command" -f -a "man" -d 'Print tojimari\'s man page (roff) to standard output'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l input-list -d 'Read targets from FILE (one or more per line, # comments; - for standard input; lines of at most 16 KiB, at most 2 million targets) [-iL]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l exclude -d 'Exclude hosts (comma-separated targets)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l excludefile -d 'Exclude the hosts listed in FILE (as -iL; at most 1 million targets)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s e -d 'Send through this network interface only (hosts not routed through it are reported unreachable)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ping-probe -d 'Discovery probes instead of the defaults (repeatable; needs raw sockets), typed as nmap\'s: -PE (ICMP echo), -PP (timestamp), -PM (address mask), -PS<ports> (TCP SYN), -PA<ports> (TCP ACK), -PU<ports> (UDP), -PY<ports> (SCTP INIT), -PO<protocols> (IP protocol ping; default 1,2,4), -PR (ARP: always used on the local link, as is IPv6 neighbor discovery)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l idle-scan -d 'Idle scan: read the target\'s ports through ZOMBIE\'s IP ID counter, probing the zombie at PORT (80); nothing is sent to the target from this host\'s address [-sI]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l scanflags -d 'TCP scan with these flags: names (SYNFIN, URGACKPSHRSTSYNFIN) or a number' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s b -l ftp-bounce -d 'FTP bounce scan: the FTP server RELAY, written [USER[:PASS]@]SERVER[:PORT], connects to the targets\' ports for us; anonymous login (password -wwwuser@) and port 21 unless given; IPv4 targets only [-b]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l version-intensity -d 'How many probes to try on a port the port hints do not name: 0 (light) to 9 (all); default 7' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l versiondb -d 'Use this probe database instead of the built-in one (format: docs/probe-db.md; at most 8 MiB)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l max-os-tries -d 'With -O: send each OS probe at most N times (1-50, default 2)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l osdb -d 'With -O: use this fingerprint database instead of the built-in one (format: docs/os-db.md; at most 4 MiB)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s p -d 'Ports to scan: 22,80,1000-2000, - or 1-65535 for all, service names (http,ssh), T:/U: prefixes' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l top-ports -d 'Scan the N most common ports of tojimari\'s ranking' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l exclude-ports -d 'Ports not to scan (same syntax as -p)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l seed -d 'Seed of the random port order (the same seed gives the same order)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l shard -d 'Scan only shard I of N: the probes (host x port) at positions I, I+N, ... of the seeded order. The shards of one scan share its --seed; together they are the whole scan' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s T -d 'Timing template: 0-5 or paranoid|sneaky|polite|normal|aggressive|insane [-T4]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l min-rate -d 'Send at least N probes per second' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l max-rate -d 'Send at most N probes per second' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l max-retries -d 'Retransmissions of an unanswered probe at most' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l host-timeout -d 'Give up on a host after this long (e.g. 30s, 5m)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l scan-delay -d 'Wait this long between probes to a host (e.g. 100ms)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l initial-rtt-timeout -d 'Probe timeout before any round trip was measured' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l min-rtt-timeout -d 'Shortest probe timeout' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l max-rtt-timeout -d 'Longest probe timeout' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l max-parallelism -d 'Probes in flight at most' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l output-normal -d 'Normal output to FILE (- for standard output) [-oN]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l output-xml -d 'nmap-compatible XML to FILE [-oX]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l output-grepable -d 'Grepable output to FILE [-oG]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l output-json -d 'JSON Lines to FILE [-oJ]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l output-all -d 'All formats at once: BASE.nmap, BASE.xml, BASE.gnmap, BASE.jsonl [-oA]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l stats-every -d 'Print a progress line every TIME (e.g. 10s), also when not on a terminal' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l allowed-targets -d 'Refuse every target outside LIST (addresses, CIDR blocks, `local`), after names are resolved: what `tojimari serve` gives the checks it runs' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l resume -d 'Continue the scan paused (Ctrl-C, SIGTERM) or killed whose checkpoint is FILE, with its own options: give no other (docs/resume.md)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l checkpoint -d 'Where a raw scan keeps its checkpoint for --resume once it has run --checkpoint-every (default ./tojimari.resume; removed when the scan completes)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l checkpoint-every -d 'How often the checkpoint is written (default 5s; also at every group of hosts finished)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l chunk-size -d 'Probes per chunk with --workers (default: about 262,000, fewer for small scans)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l mtu -d 'Fragment raw probes into fragments of N bytes of payload (a multiple of 8)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s D -d 'Send each probe also from these decoy addresses: ADDR,ADDR,ME,RND,RND:N (ME: where ours goes; RND: a random public address) [-D]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s S -d 'Probes say they come from ADDRESS (answers reach you only if it is yours or passes you; use -e) [-S]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s g -l source-port -d 'Every probe leaves from this source port [-g]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l spoof-mac -d 'Frames leave from this MAC address: a full MAC, a hex prefix (the rest random) or 0 (all random)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l data -d 'Append these bytes (hex: deadbeef, 0xdeadbeef or \\xde\\xad) to TCP probes; UDP probes carry them instead of the port\'s payload' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l data-string -d 'As --data, with this text' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l data-length -d 'As --data, with N random bytes (at most 1400)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ip-options -d 'IPv4 options: R (record route), T (timestamps), U (timestamps and addresses), L ADDR... (loose source route), S ADDR... (strict), or bytes as \\x07\\x03...' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ttl -d 'IP time-to-live (IPv6 hop limit) of probes, 0-255' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s 6 -d 'Scan IPv6: host names resolve to IPv6 addresses, and IPv4 targets are refused'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l no-ping -d 'Skip host discovery: treat every host as up [-Pn]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ping-only -d 'Host discovery only, no port scan [-sn]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s n -d 'Never do reverse DNS resolution'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l traceroute -d 'Trace the hops to each up host after its scan, with a probe the host answered (needs raw sockets)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l list -d 'List scan: list the targets that would be scanned (with reverse DNS unless -n) and send them nothing [-sL]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l connect -d 'TCP connect scan, the default without raw-socket privilege [-sT]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l syn -d 'TCP SYN scan, the default with raw-socket privilege (root or CAP_NET_RAW) [-sS]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l udp -d 'UDP scan [-sU] (may be combined with one TCP scan)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l sctp-init -d 'SCTP INIT scan [-sY] (may be combined with a TCP scan and -sU; SCTP ports as -p S:N)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l sctp-cookie-echo -d 'SCTP COOKIE ECHO scan [-sZ]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ip-protocol -d 'IP protocol scan [-sO]: which IP protocols (0-255, -p) the hosts speak'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l fin -d 'FIN scan [-sF]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l null -d 'NULL scan (no flags) [-sN]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l xmas -d 'Xmas scan (FIN, PSH, URG) [-sX]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l ack -d 'ACK scan: unfiltered or filtered [-sA]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l window -d 'Window scan: open or closed by the RST\'s window [-sW]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l maimon -d 'Maimon scan (FIN/ACK) [-sM]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l udp-full-split -d 'UDP: after the normal passes, probe silent ports again at the ICMP rate the target allows, until every closed port has answered (Linux allows about one unreachable per second: slow, but exact; -sO always does so)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l defeat-icmp-ratelimit -d '-sO: do not wait out the targets\' ICMP rate limits; protocols whose unreachable was suppressed stay open|filtered (quick, inexact)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l service-version -d 'Probe open ports for service, product and version [-sV], with TLS details and exposure findings'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l version-light -d '--version-intensity 2'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l version-all -d '--version-intensity 9'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l banners -d 'With -sV: show the first line each service sends unasked (its banner)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l no-findings -d 'With -sV: name services and versions only, without exposure checks'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l checks -d 'Exposure checks on open ports, tojimari\'s counterpart of nmap\'s default scripts [-sC]. They feed on what version detection finds, so -sC turns on -sV'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l aggressive -d 'nmap\'s -A: -sV, -sC, -O and --traceroute (those that cannot run in this scan are left out, and a note says why) [-A]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s O -l os-detect -d 'OS detection: probes an open and a closed port of each up host and matches the answers against tojimari\'s own fingerprint database (needs raw sockets)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l osscan-limit -d 'With -O: only hosts where the scan found an open and a closed TCP port'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l osscan-guess -l fuzzy -d 'With -O: list the nearest systems even when none matches closely enough to be stated'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s F -d 'Fast mode: the 100 most common ports'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s r -d 'Scan ports in ascending order instead of a random one'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l reason -d 'Show why each port has its state'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l open -d 'Show only open (or possibly open) ports'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s v -d 'More output (repeat for more)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l no-progress -d 'No progress line on a terminal'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l debug -d 'Debugging on stderr: the plan (techniques, ports, targets, timing values) and one line per raw-engine pass at -d; from -dd on, also every packet sent and received, as --packet-trace [-d, -dd]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l packet-trace -d 'Show every packet sent and received on stderr (SENT/RCVD lines; CONN lines for a connect scan)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l iflist -d 'List this machine\'s interfaces and routes, and exit (no targets needed)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l unprivileged -d 'Act as without raw-socket privilege: TCP connect scan and connect discovery'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l no-store -d 'Do not record this run in the result store (docs/store-recording.md)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l workers -d 'Do not scan here: split the scan into chunks held as jobs in the --db PostgreSQL, for `tojimari worker`s on any number of machines (docs/fleet.md)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s f -d 'Fragment raw probes into IPv4 fragments of 8 bytes of payload; -ff: 16 bytes [-f]'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l badsum -d 'Probes with a wrong TCP/UDP checksum: whoever answers did not check it (a firewall, a middlebox)'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -l adler32 -d 'SCTP probes (-sY, -sZ, -PY, -sO\'s protocol 132) carry RFC 2960\'s Adler-32 checksum instead of CRC32c: only stacks older than RFC 3309 answer them'
complete -c tojimari -n "__fish_tojimari_using_subcommand scan" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand ports" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l exclude -d 'Leave these hosts out (comma-separated targets), as `tojimari scan --exclude`' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l excludefile -d 'Leave out the hosts listed in FILE, as `tojimari scan --excludefile`' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -s e -d 'Send through this network interface' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l lang -d 'The report\'s language: en (English) or ja (Japanese). Default: from LC_ALL, LC_MESSAGES or LANG' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l output-normal -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l output-xml -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l output-grepable -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l output-json -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l output-all -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l stats-every -d 'Print a progress line every TIME (e.g. 10s) on standard error' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l allowed-targets -d 'Refuse every target outside LIST (see `tojimari scan --allowed-targets`)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -l no-store -d 'Do not record this run in the result store (docs/store-recording.md)'
complete -c tojimari -n "__fish_tojimari_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l port -d 'Who holds this port, and how to stop it' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l grace -d 'How long --stop waits after SIGTERM before SIGKILL (500ms, 5s, 1m; default 5s)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l db -d 'The result store for --store: a file (SQLite) or a postgres:// URL (default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l output-json -d 'Also write JSON Lines, one object per socket, to FILE (- for standard output) [-oJ]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l stop -d 'Stop whoever holds --port, after asking: systemctl stop for a systemd service, otherwise SIGTERM, then SIGKILL after the grace period; then check that the port is closed'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -s y -l yes -d 'Do not ask before --stop (for scripts)'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l store -d 'Also record this snapshot of the listening sockets in the result store (see --db)'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l tcp -d 'TCP sockets only'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -l udp -d 'UDP sockets only'
complete -c tojimari -n "__fish_tojimari_using_subcommand local" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -s i -d 'Capture on this interface (repeatable; default: every interface)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l pcap -d 'Replay a pcap or pcapng capture instead of capturing live (repeatable; - reads standard input; packets of at most 256 KiB)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l log -d 'Read iptables/nftables LOG lines (kernel log, journal export, dmesg) instead of capturing (repeatable; - reads standard input, e.g. `journalctl -k | tojimari watch --log -`; lines of at most 64 KiB)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l db -d 'The result store for --store: a file (SQLite) or a postgres:// URL (default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l output-json -d 'Write alerts as JSON Lines to FILE (- for standard output) [-oJ]' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l for -d 'Stop after this long (30s, 10m, 2h); default: until Ctrl-C' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l net -d 'Also watch this network (CIDR, repeatable): a subnet this host routes or mirrors, for host sweeps' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l store -d 'Also record every alert record in the result store (see --db)'
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -l syslog -d 'Also send each alert to syslog (authpriv.warning)'
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -s q -l quiet -d 'No readable alert lines on stderr (JSON and syslog are still written)'
complete -c tojimari -n "__fish_tojimari_using_subcommand watch" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand history" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand history" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l output-normal -d 'Also write the text to FILE [-oN]' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l output-xml -d 'Also write XML to FILE [-oX]' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l output-json -d 'Also write JSON Lines to FILE [-oJ]' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l text -d 'Text like ndiff\'s on standard output (the default)'
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l xml -d 'XML (ndiff\'s nmapdiff document) on standard output'
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -l jsonl -d 'JSON Lines on standard output: a header with the totals, then one object per host, port and finding'
complete -c tojimari -n "__fish_tojimari_using_subcommand diff" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l output-normal -d 'Normal output to FILE (- for standard output; the default when no output is given) [-oN]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l output-xml -d 'nmap-compatible XML to FILE [-oX]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l output-grepable -d 'Grepable output to FILE [-oG]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l output-json -d 'JSON Lines to FILE [-oJ]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l output-all -d 'All formats at once: BASE.nmap, BASE.xml, BASE.gnmap, BASE.jsonl [-oA]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand export" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand import" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand import" -l format -d 'The file\'s format, when not told from its first bytes' -r -f -a "nmap-xml\t''
masscan-xml\t''
masscan-json\t''
masscan-list\t''
jsonl\t''"
complete -c tojimari -n "__fish_tojimari_using_subcommand import" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -l listen -d 'Where to listen; an address beyond loopback needs a password (--password-file, else a random token is printed once)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -l password-file -d 'The password, the first line of FILE (at most 1 KiB), asked of every browser (kept only hashed)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -l allow -d 'The targets the page may check: addresses and networks (CIDR), comma-separated; `local` is this machine and its directly connected networks' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -l max-checks -d 'At most N checks run at once; more wait in line' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand serve" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -l state-dir -d 'Where results wait until committed (default: $XDG_STATE_HOME/tojimari/worker, else ~/.local/state/tojimari/worker)' -r -F
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -l lease -d 'A worker silent this long (no heartbeat) loses its chunk to another (e.g. 60s, 5m)' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -l checkpoint-every -d 'Save the chunk\'s progress this often while scanning it' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -l exit-when-done -d 'Stop once no fleet scan has a chunk left'
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -s v -d 'Say each chunk taken and committed'
complete -c tojimari -n "__fish_tojimari_using_subcommand worker" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand jobs" -l db -d 'The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand jobs" -l output-json -d 'JSON to FILE (- for standard output) instead of the text [-oJ]' -r
complete -c tojimari -n "__fish_tojimari_using_subcommand jobs" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tojimari -n "__fish_tojimari_using_subcommand man" -s h -l help -d 'Print help'
