//! Conditional responses (RFC 9110 §13): the `If-None-Match` of a request, pages served
//! with an ETag or as `304 Not Modified`, and documents downloaded the same way. Shared
//! by the pages, the open-data downloads and the live consultation pages.

use super::errors::AppError;
use rocket::http::{ContentType, Header, Status};
use std::sync::Arc;

/// The `If-None-Match` header of a request, if any.
pub struct IfNoneMatch(Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for IfNoneMatch {
    type Error = std::convert::Infallible;
    async fn from_request(
        req: &'r rocket::Request<'_>,
    ) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(IfNoneMatch(
            req.headers().get_one("If-None-Match").map(str::to_string),
        ))
    }
}

/// A page derived only from a bill's (immutable, append-only) versions: served from the
/// page cache with an ETag, or as `304 Not Modified`.
pub enum CachedPage {
    Page { etag: String, body: Arc<String> },
    NotModified { etag: String },
    Private { body: String },
}

/// Lets a shared page be the body of many responses without copying it.
struct SharedBody(Arc<String>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl<'r> rocket::response::Responder<'r, 'static> for CachedPage {
    fn respond_to(self, _req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = rocket::Response::build();
        if let CachedPage::Private { body } = self {
            return res
                .header(ContentType::HTML)
                .header(Header::new("Cache-Control", "private, no-store"))
                .sized_body(body.len(), std::io::Cursor::new(body))
                .ok();
        }
        let etag = match self {
            CachedPage::Page { etag, body } => {
                res.header(ContentType::HTML)
                    .sized_body(body.len(), std::io::Cursor::new(SharedBody(body)))
                    // Rocket writes 4 KiB at a time by default: 640 writes for the CPI.
                    .max_chunk_size(256 * 1024);
                etag
            }
            CachedPage::NotModified { etag } => {
                res.status(Status::NotModified);
                etag
            }
            CachedPage::Private { .. } => unreachable!("handled above"),
        };
        res.header(Header::new("ETag", etag))
            .header(Header::new("Cache-Control", "no-cache"))
            .header(Header::new("Vary", "Accept-Language, Cookie"))
            .ok()
    }
}

impl IfNoneMatch {
    pub fn matches(&self, etag: &str) -> bool {
        self.0
            .as_deref()
            .is_some_and(|h| h.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    }
}

/// `application/akn+xml`, the media type of Akoma Ntoso documents.
pub fn akn_xml() -> ContentType {
    ContentType::new("application", "akn+xml").with_params(("charset", "utf-8"))
}

/// A downloadable document with an ETag, revalidated on each use (`no-cache`), or a
/// `304 Not Modified` when the client already has it.
pub struct Download {
    pub content_type: ContentType,
    pub etag: String,
    /// None: not modified.
    pub body: Option<String>,
}

impl Download {
    pub fn new(
        content_type: ContentType,
        etag: String,
        inm: &IfNoneMatch,
        body: impl FnOnce() -> Result<String, AppError>,
    ) -> Result<Download, AppError> {
        let body = if inm.matches(&etag) {
            None
        } else {
            Some(body()?)
        };
        Ok(Download {
            content_type,
            etag,
            body,
        })
    }
}

impl<'r> rocket::response::Responder<'r, 'static> for Download {
    fn respond_to(self, _req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = rocket::Response::build();
        match self.body {
            Some(body) => {
                res.header(self.content_type)
                    .sized_body(body.len(), std::io::Cursor::new(body));
            }
            None => {
                res.status(Status::NotModified);
            }
        }
        res.header(Header::new("ETag", self.etag))
            .header(Header::new("Cache-Control", "no-cache"))
            .ok()
    }
}
