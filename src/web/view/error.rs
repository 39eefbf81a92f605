//! The error page: what went wrong, in the reader's language, and a way forward.

use super::Page;
use crate::web::i18n::{Lang, Translations};
use rocket::http::Status;
use serde::Serialize;

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
