//! One scan (`/scans/{no}`): what was asked (command, profile, targets, ports, times, status), totals, the
//! export buttons, then its hosts 50 a page in the scan's order, each with the PORT STATE SERVICE VERSION
//! table (OPEN / CLOSED / STEALTH in words and colour), findings with advice, OS guesses and TLS details.
//! `/scans/{no}/hosts?after=SEQ` (or `?page=N`) gives just the host blocks, for a page that follows a
//! running scan.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::browse::{HostPage, PagedHost, ScanCounts};
use tojimari_store::{ScanInfo, ScanRef, StoredScan};

use crate::app::AppState;
use crate::page::{PageCtx, layout};
use crate::pages::query;
use crate::pages::scans::status_badge;
use crate::pages::view::{
    bad_request, duration, fragment, host_block, last_page, not_found, pager, time, unavailable, verdict_class,
};
use tojimari_core::verdict::Verdict;
use tojimari_i18n::{verdict_help, verdict_label};

pub const PER_PAGE: i64 = 50;

/// What the page shows.
#[derive(Debug)]
pub struct ScanView {
    pub info: ScanInfo,
    pub stored: Option<StoredScan>,
    pub counts: ScanCounts,
    pub hosts: HostPage,
}

/// A scan number in a path: digits, 1 on.
pub fn scan_no(text: &str) -> Option<i64> {
    text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse::<i64>().ok()).flatten().filter(|&n| n > 0)
}

/// `GET /scans/{no}?page=N`.
pub async fn get(
    State(app): State<AppState>,
    ctx: PageCtx,
    Path(no): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(no) = scan_no(&no) else {
        return bad_request(
            &ctx,
            &format!("{}: {}", ctx.t("not-a-scan-number"), no.chars().take(40).collect::<String>()),
        );
    };
    let page = match query::parse(raw.as_deref(), &["page"]).and_then(|q| query::page(&q)) {
        Ok(p) => p,
        Err(e) => return bad_request(&ctx, &e.message(&ctx)),
    };
    let read = app
        .storage
        .with(move |s| {
            let Some(info) = s.scan_info(no)? else { return Ok(None) };
            let stored = s.find_scan(ScanRef::No(no))?;
            let counts = s.scan_counts(&info)?;
            let hosts = s.scan_hosts_page(info.id, (page - 1) * PER_PAGE, PER_PAGE)?;
            Ok(Some(ScanView { info, stored, counts, hosts }))
        })
        .await;
    match read {
        Ok(Some(view)) => {
            let title = format!("{} #{no}", ctx.t("scan"));
            layout(&ctx, &title, body(&ctx, &view, page)).into_response()
        }
        Ok(None) => not_found(&ctx, &format!("{} #{no}", ctx.t("no-such-scan"))),
        Err(e) => unavailable(&ctx, &e),
    }
}

/// `GET /scans/{no}/hosts?after=SEQ&limit=N` or `?page=N`: the host blocks only (no layout). An empty
/// answer means no more hosts yet.
pub async fn hosts_fragment(
    State(app): State<AppState>,
    ctx: PageCtx,
    Path(no): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(no) = scan_no(&no) else {
        return fragment(StatusCode::BAD_REQUEST, html! { p.error { (ctx.t("not-a-scan-number")) } });
    };
    let parsed = query::parse(raw.as_deref(), &["after", "page", "limit"]).and_then(|q| {
        let after = q.contains_key("after").then(|| query::number(&q, "after", -1, i64::MAX, -1)).transpose()?;
        Ok((after, query::page(&q)?, query::number(&q, "limit", 1, 200, PER_PAGE)?))
    });
    let (after, page, limit) = match parsed {
        Ok(p) => p,
        Err(e) => return fragment(StatusCode::BAD_REQUEST, html! { p.error { (e.message(&ctx)) } }),
    };
    let read = app
        .storage
        .with(move |s| {
            let Some(info) = s.scan_info(no)? else { return Ok(None) };
            match after {
                Some(after) => s.scan_hosts_after(info.id, after, limit).map(Some),
                None => s.scan_hosts_page(info.id, (page - 1) * limit, limit).map(|p| Some(p.hosts)),
            }
        })
        .await;
    match read {
        Ok(Some(hosts)) => fragment(StatusCode::OK, host_blocks(&ctx, &hosts)),
        Ok(None) => fragment(StatusCode::NOT_FOUND, html! { p.error { (ctx.t("no-such-scan")) " #" (no) } }),
        Err(e) => fragment(
            StatusCode::SERVICE_UNAVAILABLE,
            html! { p.error { (ctx.t("store-unavailable-title")) ": " (e.0) } },
        ),
    }
}

/// The host blocks of a page.
pub fn host_blocks(ctx: &PageCtx, hosts: &[PagedHost]) -> Markup {
    html! { @for h in hosts { (host_block(ctx, h.seq, &h.report)) } }
}

/// The page's body.
pub fn body(ctx: &PageCtx, view: &ScanView, page: i64) -> Markup {
    let info = &view.info;
    let no = info.no;
    let last = last_page(view.hosts.total, PER_PAGE);
    let running = info.status == tojimari_store::ScanStatus::Running;
    html! {
        section.summary {
            dl {
                dt { (ctx.t("col-status")) } dd { (status_badge(ctx, info.status.as_str())) }
                @if let Some(stored) = &view.stored {
                    dt { (ctx.t("command")) } dd { code { (stored.argv) } }
                    dt { (ctx.t("source")) } dd { (stored.source) }
                }
                dt { (ctx.t("col-profile")) } dd { (info.profile) }
                dt { (ctx.t("col-targets")) } dd { (info.targets) }
                dt { (ctx.t("ports-asked")) } dd { (info.ports) }
                dt { (ctx.t("col-started")) } dd { (time(info.started_ms)) }
                @if let Some(end) = info.ended_ms {
                    dt { (ctx.t("ended")) } dd { (time(end)) " (" (duration(end - info.started_ms)) ")" }
                }
                dt { (ctx.t("col-hosts-up")) } dd { (view.counts.hosts_up) " / " (view.counts.hosts) }
                dt { (ctx.t("col-open-ports")) } dd { (view.counts.open_ports) }
                dt { (ctx.t("col-findings")) } dd { (view.counts.findings_total()) }
            }
            p.export {
                a.button href={ "/scans/" (no) "/export.xml" } download { (ctx.t("export-xml")) }
                " "
                a.button href={ "/scans/" (no) "/export.jsonl" } download { (ctx.t("export-jsonl")) }
                " "
                a.button href={ "/compare?b=" (no) } { (ctx.t("compare-with")) }
            }
            p.legend {
                (ctx.t("legend")) ": "
                @for verdict in [Verdict::Open, Verdict::Closed, Verdict::Stealth] {
                    span class={ "state " (verdict_class(verdict)) } { (verdict_label(ctx.lang, verdict)) }
                    " " (verdict_help(ctx.lang, verdict)) " · "
                }
            }
        }
        @if running { p.note { (ctx.t("scan-running-note")) } }
        (pager(ctx, page, last, |n| format!("/scans/{no}?page={n}")))
        @if view.hosts.hosts.is_empty() {
            p.empty { (ctx.t("no-hosts-recorded")) }
        }
        div.hosts id="hosts" data-scan=(no) data-running=[running.then_some("1")]
            data-after=[view.hosts.hosts.last().map(|h| h.seq)] {
            (host_blocks(ctx, &view.hosts.hosts))
        }
        (pager(ctx, page, last, |n| format!("/scans/{no}?page={n}")))
    }
}
