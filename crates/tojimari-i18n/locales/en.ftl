# tojimari's texts in English.
#
# Every message here has its twin in ja.ftl, with the same variables and attributes (the catalogue test in
# crates/tojimari-i18n/src/consistency.rs checks it). Each message is one line: Fluent keeps the line breaks
# of a multi-line value. The texts of exposure findings (finding-*), the severity words (severity-*), nmap's
# port states (state-*) and `raw-privilege` are not here: their English is defined once in tojimari-core and
# added to this catalogue by the program (see docs/web-i18n.md); ja.ftl has their Japanese.

## Shared words

language = Language

# The plain-words verdicts (`tojimari check`'s table, the web pages), with what each means. The Latin word
# stays in every language, with an explanation after it.
verdict-open = OPEN
    .help = a program answers on this port
verdict-closed = CLOSED
    .help = the machine answered that nothing listens, so it is visible
verdict-stealth = STEALTH
    .help = no answer at all

## check: the plain-words report of `tojimari check`

# Column headings of the port tables.
check-col-port = PORT
check-col-name = NAME
check-col-result = RESULT
check-col-syn = SYN
check-col-fin = FIN
check-col-null = NULL
check-col-xmas = XMAS

# quick: whether the host answers ping. $result is one of the three texts below it.
check-icmp = ICMP echo: { $result }
check-icmp-answered = ANSWERED: the host answers ping, so it shows it exists
check-icmp-silent = STEALTH: no echo reply
check-icmp-not-tested = not tested: sending ICMP echo needs { $privilege }

# A port in the table whose name comes from the trojan list.
check-trojan-name = trojan: { $name }
# After a CLOSED port that a firewall rejected ($reason: nmap's reason word, such as admin-prohibited).
check-firewall-answered = (a firewall answered: { $reason })
# The banner a service sent ($banner: shown as received, control characters escaped).
check-banner = banner: { $banner }
check-other-ports = (other ports: { $closed } CLOSED, { $stealth } STEALTH)
check-verdict-counts = Verdict: { $open } OPEN, { $closed } CLOSED, { $stealth } STEALTH of { $total } ports.
check-serves-nothing = A machine that serves nothing should show every port STEALTH.
check-closed-visible = CLOSED ports tell a scanner the machine is there: have the firewall drop unsolicited packets instead of answering them.
check-all-stealth = Every port is STEALTH: nothing answered. This machine shows no open door on these ports.
# The advice for an OPEN port ($port: 22/tcp; $advice: one of the advice- texts).
check-open-advice = { $port } OPEN: { $advice }

# stealth: SYN, FIN, NULL and Xmas side by side.
check-verdict = Verdict:
check-stateless-filter = { $count } ports drop SYN but answer FIN/NULL/Xmas with a reset: a STATELESS filter that only blocks connection attempts. Scanners still map the machine with FIN/NULL/Xmas probes: use a stateful firewall that drops every unsolicited packet (nftables: ct state new,invalid drop).
check-stateful-all = Every port is STEALTH to every probe type: a stateful firewall (or no machine) is dropping everything. That is what a machine serving nothing should show.
check-stateful-some = { $count } ports are STEALTH to every probe type: consistent with a stateful firewall.
check-answer-closed = { $count } ports answer CLOSED: no firewall drops packets to them, so the machine is visible. Drop unsolicited packets to make them STEALTH.

## advice: one line for an OPEN port, by service

advice-ftp = FTP sends passwords in clear text: use SFTP (over SSH) or FTPS, or close the port.
advice-ssh = SSH is fine for remote administration: allow only your own addresses, use keys and turn passwords off.
advice-telnet = Telnet sends everything, passwords included, in clear text: replace it with SSH and close the port.
advice-smtp = Only a mail server should accept mail: close the port elsewhere, and never relay for strangers.
advice-dns = Only a DNS server should answer here: close it elsewhere, and never offer recursion to the Internet.
advice-finger = finger tells strangers who has accounts here: turn it off.
advice-http = Fine if you serve a web site on purpose: keep the server patched; otherwise stop it.
advice-mail-retrieval = Mail retrieval: offer it only over TLS (ports 995/993) and only on a mail server.
advice-ident = ident is obsolete and tells who runs each connection: turn it off.
advice-windows-sharing = Windows file sharing and RPC must never face the Internet: block these ports at the firewall.
advice-socks = An open SOCKS proxy lets anyone relay traffic through you: require authentication or close it.
advice-http-proxy = An open HTTP proxy lets anyone relay traffic through you: restrict it to your own clients.
advice-upnp = UPnP lets programs open ports in your router: turn it off on anything that faces the Internet.
# $name: the backdoor's name from the trojan list; $port: the port number.
advice-trojan = a well-known backdoor port ({ $name }): find the program that holds it (`tojimari local --port { $port }` on that machine) and make sure it is one you know.
advice-default = If nothing here should be served, stop the program (`tojimari local --port { $port }` on that machine names it) or have the firewall drop the port.

