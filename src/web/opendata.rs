//! Open data downloads (DESIGN §7, docs/opendata.md): the Akoma Ntoso XML of an
//! amendment (`/bills/x/amendments/12.xml`); a version's (`/bills/x/versions/3.xml`) is
//! served with its markdown by `pages::version_markdown`. Hidden amendments answer 404.

use super::conditional::{akn_xml, Download, IfNoneMatch};
use super::errors::AppError;
use super::AppState;
use crate::service::akn as opendata;
use crate::text::hash::sha256_hex;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![amendment_xml]
}

/// The Akoma Ntoso `<amendment>` of an amendment, with its `activeModifications`.
#[get("/bills/<slug>/amendments/<file>", rank = 2)]
async fn amendment_xml(
    app: &State<AppState>,
    slug: &str,
    file: &str,
    inm: IfNoneMatch,
) -> Result<Download, AppError> {
    let not_found = move || AppError::not_found();
    let number = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<i32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(not_found)?;
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let xml = opendata::amendment_xml(&app.reader, &slug, number)?.ok_or_else(not_found)?;
        // Revisions, rebases and moderation change it: the ETag is the document's hash.
        let etag = format!("\"{}\"", &sha256_hex(xml.as_bytes())[..32]);
        Download::new(akn_xml(), etag, &inm, || Ok(xml))
    })
    .await
}
