//! What the read-only pages share: port states in plain words and colour, times, pagination links, the
//! error and "store unavailable" responses, and a host's block (its PORT STATE SERVICE VERSION table,
//! findings with advice, OS guesses, TLS details) used by the scan page and its fragments. Pure rendering:
//! every string from the store goes through maud, which escapes it.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_core::report::{HostReport, PortResult};
use tojimari_core::route::{Trace, TraceRow};

use tojimari_core::report::Severity;
use tojimari_core::state::PortState;
use tojimari_core::verdict::Verdict;
use tojimari_i18n::{severity_word, verdict_help, verdict_label};

use crate::page::{PageCtx, error_page};
use crate::storage::Unavailable;

/// The plain-words verdict of a port state as the store names it (core's one definition: filtered is
/// STEALTH here, where the reason is not at hand), and its CSS class; `None` for a word the store should not
/// hold.
pub fn state_verdict(state: &str) -> Option<(Verdict, &'static str)> {
    let verdict = Verdict::of_state(state.parse::<PortState>().ok()?, None);
    Some((verdict, verdict_class(verdict)))
}

/// The CSS class of a verdict's colour.
pub fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Open => "st-open",
        Verdict::Closed => "st-closed",
        Verdict::Stealth => "st-stealth",
    }
}

/// The CSS class of a state's row (its verdict's colour; none for a word the store should not hold).
pub fn state_class(state: &str) -> &'static str {
    state_verdict(state).map_or("st-other", |v| v.1)
}

/// A port state: the word (OPEN, CLOSED, STEALTH) in its colour, the state as the scanner names it, and its
/// meaning as a tooltip. The word is always there, so colour is never the only signal.
pub fn state_badge(ctx: &PageCtx, state: &str) -> Markup {
    match state_verdict(state) {
        Some((verdict, class)) => html! {
            span class={ "state " (class) } title=(verdict_help(ctx.lang, verdict)) { (verdict_label(ctx.lang, verdict)) }
            " " span.raw-state { "(" (state) ")" }
        },
        None => html! { span.state.st-other { (state) } },
    }
}

/// A severity in its colour, with its name.
pub fn severity_badge(ctx: &PageCtx, severity: &str) -> Markup {
    match Severity::parse(severity) {
        Some(s) => html! { span class={ "sev sev-" (s.as_str()) } { (severity_word(ctx.lang, s)) } },
        None => html! { span class="sev sev-other" { (severity) } },
    }
}

/// The message id of a host state (`host-up`, `host-down`, `host-unknown` for anything else).
pub fn host_state_id(state: &str) -> &'static str {
    match state {
        "up" => "host-up",
        "down" => "host-down",
        _ => "host-unknown",
    }
}

