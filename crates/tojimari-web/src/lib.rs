//! tojimari-web: `tojimari serve`, one page on the user's own machine over the result store (issue 14).
//!
//! The server renders HTML with [maud] (which escapes everything it is given: a banner with markup stays
//! text), serves its CSS and JavaScript from the binary ([`assets`]), and runs checks as child processes of
//! the same tojimari binary ([`runner`]), which record into the same store as the command line does: a check
//! from the page is the same check, and it goes on (and is recorded) when the browser goes away.
//!
//! - [`Config`]: where to listen, the store, the password, the allow-list.
//! - [`serve`]: binds and runs until the process is stopped.
//! - [`page`]: the reader's context (language, CSRF token) and the common layout.
//! - [`pages`]: one module per page.

pub mod allow;
pub mod app;
pub mod assets;
pub mod auth;
pub mod config;
pub mod error;
pub mod page;
pub mod pages;
pub mod profile;
pub mod routes;
pub mod runner;
pub mod storage;

pub use config::Config;
pub use error::WebError;

use std::net::SocketAddr;

/// Binds `config.listen` and serves until the process ends. `ready` is told the bound address (the port may
/// have been 0) before the first request is taken.
pub fn serve(config: Config, ready: impl FnOnce(SocketAddr)) -> Result<(), WebError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| WebError::Start(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| WebError::Bind { addr: config.listen, message: e.to_string() })?;
        let bound = listener.local_addr().map_err(|e| WebError::Start(e.to_string()))?;
        let state = app::App::new(config)?;
        // The dashboard's comparisons of the store's latest scans, computed before the first reader asks.
        tokio::spawn(pages::dashboard::warm(state.clone()));
        let router = routes::router(state);
        ready(bound);
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .map_err(|e| WebError::Start(e.to_string()))
    })
}
