//! The dashboard (placeholder until the store's summaries land).

use axum::extract::State;
use maud::{Markup, html};

use crate::app::AppState;
use crate::page::{PageCtx, layout};

pub async fn get(State(_app): State<AppState>, ctx: PageCtx) -> Markup {
    layout(&ctx, &ctx.t("nav-dashboard"), html! { p { "tojimari" } })
}
