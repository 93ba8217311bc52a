//! One module per page. Each has handlers (axum) that read the store through [`crate::storage::Storage`]
//! and a pure `body` function rendering what was read with the reader's [`crate::page::PageCtx`].

pub mod check;
pub mod export;
pub mod home;
pub mod lang;
pub mod login;
