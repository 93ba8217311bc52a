//! One host (`/hosts/{addr}`): the scans that recorded it, and per port a timeline: first seen, each change
//! (state or service) with the scan and its time, last seen. Scans that did not look at a port, or found
//! the host down, are said so: not scanned is not closed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::{HostHistory, PortSeen, PortTimeline, ScanInfo};

use crate::app::AppState;
use crate::page::{PageCtx, layout};
use crate::pages::view::{bad_request, not_found, state_badge, time, unavailable};

/// `GET /hosts/{addr}`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, Path(addr): Path<String>) -> Response {
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return bad_request(
            &ctx,
            &format!("{}: {}", ctx.t("not-an-address"), addr.chars().take(60).collect::<String>()),
        );
    };
    let addr = ip.to_string();
    let key = addr.clone();
    let read = app
        .storage
        .with(move |s| {
            let scans = s.scan_infos()?;
            s.host_history(&key, &scans)
        })
        .await;
    match read {
        Ok(Some(h)) => layout(&ctx, &format!("{} {addr}", ctx.t("host")), body(&ctx, &h)).into_response(),
        Ok(None) => not_found(&ctx, &format!("{}: {addr}", ctx.t("no-such-host"))),
        Err(e) => unavailable(&ctx, &e),
    }
}

/// One step of a port's timeline: what a scan saw, when it differs from the scan before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub scan_no: i64,
    pub at_ms: i64,
    /// The state (`open`, a fold's state), or `None` for "not scanned" / "host down".
    pub state: Option<String>,
    /// Service, product and version, space-separated.
    pub service: String,
    /// `not-scanned` or `host-down` when the scan did not see the port.
    pub unseen: Option<&'static str>,
}

/// The changes along a port's timeline: the first scan's view, then every scan whose view differs from the
/// one before (scans that did not look are kept, as such, but are no change of state).
pub fn steps(t: &PortTimeline) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for (scan, seen) in &t.seen {
        let step = step(scan, seen);
        let same =
            out.last().is_some_and(|l| (&l.state, &l.service, l.unseen) == (&step.state, &step.service, step.unseen));
        if !same {
            out.push(step);
        }
    }
    out
}

fn step(scan: &ScanInfo, seen: &PortSeen) -> Step {
    let (state, service, unseen) = match seen {
        PortSeen::Observed(o) => {
            let parts: Vec<&str> =
                [&o.service, &o.product, &o.version].into_iter().flatten().map(String::as_str).collect();
            (Some(o.state.clone()), parts.join(" "), None)
        }
        PortSeen::Folded(s) => (Some(s.clone()), String::new(), None),
        PortSeen::HostDown => (None, String::new(), Some("host-down")),
        PortSeen::NotScanned => (None, String::new(), Some("not-scanned")),
    };
    Step { scan_no: scan.no, at_ms: scan.started_ms, state, service, unseen }
}

fn port(ctx: &PageCtx, t: &PortTimeline) -> Markup {
    let steps = steps(t);
    html! {
        section.timeline {
            h3 {
                (t.port) "/" (t.proto.as_str()) " "
                @if let Some(c) = &t.current { (state_badge(ctx, &c.state)) @if let Some(s) = &c.service { " " (s) } }
            }
            @if let Some(c) = &t.current {
                p.seen {
                    (ctx.t("first-seen")) ": " (time(c.first_seen_ms)) " · "
                    (ctx.t("last-changed")) ": " (time(c.last_changed_ms)) " · "
                    (ctx.t("last-seen")) ": " (time(c.last_seen_ms))
                }
            }
            ol.steps {
                @for s in &steps {
                    li {
                        a href={ "/scans/" (s.scan_no) } { "#" (s.scan_no) } " " span.when { (time(s.at_ms)) } " "
                        @match (&s.state, s.unseen) {
                            (Some(state), _) => { (state_badge(ctx, state)) " " (s.service) }
                            (None, Some(why)) => { span.unknown { (ctx.t(why)) } }
                            (None, None) => {}
                        }
                    }
                }
            }
        }
    }
}

/// The page's body.
pub fn body(ctx: &PageCtx, h: &HostHistory) -> Markup {
    html! {
        p.scans {
            (ctx.t("recorded-by")) ": "
            @for (i, (scan, state)) in h.scans.iter().enumerate() {
                @if i > 0 { ", " }
                a href={ "/scans/" (scan.no) } { "#" (scan.no) } " (" (ctx.t(crate::pages::view::host_state_id(state))) ")"
            }
        }
        p.meaning { (ctx.t("not-scanned-meaning")) }
        @if h.ports.is_empty() { p.empty { (ctx.t("no-ports-recorded")) } }
        @for t in &h.ports { (port(ctx, t)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_core::Protocol;
    use tojimari_store::{PortObs, ScanStatus};

    fn scan(no: i64) -> ScanInfo {
        ScanInfo {
            id: no,
            no,
            profile: "scan".into(),
            targets: "t".into(),
            ports: "p".into(),
            started_ms: no * 1000,
            ended_ms: None,
            status: ScanStatus::Complete,
        }
    }

    #[test]
    fn only_changes_are_steps_and_unseen_is_not_closed() {
        let open =
            PortSeen::Observed(PortObs { state: "open".into(), service: Some("ssh".into()), ..PortObs::default() });
        let t = PortTimeline {
            proto: Protocol::Tcp,
            port: 22,
            current: None,
            seen: vec![
                (scan(1), open.clone()),
                (scan(2), open.clone()),
                (scan(3), PortSeen::NotScanned),
                (scan(4), open.clone()),
                (scan(5), PortSeen::Folded("closed".into())),
            ],
        };
        let s = steps(&t);
        assert_eq!(s.iter().map(|s| s.scan_no).collect::<Vec<_>>(), [1, 3, 4, 5]);
        assert_eq!(s[1].unseen, Some("not-scanned"));
        assert_eq!(s[1].state, None);
        assert_eq!(s[3].state.as_deref(), Some("closed"));
    }
}
