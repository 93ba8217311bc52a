//! Compare two scans (`/compare?a=NO&b=NO`): a form with two scan selectors (by default the last two
//! complete scans of one scope), then what changed from A to B with `diff`'s meaning: hosts up, down or
//! not scanned; ports opened, closed, changed; services and certificates changed; findings new, resolved,
//! changed. A port B did not look at is "not scanned", never "closed". Hosts 50 a page.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::browse::compare_scans;
use tojimari_store::{
    HostDiff, PortChange, PortDiff, PortObs, ScanDiff, ScanInfo, ScanStatus, format_port_ranges, select_pair,
};

use crate::app::AppState;
use crate::page::error_page;
use crate::page::{PageCtx, layout, notice};
use crate::pages::query::{self, QueryError};
use crate::pages::view::{bad_request, last_page, pager, time, unavailable};

pub const PER_PAGE: usize = 50;
/// Scans offered in the selectors (newest first).
const OFFERED: usize = 300;

/// Which pair the page compares, or why none.
#[derive(Debug)]
pub enum Pair {
    /// (A, B) numbers.
    Chosen(i64, i64),
    /// Nothing asked and no two complete scans of one scope.
    NoPair,
    /// Asked for a scan that is not there (its number).
    Unknown(i64),
    /// A is not complete (its number).
    NotComplete(i64),
    /// Only B asked, and no earlier complete scan of its scope.
    NoBaseline(i64),
}

/// The pair for `a` and `b` as asked (numbers already parsed), among `scans` (newest first).
pub fn choose(scans: &[ScanInfo], a: Option<i64>, b: Option<i64>) -> Pair {
    let find = |no: i64| scans.iter().find(|s| s.no == no);
    match (a, b) {
        (Some(a), Some(b)) => match (find(a), find(b)) {
            (None, _) => Pair::Unknown(a),
            (_, None) => Pair::Unknown(b),
            (Some(sa), Some(_)) if sa.status != ScanStatus::Complete => Pair::NotComplete(a),
            (Some(_), Some(_)) => Pair::Chosen(a, b),
        },
        (None, Some(b)) => match find(b) {
            None => Pair::Unknown(b),
            Some(sb) => scans
                .iter()
                .filter(|s| s.no < b && s.status == ScanStatus::Complete && s.same_scope(sb))
                .max_by_key(|s| s.no)
                .map_or(Pair::NoBaseline(b), |sa| Pair::Chosen(sa.no, b)),
        },
        (Some(a), None) => match select_pair(scans, Some(&a.to_string()), None) {
            Ok((sa, sb)) => Pair::Chosen(sa.no, sb.no),
            Err(_) if find(a).is_none() => Pair::Unknown(a),
            Err(_) if find(a).is_some_and(|s| s.status != ScanStatus::Complete) => Pair::NotComplete(a),
            Err(_) => Pair::NoBaseline(a),
        },
        (None, None) => match select_pair(scans, None, None) {
            Ok((sa, sb)) => Pair::Chosen(sa.no, sb.no),
            Err(_) => Pair::NoPair,
        },
    }
}

/// What the handler read.
struct Read {
    scans: Vec<ScanInfo>,
    pair: Pair,
    diff: Option<ScanDiff>,
}

