//! The server's shared state: its settings, the store, the checks it runs, who is logged in.

use std::sync::Arc;

use crate::auth::{Credential, Gate, LimitPolicy, SessionPolicy, Sessions};
use crate::config::Config;
use crate::error::WebError;
use crate::runner::Runner;
use crate::storage::Storage;

/// Everything a request handler reaches.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub storage: Arc<Storage>,
    pub runner: Runner,
    /// The password and the logged-in sessions, when the server asks for a password.
    pub gate: Option<Gate>,
    /// Sessions of visitors who need no password (loopback) or have not logged in yet: they carry the CSRF
    /// token of their forms.
    pub visitors: Sessions,
    /// A background computation of the dashboard's comparisons is running ([`crate::pages::dashboard::warm`]).
    pub warming: std::sync::atomic::AtomicBool,
}

/// The handlers' state.
pub type AppState = Arc<App>;

impl App {
    /// The state for `config`; the password (if any) is hashed here and its text dropped.
    pub fn new(mut config: Config) -> Result<AppState, WebError> {
        let gate = match config.password.take() {
            Some(password) => {
                let credential = Credential::hash(&password).map_err(|e| WebError::Config(e.to_string()))?;
                Some(Gate::new(credential, SessionPolicy::default(), LimitPolicy::default()))
            }
            None => None,
        };
        let storage = Arc::new(Storage::new(config.store.clone()));
        let runner =
            Runner::new(config.exe.clone(), config.store.clone(), config.allow_text.clone(), config.max_running);
        Ok(Arc::new(App {
            config,
            storage,
            runner,
            gate,
            visitors: Sessions::new(SessionPolicy::default()),
            warming: Default::default(),
        }))
    }
}