/// Unix milliseconds as `2026-12-06 17:03:37 UTC`.
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A duration in milliseconds as `1 h 02 min`, `3 min 05 s`, `4.2 s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{:.1} s", ms.max(0) as f64 / 1000.0),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// Pages 1..=last of `total` items, `per_page` each (at least one page).
pub fn last_page(total: i64, per_page: i64) -> i64 {
    ((total.max(0) + per_page - 1) / per_page).max(1)
}

/// Links to the first, previous, next and last pages; `href(n)` makes page n's address.
pub fn pager(ctx: &PageCtx, page: i64, last: i64, href: impl Fn(i64) -> String) -> Markup {
    html! {
        @if last > 1 {
            nav.pager aria-label=(ctx.t("pages")) {
                @if page > 1 {
                    a href=(href(1)) { "« " (ctx.t("page-first")) }
                    a href=(href(page - 1)) rel="prev" { "‹ " (ctx.t("page-previous")) }
                }
                span.here { (ctx.t("page")) " " (page) " / " (last) }
                @if page < last {
                    a href=(href(page + 1)) rel="next" { (ctx.t("page-next")) " ›" }
                    a href=(href(last)) { (ctx.t("page-last")) " »" }
                }
            }
        }
    }
}

/// 400: the request's query or path was malformed.
pub fn bad_request(ctx: &PageCtx, message: &str) -> Response {
    error_page(ctx, StatusCode::BAD_REQUEST, "bad-request", message, Some(&ctx.t("bad-request-hint")))
}

/// 404: no such scan or host.
pub fn not_found(ctx: &PageCtx, message: &str) -> Response {
    error_page(ctx, StatusCode::NOT_FOUND, "not-found", message, None)
}

/// 503: the store could not be read; says why.
pub fn unavailable(ctx: &PageCtx, why: &Unavailable) -> Response {
    error_page(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        "store-unavailable-title",
        &ctx.t("store-unavailable-title"),
        Some(&why.0),
    )
}

/// An HTML fragment (no layout) with `status`.
pub fn fragment(status: StatusCode, body: Markup) -> Response {
    (status, body).into_response()
}

/// More than this many ports of one state (other than open) are summed up in one line, as nmap does.
const FOLD_OVER: usize = 25;

/// The ports to list one by one, and the (state, count) summed up ("Not shown: 26 closed ports").
pub fn fold_ports(ports: &[PortResult]) -> (Vec<&PortResult>, Vec<(String, usize)>) {
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for p in ports {
        *by_state.entry(p.state.as_str()).or_default() += 1;
    }
    let folded = |state: &str| state != "open" && by_state.get(state).is_some_and(|&n| n > FOLD_OVER);
    let listed = ports.iter().filter(|p| !folded(p.state.as_str())).collect();
    let summed = by_state.iter().filter(|(s, _)| folded(s)).map(|(s, n)| (s.to_string(), *n)).collect();
    (listed, summed)
}

/// Detail ids shown as TLS details.
fn is_tls_detail(id: &str) -> bool {
    id.starts_with("ssl-") || id.starts_with("tls-")
}

/// One host of a scan: address, names, state, OS guesses, the port table, findings and TLS details.
/// `seq` is its place in the scan (for a page fetching the hosts after it).
pub fn host_block(ctx: &PageCtx, seq: i64, host: &HostReport) -> Markup {
    let addr = host.addr.to_string();
    let names: Vec<&str> = host.hostnames.iter().map(|h| h.name.as_str()).collect();
    let (listed, summed) = fold_ports(&host.ports);
    let findings: Vec<(&PortResult, &tojimari_core::report::Finding)> = host
        .ports
        .iter()
        .flat_map(|p| p.service.iter().flat_map(move |s| s.findings.iter().map(move |f| (p, f))))
        .collect();
    html! {
        section.host id={ "host-" (addr) } data-seq=(seq) {
            h3 {
                a href={ "/hosts/" (addr) } { (addr) }
                @if !names.is_empty() { " " span.names { "(" (names.join(", ")) ")" } }
                " " span class={ "host-state hs-" (host.state.as_str()) } { (ctx.t(host_state_id(host.state.as_str()))) }
            }
            @if let Some(os) = &host.os && !os.matches.is_empty() {
                p.os {
                    (ctx.t("os-guesses")) ": "
                    @for (i, m) in os.matches.iter().take(3).enumerate() {
                        @if i > 0 { ", " }
                        (m.name) " (" (m.accuracy) "%)"
                    }
                }
            }
            @if let Some(trace) = &host.trace {
                (trace_block(ctx, trace))
            }
            @if listed.is_empty() && summed.is_empty() {
                p.none { (ctx.t("no-ports-recorded")) }
            } @else {
                table.ports {
                    thead { tr {
                        th { (ctx.t("col-port")) } th { (ctx.t("col-state")) }
                        th { (ctx.t("col-service")) } th { (ctx.t("col-version")) }
                    } }
                    tbody {
                        @for p in &listed {
                            tr class=(state_class(p.state.as_str())) {
                                td.port { (p.port) "/" (p.proto.as_str()) }
                                td { (state_badge(ctx, p.state.as_str())) }
                                td { @if let Some(s) = &p.service {
                                    (s.name) @if s.tunnel.is_some() { " " span.tls { "(TLS)" } }
                                } }
                                td { @if let Some(s) = &p.service { (s.version_line()) } }
                            }
                            @if let Some(s) = &p.service {
                                @for d in s.details.iter().filter(|d| !is_tls_detail(&d.id)) {
                                    tr.detail { td {} td colspan="3" { span.detail-id { (d.id) } ": " pre { (d.output) } } }
                                }
                            }
                        }
                    }
                }
                @for (state, n) in &summed {
                    p.folded { (ctx.t("not-shown")) ": " (n) " " (state_badge(ctx, state)) }
                }
            }
            @if !findings.is_empty() {
                h4 { (ctx.t("findings")) }
                ul.findings {
                    @for (p, f) in &findings {
                        li {
                            (severity_badge(ctx, f.severity.as_str())) " "
                            strong { (f.id) } " " span.where { (p.port) "/" (p.proto.as_str()) }
                            p.evidence { (f.evidence) }
                            p.advice { (ctx.t("advice")) ": " (f.advice) }
                        }
                    }
                }
            }
            @for p in &host.ports {
                @if let Some(s) = &p.service {
                    @for d in s.details.iter().filter(|d| is_tls_detail(&d.id)) {
                        div.tls-detail {
                            h4 { (ctx.t("tls-details")) " " (p.port) "/" (p.proto.as_str()) " · " (d.id) }
                            pre { (d.output) }
                        }
                    }
                }
            }
        }
    }
}

/// A host's route (`--traceroute`), folded away under its heading: nmap's TRACEROUTE rows, hop by hop.
fn trace_block(ctx: &PageCtx, trace: &Trace) -> Markup {
    let hops = trace.hops.last().map_or(0, |h| h.ttl);
    html! {
        details.trace {
            summary {
                (ctx.t_with("trace-title", &[("hops", hops.into())]))
                @if let Some(probe) = &trace.probe {
                    " · " (ctx.t_with("trace-using", &[("probe", (&probe.words()).into())]))
                }
            }
            table.trace {
                thead { tr {
                    th { (ctx.t("trace-col-hop")) } th { (ctx.t("trace-col-rtt")) } th { (ctx.t("trace-col-address")) }
                } }
                tbody {
                    @for row in trace.rows() {
                        @match row {
                            TraceRow::SameAs { hops, host } => {
                                tr.same-as { td { "-" } td colspan="2" {
                                    (ctx.t_with("trace-same-as", &[("hops", hops.into())])) " "
                                    a href={ "/hosts/" (host) } { (host) }
                                } }
                            }
                            TraceRow::Silent { first, last } => {
                                tr.silent {
                                    td { (first) @if last != first { "–" (last) } }
                                    td colspan="2" { (ctx.t("trace-silent")) }
                                }
                            }
                            TraceRow::Answered { ttl, answer } => {
                                tr {
                                    td { (ttl) }
                                    td { (answer.rtt_ms()) " ms" }
                                    td { @if let Some(name) = &answer.name { (name) " (" (answer.addr) ")" } @else { (answer.addr) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_core::{PortState, Protocol, Reason};

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_796_565_600_000), "2026-12-06 14:00:00 UTC");
        assert_eq!(time(951_825_600_000), "2000-02-29 12:00:00 UTC");
        assert_eq!(time(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn states_read_as_words() {
        assert_eq!(state_verdict("open"), Some((Verdict::Open, "st-open")));
        assert_eq!(state_verdict("closed"), Some((Verdict::Closed, "st-closed")));
        assert_eq!(state_verdict("open|filtered"), Some((Verdict::Stealth, "st-stealth")));
        assert_eq!(state_verdict("nonsense"), None);
        assert_eq!(state_class("filtered"), "st-stealth");
        assert_eq!(state_class("<b>"), "st-other");
    }

    #[test]
    fn many_ports_of_one_closed_state_are_summed_up() {
        let mut ports: Vec<PortResult> =
            (1..=30).map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset)).collect();
        ports.push(PortResult::new(Protocol::Tcp, 80, PortState::Open, Reason::SynAck));
        ports.push(PortResult::new(Protocol::Tcp, 81, PortState::Filtered, Reason::NoResponse));
        let (listed, summed) = fold_ports(&ports);
        assert_eq!(listed.iter().map(|p| p.port).collect::<Vec<_>>(), [80, 81]);
        assert_eq!(summed, [("closed".to_string(), 30)]);
    }

    #[test]
    fn a_route_reads_as_nmap_lists_it_in_both_languages() {
        use std::time::Duration;
        use tojimari_core::route::{TraceHop, TraceProbe};
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let mut last = TraceHop::answered(4, ip("198.18.3.2"), Duration::from_micros(40));
        if let Some(answer) = last.answer.as_mut() {
            answer.name = Some("<target>".into());
        }
        let trace = Trace {
            probe: Some(TraceProbe::Port { proto: Protocol::Tcp, port: 23 }),
            hops: vec![
                TraceHop::answered(1, ip("198.18.0.254"), Duration::from_micros(10)),
                TraceHop::silent(2),
                TraceHop::silent(3),
                last,
            ],
            same_as: Some((1, ip("198.18.9.9"))),
        };
        let ctx = |lang| PageCtx { lang, csrf: String::new(), path: String::new(), logged_in: false };
        let en = trace_block(&ctx(tojimari_i18n::Lang::En), &trace).into_string();
        for want in [
            "Route: 4 hops · using port 23/tcp",
            "Hop 1 is the same as for <a href=\"/hosts/198.18.9.9\">198.18.9.9</a>",
            "<td>2–3</td><td colspan=\"2\">no answer</td>",
            "<td>4</td><td>0.04 ms</td><td>&lt;target&gt; (198.18.3.2)</td>",
        ] {
            assert!(en.contains(want), "{want:?} in {en}");
        }
        assert!(!en.contains("198.18.0.254"), "hop 1 is the copied one: {en}");
        let ja = trace_block(&ctx(tojimari_i18n::Lang::Ja), &trace).into_string();
        assert!(ja.contains("経路: 4 ホップ") && ja.contains("応答なし"), "{ja}");
    }

    #[test]
    fn pages_and_durations() {
        assert_eq!(last_page(0, 50), 1);
        assert_eq!(last_page(101, 50), 3);
        assert_eq!(duration(4200), "4.2 s");
        assert_eq!(duration(185_000), "3 min 05 s");
        assert_eq!(duration(3_720_000), "1 h 02 min");
    }
}
