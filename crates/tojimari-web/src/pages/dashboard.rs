//! The dashboard (`/`): per scope (scans that asked the same profile, targets and ports) what changed
//! between its last two complete scans (ports opened and closed, new findings: totals and the first few),
//! the exposure by severity (the findings of each scope's latest complete scan), and a plot of open ports
//! and findings over the last 50 scans. A port the later scan did not look at is "not scanned", not closed.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tojimari_store::browse::{ScanCounts, compare_scans, remembered_comparison};
use tojimari_store::{
    DiffCounts, FindingChange, PortChange, ScanInfo, ScanStatus, Store, StoreError, format_port_ranges,
};

use crate::app::AppState;
use crate::page::{PageCtx, layout, trusted_svg};
use crate::pages::query;
use crate::pages::scans::status_badge;
use crate::pages::view::{bad_request, severity_badge, time, unavailable};

/// Scopes shown at most.
const SCOPES: usize = 6;
/// Changes listed per kind and scope at most (the totals count all).
const LISTED: usize = 10;
/// Scans in the plot.
const PLOTTED: usize = 50;

/// One listed change: host, port text (`80/tcp`), what (service, or finding id and severity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub addr: String,
    pub port: String,
    pub what: String,
    pub severity: Option<String>,
}

/// What changed between a scope's last two complete scans.
#[derive(Clone, Debug)]
pub struct Changes {
    pub a: ScanInfo,
    pub b: ScanInfo,
    pub counts: DiffCounts,
    pub opened: Vec<Change>,
    pub closed: Vec<Change>,
    pub new_findings: Vec<Change>,
}

/// One scope on the dashboard.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Its newest scan (maybe running).
    pub newest: ScanInfo,
    /// Its latest complete scan and that scan's totals.
    pub latest_complete: Option<(ScanInfo, ScanCounts)>,
    pub changes: Option<Changes>,
    /// The scope has two complete scans whose comparison is being computed in the background.
    pub comparing: bool,
}

/// A point of the plot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub no: i64,
    pub open_ports: i64,
    pub findings: i64,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub scopes: Vec<Scope>,
    /// Findings by severity over the scopes' latest complete scans, most severe first.
    pub exposure: Vec<(String, i64)>,
    /// Oldest first.
    pub points: Vec<Point>,
    pub total_scans: usize,
    /// Some totals were not in memory yet: they are being computed in the background (see [`read`]).
    pub pending: bool,
}

/// The scopes of `scans` (newest first): each scope's scans, newest first, scopes by their newest scan.
pub fn scopes(scans: &[ScanInfo]) -> Vec<Vec<&ScanInfo>> {
    let mut out: Vec<Vec<&ScanInfo>> = Vec::new();
    for s in scans {
        match out.iter_mut().find(|g| g[0].same_scope(s)) {
            Some(g) => g.push(s),
            None => out.push(vec![s]),
        }
    }
    out
}

/// The changes between `a` and `b`: computed (`compute`), or only if already in memory.
fn changes(store: &Store, a: &ScanInfo, b: &ScanInfo, compute: bool) -> Result<Option<Changes>, StoreError> {
    let diff = match compute {
        true => compare_scans(store, a, b)?,
        false => match remembered_comparison(store, a, b) {
            Some(diff) => diff,
            None => return Ok(None),
        },
    };
    let (mut opened, mut closed, mut new_findings) = (Vec::new(), Vec::new(), Vec::new());
    for h in &diff.hosts {
        for p in &h.ports {
            let port = format!("{}/{}", format_port_ranges(&p.ports), p.proto.as_str());
            let service =
                |o: &Option<tojimari_store::PortObs>| o.as_ref().and_then(|o| o.service.clone()).unwrap_or_default();
            let list = match p.state {
                Some(PortChange::Opened) => (&mut opened, service(&p.b)),
                Some(PortChange::Closed) => (&mut closed, service(&p.a)),
                _ => continue,
            };
            if list.0.len() < LISTED {
                list.0.push(Change { addr: h.addr.clone(), port, what: list.1, severity: None });
            }
        }
        for f in h.findings.iter().filter(|f| f.change == FindingChange::New) {
            if new_findings.len() < LISTED {
                new_findings.push(Change {
                    addr: h.addr.clone(),
                    port: format!("{}/{}", f.port, f.proto.as_str()),
                    what: f.id.clone(),
                    severity: f.b.as_ref().map(|o| o.severity.clone()),
                });
            }
        }
    }
    Ok(Some(Changes { a: a.clone(), b: b.clone(), counts: diff.counts(), opened, closed, new_findings }))
}

