//! This machine (`/machine`): the latest `local --store` snapshot (listening sockets with their processes
//! and findings) and the `watch --store` alerts, newest first. `/machine/alerts?after=AT.ID` gives the
//! alerts recorded after a cursor as table rows (oldest first, no layout); the page's script asks for it
//! every 2 s and puts new rows on top. Every field comes from JSON the commands wrote and is shown as text.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::Value;
use tojimari_store::EventKind;
use tojimari_store::browse::EventEntry;

use crate::app::AppState;
use crate::page::{PageCtx, layout};
use crate::pages::query::{self, QueryError};
use crate::pages::view::{bad_request, fragment, severity_badge, time, unavailable};

/// Alerts shown on the page at most.
const ALERTS: i64 = 100;

/// `AT_MS.ID` as the page writes cursors.
pub fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (at, id) = text.split_once('.')?;
    let num = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'-').then(|| s.parse::<i64>().ok()).flatten();
    Some((num(at)?, num(id)?))
}

fn cursor(e: &EventEntry) -> String {
    let (at, id) = e.cursor();
    format!("{at}.{id}")
}

/// `GET /machine`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    if let Err(e) = query::parse(raw.as_deref(), &[]) {
        return bad_request(&ctx, &e.message(&ctx));
    }
    let read = app
        .storage
        .with(|s| Ok((s.latest_batch(EventKind::LocalSocket)?, s.latest_events(EventKind::WatchAlert, ALERTS)?)))
        .await;
    match read {
        Ok((sockets, alerts)) => {
            layout(&ctx, &ctx.t("nav-this-machine"), body(&ctx, &sockets, &alerts)).into_response()
        }
        Err(e) => unavailable(&ctx, &e),
    }
}

/// `GET /machine/alerts?after=AT.ID`: the newer alerts' rows, oldest first (each row carries its cursor).
pub async fn alerts(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let after = query::parse(raw.as_deref(), &["after"]).and_then(|q| match q.get("after") {
        None => Ok(None),
        Some(t) => parse_cursor(t).map(Some).ok_or_else(|| QueryError::Value("bad-cursor", t.clone())),
    });
    let after = match after {
        Ok(a) => a,
        Err(e) => return fragment(StatusCode::BAD_REQUEST, html! { p.error { (e.message(&ctx)) } }),
    };
    let read = app
        .storage
        .with(move |s| match after {
            Some(c) => s.events_after(EventKind::WatchAlert, c, ALERTS),
            None => s.latest_events(EventKind::WatchAlert, ALERTS).map(|mut v| {
                v.reverse();
                v
            }),
        })
        .await;
    match read {
        Ok(rows) => fragment(StatusCode::OK, html! { @for e in &rows { (alert_row(&ctx, e)) } }),
        Err(e) => fragment(
            StatusCode::SERVICE_UNAVAILABLE,
            html! { p.error { (ctx.t("store-unavailable-title")) ": " (e.0) } },
        ),
    }
}

/// A JSON field as text ("" when absent).
fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// One alert as a table row.
pub fn alert_row(ctx: &PageCtx, e: &EventEntry) -> Markup {
    let v: Value = serde_json::from_str(&e.row.body).unwrap_or(Value::Null);
    let ended = text(&v, "type") == "scan-end";
    html! {
        tr data-cursor=(cursor(e)) class=[ended.then_some("ended")] {
            td { (time(e.row.at_ms)) }
            td { (if ended { ctx.t("alert-ended") } else { ctx.t("alert-scan") }) }
            td { (e.row.subject) }
            td { (text(&v, "dst")) @if v.get("dst_count").and_then(Value::as_u64).unwrap_or(0) > 1 { " +" (v["dst_count"].as_u64().unwrap_or(0) - 1) } }
            td { (text(&v, "scan_type")) }
            td.num { (text(&v, "port_count")) }
            td.num { (text(&v, "probes")) }
            td { (text(&v, "tool")) }
            td.num { (text(&v, "confidence")) }
            td { (e.row.writer_host) }
        }
    }
}

fn socket(ctx: &PageCtx, e: &EventEntry) -> Markup {
    let v: Value = serde_json::from_str(&e.row.body).unwrap_or(Value::Null);
    let empty = Vec::new();
    let processes = v.get("processes").and_then(Value::as_array).unwrap_or(&empty);
    let findings = v.get("findings").and_then(Value::as_array).unwrap_or(&empty);
    html! {
        tr {
            td.port { (text(&v, "addr")) ":" (text(&v, "port")) "/" (text(&v, "proto")) }
            td { span class={ "reach reach-" (text(&v, "reach")) } { (text(&v, "reach")) } }
            td { (text(&v, "service")) }
            td {
                @for p in processes {
                    div.process { (text(p, "name")) " (" (ctx.t("pid")) " " (text(p, "pid")) ", " (text(p, "user")) ")"
                        @let cmd = text(p, "cmdline");
                        @if !cmd.is_empty() { br; code { (cmd) } } }
                }
            }
            td {
                @for f in findings {
                    div.finding { (severity_badge(ctx, &text(f, "severity"))) " " strong { (text(f, "id")) }
                        p.evidence { (text(f, "evidence")) } p.advice { (ctx.t("advice")) ": " (text(f, "advice")) } }
                }
            }
        }
    }
}

/// The page's body.
pub fn body(ctx: &PageCtx, sockets: &[EventEntry], alerts: &[EventEntry]) -> Markup {
    html! {
        h2 { (ctx.t("machine-sockets")) }
        @if let Some(first) = sockets.first() {
            p.when { (ctx.t("snapshot-taken")) ": " (time(first.row.at_ms)) " · " (first.row.writer_host) }
            table.sockets {
                thead { tr { th { (ctx.t("col-socket")) } th { (ctx.t("col-reach")) } th { (ctx.t("col-service")) }
                    th { (ctx.t("col-processes")) } th { (ctx.t("col-findings")) } } }
                tbody { @for s in sockets { (socket(ctx, s)) } }
            }
        } @else {
            p.empty { (ctx.t("no-local-snapshot")) }
        }
        h2 { (ctx.t("machine-alerts")) }
        p.live-note { (ctx.t("alerts-live-note")) }
        table.alerts {
            thead { tr {
                th { (ctx.t("col-time")) } th { (ctx.t("col-kind")) } th { (ctx.t("col-from")) } th { (ctx.t("col-to")) }
                th { (ctx.t("col-scan-type")) } th.num { (ctx.t("col-ports")) } th.num { (ctx.t("col-probes")) }
                th { (ctx.t("col-tool")) } th.num { (ctx.t("col-confidence")) } th { (ctx.t("col-recorded-by")) }
            } }
            tbody id="alerts" data-after=[alerts.first().map(cursor)] data-poll="/machine/alerts" {
                @for a in alerts { (alert_row(ctx, a)) }
            }
        }
        @if alerts.is_empty() { p.empty id="no-alerts" { (ctx.t("no-alerts")) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_two_numbers() {
        assert_eq!(parse_cursor("1700000000000.42"), Some((1_700_000_000_000, 42)));
        for bad in ["", "1", "1.", ".2", "a.b", "1.2.3", "1 .2"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
