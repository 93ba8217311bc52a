//! The plain-words report of `tojimari check`.
//!
//! Per host: the ping answer (quick), a table of ports with OPEN / CLOSED / STEALTH, then the verdict with
//! one line of advice per OPEN port. Long checks (tcp, udp, trojan) list only the ports that answered and
//! count the STEALTH ones; the short ones list every port. The stealth check shows the four probe types side
//! by side and says what kind of firewall the answers point to.
//!
//! The words come from the catalogues (`check-*` messages) in the reader's language; the table columns are
//! padded by terminal width, so Japanese headings line up.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::net::IpAddr;

use tojimari_core::report::PortResult;
use tojimari_core::verdict::Verdict;
use tojimari_core::{HostState, PortState, Protocol};
use tojimari_i18n::width::{pad_end, truncate};
use tojimari_i18n::{Lang, recorded_advice, severity_word, text, text_with};

use super::{COMMON_TCP, COMMON_UDP, PRESCAN_TCP, Results, advice, port_in, trojans};
use crate::args::CheckKind;

/// The message of a verdict as the port table shows it (the word, explained in Japanese).
fn label_id(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Open => "verdict-open",
        Verdict::Closed => "verdict-closed",
        Verdict::Stealth => "verdict-stealth",
    }
}

/// The name a check gives a port.
fn port_name(lang: Lang, kind: CheckKind, proto: Protocol, port: u16) -> String {
    let table = match (kind, proto) {
        (_, Protocol::Udp) => COMMON_UDP,
        (CheckKind::Prescan, _) => PRESCAN_TCP,
        _ => COMMON_TCP,
    };
    if let Some((_, name)) = table.iter().find(|(p, _)| *p == port) {
        return (*name).to_string();
    }
    if proto == Protocol::Tcp
        && let Some(name) = trojans::name(port)
    {
        return text_with(lang, "check-trojan-name", &[("name", name.into())]);
    }
    tojimari_core::services::lookup(proto, port).map_or_else(|| "-".to_string(), |e| e.name.to_string())
}

