//! nmap's XML output (`-oX`), readable by nmap's own tools and by nmap-XML parsers.
//!
//! # Format
//!
//! Elements and attributes come in the order of nmap 7.93's `nmap.dtd` and of the files nmap writes,
//! including where it breaks lines. A complete run looks like this:
//!
//! ```text
//! <?xml version="1.0" encoding="UTF-8"?>
//! <!DOCTYPE nmaprun>
//! <!-- tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -sT -&#45;reason 127.0.0.1 -->
//! <nmaprun scanner="tojimari" args="tojimari -sT -&#45;reason 127.0.0.1" start="1795311431" startstr="Sun Nov 22 01:37:11 2026" version="0.1.0" xmloutputversion="1.05">
//! <scaninfo type="connect" protocol="tcp" numservices="101" services="1-100,631"/>
//! <verbose level="0"/>
//! <debugging level="0"/>
//! <host starttime="1795311431" endtime="1795311431"><status state="up" reason="localhost-response" reason_ttl="0"/>
//! <address addr="127.0.0.1" addrtype="ipv4"/>
//! <hostnames>
//! <hostname name="localhost" type="PTR"/>
//! </hostnames>
//! <ports><extraports state="closed" count="98">
//! <extrareasons reason="conn-refused" count="98" proto="tcp" ports="1-21,23-79,81-100"/>
//! </extraports>
//! <port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" method="table" conf="3"/></port>
//! </ports>
//! <times srtt="550" rttvar="508" to="100000"/>
//! </host>
//! <runstats><finished time="1795311431" timestr="Sun Nov 22 01:37:11 2026" summary="tojimari done at Sun Nov 22 01:37:11 2026; 1 IP address (1 host up) scanned in 0.06 seconds" elapsed="0.06" exit="success"/><hosts up="1" down="0" total="1"/>
//! </runstats>
//! </nmaprun>
//! ```
//!
//! - Everything through `<debugging>` is written at `run_start`; each `<host>` at `host_done`;
//!   `<runstats>` and `</nmaprun>` at `run_end`. The writer is flushed after each, so a file cut off by
//!   a crash is a valid prefix.
//! - `scaninfo`: one per port scan of the run (none for `-sn`); `services` is the compact port list.
//! - `host`: `starttime`/`endtime` (Unix seconds) when ports were scanned; `timedout="true"` after
//!   `--host-timeout`, and then no `<ports>` (as nmap); `comment="incomplete: scan interrupted"` when
//!   an interrupt cut the host short. `<hostnames>` is always present for an up host.
//! - `ports`: folded states as `extraports` (largest first) with one `extrareasons` per (reason,
//!   protocol), then each listed port, by the same rule as normal output (`--open`, `-v` apply).
//!   `<service>` is omitted when no name is known.
//! - After `-O`, `<os>` follows `<ports>`: `<portused state proto portid>` per port the tests used,
//!   `<osmatch name accuracy line>` per match (best first) with its `<osclass type vendor osfamily
//!   osgen accuracy>` (each with its `<cpe>`s; `type` and `osgen` left out when unknown), and
//!   `<osfingerprint fingerprint>` when the facts are given for a new database entry. Then, each when
//!   measured, `<uptime seconds lastboot>` (`lastboot` in ctime form), `<distance value>`,
//!   `<tcpsequence index difficulty values>`, `<ipidsequence class values>` and `<tcptssequence class
//!   values>`, the values in upper-case hexadecimal joined by commas, as nmap writes them.
//! - A passive guess (from the scan's own SYN/ACKs, without `-O`) is never written as `<os>`, which
//!   readers take for `-O`'s result: it is `<hostscript><script id="os-passive" output="Linux 5.X
//!   (85%)"/></hostscript>` at the same place (best matches with accuracy, then `; N hop(s) away`
//!   when the distance is known).
//! - `times` are in microseconds and omitted when nothing was measured.
//! - Down hosts are written only with `-v`: `<host><status state="down" .../>`, `<address/>`, and
//!   `<hostnames>` only if the host has names. With `--open`, hosts without a listed port are left out.
//! - `finished exit` is `success` or `error`; on error `errormsg` carries the message.
//! - The `scanner` attribute is `tojimari`. nmap's DTD enumerates it as `(nmap)`: parsers used in
//!   practice (python-libnmap, ndiff, Metasploit's importer) do not check it, a validating one would.
//!
//! Attribute values are escaped with `&amp; &lt; &gt; &quot; &apos;`, tab/newline/CR as character
//! references, and other control characters spelled `\xNN`; in `args` and the comment every `--`
//! becomes `-&#45;`, as nmap does.

