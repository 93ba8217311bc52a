//! The store as pages reach it: opened on first use and again after a failure, each query on a blocking
//! thread (the store runs its own runtime), a failure told as "the store is unavailable" on the page.

use std::sync::{Arc, Mutex};

use tojimari_store::{Store, StoreError};

/// The store, opened when first needed.
#[derive(Debug)]
pub struct Storage {
    location: String,
    open: Mutex<Option<Arc<Store>>>,
}

/// Why a page could not read the store.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

impl Storage {
    pub fn new(location: String) -> Storage {
        Storage { location, open: Mutex::new(None) }
    }

    /// Where the store is, as given.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn store(&self) -> Result<Arc<Store>, Unavailable> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = open.as_ref() {
            return Ok(store.clone());
        }
        // Three connections to a SQLite store: a page is read while a background comparison runs.
        let store = Arc::new(Store::open_with(&self.location, 3).map_err(|e| Unavailable(e.to_string()))?);
        *open = Some(store.clone());
        Ok(store)
    }

    /// Forgets the open store, so the next use opens it again (after a connection failure).
    fn reset(&self) {
        *self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Runs `f` on the store on a blocking thread.
    pub async fn with<T, F>(self: &Arc<Self>, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let me = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let store = me.store()?;
            f(&store).map_err(|e| {
                if matches!(e, StoreError::Open { .. } | StoreError::Query { .. }) {
                    me.reset();
                }
                Unavailable(e.to_string())
            })
        })
        .await;
        joined.unwrap_or_else(|e| Err(Unavailable(format!("the query stopped: {e}"))))
    }
}
