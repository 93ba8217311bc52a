//! New check (`/check`): a target and a profile, started as a child process by [`crate::runner`]; and the
//! check's own page (`/checks/{id}`) with live progress (done/total, rate, ETA, open so far) streamed as
//! server-sent events, and the hosts appearing as the child records them.

use std::convert::Infallible;
use std::time::Duration;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tojimari_core::progress::{Progress, clock};

use crate::app::AppState;
use crate::page::{PageCtx, error_page, layout, notice};
use crate::profile::{CHECKS, Profile, split_targets};
use crate::runner::{JobView, Status, now_ms};

/// The New check form as posted.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub options: String,
}

/// The most target words one form may hold.
const MAX_TARGETS: usize = 64;

/// `GET /check`.
pub async fn form(State(app): State<AppState>, ctx: PageCtx) -> Markup {
    let jobs = app.runner.list();
    layout(&ctx, &ctx.t("nav-new-check"), form_body(&ctx, &app.config.allow_text, None, &jobs))
}

/// `POST /check`: starts the check and sends the browser to its page.
pub async fn start(
    State(app): State<AppState>,
    ctx: PageCtx,
    form: Result<Form<CheckForm>, FormRejection>,
) -> Response {
    let form = match crate::routes::accept_form(&ctx, form, |f| f.csrf.as_str()) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let refuse = |message: String| {
        let body = form_body(&ctx, &app.config.allow_text, Some(&message), &app.runner.list());
        (StatusCode::BAD_REQUEST, layout(&ctx, &ctx.t("nav-new-check"), body)).into_response()
    };
    let profile = match Profile::from_form(&form.profile, &form.options) {
        Ok(p) => p,
        Err(e) => return refuse(e.to_string()),
    };
    let words = split_targets(&form.target);
    if words.is_empty() {
        return refuse(ctx.t("no-target"));
    }
    if words.len() > MAX_TARGETS {
        return refuse(format!("{} ({} > {MAX_TARGETS})", ctx.t("too-many-targets"), words.len()));
    }
    let targets = match crate::routes::allowed(&app, &words.join(" ")).await {
        Ok(targets) => targets,
        Err(refusal) => return refuse(refusal),
    };
    match app.runner.start(&profile, targets, now_ms()) {
        Ok(id) => Redirect::to(&format!("/checks/{id}")).into_response(),
        Err(e) => refuse(e.to_string()),
    }
}

