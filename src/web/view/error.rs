//! The error page: what went wrong, in the reader's language, and a way forward. An
//! [`AppError`] answers with it (its `Responder` is here, so that `errors`, which the
//! views use, uses no view).

use super::Page;
use crate::web::errors::AppError;
use crate::web::i18n::{Lang, Translations};
use crate::web::{AppState, Ctx};
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::{Request, Response};
use serde::Serialize;
use std::io::Cursor;

/// `templates/error.hbs`: a heading named after the status, the message, and perhaps a
/// button (sign in again at a higher level, see one's moderation…).
#[derive(Serialize)]
pub struct ErrorPage {
    heading: String,
    message: String,
    link: Option<ErrorLink>,
}

/// The way forward under the message.
#[derive(Serialize)]
pub struct ErrorLink {
    pub href: String,
    pub label: String,
}

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "error";
    fn title(&self, _: &Translations) -> String {
        self.heading.clone()
    }
}

/// The error page for `status`, saying `message` (already in `lang`), with `link` as
/// (address, label).
pub fn error_page(
    lang: Lang,
    status: Status,
    message: String,
    link: Option<(String, String)>,
) -> ErrorPage {
    let key = match status.code {
        404 => "err_not_found_title",
        403 => "err_forbidden_title",
        429 => "err_too_many_title",
        400..=499 => "err_bad_request_title",
        _ => "err_server_title",
    };
    ErrorPage {
        heading: lang.tr().get(key).to_string(),
        message,
        link: link.map(|(href, label)| ErrorLink { href, label }),
    }
}

impl ErrorPage {
    /// The page as plain text, when even the layout cannot be rendered.
    pub fn plain(&self) -> String {
        format!("{}\n{}", self.heading, self.message)
    }
}

/// The error page, rendered through the layout; plain text if even that fails.
fn render(
    req: &Request<'_>,
    status: Status,
    lang: Lang,
    message: String,
    link: Option<(String, String)>,
) -> String {
    let page = error_page(lang, status, message, link);
    let ctx = Ctx {
        lang,
        path: req.uri().to_string(),
        cache_key: crate::web::cache_key(req),
        viewer: None,
        user: None,
    };
    req.rocket()
        .state::<AppState>()
        .and_then(|app| app.page(&ctx, &page).ok())
        .unwrap_or_else(|| page.plain())
}

/// An error as a page in the reader's language, with `Retry-After` on a rate limit.
impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let lang = Lang::of(req);
        let body = render(req, self.status, lang, self.message(lang), self.link(lang));
        let mut res = Response::build();
        res.status(self.status)
            .header(ContentType::HTML)
            .sized_body(body.len(), Cursor::new(body));
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.max(1).to_string());
        }
        res.ok()
    }
}
