//! `GET /scans/{no}/export.xml` and `.jsonl`: the recorded scan's file, as `tojimari export` writes it (the
//! same binary runs it, so the page's file is the command line's, byte for byte), streamed to the browser.

use std::process::Stdio;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::page::{PageCtx, error_page};

/// `GET /scans/{file}` where file is `NO.xml`... routed as `/scans/{no}/export.{ext}`.
pub async fn get(State(app): State<AppState>, ctx: PageCtx, Path((no, file)): Path<(String, String)>) -> Response {
    let (flag, kind) = match file.as_str() {
        "export.xml" => ("-oX", "application/xml"),
        "export.jsonl" => ("-oJ", "application/jsonl"),
        _ => {
            return error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "cannot-do-that",
                &ctx.t("no-such-page"),
                Some(&ctx.t("no-such-page-hint")),
            );
        }
    };
    let Ok(no) = no.parse::<u64>() else {
        return error_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            "cannot-do-that",
            &ctx.t("bad-scan-number"),
            Some(&ctx.t("bad-scan-number-hint")),
        );
    };
    let child = tokio::process::Command::new(&app.config.exe)
        .args(["export", &no.to_string(), flag, "-"])
        .env("TOJIMARI_DB", &app.config.store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let output = match child {
        Ok(child) => child.wait_with_output().await,
        Err(e) => Err(e),
    };
    match output {
        Ok(out) if out.status.success() => {
            let name = format!("attachment; filename=\"tojimari-scan-{no}.{}\"", &file[7..]);
            let mut response = Body::from(out.stdout).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(v) = HeaderValue::from_str(&name) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Ok(out) => {
            let message = String::from_utf8_lossy(&out.stderr);
            let first = message.lines().next().unwrap_or("export failed").trim_start_matches("error: ");
            let status =
                if out.status.code() == Some(2) { StatusCode::NOT_FOUND } else { StatusCode::SERVICE_UNAVAILABLE };
            error_page(&ctx, status, "cannot-do-that", first, Some(&ctx.t("export-failed-hint")))
        }
        Err(e) => error_page(
            &ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable-title",
            &e.to_string(),
            Some(&ctx.t("export-failed-hint")),
        ),
    }
}
