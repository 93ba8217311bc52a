//! `diff --xml`: the shape of ndiff's XML (nmap's elements, with `a` and `b` elements holding what scan A
//! and scan B saw), so readers of ndiff documents find their way.
//!
//! ```xml
//! <nmapdiff version="1" generator="tojimari">
//!   <scandiff>
//!     <a><scan no="1" profile="scan" targets="198.18.0.0/24" ports="1-1000" start="..." status="complete"/></a>
//!     <b><scan no="2" .../></b>
//!     <hostdiff change="changed">
//!       <host>
//!         <address addr="198.18.0.2" addrtype="ipv4"/>
//!         <ports>
//!           <portdiff change="opened" protocol="tcp" ports="80" count="1">
//!             <a><port protocol="tcp" portid="80"><state state="closed" reason="reset"/></port></a>
//!             <b><port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="http"/></port></b>
//!           </portdiff>
//!         </ports>
//!         <findingdiff change="new" protocol="tcp" portid="80" id="http-dir-listing">
//!           <b><finding severity="medium" evidence="Index of /"/></b>
//!         </findingdiff>
//!       </host>
//!     </hostdiff>
//!   </scandiff>
//! </nmapdiff>
//! ```
//!
//! A `hostdiff`'s `change` is up, down, not-scanned or changed; its host holds `a`/`b` `status` elements when
//! the state changed, and `a`/`b` `hostnames` or `os` when those did. A `portdiff`'s `change` is opened,
//! closed, state, not-scanned, newly-scanned, host-down, service or certificate; folded ranges appear as
//! `port` elements whose `portid` is a range list (`1-21,23`). A side that did not cover the port has no
//! element. Every value is escaped; control characters are spelled out as in the scan's own XML.

use std::fmt::Write;

use tojimari_store::{FindingObs, HostDiff, PortDiff, PortObs, ScanDiff, ScanInfo, count_ports, format_port_ranges};

/// An attribute value, escaped as the scan's own XML output escapes its attributes.
fn attr(value: &str) -> String {
    tojimari_output::xml_attr(value)
}

fn scan(s: &ScanInfo) -> String {
    format!(
        "<scan no=\"{}\" profile=\"{}\" targets=\"{}\" ports=\"{}\" start=\"{}\" startstr=\"{} UTC\" status=\"{}\"/>",
        s.no,
        attr(&s.profile),
        attr(&s.targets),
        attr(&s.ports),
        s.started_ms.div_euclid(1000),
        crate::history_cmd::when(s.started_ms),
        s.status.as_str()
    )
}

pub fn xml(diff: &ScanDiff) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<nmapdiff version=\"1\" generator=\"tojimari\" generator_version=\"{}\">",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("<scandiff>\n");
    let _ = writeln!(out, "<a>{}</a>\n<b>{}</b>", scan(&diff.a), scan(&diff.b));
    for h in &diff.hosts {
        host(&mut out, h);
    }
    out.push_str("</scandiff>\n</nmapdiff>\n");
    out
}

fn host(out: &mut String, h: &HostDiff) {
    let _ = writeln!(out, "<hostdiff change=\"{}\">\n<host>", h.change.as_str());
    let family = if h.addr.contains(':') { "ipv6" } else { "ipv4" };
    let _ = writeln!(out, "<address addr=\"{}\" addrtype=\"{family}\"/>", attr(&h.addr));
    let state_changed = h.a.as_ref().map(|v| &v.state) != h.b.as_ref().map(|v| &v.state);
    for (side, v) in [("a", &h.a), ("b", &h.b)] {
        let Some(v) = v else { continue };
        if state_changed {
            let _ =
                writeln!(out, "<{side}><status state=\"{}\" reason=\"{}\"/></{side}>", attr(&v.state), attr(&v.reason));
        }
        if h.hostnames_changed {
            let names: String =
                v.hostnames.split_whitespace().map(|n| format!("<hostname name=\"{}\"/>", attr(n))).collect();
            let _ = writeln!(out, "<{side}><hostnames>{names}</hostnames></{side}>");
        }
        if h.os_changed {
            let os = v.os.as_deref().map(|n| format!("<osmatch name=\"{}\"/>", attr(n))).unwrap_or_default();
            let _ = writeln!(out, "<{side}><os>{os}</os></{side}>");
        }
    }
    if !h.ports.is_empty() {
        out.push_str("<ports>\n");
        for p in &h.ports {
            port(out, p);
        }
        out.push_str("</ports>\n");
    }
    for f in &h.findings {
        let _ = writeln!(
            out,
            "<findingdiff change=\"{}\" protocol=\"{}\" portid=\"{}\" id=\"{}\">",
            f.change.as_str(),
            f.proto,
            f.port,
            attr(&f.id)
        );
        for (side, o) in [("a", &f.a), ("b", &f.b)] {
            if let Some(FindingObs { severity, evidence }) = o {
                let _ = writeln!(
                    out,
                    "<{side}><finding severity=\"{}\" evidence=\"{}\"/></{side}>",
                    attr(severity),
                    attr(evidence)
                );
            }
        }
        out.push_str("</findingdiff>\n");
    }
    out.push_str("</host>\n</hostdiff>\n");
}

fn port(out: &mut String, p: &PortDiff) {
    let change = match (p.state, p.service_changed, p.cert_changed) {
        (Some(s), _, _) => s.as_str(),
        (None, true, true) => "service certificate",
        (None, true, false) => "service",
        (None, false, _) => "certificate",
    };
    let ids = format_port_ranges(&p.ports);
    let _ = writeln!(
        out,
        "<portdiff change=\"{change}\" protocol=\"{}\" ports=\"{ids}\" count=\"{}\">",
        p.proto,
        count_ports(&p.ports)
    );
    for (side, o) in [("a", &p.a), ("b", &p.b)] {
        let Some(o) = o else { continue };
        let _ = writeln!(out, "<{side}>{}</{side}>", port_element(p, &ids, o));
    }
    out.push_str("</portdiff>\n");
}

fn port_element(p: &PortDiff, ids: &str, o: &PortObs) -> String {
    let mut s = format!(
        "<port protocol=\"{}\" portid=\"{ids}\"><state state=\"{}\" reason=\"{}\"/>",
        p.proto,
        attr(&o.state),
        attr(&o.reason)
    );
    if let Some(name) = &o.service {
        let _ = write!(s, "<service name=\"{}\"", attr(name));
        for (key, value) in [("product", &o.product), ("version", &o.version), ("tunnel", &o.tunnel)] {
            if let Some(v) = value {
                let _ = write!(s, " {key}=\"{}\"", attr(v));
            }
        }
        s.push_str("/>");
    }
    if let Some(cert) = &o.cert_sha256 {
        let _ = write!(s, "<cert sha256=\"{}\"/>", attr(cert));
    }
    s.push_str("</port>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_controls_spelled_out() {
        assert_eq!(attr(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(attr("x\ny<z"), "x&#10;y&lt;z");
        assert_eq!(attr("ünï"), "ünï");
    }
}