## web

# The server core: layout, New check, a check's page, login, errors.
log-out = Log out
cannot-do-that = That did not work
form-unreadable = The form could not be read.
form-unreadable-hint = Go back, fill in the form again and send it once more.
csrf-refused = This form is out of date or did not come from this page.
csrf-refused-hint = Reload the page and try again.
no-target = Give a target: an address, a network (CIDR) or a host name.
too-many-targets = Too many targets in one check
check-target = Target
check-allowed = This page may check:
check-profile = Check
profile-quick = the common service ports and well-known backdoors, in plain words
profile-stealth = the common ports with every probe type (SYN, FIN, NULL, Xmas): what a firewall lets through
profile-trojan = the ports of well-known trojans and backdoors
profile-tcp = every TCP port up to 1024
profile-udp = every UDP port up to 1024
profile-prescan = what the services say about themselves (banners)
profile-full = every TCP port, with service versions (slow)
profile-custom = your own options in nmap syntax
check-options = Options (custom only)
check-start = Start the check
checks-recent = Checks started here
status = Status
no-such-check = There is no such check.
no-such-check-hint = Checks are remembered until the server restarts; their results stay in the store (see Scans).
check = Check
scan = Scan
check-report = The check's report
progress-waiting = Waiting for the first progress report…
open-so-far = open so far
status-queued = waiting for its turn
status-running = running
status-done = done
status-failed = failed
no-such-page = There is no such page.
no-such-page-hint = Use the links at the top of the page.
bad-scan-number = A scan is named by its number.
bad-scan-number-hint = The Scans page lists them.
export-failed-hint = Check that the scan exists (the Scans page lists them) and that the store is reachable.
unknown-language = Unknown language
store-unavailable-title = The result store is unavailable
login-needed = This server asks for a password.
login-needed-hint = Log in first (the Log in page), then send the form again.
login-title = Log in
login-password = Password
login-submit = Log in
login-wrong = Wrong password.
login-locked = Too many wrong passwords from this address: wait a few minutes and try again.