/// `GET /compare?a=NO&b=NO&page=N`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let parsed = query::parse(raw.as_deref(), &["a", "b", "page"]).and_then(|q| {
        let no = |k: &str| -> Result<Option<i64>, QueryError> {
            q.contains_key(k).then(|| query::number(&q, k, 1, i64::MAX, 1)).transpose()
        };
        Ok((no("a")?, no("b")?, query::page(&q)?))
    });
    let (a, b, page) = match parsed {
        Ok(p) => p,
        Err(e) => return bad_request(&ctx, &e.message(&ctx)),
    };
    let read = app
        .storage
        .with(move |s| {
            let scans = s.scan_infos()?;
            let pair = choose(&scans, a, b);
            let diff = match pair {
                Pair::Chosen(a, b) => {
                    let find = |no| scans.iter().find(|s| s.no == no).cloned();
                    match (find(a), find(b)) {
                        (Some(sa), Some(sb)) => Some(compare_scans(s, &sa, &sb)?),
                        _ => None,
                    }
                }
                _ => None,
            };
            Ok(Read { scans, pair, diff })
        })
        .await;
    let read = match read {
        Ok(r) => r,
        Err(e) => return unavailable(&ctx, &e),
    };
    let title = ctx.t("nav-compare");
    let form = form(&ctx, &read.scans, &read.pair);
    let refused = |id: &str, no: i64, status: StatusCode| {
        let message = format!("{} (#{no})", ctx.t(id));
        error_page(&ctx, status, "nav-compare", &message, Some(&ctx.t("compare-hint")))
    };
    match (&read.pair, &read.diff) {
        (Pair::Chosen(..), Some(diff)) => {
            layout(&ctx, &title, html! { (form) (body(&ctx, diff, page)) }).into_response()
        }
        (Pair::Unknown(no), _) => refused("no-such-scan", *no, StatusCode::NOT_FOUND),
        (Pair::NotComplete(no), _) => refused("compare-not-complete", *no, StatusCode::BAD_REQUEST),
        (Pair::NoBaseline(no), _) => {
            let body = html! { (form) (notice("info", &format!("{} (#{no})", ctx.t("compare-no-baseline")), Some(&ctx.t("compare-hint")))) };
            layout(&ctx, &title, body).into_response()
        }
        _ => {
            let body = html! { (form) (notice("info", &ctx.t("compare-no-pair"), Some(&ctx.t("compare-hint")))) };
            layout(&ctx, &title, body).into_response()
        }
    }
}

/// The form: two selectors of the newest scans.
pub fn form(ctx: &PageCtx, scans: &[ScanInfo], pair: &Pair) -> Markup {
    let (a, b) = match pair {
        Pair::Chosen(a, b) => (Some(*a), Some(*b)),
        _ => (None, None),
    };
    let select = |name: &str, chosen: Option<i64>| {
        html! {
            select name=(name) {
                @for s in scans.iter().take(OFFERED) {
                    option value=(s.no) selected[chosen == Some(s.no)] {
                        "#" (s.no) " · " (s.profile) " · " (s.targets) " · " (time(s.started_ms))
                        @if s.status != ScanStatus::Complete { " · " (ctx.t(&format!("status-{}", s.status.as_str()))) }
                    }
                }
            }
        }
    };
    html! {
        form.compare method="get" action="/compare" {
            label { (ctx.t("compare-a")) " " (select("a", a)) }
            label { (ctx.t("compare-b")) " " (select("b", b)) }
            button type="submit" { (ctx.t("compare-button")) }
        }
    }
}

fn change_word(ctx: &PageCtx, change: Option<PortChange>, p: &PortDiff) -> String {
    match change {
        Some(c) => ctx.t(&format!("change-{}", c.as_str())),
        None if p.service_changed => ctx.t("change-service"),
        None if p.cert_changed => ctx.t("change-cert"),
        None => String::new(),
    }
}

fn seen(ctx: &PageCtx, obs: Option<&PortObs>) -> Markup {
    match obs {
        Some(o) => html! {
            (crate::pages::view::state_badge(ctx, &o.state))
            @if let Some(s) = &o.service { " " (s) }
            @for v in [&o.product, &o.version].into_iter().flatten() { " " (v) }
        },
        None => html! { span.unknown { (ctx.t("not-scanned-or-down")) } },
    }
}