use std::borrow::Cow;
use std::io::{self, Write};
use std::net::IpAddr;

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use tojimari_core::os::{OsMethod, OsReport};
use tojimari_core::report::{HostReport, PortResult, RunExit, RunInfo, RunSummary};
use tojimari_core::{HostState, Sink};

use crate::collapse::{PortLayout, compact_ranges};
use crate::context::RunContext;
use crate::datetime::{UtcTime, unix_secs};
use crate::escape::{break_double_hyphens, xml_attr, xml_comment};
use crate::os::{hex_list, passive_summary};
use crate::service::{ServiceNames, ServiceView, service_of, table_name};
use crate::wording::{scanned_phrase, seconds_2dp};

/// The `xmloutputversion` nmap 7.93 writes; its DTD describes this version.
pub const XML_OUTPUT_VERSION: &str = "1.05";

/// Writes nmap-compatible XML. See the [module documentation](self) for the format.
pub struct XmlSink {
    out: Box<dyn Write + Send>,
    names: ServiceNames,
    run: RunContext,
}

impl std::fmt::Debug for XmlSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlSink").finish_non_exhaustive()
    }
}

/// A quick-xml writer over a buffer, taking attribute values as plain text and escaping them itself
/// (quick-xml's own escaping leaves control characters and newlines alone).
struct Doc {
    w: Writer<Vec<u8>>,
}

impl Doc {
    fn new() -> Doc {
        Doc { w: Writer::new(Vec::new()) }
    }

    fn element<'a>(name: &'a str, attrs: &[(&'a str, &str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for &(key, value) in attrs {
            start.push_attribute(Attribute { key: QName(key), value: Cow::Owned(xml_attr(value)) });
        }
        start
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Start(Doc::element(name, attrs)))
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Empty(Doc::element(name, attrs)))
    }

    fn close(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    /// `<name>text</name>`.
    fn text_element(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.open(name, &[])?;
        self.w.write_event(Event::Text(BytesText::from_escaped(xml_attr(text))))?;
        self.close(name)
    }

    fn newline(&mut self) -> io::Result<()> {
        self.w.write_event(Event::Text(BytesText::from_escaped("\n")))
    }

    fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner()
    }
}

impl XmlSink {
    pub fn new(out: Box<dyn Write + Send>) -> XmlSink {
        XmlSink { out, names: table_name, run: RunContext::default() }
    }

    /// Uses `names` instead of the shipped services table (for tests).
    pub fn with_service_names(mut self, names: ServiceNames) -> XmlSink {
        self.names = names;
        self
    }

    fn emit(&mut self, doc: Doc) -> io::Result<()> {
        self.out.write_all(&doc.into_bytes())?;
        self.out.flush()
    }

    fn prolog(run: &RunInfo) -> io::Result<Doc> {
        let mut doc = Doc::new();
        let start = UtcTime::from_system_time(run.start).ctime();
        doc.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        doc.newline()?;
        doc.w.write_event(Event::DocType(BytesText::from_escaped("nmaprun")))?;
        doc.newline()?;
        let comment =
            format!(" tojimari {} scan initiated {start} as: {} ", xml_comment(&run.version), xml_comment(&run.args));
        doc.w.write_event(Event::Comment(BytesText::from_escaped(comment)))?;
        doc.newline()?;

        // `args` gets nmap's `-&#45;` treatment, which must bypass the attribute escaper.
        let mut nmaprun = Doc::element("nmaprun", &[("scanner", "tojimari")]);
        nmaprun.push_attribute(Attribute {
            key: QName("args"),
            value: Cow::Owned(break_double_hyphens(&xml_attr(&run.args))),
        });
        let start_secs = unix_secs(run.start).to_string();
        for (key, value) in [
            ("start", start_secs.as_str()),
            ("startstr", start.as_str()),
            ("version", run.version.as_str()),
            ("xmloutputversion", XML_OUTPUT_VERSION),
        ] {
            nmaprun.push_attribute(Attribute { key: QName(key), value: Cow::Owned(xml_attr(value)) });
        }
        doc.w.write_event(Event::Start(nmaprun))?;
        doc.newline()?;

        for scan in run.scans.iter().filter(|s| s.scan_type.is_port_scan()) {
            doc.empty(
                "scaninfo",
                &[
                    ("type", scan.scan_type.xml_name()),
                    ("protocol", scan.proto.as_str()),
                    ("numservices", &scan.ports.len().to_string()),
                    ("services", &compact_ranges(scan.ports.as_slice())),
                ],
            )?;
            doc.newline()?;
        }
        doc.empty("verbose", &[("level", &run.display.verbose.to_string())])?;
        doc.newline()?;
        doc.empty("debugging", &[("level", &run.display.debug.to_string())])?;
        doc.newline()?;
        Ok(doc)
    }