fn form_body(ctx: &PageCtx, allow: &str, problem: Option<&str>, jobs: &[JobView]) -> Markup {
    html! {
        @if let Some(problem) = problem { (notice("error", problem, None)) }
        form.check method="post" action="/check" {
            (ctx.csrf_field())
            label { (ctx.t("check-target")) " "
                input type="text" name="target" required placeholder="198.18.0.2" autofocus;
            }
            p.hint { (ctx.t("check-allowed")) " " code { (allow) } }
            fieldset {
                legend { (ctx.t("check-profile")) }
                @for (i, name) in CHECKS.iter().chain(["full", "custom"].iter()).enumerate() {
                    label.profile {
                        input type="radio" name="profile" value=(name) checked[i == 0];
                        strong { (name) } " " span.hint { (ctx.t(&format!("profile-{name}"))) }
                    }
                }
            }
            label { (ctx.t("check-options")) " "
                input type="text" name="options" placeholder="-sS -p 1-1024 -T4";
            }
            button type="submit" { (ctx.t("check-start")) }
        }
        @if !jobs.is_empty() {
            h2 { (ctx.t("checks-recent")) }
            table.jobs {
                thead { tr { th { "#" } th { (ctx.t("check-profile")) } th { (ctx.t("check-target")) } th { (ctx.t("status")) } } }
                tbody {
                    @for job in jobs {
                        tr {
                            td { a href={ "/checks/" (job.id) } { (job.id) } }
                            td { (job.profile) }
                            td { (job.targets.join(" ")) }
                            td { (status_text(ctx, &job.status)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /checks/{id}`.
pub async fn page(State(app): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    let Some(job) = id.parse::<u64>().ok().and_then(|id| app.runner.view(id)) else {
        return error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "cannot-do-that",
            &ctx.t("no-such-check"),
            Some(&ctx.t("no-such-check-hint")),
        );
    };
    let scans = scans_of(&app, &job).await;
    let title = format!("{} {} · {}", ctx.t("check"), job.profile, job.targets.join(" "));
    layout(&ctx, &title, job_body(&ctx, &job, &scans)).into_response()
}

/// The store's scan numbers the check's child process wrote.
async fn scans_of(app: &AppState, job: &JobView) -> Vec<i64> {
    let Some(pid) = job.pid else { return Vec::new() };
    let since = job.started_ms - 5_000;
    let rows = app.storage.with(move |store| store.scans_by_writer(pid, since)).await.unwrap_or_default();
    let mut nos: Vec<i64> = rows.iter().map(|r| r.no).collect();
    nos.sort_unstable();
    nos
}

fn job_body(ctx: &PageCtx, job: &JobView, scans: &[i64]) -> Markup {
    html! {
        section.progress id="progress" data-events={ "/checks/" (job.id) "/events" } data-over=[job.status.is_over().then_some("1")] {
            p.status { span id="status" { (status_text(ctx, &job.status)) } }
            progress id="bar" max="100" value=(job.progress.map_or(0.0, |p| p.percent())) {}
            p id="numbers" { (numbers(ctx, job.progress.as_ref())) }
        }
        @if !job.messages.is_empty() {
            ul.messages { @for m in &job.messages { li { (m) } } }
        }
        section id="results" data-scans=(scans.iter().map(i64::to_string).collect::<Vec<_>>().join(",")) {
            p.scan-links id="scan-links" data-label=(ctx.t("scan")) {
                @for no in scans { a href={ "/scans/" (no) } { (ctx.t("scan")) " #" (no) } }
            }
            div id="hosts" {}
        }
        @if !job.report.is_empty() {
            details open[job.status.is_over()] {
                summary { (ctx.t("check-report")) }
                pre.report { (job.report) }
            }
        }
    }
}

fn numbers(ctx: &PageCtx, p: Option<&Progress>) -> String {
    match p {
        None => ctx.t("progress-waiting"),
        Some(p) => format!(
            "{}/{} ({:.1}%) · {:.0}/s · ETA {} · {} {}",
            p.done,
            p.planned,
            p.percent(),
            p.rate,
            p.eta().map_or_else(|| "--:--".into(), clock),
            p.open,
            ctx.t("open-so-far")
        ),
    }
}

fn status_text(ctx: &PageCtx, status: &Status) -> String {
    match status {
        Status::Queued => ctx.t("status-queued"),
        Status::Running => ctx.t("status-running"),
        Status::Exited(0) => ctx.t("status-done"),
        Status::Exited(code) => format!("{} ({code})", ctx.t("status-failed")),
        Status::Failed(why) => format!("{}: {why}", ctx.t("status-failed")),
    }
}

/// `GET /checks/{id}/events`: one `progress` event per change (at most a few a second) until the check is
/// over, then `done`. Each event's data is JSON the page's script reads.
pub async fn events(State(app): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    let id = id.parse::<u64>().ok();
    let Some((id, mut changes)) = id.and_then(|id| Some((id, app.runner.watch(id)?))) else {
        return (StatusCode::NOT_FOUND, ctx.t("no-such-check")).into_response();
    };
    let stream = async_stream(move |tx| async move {
        while let Some(job) = app.runner.view(id) {
            let scans = scans_of(&app, &job).await;
            let over = job.status.is_over();
            let data = serde_json::json!({
                "status": status_text(&ctx, &job.status),
                "over": over,
                "percent": job.progress.map(|p| p.percent()),
                "numbers": numbers(&ctx, job.progress.as_ref()),
                "scans": scans,
            });
            let event = Event::default().event(if over { "done" } else { "progress" }).data(data.to_string());
            if tx.send(Ok(event)).await.is_err() || over {
                break;
            }
            // At most four updates a second while it runs, one at least every two seconds (new hosts in the
            // store), and the end at once.
            let _ = tokio::time::timeout(Duration::from_secs(2), changes.changed()).await;
            let calm = tokio::time::Instant::now() + Duration::from_millis(250);
            while !app.runner.view(id).is_none_or(|j| j.status.is_over()) {
                match tokio::time::timeout_at(calm, changes.changed()).await {
                    Ok(Ok(())) => continue,
                    _ => break,
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// A stream fed by `f` through a small channel (the server-sent events of one page).
fn async_stream<F, Fut>(f: F) -> impl futures_core::Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(f(tx));
    ReceiverStream(rx)
}

struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}