/// Reads the dashboard from the store; the comparisons of scopes only if already in memory unless `compute`
/// (a comparison of two big scans takes a few hundred milliseconds: a page never waits for one, the server
/// computes it in the background, [`warm`]).
pub fn read(store: &Store, compute: bool) -> Result<Dashboard, StoreError> {
    let scans = store.scan_infos()?;
    let mut pending = false;
    // A running scan's totals are counted now (its rows still change); a finished scan's are taken from
    // memory, or counted only when `compute`.
    let mut counts_of = |s: &ScanInfo| -> Result<Option<ScanCounts>, StoreError> {
        if compute || s.status == ScanStatus::Running {
            return store.scan_counts(s).map(Some);
        }
        let remembered = store.remembered_counts(s);
        pending |= remembered.is_none();
        Ok(remembered)
    };
    let mut out = Vec::new();
    let mut exposure: BTreeMap<(u8, String), i64> = BTreeMap::new();
    for group in scopes(&scans).into_iter().take(SCOPES) {
        let mut complete = group.iter().filter(|s| s.status == ScanStatus::Complete);
        let (b, a) = (complete.next(), complete.next());
        let latest_complete = match b {
            Some(b) => counts_of(b)?.map(|counts| {
                for s in &counts.findings {
                    *exposure.entry((severity_rank(&s.severity), s.severity.clone())).or_default() += s.count;
                }
                ((*b).clone(), counts)
            }),
            None => None,
        };
        let changes = match (a, b) {
            (Some(a), Some(b)) => Some(changes(store, a, b, compute)?),
            _ => None,
        };
        let comparing = matches!(changes, Some(None));
        out.push(Scope { newest: group[0].clone(), latest_complete, changes: changes.flatten(), comparing });
    }
    let mut points = Vec::new();
    for s in scans.iter().take(PLOTTED).rev() {
        if let Some(c) = counts_of(s)? {
            points.push(Point { no: s.no, open_ports: c.open_ports, findings: c.findings_total() });
        }
    }
    pending |= out.iter().any(|s| s.comparing);
    Ok(Dashboard {
        scopes: out,
        exposure: exposure.into_iter().map(|((_, s), n)| (s, n)).collect(),
        points,
        total_scans: scans.len(),
        pending,
    })
}

fn severity_rank(s: &str) -> u8 {
    tojimari_core::report::Severity::rank_of(s)
}

/// Reads the dashboard once and drops it: the store keeps the finished scans' totals and comparisons it
/// computed, so the first reader after a start (or after a big scan finished) does not wait for them. For
/// the server to spawn at start and when a check ends: `tokio::spawn(pages::dashboard::warm(app.clone()))`.
pub async fn warm(app: AppState) {
    if app.warming.swap(true, std::sync::atomic::Ordering::AcqRel) {
        return;
    }
    let _ = app.storage.with(|store| read(store, true)).await;
    app.warming.store(false, std::sync::atomic::Ordering::Release);
}

/// `GET /`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    if let Err(e) = query::parse(raw.as_deref(), &[]) {
        return bad_request(&ctx, &e.message(&ctx));
    }
    match app.storage.with(|store| read(store, false)).await {
        Ok(d) => {
            if d.pending {
                tokio::spawn(warm(app.clone()));
            }
            layout(&ctx, &ctx.t("nav-dashboard"), body(&ctx, &d)).into_response()
        }
        Err(e) => unavailable(&ctx, &e),
    }
}

/// The plot of open ports (red) and findings (dark) per scan, oldest left; numbers only.
pub fn plot_svg(points: &[Point]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 160.0;
    const PAD: f64 = 8.0;
    let max = points.iter().map(|p| p.open_ports.max(p.findings)).max().unwrap_or(0).max(1) as f64;
    let x = |i: usize| {
        if points.len() < 2 { W / 2.0 } else { PAD + (W - 2.0 * PAD) * i as f64 / (points.len() - 1) as f64 }
    };
    let y = |v: i64| H - PAD - (H - 2.0 * PAD) * v as f64 / max;
    let line = |f: &dyn Fn(&Point) -> i64| {
        points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(f(p)))).collect::<Vec<_>>().join(" ")
    };
    let dots = |f: &dyn Fn(&Point) -> i64, class: &str| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>#{} {}</title></circle>",
                    x(i),
                    y(f(p)),
                    p.no,
                    f(p)
                )
            })
            .collect::<String>()
    };
    format!(
        "<svg class=\"plot\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-hidden=\"true\">\
         <line class=\"axis\" x1=\"{PAD}\" y1=\"{b:.1}\" x2=\"{r:.1}\" y2=\"{b:.1}\"/>\
         <polyline class=\"open\" fill=\"none\" points=\"{}\"/><polyline class=\"findings\" fill=\"none\" points=\"{}\"/>{}{}\
         <text class=\"max\" x=\"{PAD}\" y=\"{t:.1}\">{}</text></svg>",
        line(&|p| p.open_ports),
        line(&|p| p.findings),
        dots(&|p| p.open_ports, "open"),
        dots(&|p| p.findings, "findings"),
        max as i64,
        b = H - PAD,
        r = W - PAD,
        t = PAD + 10.0,
    )
}

