//! placeholder

pub mod allow;
pub mod auth;
