//! The scans list (`/scans`): every scan, newest first, 50 a page, with its status (running, complete,
//! interrupted), hosts up and open ports.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::browse::ScanPage;

use crate::app::AppState;
use crate::page::{PageCtx, layout};
use crate::pages::query;
use crate::pages::view::{bad_request, last_page, pager, time, unavailable};

pub const PER_PAGE: i64 = 50;

/// `GET /scans?page=N`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let page = match query::parse(raw.as_deref(), &["page"]).and_then(|q| query::page(&q)) {
        Ok(p) => p,
        Err(e) => return bad_request(&ctx, &e.message(&ctx)),
    };
    match app.storage.with(move |s| s.scan_page((page - 1) * PER_PAGE, PER_PAGE)).await {
        Ok(list) => layout(&ctx, &ctx.t("nav-scans"), body(&ctx, &list, page)).into_response(),
        Err(e) => unavailable(&ctx, &e),
    }
}

/// A scan's status as a word in its colour.
pub fn status_badge(ctx: &PageCtx, status: &str) -> Markup {
    html! { span class={ "status status-" (status) } { (ctx.t(&format!("status-{status}"))) } }
}

/// The list.
pub fn body(ctx: &PageCtx, list: &ScanPage, page: i64) -> Markup {
    let last = last_page(list.total, PER_PAGE);
    html! {
        @if list.scans.is_empty() {
            p.empty { (ctx.t("no-scans")) }
        } @else {
            table.scans {
                thead { tr {
                    th { (ctx.t("col-scan")) } th { (ctx.t("col-status")) } th { (ctx.t("col-profile")) }
                    th { (ctx.t("col-targets")) } th { (ctx.t("col-started")) }
                    th.num { (ctx.t("col-hosts-up")) } th.num { (ctx.t("col-open-ports")) } th.num { (ctx.t("col-findings")) }
                } }
                tbody {
                    @for s in &list.scans {
                        tr {
                            td { a href={ "/scans/" (s.scan.no) } { "#" (s.scan.no) } }
                            td { (status_badge(ctx, s.scan.status.as_str())) }
                            td { (s.scan.profile) }
                            td.targets { (s.scan.targets) }
                            td { (time(s.scan.started_ms)) }
                            td.num { (s.counts.hosts_up) " / " (s.counts.hosts) }
                            td.num { (s.counts.open_ports) }
                            td.num { (s.counts.findings_total()) }
                        }
                    }
                }
            }
        }
        (pager(ctx, page, last, |n| format!("/scans?page={n}")))
    }
}
