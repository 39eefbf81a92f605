//! Errors as pages in the user's language, or as JSON `{error, message}` under /api.

use super::i18n::Lang;
use super::AppState;
use crate::service::reading::ReadError;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{catch, catchers, Catcher, Request, Response};
use serde_json::{json, Map, Value};
use std::io::Cursor;

/// An error shown to a person: a status, a localized title and message.
#[derive(Debug)]
pub struct AppError {
    pub status: Status,
    pub lang: Lang,
    pub message: String,
    /// A way forward shown under the message: (address, label).
    pub link: Option<(String, String)>,
    /// Seconds until a rate limit resets (a `Retry-After` header on 429).
    pub retry_after: Option<i64>,
}

impl AppError {
    pub fn new(status: Status, lang: Lang, message: String) -> Self {
        AppError {
            status,
            lang,
            message,
            link: None,
            retry_after: None,
        }
    }

    pub fn with_link(mut self, href: String, label: String) -> Self {
        self.link = Some((href, label));
        self
    }

    pub fn not_found(lang: Lang, message: String) -> Self {
        Self::new(Status::NotFound, lang, message)
    }

    pub fn bad_request(lang: Lang, message: String) -> Self {
        Self::new(Status::BadRequest, lang, message)
    }

    /// An unexpected failure: logged in full, shown as a generic message.
    pub fn internal(lang: Lang, detail: String) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            Status::InternalServerError,
            lang,
            lang.tr().get("err_server").to_string(),
        )
    }

    /// Maps a storage failure to an internal error page (for `map_err`).
    pub fn store(lang: Lang) -> impl Fn(crate::store::StoreError) -> AppError {
        move |e| AppError::internal(lang, e.to_string())
    }

    pub fn from_read(lang: Lang, e: ReadError) -> Self {
        let t = lang.tr();
        match e {
            ReadError::UnknownBill(slug) => {
                Self::not_found(lang, t.fmt("err_unknown_bill", &[("slug", &slug)]))
            }
            ReadError::UnknownVersion { bill, number } => Self::not_found(
                lang,
                t.fmt("err_unknown_version", &[("slug", &bill), ("n", &number)]),
            ),
            ReadError::Empty(slug) => {
                Self::not_found(lang, t.fmt("err_empty_bill", &[("slug", &slug)]))
            }
            ReadError::CrossBill(a, b) => {
                Self::bad_request(lang, t.fmt("err_cross_bill", &[("a", &a), ("b", &b)]))
            }
            ReadError::Store(e) => Self::internal(lang, e.to_string()),
            ReadError::Internal(e) => Self::internal(lang, e.to_string()),
        }
    }
}

/// Renders the error page; falls back to plain text if even that fails.
fn error_page(req: &Request<'_>, status: Status, lang: Lang, message: &str) -> (Status, String) {
    error_page_with(req, status, lang, message, None)
}

fn error_page_with(
    req: &Request<'_>,
    status: Status,
    lang: Lang,
    message: &str,
    link: Option<Value>,
) -> (Status, String) {
    let key = match status.code {
        404 => "err_not_found_title",
        403 => "err_forbidden_title",
        429 => "err_too_many_title",
        400..=499 => "err_bad_request_title",
        _ => "err_server_title",
    };
    let title = lang.tr().get(key).to_string();
    let mut data = Map::new();
    data.insert("heading".into(), json!(title));
    data.insert("message".into(), json!(message));
    data.insert("link".into(), link.unwrap_or(Value::Null));
    let ctx = super::Ctx {
        lang,
        path: req.uri().to_string(),
        viewer: None,
        user: serde_json::Value::Null,
    };
    match req.rocket().state::<AppState>() {
        Some(app) => match app.render("error", &ctx, &title, data) {
            Ok(html) => (status, html),
            Err(_) => (status, format!("{title}\n{message}")),
        },
        None => (status, format!("{title}\n{message}")),
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let link = self
            .link
            .map(|(href, label)| json!({"href": href, "label": label}));
        let (status, body) = error_page_with(req, self.status, self.lang, &self.message, link);
        let mut res = Response::build();
        res.status(status)
            .header(ContentType::HTML)
            .sized_body(body.len(), Cursor::new(body));
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.to_string());
        }
        res.ok()
    }
}

