//! `/login` and `/logout`: only when the server asks for a password (a listener beyond loopback). The
//! password is checked with argon2 on a blocking thread; failures are counted per client address and lock it
//! out for a while (see [`crate::auth`]).

use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::LoginError;
use crate::auth::cookie::{Transport, clear_session_cookie, session_cookie, session_id};
use crate::page::{PageCtx, error_page, layout, notice};
use crate::runner::now_ms;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// `GET /login`.
pub async fn form(State(app): State<AppState>, ctx: PageCtx) -> Response {
    if app.gate.is_none() || ctx.logged_in {
        return Redirect::to("/").into_response();
    }
    layout(&ctx, &ctx.t("login-title"), body(&ctx, None)).into_response()
}

fn body(ctx: &PageCtx, problem: Option<&str>) -> Markup {
    html! {
        @if let Some(problem) = problem { (notice("error", problem, None)) }
        form.login method="post" action="/login" {
            (ctx.csrf_field())
            label { (ctx.t("login-password")) " " input type="password" name="password" required autofocus; }
            button type="submit" { (ctx.t("login-submit")) }
        }
    }
}

/// `POST /login`.
pub async fn post(
    State(app): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = match crate::routes::accept_form(&ctx, form, |f| f.csrf.as_str()) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    if app.gate.is_none() {
        return Redirect::to("/").into_response();
    }
    let now = u64::try_from(now_ms()).unwrap_or(0);
    let checking = app.clone();
    let result = tokio::task::spawn_blocking(move || {
        checking.gate.as_ref().map(|gate| gate.login(client.ip(), &form.password, now))
    })
    .await;
    let refused = |status: StatusCode, message: String| {
        (status, layout(&ctx, &ctx.t("login-title"), body(&ctx, Some(&message)))).into_response()
    };
    match result {
        Ok(Some(Ok(session))) => {
            let mut response = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&session.id, Transport::Http)) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Ok(Some(Err(LoginError::Wrong { locked: None }))) => refused(StatusCode::UNAUTHORIZED, ctx.t("login-wrong")),
        Ok(Some(Err(LoginError::Wrong { locked: Some(_) } | LoginError::Locked(_)))) => {
            refused(StatusCode::TOO_MANY_REQUESTS, ctx.t("login-locked"))
        }
        Ok(Some(Err(LoginError::Internal(e)))) => refused(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Ok(None) => Redirect::to("/").into_response(),
        Err(e) => refused(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(app): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let token = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !crate::routes::csrf_ok(&ctx, &token) {
        return error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "cannot-do-that",
            &ctx.t("csrf-refused"),
            Some(&ctx.t("csrf-refused-hint")),
        );
    }
    let cookies: Vec<&str> = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    if let (Some(gate), Some(id)) = (&app.gate, session_id(&cookies.join("; "))) {
        gate.logout(id);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie(Transport::Http)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
