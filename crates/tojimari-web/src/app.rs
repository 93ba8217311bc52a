//! The server's shared state: its settings, the store, the checks it runs.

use std::sync::Arc;

use crate::config::Config;
use crate::runner::Runner;
use crate::storage::Storage;

/// Everything a request handler reaches.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub storage: Arc<Storage>,
    pub runner: Runner,
}

/// The handlers' state.
pub type AppState = Arc<App>;

impl App {
    pub fn new(config: Config) -> AppState {
        let storage = Arc::new(Storage::new(config.store.clone()));
        let runner =
            Runner::new(config.exe.clone(), config.store.clone(), config.allow_text.clone(), config.max_running);
        Arc::new(App { config, storage, runner })
    }
}