/// Pages that need a signed-in person send others to the sign-in page, and back.
#[catch(401)]
fn html_unauthorized(req: &Request<'_>) -> rocket::response::Redirect {
    let next = super::url_encode(&req.uri().to_string());
    rocket::response::Redirect::to(format!("/signin?next={next}"))
}

#[catch(default)]
fn html_default(status: Status, req: &Request<'_>) -> (Status, (ContentType, String)) {
    let lang = Lang::of(req);
    let missing = req.local_cache(super::auth::MissingLevel::default);
    if status.code == 403 && missing.wanted > 0 {
        let t = lang.tr();
        let message = t.fmt(
            "err_level_needed",
            &[("wanted", &missing.wanted), ("got", &missing.got)],
        );
        let next = super::url_encode(&req.uri().to_string());
        let link = json!({
            "href": format!("/signin?level={}&next={next}", missing.wanted),
            "label": t.fmt("step_up_link", &[("level", &missing.wanted)]),
        });
        let (status, body) = error_page_with(req, status, lang, &message, Some(link));
        return (status, (ContentType::HTML, body));
    }
    let message = match status.code {
        404 => lang.tr().get("err_not_found").to_string(),
        403 => lang.tr().get("err_forbidden").to_string(),
        429 => lang.tr().get("err_too_many").to_string(),
        500..=599 => lang.tr().get("err_server").to_string(),
        _ => status.reason_lossy().to_string(),
    };
    let (status, body) = error_page(req, status, lang, &message);
    (status, (ContentType::HTML, body))
}

pub fn html_catchers() -> Vec<Catcher> {
    catchers![html_unauthorized, html_default]
}

/// An API error: `{error, message}` with the right status.
#[derive(Debug)]
pub struct ApiError {
    pub status: Status,
    pub error: &'static str,
    pub message: String,
    /// Seconds until a rate limit resets (`Retry-After` on 429).
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: Status, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A page error (rate limit, store failure) as JSON: 429 keeps its `Retry-After`,
    /// a server error says no more than that.
    pub fn from_page(e: AppError) -> Self {
        match e.status.code {
            429 => ApiError {
                retry_after: e.retry_after,
                ..ApiError::new(e.status, "rate_limited", e.message)
            },
            500..=599 => ApiError::new(e.status, "internal", "internal server error"),
            _ => ApiError::new(e.status, "refused", e.message),
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        match &e {
            ReadError::UnknownBill(_) | ReadError::UnknownVersion { .. } | ReadError::Empty(_) => {
                ApiError::new(Status::NotFound, "not_found", e.to_string())
            }
            ReadError::CrossBill(..) => {
                ApiError::new(Status::BadRequest, "cross_bill", e.to_string())
            }
            ReadError::Store(_) | ReadError::Internal(_) => {
                tracing::error!(detail = %e, "internal error");
                ApiError::new(
                    Status::InternalServerError,
                    "internal",
                    "internal server error",
                )
            }
        }
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = Json(json!({"error": self.error, "message": self.message}));
        let mut res = Response::build_from(body.respond_to(req)?);
        res.status(self.status);
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.max(1).to_string());
        }
        res.ok()
    }
}

#[catch(default)]
fn api_default(status: Status, _req: &Request<'_>) -> (Status, Json<serde_json::Value>) {
    let error = match status.code {
        401 => "unauthorized",
        403 => "forbidden",
        429 => "too_many_requests",
        404 => "not_found",
        400..=499 => "bad_request",
        _ => "internal",
    };
    (
        status,
        Json(json!({"error": error, "message": status.reason_lossy()})),
    )
}

pub fn api_catchers() -> Vec<Catcher> {
    catchers![api_default]
}
