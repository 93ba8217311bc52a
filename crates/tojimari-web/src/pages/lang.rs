//! `POST /lang`: the language selector. Sets the `lang` cookie and goes back to the page it came from.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tojimari_i18n::Lang;

use crate::page::{PageCtx, error_page};

#[derive(Debug, Deserialize)]
pub struct LangForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

pub async fn post(ctx: PageCtx, form: Result<Form<LangForm>, FormRejection>) -> Response {
    let form = match crate::routes::accept_form(&ctx, form, |f| f.csrf.as_str()) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let Some(lang) = Lang::parse(&form.lang) else {
        return error_page(&ctx, StatusCode::BAD_REQUEST, "cannot-do-that", &ctx.t("unknown-language"), Some("en, ja"));
    };
    let mut response = Redirect::to(local_path(&form.back)).into_response();
    let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Strict", lang.code());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `back` if it is a path on this site, else the dashboard (never a redirect to another site).
pub fn local_path(back: &str) -> &str {
    let ok = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && back.chars().all(|c| c.is_ascii_graphic());
    if ok { back } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(local_path("/scans/3"), "/scans/3");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil", "", "/a b", "javascript:alert(1)"] {
            assert_eq!(local_path(bad), "/", "{bad}");
        }
    }
}