    /// The `<host>` element, or `None` when nmap would leave the host out.
    fn host(&self, host: &HostReport) -> io::Result<Option<Doc>> {
        let display = &self.run.display;
        let mut doc = Doc::new();
        let status = [
            ("state", host.state.as_str()),
            ("reason", host.state_reason.as_str()),
            ("reason_ttl", &host.state_reason_ttl.to_string()),
        ];
        let address =
            [("addr", &*host.addr.to_string()), ("addrtype", if host.addr.is_ipv4() { "ipv4" } else { "ipv6" })];

        if host.state != HostState::Up {
            // Down hosts with -v; list-scan hosts (state unknown) always, as nmap writes them.
            if host.state == HostState::Down && (display.verbose == 0 || display.open_only) {
                return Ok(None);
            }
            doc.open("host", &[])?;
            doc.empty("status", &status)?;
            doc.newline()?;
            doc.empty("address", &address)?;
            doc.newline()?;
            if !host.hostnames.is_empty() {
                self.hostnames(&mut doc, host)?;
            }
            doc.close("host")?;
            doc.newline()?;
            return Ok(Some(doc));
        }

        let layout = PortLayout::new(&host.ports, self.run.collapse_rule());
        if display.open_only && self.run.port_scan && !host.timed_out && layout.shown.is_empty() {
            return Ok(None);
        }

        let start = unix_secs(host.start).to_string();
        let end = unix_secs(host.end).to_string();
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        if self.run.port_scan {
            attrs.push(("starttime", &start));
            attrs.push(("endtime", &end));
        }
        if host.timed_out {
            attrs.push(("timedout", "true"));
        } else if !host.complete {
            attrs.push(("comment", "incomplete: scan interrupted"));
        }
        doc.open("host", &attrs)?;
        doc.empty("status", &status)?;
        doc.newline()?;
        doc.empty("address", &address)?;
        doc.newline()?;
        self.hostnames(&mut doc, host)?;
        if self.run.port_scan && !host.timed_out {
            self.ports(&mut doc, &layout)?;
        }
        if let Some(os) = host.os.as_ref().filter(|_| !host.timed_out) {
            os_elements(&mut doc, os)?;
        }
        if let Some(trace) = &host.trace {
            trace_element(&mut doc, trace)?;
        }
        if let Some(times) = host.times {
            doc.empty(
                "times",
                &[
                    ("srtt", &times.srtt.as_micros().to_string()),
                    ("rttvar", &times.rttvar.as_micros().to_string()),
                    ("to", &times.timeout.as_micros().to_string()),
                ],
            )?;
            doc.newline()?;
        }
        doc.close("host")?;
        doc.newline()?;
        Ok(Some(doc))
    }

    fn hostnames(&self, doc: &mut Doc, host: &HostReport) -> io::Result<()> {
        doc.open("hostnames", &[])?;
        doc.newline()?;
        for name in &host.hostnames {
            doc.empty("hostname", &[("name", &name.name), ("type", name.kind.as_str())])?;
            doc.newline()?;
        }
        doc.close("hostnames")?;
        doc.newline()
    }

    fn ports(&self, doc: &mut Doc, layout: &PortLayout<'_>) -> io::Result<()> {
        doc.open("ports", &[])?;
        for group in &layout.folded {
            doc.open("extraports", &[("state", group.state.as_str()), ("count", &group.count.to_string())])?;
            doc.newline()?;
            for reason in &group.reasons {
                doc.empty(
                    "extrareasons",
                    &[
                        ("reason", reason.reason.as_str()),
                        ("count", &reason.ports.len().to_string()),
                        ("proto", reason.proto.as_str()),
                        ("ports", &compact_ranges(&reason.ports)),
                    ],
                )?;
                doc.newline()?;
            }
            doc.close("extraports")?;
            doc.newline()?;
        }
        for port in &layout.shown {
            self.port(doc, port)?;
        }
        doc.close("ports")?;
        doc.newline()
    }