/// The report of a check's runs (and `quick`'s ping) in `lang`.
pub fn write(
    out: &mut dyn Write,
    lang: Lang,
    kind: CheckKind,
    runs: &[(&'static str, Results)],
    ping: Option<&Results>,
    raw: bool,
) -> io::Result<()> {
    let addrs: BTreeSet<IpAddr> = runs.iter().flat_map(|(_, r)| r.keys().copied()).collect();
    for addr in addrs {
        writeln!(out, "tojimari check {}: {addr}", kind.name())?;
        if kind == CheckKind::Quick {
            let result = match ping.and_then(|p| p.get(&addr)) {
                Some(host) if host.state == HostState::Up => text(lang, "check-icmp-answered"),
                Some(_) => text(lang, "check-icmp-silent"),
                None if raw => text(lang, "check-icmp-silent"),
                None => {
                    let privilege = text(lang, "raw-privilege");
                    text_with(lang, "check-icmp-not-tested", &[("privilege", (&privilege).into())])
                }
            };
            writeln!(out, "  {}", text_with(lang, "check-icmp", &[("result", (&result).into())]))?;
        }
        if kind == CheckKind::Stealth {
            write_stealth(out, lang, addr, runs)?;
        } else {
            write_ports(out, lang, kind, addr, &runs[0].1)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_ports(out: &mut dyn Write, lang: Lang, kind: CheckKind, addr: IpAddr, results: &Results) -> io::Result<()> {
    let Some(host) = results.get(&addr) else { return Ok(()) };
    // Every port of the short lists is shown; of the long ones (tcp, udp, the trojan ports inside quick) only
    // the OPEN ones, with the rest counted.
    let listed = |port: &PortResult| match kind {
        CheckKind::Trojan | CheckKind::Prescan => true,
        CheckKind::Quick => {
            let table = if port.proto == Protocol::Udp { COMMON_UDP } else { COMMON_TCP };
            table.iter().any(|(p, _)| *p == port.port)
        }
        CheckKind::Tcp | CheckKind::Udp | CheckKind::Stealth => false,
    };
    let mut counts = [0usize; 3];
    let mut unlisted = [0usize; 3];
    let mut rows = Vec::new();
    let mut open = Vec::new();
    for port in &host.ports {
        let verdict = Verdict::of(Some(port));
        counts[verdict as usize] += 1;
        if listed(port) || verdict == Verdict::Open {
            rows.push((port, verdict));
        } else {
            unlisted[verdict as usize] += 1;
        }
        if verdict == Verdict::Open {
            open.push(port);
        }
    }
    writeln!(
        out,
        "  {} {} {}",
        pad_end(&text(lang, "check-col-port"), 10),
        pad_end(&text(lang, "check-col-name"), 34),
        text(lang, "check-col-result")
    )?;
    for (port, verdict) in &rows {
        let name = truncate(&port_name(lang, kind, port.proto, port.port), 34);
        let mut line = format!(
            "  {:<10} {} {}",
            format!("{}/{}", port.port, port.proto),
            pad_end(&name, 34),
            text(lang, label_id(*verdict))
        );
        if let Some(info) = port.service.as_deref() {
            let version = info.version_line();
            let what = if version.is_empty() { info.name.clone() } else { format!("{} {version}", info.name) };
            line.push_str(&format!("  {}", crate::check::advice::printable(&what)));
        }
        if *verdict == Verdict::Closed && port.state != PortState::Closed {
            let answered = text_with(lang, "check-firewall-answered", &[("reason", port.reason.as_str().into())]);
            line.push_str(&format!("  {answered}"));
        }
        writeln!(out, "{line}")?;
        if let Some(info) = port.service.as_deref() {
            for detail in info.details.iter().filter(|d| d.id == "banner") {
                let banner = advice::printable(&detail.output);
                writeln!(out, "  {:<10} {}", "", text_with(lang, "check-banner", &[("banner", (&banner).into())]))?;
            }
        }
    }
    if unlisted[1] + unlisted[2] > 0 {
        let others = [("closed", unlisted[1].into()), ("stealth", unlisted[2].into())];
        writeln!(out, "  {}", text_with(lang, "check-other-ports", &others))?;
    }
    let verdict = [
        ("open", counts[0].into()),
        ("closed", counts[1].into()),
        ("stealth", counts[2].into()),
        ("total", host.ports.len().into()),
    ];
    writeln!(out, "{}", text_with(lang, "check-verdict-counts", &verdict))?;
    writeln!(out, "  {}", text(lang, "check-serves-nothing"))?;
    if counts[1] > 0 {
        writeln!(out, "  {}", text(lang, "check-closed-visible"))?;
    }
    if counts[0] == 0 && counts[1] == 0 {
        writeln!(out, "  {}", text(lang, "check-all-stealth"))?;
    }
    for port in open {
        writeln!(out, "  {}", open_advice(lang, &format!("{}/{}", port.port, port.proto), port))?;
        if let Some(info) = port.service.as_deref() {
            for f in &info.findings {
                writeln!(
                    out,
                    "    {} [{}]: {} -- {}",
                    f.id,
                    severity_word(lang, f.severity),
                    advice::printable(&f.evidence),
                    advice::printable(&recorded_advice(lang, &f.id, &f.advice))
                )?;
            }
        }
    }
    Ok(())
}

/// `PORT OPEN: advice` for an OPEN port (`port_proto`: `22/tcp`).
fn open_advice(lang: Lang, port_proto: &str, port: &PortResult) -> String {
    let advice = advice::for_port(lang, port);
    text_with(lang, "check-open-advice", &[("port", port_proto.into()), ("advice", (&advice).into())])
}

/// SYN, FIN, NULL and Xmas side by side, and what they say about the firewall.
fn write_stealth(out: &mut dyn Write, lang: Lang, addr: IpAddr, runs: &[(&'static str, Results)]) -> io::Result<()> {
    writeln!(
        out,
        "  {} {} {} {} {} {}",
        pad_end(&text(lang, "check-col-port"), 10),
        pad_end(&text(lang, "check-col-name"), 22),
        pad_end(&text(lang, "check-col-syn"), 8),
        pad_end(&text(lang, "check-col-fin"), 8),
        pad_end(&text(lang, "check-col-null"), 8),
        text(lang, "check-col-xmas")
    )?;
    let mut syn_silent_others_answer = 0;
    let mut all_silent = 0;
    let mut all_answer = 0;
    let mut open = Vec::new();
    for &(port, name) in COMMON_TCP {
        let verdicts: Vec<Verdict> =
            runs.iter().map(|(_, r)| Verdict::of(port_in(r, addr, Protocol::Tcp, port))).collect();
        // FIN/NULL/Xmas get no answer from an open port either (RFC 793): "open|filtered" reads STEALTH.
        let line = format!(
            "  {:<10} {:<22} {:<8} {:<8} {:<8} {:<8}",
            format!("{port}/tcp"),
            name,
            verdicts.first().map_or("-", |v| v.word()),
            verdicts.get(1).map_or("-", |v| v.word()),
            verdicts.get(2).map_or("-", |v| v.word()),
            verdicts.get(3).map_or("-", |v| v.word()),
        );
        writeln!(out, "{}", line.trim_end())?;
        let syn = verdicts.first().copied().unwrap_or(Verdict::Stealth);
        let others_answer = verdicts.iter().skip(1).any(|v| *v == Verdict::Closed);
        match syn {
            Verdict::Open => {
                if let Some(p) = runs.first().and_then(|(_, r)| port_in(r, addr, Protocol::Tcp, port)) {
                    open.push(p.clone());
                }
            }
            Verdict::Stealth if others_answer => syn_silent_others_answer += 1,
            Verdict::Stealth => all_silent += 1,
            Verdict::Closed => all_answer += 1,
        }
    }
    let total = COMMON_TCP.len();
    writeln!(out, "{}", text(lang, "check-verdict"))?;
    let counted = |id: &str, count: usize| text_with(lang, id, &[("count", count.into())]);
    if syn_silent_others_answer > 0 {
        writeln!(out, "  {}", counted("check-stateless-filter", syn_silent_others_answer))?;
    }
    if all_silent == total {
        writeln!(out, "  {}", text(lang, "check-stateful-all"))?;
    } else if all_silent > 0 && syn_silent_others_answer == 0 {
        writeln!(out, "  {}", counted("check-stateful-some", all_silent))?;
    }
    if all_answer > 0 {
        writeln!(out, "  {}", counted("check-answer-closed", all_answer))?;
    }
    for port in open {
        writeln!(out, "  {}", open_advice(lang, &format!("{}/tcp", port.port), &port))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::SystemTime;

    use tojimari_core::Reason;
    use tojimari_core::report::HostReport;
    use tojimari_i18n::width::display_width;

    use super::*;

    fn results() -> Results {
        let addr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
        let ports = vec![
            PortResult::new(Protocol::Tcp, 21, PortState::Closed, Reason::Reset),
            PortResult::new(Protocol::Tcp, 22, PortState::Open, Reason::SynAck),
            PortResult::new(Protocol::Tcp, 25, PortState::Filtered, Reason::AdminProhibited),
            PortResult::new(Protocol::Tcp, 80, PortState::Filtered, Reason::NoResponse),
            PortResult::new(Protocol::Tcp, 12345, PortState::Open, Reason::SynAck),
            PortResult::new(Protocol::Tcp, 31337, PortState::Closed, Reason::Reset),
        ];
        let host = HostReport {
            addr,
            hostnames: Vec::new(),
            state: HostState::Up,
            state_reason: Reason::UserSet,
            state_reason_ttl: 0,
            ports,
            start: SystemTime::UNIX_EPOCH,
            end: SystemTime::UNIX_EPOCH,
            times: None,
            complete: true,
            timed_out: false,
            os: None,
            trace: None,
        };
        Results::from([(addr, host)])
    }

    fn report(lang: Lang) -> String {
        let mut out = Vec::new();
        write(&mut out, lang, CheckKind::Quick, &[("ports", results())], None, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The English report, whole: the texts moved to the catalogue print exactly as before.
    #[test]
    fn english_report_is_unchanged() {
        let want = "\
tojimari check quick: 198.18.0.2
  ICMP echo: not tested: sending ICMP echo needs root (or the CAP_NET_RAW capability)
  PORT       NAME                               RESULT
  21/tcp     FTP                                CLOSED
  22/tcp     SSH                                OPEN
  25/tcp     SMTP                               CLOSED  (a firewall answered: admin-prohibited)
  80/tcp     HTTP                               STEALTH
  12345/tcp  trojan: NetBus                     OPEN
  (other ports: 1 CLOSED, 0 STEALTH)
Verdict: 2 OPEN, 3 CLOSED, 1 STEALTH of 6 ports.
  A machine that serves nothing should show every port STEALTH.
  CLOSED ports tell a scanner the machine is there: have the firewall drop unsolicited packets instead of answering them.
  22/tcp OPEN: SSH is fine for remote administration: allow only your own addresses, use keys and turn passwords off.
  12345/tcp OPEN: a well-known backdoor port (NetBus): find the program that holds it (`tojimari local --port 12345` on that machine) and make sure it is one you know.

";
        assert_eq!(report(Lang::En), want);
    }

    #[test]
    fn japanese_report_lines_up_in_terminal_columns() {
        let ja = report(Lang::Ja);
        assert!(ja.contains("ICMP エコー（ping）: 未確認。ICMP エコーを送るには root 権限（または CAP_NET_RAW ケーパビリティ）が必要です"), "{ja}");
        assert!(ja.contains("（ファイアウォールが応答: admin-prohibited）"), "{ja}");
        assert!(ja.contains("トロイの木馬: NetBus"), "{ja}");
        assert!(
            ja.contains("判定: 6 ポート中 OPEN（開いている）2 個、CLOSED（閉じている）3 個、STEALTH（応答なし）1 個。"),
            "{ja}"
        );
        let lines: Vec<&str> = ja.lines().collect();
        let heading = lines[2];
        let row = lines.iter().find(|l| l.contains("12345/tcp")).unwrap();
        let column = |line: &str, word: &str| display_width(&line[..line.find(word).unwrap()]);
        assert_eq!(column(heading, "名前"), column(row, "トロイの木馬"), "{ja}");
        assert_eq!(column(heading, "結果"), column(row, "OPEN"), "{ja}");
    }
}
