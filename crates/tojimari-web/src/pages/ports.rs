//! Ports and services (`/ports`): the latest state of every (host, protocol, port) the store follows, across
//! all hosts, 100 a page, filtered by port list (`22,80,8000-8100`), service, product, finding id and state.
//! The query string is read strictly: a malformed value is named on the page with status 400.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::browse::ports::{PORT_STATES, parse_filter_text, parse_port_list, parse_port_state};
use tojimari_store::browse::{PortFilter, PortFilterError, PortTable};

use crate::app::AppState;
use crate::page::{PageCtx, layout};
use crate::pages::query::{self, QueryError};
use crate::pages::view::{bad_request, last_page, pager, severity_badge, state_badge, time, unavailable};

pub const PER_PAGE: i64 = 100;
const KEYS: [&str; 6] = ["port", "service", "product", "finding", "state", "page"];

/// The filter and page a query string asks for.
pub fn read_query(raw: Option<&str>) -> Result<(PortFilter, BTreeMap<String, String>, i64), QueryError> {
    let q = query::parse(raw, &KEYS)?;
    let value = |e: PortFilterError| match e {
        PortFilterError::Ports(v) => QueryError::Value("bad-port-list", v),
        PortFilterError::TooManyRanges => QueryError::Value("too-many-ranges", String::new()),
        PortFilterError::State(v) => QueryError::Value("bad-port-state", v),
        PortFilterError::Text(v) => QueryError::Value("bad-filter-text", v),
    };
    let mut f = PortFilter::default();
    if let Some(p) = q.get("port") {
        f.ports = parse_port_list(p).map_err(value)?;
    }
    f.service = q.get("service").map(|s| parse_filter_text(s)).transpose().map_err(value)?.flatten();
    f.product = q.get("product").map(|s| parse_filter_text(s)).transpose().map_err(value)?.flatten();
    f.finding = q.get("finding").map(|s| parse_filter_text(s)).transpose().map_err(value)?.flatten();
    f.state = q.get("state").map(|s| parse_port_state(s)).transpose().map_err(value)?;
    let page = query::page(&q)?;
    Ok((f, q, page))
}

/// `GET /ports?port=&service=&product=&finding=&state=&page=`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let (filter, q, page) = match read_query(raw.as_deref()) {
        Ok(r) => r,
        Err(e) => return bad_request(&ctx, &e.message(&ctx)),
    };
    let f = filter.clone();
    match app.storage.with(move |s| s.port_table(&f, (page - 1) * PER_PAGE, PER_PAGE)).await {
        Ok(table) => layout(&ctx, &ctx.t("nav-ports"), body(&ctx, &q, &table, page)).into_response(),
        Err(e) => unavailable(&ctx, &e),
    }
}

/// The address of page `n` with the same filters.
fn href(q: &BTreeMap<String, String>, n: i64) -> String {
    let mut parts: Vec<String> =
        q.iter().filter(|(k, _)| *k != "page").map(|(k, v)| format!("{k}={}", query::encode(v))).collect();
    parts.push(format!("page={n}"));
    format!("/ports?{}", parts.join("&"))
}

/// The filter form (the values as given) and the table.
pub fn body(ctx: &PageCtx, q: &BTreeMap<String, String>, table: &PortTable, page: i64) -> Markup {
    let v = |k: &str| q.get(k).cloned().unwrap_or_default();
    let last = last_page(table.total, PER_PAGE);
    html! {
        form.filters method="get" action="/ports" {
            label { (ctx.t("col-port")) " " input name="port" value=(v("port")) placeholder="22,80,8000-8100" size="14"; }
            label { (ctx.t("col-service")) " " input name="service" value=(v("service")) size="10"; }
            label { (ctx.t("col-product")) " " input name="product" value=(v("product")) size="12"; }
            label { (ctx.t("col-finding")) " " input name="finding" value=(v("finding")) size="16"; }
            label { (ctx.t("col-state")) " "
                select name="state" {
                    option value="" { (ctx.t("any-state")) }
                    @for s in PORT_STATES { option value=(s) selected[q.get("state").map(String::as_str) == Some(s)] { (s) } }
                }
            }
            button type="submit" { (ctx.t("filter")) }
            " " a href="/ports" { (ctx.t("clear-filters")) }
        }
        p.count {
            (ctx.t("matching-ports")) ": " (table.total) @if table.more_than_cap { "+" }
        }
        @if table.rows.is_empty() {
            p.empty { (ctx.t("no-matching-ports")) }
        } @else {
            table.ports.across {
                thead { tr {
                    th { (ctx.t("col-host")) } th { (ctx.t("col-port")) } th { (ctx.t("col-state")) }
                    th { (ctx.t("col-service")) } th { (ctx.t("col-version")) } th { (ctx.t("col-findings")) }
                    th { (ctx.t("first-seen")) } th { (ctx.t("last-seen")) } th { (ctx.t("col-scan")) }
                } }
                tbody {
                    @for r in &table.rows {
                        tr class=(crate::pages::view::state_class(&r.state)) {
                            td { a href={ "/hosts/" (r.addr) } { (r.addr) } }
                            td.port { (r.port) "/" (r.proto) }
                            td { (state_badge(ctx, &r.state)) }
                            td { (r.service.clone().unwrap_or_default()) }
                            td { @for p in [&r.product, &r.version].into_iter().flatten() { (p) " " } }
                            td { @for (id, sev) in &r.findings { (severity_badge(ctx, sev)) " " (id) br; } }
                            td { (time(r.first_seen_ms)) }
                            td { (time(r.last_seen_ms)) }
                            td { a href={ "/scans/" (r.last_scan_no) } { "#" (r.last_scan_no) } }
                        }
                    }
                }
            }
        }
        (pager(ctx, page, last, |n| href(q, n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_strictly() {
        let (f, _, page) = read_query(Some("port=22,8000-8100&state=open&service=ssh&page=2")).unwrap();
        assert_eq!(f.ports, [(22, 22), (8000, 8100)]);
        assert_eq!((f.state.as_deref(), f.service.as_deref(), page), (Some("open"), Some("ssh"), 2));
        assert!(matches!(read_query(Some("port=22-x")), Err(QueryError::Value(..))));
        assert!(matches!(read_query(Some("state=stealthy")), Err(QueryError::Value(..))));
        assert!(matches!(read_query(Some("page=0")), Err(QueryError::Number(..))));
        assert!(matches!(read_query(Some("colour=red")), Err(QueryError::Unknown(_))));
        assert!(read_query(Some("port=&service=")).is_ok(), "empty fields are no filter");
    }

    #[test]
    fn page_links_keep_the_filters() {
        let (_, q, _) = read_query(Some("port=22%2C80&state=open%7Cfiltered&page=3")).unwrap();
        assert_eq!(href(&q, 4), "/ports?port=22%2C80&state=open%7Cfiltered&page=4");
    }
}
