//! The reader's context for one request (language, CSRF token, where they are) and the layout every page
//! shares. Pages build their body with maud, which escapes every string it is given: text a scanned
//! service sent (banners, titles, certificate fields) is shown, never run.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use tojimari_i18n::Lang;

/// The navigation: (path, message id).
pub const NAV: &[(&str, &str)] = &[
    ("/", "nav-dashboard"),
    ("/check", "nav-new-check"),
    ("/scans", "nav-scans"),
    ("/compare", "nav-compare"),
    ("/ports", "nav-ports"),
    ("/machine", "nav-this-machine"),
];

/// Who is reading and in which language.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    /// The session's CSRF token, put into every form that changes something.
    pub csrf: String,
    /// The request's path (to mark the current page in the navigation).
    pub path: String,
    /// Whether the reader logged in (a listener beyond loopback); shows the log-out button.
    pub logged_in: bool,
}

impl PageCtx {
    /// The text of message `id` in the reader's language.
    pub fn t(&self, id: &str) -> String {
        tojimari_i18n::text(self.lang, id)
    }

    /// The text of message `id` with its variables, in the reader's language.
    pub fn t_with(&self, id: &str, args: &[(&str, tojimari_i18n::TextArg)]) -> String {
        tojimari_i18n::text_with(self.lang, id, args)
    }

    /// A hidden form field with the CSRF token.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

/// A whole page: head, navigation, language selector, `body`.
pub fn layout(ctx: &PageCtx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · tojimari" }
                link rel="stylesheet" href=(crate::assets::url("style.css"));
                script src=(crate::assets::url("app.js")) defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "tojimari " span.kanji { "戸締り" } }
                    nav {
                        @for (path, id) in NAV {
                            @let here = if *path == "/" { ctx.path == "/" } else { ctx.path.starts_with(path) };
                            a href=(path) class=[here.then_some("here")] { (ctx.t(id)) }
                        }
                    }
                    form.lang method="post" action="/lang" {
                        (ctx.csrf_field())
                        input type="hidden" name="back" value=(ctx.path);
                        label { (ctx.t("language")) " "
                            select name="lang" data-autosubmit="" {
                                @for lang in Lang::ALL {
                                    option value=(lang.code()) selected[lang == ctx.lang] { (lang.name()) }
                                }
                            }
                        }
                        noscript { button type="submit" { "OK" } }
                    }
                    @if ctx.logged_in {
                        form.logout method="post" action="/logout" {
                            (ctx.csrf_field())
                            button type="submit" { (ctx.t("log-out")) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A message on the page in place of its content (bad input, the store unavailable).
pub fn notice(kind: &str, message: &str, hint: Option<&str>) -> Markup {
    html! {
        div class={ "notice " (kind) } role="alert" {
            p { (message) }
            @if let Some(hint) = hint { p.hint { (hint) } }
        }
    }
}

/// Raw markup we wrote ourselves (inline SVG of a plot); never for anything a scanned service sent.
pub fn trusted_svg(svg: String) -> Markup {
    PreEscaped(svg)
}

/// A page that says what was wrong with the request (bad form input, a malformed query string, the store
/// unavailable), with `status` and the title of message `title_id`: never a bare 500 or a backtrace.
pub fn error_page(
    ctx: &PageCtx,
    status: axum::http::StatusCode,
    title_id: &str,
    message: &str,
    hint: Option<&str>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, layout(ctx, &ctx.t(title_id), notice("error", message, hint))).into_response()
}
