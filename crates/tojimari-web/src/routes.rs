//! The router: every page's address, and the layer that gives each request its reader's context.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tojimari_i18n::Lang;

use crate::app::AppState;
use crate::page::PageCtx;
use crate::pages;

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

async fn context(State(_app): State<AppState>, mut req: Request, next: Next) -> Response {
    let ctx = PageCtx {
        lang: request_lang(req.headers()),
        csrf: String::new(),
        path: req.uri().path().to_string(),
        logged_in: false,
    };
    req.extensions_mut().insert(ctx);
    let started = std::time::Instant::now();
    let mut response = next.run(req).await;
    // The server's time for this request, for the render-time benchmark and the browser's developer tools.
    let timing = format!("app;dur={:.1}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(v) = axum::http::HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PageCtx, StatusCode> {
        parts.extensions.get::<PageCtx>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}