# The read-only pages: dashboard, scans, scan, compare, host, ports, this machine.
status-complete = complete
status-interrupted = interrupted
host-up = up
host-down = down
host-unknown = unknown
change-opened = Opened
change-closed = Closed
change-state = State changed
change-not-scanned = Not scanned
change-newly-scanned = Newly scanned
change-host-down = Host down
change-service = Service changed
change-cert = Certificate changed
host-change-up = Came up
host-change-down = Went down
host-change-not-scanned = Host not scanned
host-change-changed = Changed
finding-new = New findings
finding-resolved = Resolved findings
finding-changed = Changed findings
not-scanned = not scanned
not-scanned-meaning = "Not scanned" means the later scan did not look at the port: it is unknown, not closed.
not-scanned-or-down = not seen (not scanned, or host not up)
advice = Advice
alert-ended = scan ended
alert-scan = scan seen
alerts-live-note = New alerts appear here as the watcher records them.
all-scans = All scans
and-more = and more
any-state = any
bad-cursor = not a cursor (TIME.ID)
bad-request = Bad request
bad-request-hint = Check the address or the form and try again.
not-found = Not found
changes-between = Changes between scans
clear-filters = clear
col-change = Change
col-confidence = Confidence
col-finding = Finding
col-findings = Findings
col-from = From
col-host = Host
col-hosts-up = Hosts up
col-kind = Kind
col-open-ports = Open ports
col-ports = Ports
col-probes = Probes
col-processes = Processes
col-product = Product
col-profile = Profile
col-reach = Reachable from
col-recorded-by = Recorded by
col-scan = Scan
col-scan-type = Scan type
col-socket = Socket
col-started = Started
col-status = Status
col-targets = Targets
col-time = Time
col-to = To
col-tool = Tool
command = Command
compare-a = Baseline (A)
compare-b = Compared (B)
compare-button = Compare
compare-hint = The baseline must be a complete scan; choose two scans in the form.
compare-no-baseline = No earlier complete scan with the same scope
compare-no-pair = The store has no two complete scans with the same scope yet.
compare-not-complete = This scan did not complete and cannot be the baseline
compare-other-scope = These scans asked different targets, ports or profiles: hosts and ports outside B's scope are "not scanned".
compare-with = Compare with the previous scan
ended = Ended
exposure = Exposure by severity
filter = Filter
findings = Findings
first-seen = First seen
host = Host
last-changed = Last changed
last-scans = scans
last-seen = Last seen
latest-scan = Latest scan
legend = Legend
machine-alerts = Scans seen by watch
machine-sockets = Listening sockets (latest local snapshot)
matching-ports = Matching ports
names-changed = Host names changed
no-alerts = No watch alerts recorded (run tojimari watch --store).
no-differences = No differences.
no-findings = No findings in the latest scans.
no-hosts-recorded = No hosts recorded yet.
no-local-snapshot = No snapshot recorded (run tojimari local --store).
no-matching-ports = No port matches these filters.
no-ports-recorded = No ports recorded.
no-scans = No scans yet.
no-such-host = The store has never seen this host
no-such-scan = There is no such scan
not-a-scan-number = Not a scan number
not-an-address = Not an IP address
not-shown = Not shown
os-changed = OS changed
os-guesses = OS guesses
# A host's route (--traceroute): the heading, the probe it used ($probe in nmap's words: "port 23/tcp"), the
# columns, the row of hops copied from another host's trace (the host's address follows), a silent hop.
trace-title = { $hops ->
    [one] Route: 1 hop
   *[other] Route: { $hops } hops
}
trace-using = using { $probe }
trace-col-hop = HOP
trace-col-rtt = RTT
trace-col-address = ADDRESS
trace-same-as = { $hops ->
    [one] Hop 1 is the same as for
   *[other] Hops 1-{ $hops } are the same as for
}
trace-silent = no answer
over-time = Open ports and findings over time
page = Page
page-first = first
page-last = last
page-next = next
page-previous = previous
pages = Pages
pid = PID
ports-asked = Ports asked
query-encoding = The query string is not valid (bad %-encoding or not UTF-8)
query-not-a-number = Not a number in the allowed range
query-repeated-key = A parameter is given twice
query-unknown-key = This page does not take the parameter
recorded-by = Recorded by scans
scan-running-note = This scan is still running: hosts appear as they finish.
scope-one-scan = Only one complete scan of this scope so far: nothing to compare yet.
scope-comparing = Comparing its last two scans: reload in a moment.
dashboard-pending = Some totals of big scans are being computed: reload in a moment for the whole picture.
see-comparison = see the comparison
snapshot-taken = Taken
source = Source
tls-details = TLS details
what-changed = What changed
bad-port-list = Not a port list (ports and ranges 0-65535 separated by commas, like 22,80,8000-8100)
too-many-ranges = A port list has at most 64 parts
bad-port-state = Not a port state (open, closed, filtered, unfiltered, open|filtered, closed|filtered)
bad-filter-text = Too long (200 characters at most) or has control characters

## The web UI's page texts (`tojimari serve`). Ids start with the page or the part of the layout they belong to.

web-title = tojimari
nav-dashboard = Dashboard
nav-new-check = New check
nav-scans = Scans
nav-compare = Compare
nav-hosts = Hosts
nav-ports = Ports and services
nav-this-machine = This machine
nav-language = Language

# The scan page's port table (nmap's columns).
col-port = PORT
col-state = STATE
col-service = SERVICE
col-version = VERSION

# Compare: diff's meaning.
diff-added = added
diff-removed = removed
diff-changed = changed
diff-not-scanned = not scanned (which is not the same as closed)

findings-heading = Findings
export-xml = Export as XML
export-jsonl = Export as JSON Lines
# $reason: what the store said (one line).
store-unavailable = The result store is unavailable: { $reason }
# Live progress of a running check.
progress-line = { $done } of { $total } done, { $rate } per second, about { $eta } left, { $open } open so far
