//! One module per page. Each has handlers (axum) that read the store through [`crate::storage::Storage`]
//! and a pure `body` function rendering what was read with the reader's [`crate::page::PageCtx`].

pub mod check;
pub mod compare;
pub mod dashboard;
pub mod export;
pub mod host;
pub mod lang;
pub mod login;
pub mod machine;
pub mod ports;
pub mod query;
pub mod scan;
pub mod scans;
pub mod view;