fn host(ctx: &PageCtx, h: &HostDiff) -> Markup {
    html! {
        section.host-diff {
            h3 {
                a href={ "/hosts/" (h.addr) } { (h.addr) }
                " " span class={ "change change-host-" (h.change.as_str()) } { (ctx.t(&format!("host-change-{}", h.change.as_str()))) }
            }
            @if h.os_changed { p { (ctx.t("os-changed")) ": "
                (h.a.as_ref().and_then(|v| v.os.clone()).unwrap_or_default()) " → "
                (h.b.as_ref().and_then(|v| v.os.clone()).unwrap_or_default()) } }
            @if h.hostnames_changed { p { (ctx.t("names-changed")) } }
            @if !h.ports.is_empty() {
                table.diff {
                    thead { tr { th { (ctx.t("col-port")) } th { (ctx.t("col-change")) } th { "A" } th { "B" } } }
                    tbody {
                        @for p in &h.ports {
                            tr class={ "ch-" (p.state.map_or("service", PortChange::as_str)) } {
                                td.port { (format_port_ranges(&p.ports)) "/" (p.proto.as_str()) }
                                td { (change_word(ctx, p.state, p)) }
                                td { (seen(ctx, p.a.as_ref())) }
                                td { (seen(ctx, p.b.as_ref())) }
                            }
                        }
                    }
                }
            }
            @if !h.findings.is_empty() {
                ul.findings {
                    @for f in &h.findings {
                        li {
                            span class={ "change change-f-" (f.change.as_str()) } { (ctx.t(&format!("finding-{}", f.change.as_str()))) }
                            " " strong { (f.id) } " " (f.port) "/" (f.proto.as_str())
                            @if let Some(o) = f.b.as_ref().or(f.a.as_ref()) {
                                " " (crate::pages::view::severity_badge(ctx, &o.severity)) " " span.evidence { (o.evidence) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The comparison: totals, the meaning of "not scanned", the hosts of page `page`.
pub fn body(ctx: &PageCtx, diff: &ScanDiff, page: i64) -> Markup {
    let c = diff.counts();
    let last = last_page(diff.hosts.len() as i64, PER_PAGE as i64);
    let from = usize::try_from((page - 1).max(0)).unwrap_or(usize::MAX).saturating_mul(PER_PAGE);
    let (a, b) = (diff.a.no, diff.b.no);
    html! {
        p.pair {
            "A: " a href={ "/scans/" (a) } { "#" (a) } " (" (time(diff.a.started_ms)) ") → B: "
            a href={ "/scans/" (b) } { "#" (b) } " (" (time(diff.b.started_ms)) ")"
        }
        @if !diff.a.same_scope(&diff.b) { p.note { (ctx.t("compare-other-scope")) } }
        table.counts {
            tbody {
                tr { th { (ctx.t("change-opened")) } td.num { (c.opened) } th { (ctx.t("change-closed")) } td.num { (c.closed) } }
                tr { th { (ctx.t("change-state")) } td.num { (c.state_changed) } th { (ctx.t("change-service")) } td.num { (c.service_changed) } }
                tr { th { (ctx.t("change-not-scanned")) } td.num { (c.not_scanned) } th { (ctx.t("change-newly-scanned")) } td.num { (c.newly_scanned) } }
                tr { th { (ctx.t("host-change-up")) } td.num { (c.hosts_up) } th { (ctx.t("host-change-down")) } td.num { (c.hosts_down) } }
                tr { th { (ctx.t("host-change-not-scanned")) } td.num { (c.hosts_not_scanned) } th { (ctx.t("change-cert")) } td.num { (c.cert_changed) } }
                tr { th { (ctx.t("finding-new")) } td.num { (c.findings_new) } th { (ctx.t("finding-resolved")) } td.num { (c.findings_resolved) } }
            }
        }
        p.meaning { (ctx.t("not-scanned-meaning")) }
        @if diff.is_empty() {
            p.empty { (ctx.t("no-differences")) }
        } @else {
            (pager(ctx, page, last, |n| format!("/compare?a={a}&b={b}&page={n}")))
            @for h in diff.hosts.iter().skip(from).take(PER_PAGE) { (host(ctx, h)) }
            (pager(ctx, page, last, |n| format!("/compare?a={a}&b={b}&page={n}")))
        }
    }
}