fn change_list(ctx: &PageCtx, title: &str, total: u64, list: &[Change], class: &str) -> Markup {
    html! {
        div class={ "changes " (class) } {
            h4 { (ctx.t(title)) ": " (total) }
            @if !list.is_empty() {
                ul {
                    @for c in list {
                        li {
                            a href={ "/hosts/" (c.addr) } { (c.addr) } " " span.port { (c.port) } " "
                            @if let Some(s) = &c.severity { (severity_badge(ctx, s)) " " }
                            (c.what)
                        }
                    }
                }
                @if total > list.len() as u64 { p.more { (ctx.t("and-more")) ": " (total - list.len() as u64) } }
            }
        }
    }
}

fn scope(ctx: &PageCtx, s: &Scope) -> Markup {
    let n = &s.newest;
    html! {
        section.scope {
            h3 { (n.profile) " · " span.targets { (n.targets) } " · " span.ports { (n.ports) } }
            p {
                (ctx.t("latest-scan")) ": " a href={ "/scans/" (n.no) } { "#" (n.no) } " " (status_badge(ctx, n.status.as_str()))
                " " (time(n.started_ms))
            }
            @match &s.changes {
                Some(c) => {
                    p.pair {
                        (ctx.t("changes-between")) " "
                        a href={ "/scans/" (c.a.no) } { "#" (c.a.no) } " → " a href={ "/scans/" (c.b.no) } { "#" (c.b.no) }
                        " · " a href={ "/compare?a=" (c.a.no) "&b=" (c.b.no) } { (ctx.t("see-comparison")) }
                    }
                    div.change-lists {
                        (change_list(ctx, "change-opened", c.counts.opened, &c.opened, "opened"))
                        (change_list(ctx, "change-closed", c.counts.closed, &c.closed, "closed"))
                        (change_list(ctx, "finding-new", c.counts.findings_new, &c.new_findings, "new-findings"))
                    }
                    @if c.counts.not_scanned > 0 || c.counts.hosts_not_scanned > 0 {
                        p.meaning { (ctx.t("change-not-scanned")) ": " (c.counts.not_scanned) " · " (ctx.t("not-scanned-meaning")) }
                    }
                }
                None if s.comparing => { p.note { (ctx.t("scope-comparing")) } }
                None => { p.note { (ctx.t("scope-one-scan")) } }
            }
        }
    }
}

/// The page's body.
pub fn body(ctx: &PageCtx, d: &Dashboard) -> Markup {
    html! {
        @if d.total_scans == 0 {
            p.empty { (ctx.t("no-scans")) " " a href="/check" { (ctx.t("nav-new-check")) } }
        } @else {
            @if d.pending { p.note id="pending" { (ctx.t("dashboard-pending")) } }
            section.exposure {
                h2 { (ctx.t("exposure")) }
                @if d.exposure.is_empty() {
                    p { (ctx.t("no-findings")) }
                } @else {
                    ul.severities { @for (sev, n) in &d.exposure { li { (severity_badge(ctx, sev)) " " strong { (n) } } } }
                }
            }
            section.trend {
                h2 { (ctx.t("over-time")) }
                p.legend { span.key-open { "━ " (ctx.t("col-open-ports")) } " " span.key-findings { "━ " (ctx.t("col-findings")) }
                    " · " (ctx.t("last-scans")) ": " (d.points.len()) }
                (trusted_svg(plot_svg(&d.points)))
            }
            h2 { (ctx.t("what-changed")) }
            @for s in &d.scopes { (scope(ctx, s)) }
            p { a href="/scans" { (ctx.t("all-scans")) " (" (d.total_scans) ")" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(no: i64, targets: &str) -> ScanInfo {
        ScanInfo {
            id: no,
            no,
            profile: "scan".into(),
            targets: targets.into(),
            ports: "1-100".into(),
            started_ms: no,
            ended_ms: None,
            status: ScanStatus::Complete,
        }
    }

    #[test]
    fn scans_group_by_scope_newest_first() {
        let scans = [scan(5, "X"), scan(4, "Y"), scan(3, "X"), scan(1, "Y")];
        let g = scopes(&scans);
        assert_eq!(
            g.iter().map(|g| g.iter().map(|s| s.no).collect::<Vec<_>>()).collect::<Vec<_>>(),
            [vec![5, 3], vec![4, 1]]
        );
    }

    #[test]
    fn the_plot_is_numbers_only() {
        let svg =
            plot_svg(&[Point { no: 1, open_ports: 10, findings: 2 }, Point { no: 2, open_ports: 20, findings: 0 }]);
        assert!(svg.starts_with("<svg") && svg.contains("polyline") && svg.contains("#2 20"));
        assert!(plot_svg(&[]).contains("<svg"));
    }
}
