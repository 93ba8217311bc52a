//! The router: every page's address, and the layer that gives each request its reader's context.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tojimari_i18n::Lang;

use crate::allow::DEFAULT_MAX_ADDRESSES;
use crate::app::AppState;
use crate::auth::constant_time_eq;
use crate::auth::cookie::{cookie_value, same_origin, session_id};
use crate::page::{PageCtx, error_page};
use crate::pages;
use crate::runner::now_ms;

/// The whole site.
pub fn router(app: AppState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard::get))
        .route("/scans", get(pages::scans::get))
        .route("/scans/{no}", get(pages::scan::get))
        .route("/scans/{no}/hosts", get(pages::scan::hosts_fragment))
        .route("/compare", get(pages::compare::get))
        .route("/hosts/{addr}", get(pages::host::get))
        .route("/ports", get(pages::ports::get))
        .route("/machine", get(pages::machine::get))
        .route("/machine/alerts", get(pages::machine::alerts))
        .route("/check", get(pages::check::form).post(pages::check::start))
        .route("/checks/{id}", get(pages::check::page))
        .route("/checks/{id}/events", get(pages::check::events))
        .route("/scans/{no}/{file}", get(pages::export::get))
        .route("/lang", axum::routing::post(pages::lang::post))
        .route("/login", get(pages::login::form).post(pages::login::post))
        .route("/logout", axum::routing::post(pages::login::logout))
        .route("/assets/{name}", get(crate::assets::get))
        .layer(middleware::from_fn_with_state(app.clone(), context))
        .with_state(app)
}

/// The language a request asks for: the `lang` cookie (set by the selector), else Accept-Language, else
/// the server's LANG.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    let cookie = cookie(headers, "lang").and_then(|v| Lang::parse(&v));
    let accept =
        || headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language);
    cookie.or_else(accept).unwrap_or_else(Lang::from_env)
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The cookie of a visitor's session (no password needed, or not logged in yet).
const VISITOR_COOKIE: &str = "tojimari_visitor";

/// Gives each request its reader's context: their session (a visitor's, or a logged-in one when the server
/// asks for a password: without one, only the login page and the assets are served), the CSRF token of
/// their forms, their language. Refuses a POST from another site (`Origin`), and times the response.
async fn context(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = u64::try_from(now_ms()).unwrap_or(0);
    let headers = req.headers();
    let cookies: Vec<&str> = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    let cookies = cookies.join("; ");
    let path = req.uri().path().to_string();
    let lang = request_lang(headers);
    let public = path == "/login" || path.starts_with("/assets/");
    let posting = req.method() != Method::GET && req.method() != Method::HEAD;
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let foreign = posting && !same_origin(origin, host);
    let mut ctx = PageCtx { lang, csrf: String::new(), path, logged_in: false };
    if foreign {
        return error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "cannot-do-that",
            &ctx.t("csrf-refused"),
            Some(&ctx.t("csrf-refused-hint")),
        );
    }
    let mut set_cookie = None;
    let logged = app.gate.as_ref().and_then(|gate| gate.sessions().touch(session_id(&cookies)?, now));
    match (&app.gate, logged) {
        (Some(_), Some(csrf)) => {
            ctx.csrf = csrf;
            ctx.logged_in = true;
        }
        (Some(_), None) if !public => {
            return if posting {
                error_page(
                    &ctx,
                    StatusCode::UNAUTHORIZED,
                    "cannot-do-that",
                    &ctx.t("login-needed"),
                    Some(&ctx.t("login-needed-hint")),
                )
            } else {
                Redirect::to("/login").into_response()
            };
        }
        _ => {
            let known = cookie_value(&cookies, VISITOR_COOKIE).and_then(|id| app.visitors.touch(id, now));
            ctx.csrf = match known {
                Some(csrf) => csrf,
                None => match app.visitors.create(now) {
                    Ok(session) => {
                        set_cookie =
                            Some(format!("{VISITOR_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", session.id));
                        session.csrf
                    }
                    Err(e) => {
                        return error_page(
                            &ctx,
                            StatusCode::SERVICE_UNAVAILABLE,
                            "cannot-do-that",
                            &e.to_string(),
                            None,
                        );
                    }
                },
            };
        }
    }
    req.extensions_mut().insert(ctx);
    let started = std::time::Instant::now();
    let mut response = next.run(req).await;
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // The server's time for this request, for the render-time benchmark and the browser's developer tools.
    let timing = format!("app;dur={:.1}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(v) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", v);
    }
    // Pages are not to be framed by other sites, nor their types guessed.
    response.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PageCtx, StatusCode> {
        parts.extensions.get::<PageCtx>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A posted form that was read and carries the reader's CSRF token (`csrf` picks it out), or the page that
/// says what was wrong (400 for a form that cannot be read, 403 for a missing or foreign token).
pub fn accept_form<T>(
    ctx: &PageCtx,
    form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<T, Response> {
    let refuse = |status, message: &str, hint: &str| {
        error_page(ctx, status, "cannot-do-that", &ctx.t(message), Some(&ctx.t(hint)))
    };
    let Ok(axum::Form(form)) = form else {
        return Err(refuse(StatusCode::BAD_REQUEST, "form-unreadable", "form-unreadable-hint"));
    };
    if !csrf_ok(ctx, csrf(&form)) {
        return Err(refuse(StatusCode::FORBIDDEN, "csrf-refused", "csrf-refused-hint"));
    }
    Ok(form)
}

/// Whether a form's CSRF token is the reader's.
pub fn csrf_ok(ctx: &PageCtx, token: &str) -> bool {
    !ctx.csrf.is_empty() && constant_time_eq(ctx.csrf.as_bytes(), token.as_bytes())
}

/// The page's target field checked against the allow-list, host names resolved (on a blocking thread) and
/// replaced by the address that was checked, so the check never looks a name up again: the scanner's
/// arguments, or why not.
pub async fn allowed(app: &AppState, field: &str) -> Result<Vec<String>, String> {
    let app = app.clone();
    let field = field.to_string();
    let checked = tokio::task::spawn_blocking(move || {
        app.config.allow.admit(&field, DEFAULT_MAX_ADDRESSES, |name: &str| {
            use std::net::ToSocketAddrs;
            let mut addrs = (name, 0u16).to_socket_addrs().map_err(|e| e.to_string())?;
            addrs.next().map(|a| a.ip()).ok_or_else(|| "no address".to_string())
        })
    })
    .await
    .map_err(|e| e.to_string())?;
    checked.map(|c| c.args()).map_err(|e| e.to_string())
}
