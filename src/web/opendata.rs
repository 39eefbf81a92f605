//! Open data downloads (DESIGN §7, docs/opendata.md): the Akoma Ntoso XML of an
//! amendment (`/bills/x/amendments/12.xml`); a version's (`/bills/x/versions/3.xml`) is
//! served with its markdown by `pages::version_markdown`. Hidden amendments answer 404.

use super::errors::AppError;
use super::i18n::Lang;
use super::pages::IfNoneMatch;
use super::AppState;
use crate::service::akn as opendata;
use crate::text::hash::sha256_hex;
use rocket::http::{ContentType, Header, Status};
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![amendment_xml]
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

/// The Akoma Ntoso `<amendment>` of an amendment, with its `activeModifications`.
#[get("/bills/<slug>/amendments/<file>", rank = 2)]
async fn amendment_xml(
    app: &State<AppState>,
    lang: Lang,
    slug: &str,
    file: &str,
    inm: IfNoneMatch,
) -> Result<Download, AppError> {
    let not_found = move || AppError::not_found(lang, lang.tr().get("err_not_found").into());
    let number = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<i32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(not_found)?;
    let slug = slug.to_string();
    super::blocking(app, lang, move |app| {
        let xml = opendata::amendment_xml(&app.reader, &slug, number)
            .map_err(|e| AppError::from_read(lang, e))?
            .ok_or_else(not_found)?;
        // Revisions, rebases and moderation change it: the ETag is the document's hash.
        let etag = format!("\"{}\"", &sha256_hex(xml.as_bytes())[..32]);
        Download::new(akn_xml(), etag, &inm, || Ok(xml))
    })
    .await
}
