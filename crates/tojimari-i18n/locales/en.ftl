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