    fn port(&self, doc: &mut Doc, port: &PortResult) -> io::Result<()> {
        doc.open("port", &[("protocol", port.proto.as_str()), ("portid", &port.port.to_string())])?;
        doc.empty(
            "state",
            &[
                ("state", port.state.as_str()),
                ("reason", port.reason.as_str()),
                ("reason_ttl", &port.reason_ttl.to_string()),
            ],
        )?;
        if let Some(service) = service_of(port, self.names) {
            service_element(doc, &service)?;
        }
        if let Some(info) = &port.service {
            for detail in &info.details {
                doc.empty("script", &[("id", &detail.id), ("output", &detail.output)])?;
            }
            for finding in &info.findings {
                let output = format!(
                    "{} [{}]: {} -- {}",
                    finding.id,
                    finding.severity.as_str(),
                    finding.evidence,
                    finding.advice
                );
                doc.empty("script", &[("id", &finding.id), ("output", &output)])?;
            }
        }
        doc.close("port")?;
        doc.newline()
    }
}

impl Sink for XmlSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.run = RunContext::new(run);
        let doc = XmlSink::prolog(run)?;
        self.emit(doc)
    }

    fn port_found(&mut self, _addr: IpAddr, _port: &PortResult) -> io::Result<()> {
        // XML is written per host: the port comes again in `host_done`.
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        match self.host(host)? {
            Some(doc) => self.emit(doc),
            None => Ok(()),
        }
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let mut doc = Doc::new();
        let end = UtcTime::from_system_time(summary.end).ctime();
        let time = unix_secs(summary.end).to_string();
        let text = format!("tojimari done at {end}; {}", scanned_phrase(summary));
        let elapsed = seconds_2dp(summary.elapsed);
        let mut finished: Vec<(&str, &str)> =
            vec![("time", &time), ("timestr", &end), ("summary", &text), ("elapsed", &elapsed)];
        match &summary.exit {
            RunExit::Success => finished.push(("exit", "success")),
            RunExit::Error(message) => {
                finished.push(("exit", "error"));
                finished.push(("errormsg", message));
            }
        }
        doc.open("runstats", &[])?;
        doc.empty("finished", &finished)?;
        doc.empty(
            "hosts",
            &[
                ("up", &summary.hosts_up.to_string()),
                ("down", &summary.hosts_down.to_string()),
                ("total", &summary.hosts_total.to_string()),
            ],
        )?;
        doc.newline()?;
        doc.close("runstats")?;
        doc.newline()?;
        doc.close("nmaprun")?;
        doc.newline()?;
        self.emit(doc)
    }
}

/// `<service name product version extrainfo hostname ostype devicetype tunnel method conf>`, with `<cpe>`
/// children, in nmap's attribute order. Attributes detection did not find are left out, as nmap does.
fn service_element(doc: &mut Doc, service: &ServiceView<'_>) -> io::Result<()> {
    let conf = service.conf.to_string();
    let mut attrs: Vec<(&str, &str)> = vec![("name", service.name)];
    if let Some(info) = service.info {
        let optional = [
            ("product", &info.product),
            ("version", &info.version),
            ("extrainfo", &info.extrainfo),
            ("hostname", &info.hostname),
            ("ostype", &info.ostype),
            ("devicetype", &info.devicetype),
        ];
        attrs.extend(optional.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))));
        if let Some(tunnel) = info.tunnel {
            attrs.push(("tunnel", tunnel.as_str()));
        }
    }
    attrs.push(("method", service.method));
    attrs.push(("conf", &conf));
    match service.info.filter(|i| !i.cpe.is_empty()) {
        Some(info) => {
            doc.open("service", &attrs)?;
            for cpe in &info.cpe {
                doc.text_element("cpe", cpe)?;
            }
            doc.close("service")
        }
        None => doc.empty("service", &attrs),
    }
}

