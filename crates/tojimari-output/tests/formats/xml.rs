//! XML output: the exact document for nmap's run "A", targeted checks for the other cases, and a
//! structural check (element order per nmap.dtd, attribute order as nmap writes them) of every case.

use quick_xml::Reader;
use quick_xml::events::Event;
use tojimari_core::report::{DisplayOptions, RunExit, ScanInfo};
use tojimari_core::{HostReport, Hostname, HostnameKind, RunSummary};
use tojimari_output::XmlSink;

use crate::fixtures::*;

pub fn render(
    args: &str,
    scans: Vec<ScanInfo>,
    display: DisplayOptions,
    hosts: &[HostReport],
    summary: &RunSummary,
) -> String {
    let capture = Capture::default();
    let mut sink = XmlSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info(args, scans, display), hosts, summary);
    capture.text()
}

#[test]
fn whole_document_like_nmap() {
    let (scans, host) = mixed_filtered();
    let out = render(
        "tojimari -sT -p 1-100,631 --reason -oX x.xml 127.0.0.1",
        scans,
        display(true, false, 0),
        &[host],
        &summary(1, 1, 1260, RunExit::Success),
    );
    assert_eq!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<!-- tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -sT -p 1-100,631 -&#45;reason -oX x.xml 127.0.0.1 -->
<nmaprun scanner="tojimari" args="tojimari -sT -p 1-100,631 -&#45;reason -oX x.xml 127.0.0.1" start="1795311431" startstr="Sun Nov 22 01:37:11 2026" version="0.1.0" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="101" services="1-100,631"/>
<verbose level="0"/>
<debugging level="0"/>
<host starttime="1795311431" endtime="1795311431"><status state="up" reason="localhost-response" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
<hostname name="localhost" type="PTR"/>
</hostnames>
<ports><extraports state="closed" count="71">
<extrareasons reason="conn-refused" count="71" proto="tcp" ports="21,23-29,36-39,41-79,81-100"/>
</extraports>
<extraports state="filtered" count="27">
<extrareasons reason="no-response" count="20" proto="tcp" ports="1-20"/>
<extrareasons reason="host-unreach" count="7" proto="tcp" ports="30-35,40"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" method="table" conf="3"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" method="table" conf="3"/></port>
<port protocol="tcp" portid="631"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ipp" method="table" conf="3"/></port>
</ports>
<times srtt="550" rttvar="508" to="100000"/>
</host>
<runstats><finished time="1795311432" timestr="Sun Nov 22 01:37:12 2026" summary="tojimari done at Sun Nov 22 01:37:12 2026; 1 IP address (1 host up) scanned in 1.26 seconds" elapsed="1.26" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
"#
    );
}

#[test]
fn listed_filtered_ports_and_unknown_services() {
    let (scans, mut host) = few_filtered();
    host.ports.push(open(41000));
    let out = render("t", scans, display(false, false, 0), &[host], &summary(1, 1, 1, RunExit::Success));
    assert!(out.contains(
        r#"<port protocol="tcp" portid="30"><state state="filtered" reason="host-unreach" reason_ttl="0"/></port>"#
    ));
    assert!(out.contains(
        r#"<port protocol="tcp" portid="41000"><state state="open" reason="syn-ack" reason_ttl="0"/></port>"#
    ));
    assert!(out.contains(
        r#"<ports><extraports state="closed" count="93">
<extrareasons reason="conn-refused" count="93" proto="tcp" ports="4-21,23-29,32-79,81-100"/>
</extraports>
<port protocol="tcp" portid="1">"#
    ));
}

#[test]
fn open_only_folds_filtered_and_drops_hosts_without_open_ports() {
    let (scans, host) = few_filtered();
    let no_open = up_host("127.0.0.2", (1..=21).map(closed).collect());
    let out = render("t", scans, display(false, true, 0), &[host, no_open], &summary(2, 2, 1, RunExit::Success));
    assert!(out.contains(
        r#"<extraports state="filtered" count="5">
<extrareasons reason="no-response" count="3" proto="tcp" ports="1-3"/>
<extrareasons reason="host-unreach" count="2" proto="tcp" ports="30-31"/>
</extraports>
<port protocol="tcp" portid="22">"#
    ));
    assert!(!out.contains("127.0.0.2"));
    assert_eq!(out.matches("<host ").count(), 1);
}