/// What OS detection found, after `<ports>` in nmap's order: `<os>` (ports used, matches with their
/// classes, fingerprint), then `<uptime>`, `<distance>`, `<tcpsequence>`, `<ipidsequence>`,
/// `<tcptssequence>`. A passive guess is not `<os>` (readers take `<os>` for `-O`): it is a host script
/// `os-passive`.
/// `--traceroute`'s `<trace port proto>` (no attributes for a host on the local link, which is not probed),
/// one `<hop ttl ipaddr rtt host>` per TTL that answered, as nmap writes them: silent TTLs have no element.
fn trace_element(doc: &mut Doc, trace: &tojimari_core::route::Trace) -> io::Result<()> {
    let (port, proto) = trace.probe.as_ref().map(crate::route::probe_words).unzip();
    let port = port.flatten().map(|p| p.to_string());
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(port) = &port {
        attrs.push(("port", port));
    }
    if let Some(proto) = &proto {
        attrs.push(("proto", proto));
    }
    doc.open("trace", &attrs)?;
    doc.newline()?;
    for hop in &trace.hops {
        let Some(answer) = &hop.answer else { continue };
        let ttl = hop.ttl.to_string();
        let addr = answer.addr.to_string();
        let rtt = answer.rtt_ms();
        let mut attrs = vec![("ttl", ttl.as_str()), ("ipaddr", addr.as_str()), ("rtt", rtt.as_str())];
        if let Some(name) = &answer.name {
            attrs.push(("host", name));
        }
        doc.empty("hop", &attrs)?;
        doc.newline()?;
    }
    doc.close("trace")?;
    doc.newline()
}

fn os_elements(doc: &mut Doc, os: &OsReport) -> io::Result<()> {
    if os.method == OsMethod::Passive {
        if let Some(summary) = passive_summary(os) {
            doc.open("hostscript", &[])?;
            doc.empty("script", &[("id", "os-passive"), ("output", &summary)])?;
            doc.close("hostscript")?;
            doc.newline()?;
        }
        return Ok(());
    }
    doc.open("os", &[])?;
    for used in &os.ports_used {
        doc.empty(
            "portused",
            &[("state", used.state.as_str()), ("proto", used.proto.as_str()), ("portid", &used.port.to_string())],
        )?;
        doc.newline()?;
    }
    for m in &os.matches {
        doc.open(
            "osmatch",
            &[("name", &m.name), ("accuracy", &m.accuracy.min(100).to_string()), ("line", &m.line.to_string())],
        )?;
        doc.newline()?;
        for class in &m.classes {
            let accuracy = class.accuracy.min(100).to_string();
            let mut attrs: Vec<(&str, &str)> = Vec::new();
            if !class.device_type.is_empty() {
                attrs.push(("type", &class.device_type));
            }
            attrs.push(("vendor", &class.vendor));
            attrs.push(("osfamily", &class.family));
            if let Some(generation) = &class.generation {
                attrs.push(("osgen", generation));
            }
            attrs.push(("accuracy", &accuracy));
            if class.cpe.is_empty() {
                doc.empty("osclass", &attrs)?;
            } else {
                doc.open("osclass", &attrs)?;
                for cpe in &class.cpe {
                    doc.text_element("cpe", cpe)?;
                }
                doc.close("osclass")?;
            }
            doc.newline()?;
        }
        doc.close("osmatch")?;
        doc.newline()?;
    }
    if let Some(fingerprint) = &os.fingerprint {
        doc.empty("osfingerprint", &[("fingerprint", fingerprint)])?;
        doc.newline()?;
    }
    doc.close("os")?;
    doc.newline()?;
    if let Some(uptime) = os.uptime {
        let boot = UtcTime::from_system_time(uptime.last_boot).ctime();
        doc.empty("uptime", &[("seconds", &uptime.seconds.to_string()), ("lastboot", &boot)])?;
        doc.newline()?;
    }
    if let Some(distance) = os.distance {
        doc.empty("distance", &[("value", &distance.to_string())])?;
        doc.newline()?;
    }
    if let Some(seq) = &os.tcp_sequence {
        doc.empty(
            "tcpsequence",
            &[("index", &seq.index.to_string()), ("difficulty", &seq.difficulty), ("values", &hex_list(&seq.values))],
        )?;
        doc.newline()?;
    }
    if let Some(ipid) = &os.ip_id_sequence {
        doc.empty("ipidsequence", &[("class", &ipid.class), ("values", &hex_list(&ipid.values))])?;
        doc.newline()?;
    }
    if let Some(ts) = &os.tcp_ts_sequence {
        let values = hex_list(&ts.values);
        let mut attrs: Vec<(&str, &str)> = vec![("class", &ts.class)];
        if !ts.values.is_empty() {
            attrs.push(("values", &values));
        }
        doc.empty("tcptssequence", &attrs)?;
        doc.newline()?;
    }
    Ok(())
}