#[test]
fn ipv6_host_without_names() {
    let scans = vec![connect_scan([22, 80])];
    let host = up_host("::1", vec![open(22), open(80)]);
    let out = render("t", scans, display(false, false, 0), &[host], &summary(1, 1, 1, RunExit::Success));
    assert!(out.contains("<address addr=\"::1\" addrtype=\"ipv6\"/>\n<hostnames>\n</hostnames>\n<ports><port "));
}

#[test]
fn down_hosts_only_when_verbose() {
    let scans = vec![connect_scan(1..=1000)];
    let hosts = [down_host("198.51.100.7")];
    let sum = summary(1, 0, 3040, RunExit::Success);
    let quiet = render("t", scans.clone(), display(false, false, 0), &hosts, &sum);
    assert!(!quiet.contains("<host>") && !quiet.contains("<host "));
    assert!(quiet.contains(r#"<hosts up="0" down="1" total="1"/>"#));
    let verbose = render("t", scans, display(false, false, 1), &hosts, &sum);
    assert!(verbose.contains(
        "<verbose level=\"1\"/>\n<debugging level=\"0\"/>\n<host><status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\n<address addr=\"198.51.100.7\" addrtype=\"ipv4\"/>\n</host>\n<runstats>"
    ));
}

#[test]
fn interrupted_run_is_closed_with_an_error() {
    let (scans, mut host) = three_open();
    host.ports.truncate(30);
    host.complete = false;
    let out = render("t", scans, display(false, false, 0), &[host], &summary(1, 1, 700, interrupted()));
    assert!(out.contains(
        r#"<host starttime="1795311431" endtime="1795311431" comment="incomplete: scan interrupted"><status"#
    ));
    assert!(out.ends_with(
        r#"elapsed="0.70" exit="error" errormsg="Scan interrupted by user (SIGINT)"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
"#
    ));
}

#[test]
fn timed_out_host_has_no_ports() {
    let (scans, mut host) = three_open();
    host.timed_out = true;
    host.complete = false;
    let out = render("t", scans, display(false, false, 0), &[host], &summary(1, 1, 2030, RunExit::Success));
    assert!(out.contains(
        r#"<host starttime="1795311431" endtime="1795311431" timedout="true"><status state="up" reason="localhost-response" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
<hostname name="localhost" type="PTR"/>
</hostnames>
<times srtt="550" rttvar="508" to="100000"/>
</host>
"#
    ));
}

#[test]
fn ping_only_host_has_no_times_of_scan() {
    let mut host = localhost(Vec::new());
    host.times = None;
    let out = render("t -sn", Vec::new(), display(false, false, 0), &[host], &summary(1, 1, 0, RunExit::Success));
    assert!(out.contains(
        "<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n<host><status state=\"up\" reason=\"localhost-response\" reason_ttl=\"0\"/>\n<address addr=\"127.0.0.1\" addrtype=\"ipv4\"/>\n<hostnames>\n<hostname name=\"localhost\" type=\"PTR\"/>\n</hostnames>\n</host>\n"
    ));
    assert!(!out.contains("scaninfo"));
}

#[test]
fn hostile_text_is_escaped() {
    let (scans, mut host) = three_open();
    host.hostnames = vec![Hostname { name: "evil\"<x>&\u{1b}[31m\n".into(), kind: HostnameKind::User }];
    host.ports[21] = with_service(open(22), "ssh\u{0}'v2'", tojimari_core::report::ServiceMethod::Probed, 10);
    let out = render(
        "tojimari --script='x' -- \"a&b\"\t",
        scans,
        display(false, false, 0),
        &[host],
        &summary(1, 1, 1, RunExit::Error("bad\nthing <here>".into())),
    );
    assert!(out.contains(r#"<hostname name="evil&quot;&lt;x&gt;&amp;\x1b[31m&#10;" type="user"/>"#), "{out}");
    assert!(out.contains(r#"<service name="ssh\x00&apos;v2&apos;" method="probed" conf="10"/>"#), "{out}");
    assert!(out.contains(r#"args="tojimari -&#45;script=&apos;x&apos; -&#45; &quot;a&amp;b&quot;&#9;""#), "{out}");
    assert!(out.contains(r#"<!-- tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -&#45;script='x' -&#45; "a&b"\x09 -->"#), "{out}");
    assert!(out.contains(r#"errormsg="bad&#10;thing &lt;here&gt;""#), "{out}");
    // And it still parses, with the values coming back.
    let doc = parse(&out);
    let host = doc.child("host");
    let name = host.child("hostnames").child("hostname").attr("name");
    assert_eq!(name, "evil\"<x>&\\x1b[31m\n");
}

#[test]
fn each_host_is_flushed_when_done() {
    let (scans, host) = three_open();
    let capture = Capture::default();
    let mut sink = XmlSink::new(capture.writer()).with_service_names(names);
    use tojimari_core::Sink;
    sink.run_start(&run_info("t", scans, display(false, false, 0))).unwrap();
    assert!(capture.text().ends_with("<debugging level=\"0\"/>\n"));
    let before = capture.flushes();
    sink.host_done(&host).unwrap();
    assert!(capture.text().ends_with("</host>\n"));
    assert!(capture.flushes() > before);
}

// ---- structure -------------------------------------------------------------------------------------

/// A parsed element: name, attributes in document order, children.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Text content (only `<cpe>` has any).
    pub text: String,
}

impl Node {
    pub fn child(&self, name: &str) -> &Node {
        self.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
    }

    pub fn attr(&self, key: &str) -> &str {
        &self.attrs.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no {key} on <{}>", self.name)).1
    }

    fn keys(&self) -> Vec<&str> {
        self.attrs.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Parses with quick-xml, checking well-formedness; returns the root element.
pub fn parse(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut saw_decl = false;
    let mut saw_doctype = false;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e} at {}", reader.error_position())) {
            Event::Decl(_) => saw_decl = true,
            Event::DocType(d) => {
                assert_eq!(d.into_inner().trim(), "nmaprun");
                saw_doctype = true;
            }
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => {
                let n = node(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => {
                let top = stack.last_mut().unwrap();
                if top.name == "cpe" {
                    top.text.push_str(&t.xml10_content());
                } else {
                    assert!(t.xml10_content().trim().is_empty(), "stray text {t:?}");
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(saw_decl && saw_doctype);
    let mut top = stack.pop().unwrap();
    assert!(stack.is_empty(), "unclosed elements");
    assert_eq!(top.children.len(), 1, "one root element");
    top.children.pop().unwrap()
}

fn node(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let attrs = e
        .attributes()
        .map(|a| {
            let a = a.unwrap();
            let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned();
            (a.key.as_ref().to_string(), value)
        })
        .collect();
    Node { name: e.name().as_ref().to_string(), attrs, children: Vec::new(), text: String::new() }
}

/// `names` matches the regular language `pattern` over element names, where the pattern is a
/// sequence of (name, min, max) items, as a DTD content model without alternatives.
fn matches_sequence(names: &[&str], pattern: &[(&str, usize, usize)]) -> bool {
    let mut i = 0;
    for &(name, min, max) in pattern {
        let mut n = 0;
        while i < names.len() && names[i] == name && n < max {
            i += 1;
            n += 1;
        }
        if n < min {
            return false;
        }
    }
    i == names.len()
}

const MANY: usize = usize::MAX;

/// Element order from nmap.dtd, and attribute order from the files nmap 7.93 writes.
pub fn check_structure(xml: &str) {
    let root = parse(xml);
    assert_eq!(root.name, "nmaprun");
    assert_eq!(root.keys(), ["scanner", "args", "start", "startstr", "version", "xmloutputversion"]);
    let names = root.child_names();
    assert!(
        matches_sequence(
            &names,
            &[("scaninfo", 0, MANY), ("verbose", 1, 1), ("debugging", 1, 1), ("host", 0, MANY), ("runstats", 1, 1)]
        ),
        "{names:?}"
    );
    for child in &root.children {
        match child.name.as_str() {
            "scaninfo" => assert_eq!(child.keys(), ["type", "protocol", "numservices", "services"]),
            "host" => check_host(child),
            "runstats" => {
                assert_eq!(child.child_names(), ["finished", "hosts"]);
                let finished = child.child("finished").keys();
                assert!(
                    finished == ["time", "timestr", "summary", "elapsed", "exit"]
                        || finished == ["time", "timestr", "summary", "elapsed", "exit", "errormsg"],
                    "{finished:?}"
                );
                assert_eq!(child.child("hosts").keys(), ["up", "down", "total"]);
            }
            _ => {}
        }
    }
}

fn check_host(host: &Node) {
    let names = host.child_names();
    assert!(
        matches_sequence(
            &names,
            &[
                ("status", 1, 1),
                ("address", 1, 1),
                ("hostnames", 0, 1),
                ("ports", 0, 1),
                // nmap writes uptime before distance, though nmap.dtd lists them the other way round.
                ("os", 0, 1),
                ("uptime", 0, 1),
                ("distance", 0, 1),
                ("tcpsequence", 0, 1),
                ("ipidsequence", 0, 1),
                ("tcptssequence", 0, 1),
                ("hostscript", 0, 1),
                ("times", 0, 1)
            ]
        ),
        "{names:?}"
    );
    assert_eq!(host.child("status").keys(), ["state", "reason", "reason_ttl"]);
    assert_eq!(host.child("address").keys(), ["addr", "addrtype"]);
    for key in host.keys() {
        assert!(["starttime", "endtime", "timedout", "comment"].contains(&key), "{key}");
    }
    if let Some(ports) = host.children.iter().find(|c| c.name == "ports") {
        let names = ports.child_names();
        assert!(matches_sequence(&names, &[("extraports", 0, MANY), ("port", 0, MANY)]), "{names:?}");
        for child in &ports.children {
            if child.name == "extraports" {
                assert_eq!(child.keys(), ["state", "count"]);
                let total: usize = child
                    .children
                    .iter()
                    .map(|r| {
                        assert_eq!(r.keys(), ["reason", "count", "proto", "ports"]);
                        r.attr("count").parse::<usize>().unwrap()
                    })
                    .sum();
                assert_eq!(total.to_string(), child.attr("count"));
            } else {
                assert_eq!(child.keys(), ["protocol", "portid"]);
                let names = child.child_names();
                assert!(
                    matches_sequence(
                        &names,
                        &[("state", 1, 1), ("owner", 0, 1), ("service", 0, 1), ("script", 0, MANY)]
                    ),
                    "{names:?}"
                );
                assert_eq!(child.child("state").keys(), ["state", "reason", "reason_ttl"]);
                if let Some(s) = child.children.iter().find(|c| c.name == "service") {
                    // nmap.dtd's attribute list, in the order nmap writes it; all but name/method/conf optional.
                    const ORDER: [&str; 10] = [
                        "name",
                        "product",
                        "version",
                        "extrainfo",
                        "hostname",
                        "ostype",
                        "devicetype",
                        "tunnel",
                        "method",
                        "conf",
                    ];
                    let keys = s.keys();
                    let positions: Vec<usize> =
                        keys.iter().map(|k| ORDER.iter().position(|o| o == k).expect("known attribute")).collect();
                    assert!(positions.is_sorted(), "{keys:?}");
                    assert_eq!((keys[0], &keys[keys.len() - 2..]), ("name", &["method", "conf"][..]));
                    assert!(s.children.iter().all(|c| c.name == "cpe" && !c.text.is_empty()));
                }
                for script in child.children.iter().filter(|c| c.name == "script") {
                    assert_eq!(script.keys(), ["id", "output"]);
                }
            }
        }
    }
    if let Some(times) = host.children.iter().find(|c| c.name == "times") {
        assert_eq!(times.keys(), ["srtt", "rttvar", "to"]);
    }
    if let Some(os) = host.children.iter().find(|c| c.name == "os") {
        check_os(os);
    }
    for child in &host.children {
        match child.name.as_str() {
            "uptime" => assert_eq!(child.keys(), ["seconds", "lastboot"]),
            "distance" => assert_eq!(child.keys(), ["value"]),
            "tcpsequence" => assert_eq!(child.keys(), ["index", "difficulty", "values"]),
            "ipidsequence" => assert_eq!(child.keys(), ["class", "values"]),
            "tcptssequence" => assert!(child.keys() == ["class", "values"] || child.keys() == ["class"]),
            "hostscript" => {
                assert!(!child.children.is_empty());
                for script in &child.children {
                    assert_eq!((script.name.as_str(), script.keys()), ("script", vec!["id", "output"]));
                }
            }
            _ => {}
        }
        for hex in ["values"] {
            if ["tcpsequence", "ipidsequence", "tcptssequence"].contains(&child.name.as_str())
                && child.keys().contains(&hex)
            {
                let values = child.attr(hex);
                assert!(
                    values
                        .split(',')
                        .all(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())),
                    "{values}"
                );
            }
        }
    }
}

/// `<os>`: `portused*, osmatch*, osfingerprint*` (nmap.dtd), attributes in the order nmap writes them.
fn check_os(os: &Node) {
    let names = os.child_names();
    assert!(
        matches_sequence(&names, &[("portused", 0, MANY), ("osmatch", 0, MANY), ("osfingerprint", 0, MANY)]),
        "{names:?}"
    );
    for child in &os.children {
        match child.name.as_str() {
            "portused" => assert_eq!(child.keys(), ["state", "proto", "portid"]),
            "osfingerprint" => assert_eq!(child.keys(), ["fingerprint"]),
            _ => {
                assert_eq!(child.keys(), ["name", "accuracy", "line"]);
                for class in &child.children {
                    assert_eq!(class.name, "osclass");
                    const ORDER: [&str; 5] = ["type", "vendor", "osfamily", "osgen", "accuracy"];
                    let keys = class.keys();
                    let positions: Vec<usize> =
                        keys.iter().map(|k| ORDER.iter().position(|o| o == k).expect("known attribute")).collect();
                    assert!(positions.is_sorted(), "{keys:?}");
                    for required in ["vendor", "osfamily", "accuracy"] {
                        assert!(keys.contains(&required), "{keys:?}");
                    }
                    assert!(class.children.iter().all(|c| c.name == "cpe" && !c.text.is_empty()));
                }
            }
        }
    }
}

/// Every case this file renders, for the structure check and the external parsers.
pub fn all_cases() -> Vec<(&'static str, String)> {
    let mut cases = Vec::new();
    let ok = |n, up| summary(n, up, 1000, RunExit::Success);
    let (scans, host) = versioned();
    cases.push(("versions", render("t -sV", scans, versions_display(), &[host], &ok(1, 1))));
    let (scans, host) = mixed_filtered();
    cases.push(("mixed", render("t --reason", scans, display(true, false, 0), &[host], &ok(1, 1))));
    let (scans, host) = few_filtered();
    cases.push(("few", render("t", scans.clone(), display(false, false, 0), std::slice::from_ref(&host), &ok(1, 1))));
    cases.push(("open", render("t --open", scans, display(false, true, 0), &[host], &ok(1, 1))));
    let (scans, host) = three_open();
    let mut v6 = up_host("::1", vec![open(22), closed(23)]);
    v6.times = None;
    let down = down_host("198.51.100.7");
    cases
        .push(("multi", render("t -v", scans.clone(), display(false, false, 1), &[host.clone(), v6, down], &ok(3, 2))));
    let mut cut = host.clone();
    cut.complete = false;
    cut.ports.truncate(40);
    cases.push((
        "interrupted",
        render("t", scans.clone(), display(false, false, 0), &[cut], &summary(1, 1, 700, interrupted())),
    ));
    let mut timed = host;
    timed.timed_out = true;
    cases.push(("timeout", render("t", scans, display(false, false, 0), &[timed], &ok(1, 1))));
    let mut ping = localhost(Vec::new());
    ping.times = None;
    cases.push(("ping", render("t -sn", Vec::new(), display(false, false, 0), &[ping], &ok(1, 1))));
    let (scans, mut host) = three_open();
    host.hostnames = vec![Hostname { name: "evil\"<x>&\u{1b}\u{0}\n--".into(), kind: HostnameKind::User }];
    host.ports[21] = with_service(open(22), "ssh\u{7f}'v2'", tojimari_core::report::ServiceMethod::Probed, 10);
    let error = RunExit::Error("bad\u{1}\nthing <here> --".into());
    cases.push((
        "hostile",
        render("t -- '\u{2}\t\"", scans, display(false, false, 0), &[host], &summary(1, 1, 1, error)),
    ));
    for (name, report) in
        [("os-stated", os_stated()), ("os-guessed", os_guessed()), ("os-none", os_none()), ("os-passive", os_passive())]
    {
        let (scans, host) = os_scanned_host(report);
        cases.push((name, render("t -O -v", scans, display(false, false, 1), &[host], &ok(1, 1))));
    }
    cases
}

#[test]
fn every_case_follows_the_dtd_order() {
    for (name, xml) in all_cases() {
        eprintln!("checking {name}");
        check_structure(&xml);
    }
}

/// nmap -sL -n -oX - 198.18.0.1: the host with status unknown (reason user-set) and no scaninfo, as nmap
/// writes it.
#[test]
fn list_scan_hosts_are_written_with_unknown_status() {
    let out = render(
        "t",
        list_scan(),
        display(false, false, 0),
        &[listed_host("198.18.0.1")],
        &summary(1, 0, 0, RunExit::Success),
    );
    assert!(
        out.contains(
            "<host><status state=\"unknown\" reason=\"user-set\" reason_ttl=\"0\"/>\n\
             <address addr=\"198.18.0.1\" addrtype=\"ipv4\"/>\n</host>\n"
        ),
        "{out}"
    );
    assert!(!out.contains("<scaninfo"), "{out}");
}
