//! HTML pages: home, bill, article, versions, comparison; language switch; static files.

use super::errors::AppError;
use super::i18n::{self, Lang};
use super::templates::Assets;
use super::view;
use super::{AppState, Ctx};
use crate::domain::bill::VersionRef;
use crate::service::reading::ReadError;
use crate::store::versions::VersionMeta;
use crate::text::UnitKind;
use rocket::http::{ContentType, Cookie, CookieJar, Header, SameSite, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use std::path::PathBuf;

pub fn routes() -> Vec<Route> {
    routes![
        home,
        bill,
        article,
        unit_permalink,
        versions,
        version_markdown,
        diff,
        set_lang,
        static_file
    ]
}

use super::conditional::{CachedPage, IfNoneMatch};

type PageResult = Result<RawHtml<String>, AppError>;
type CachedResult = Result<CachedPage, AppError>;

/// Serves a page of a bill whose latest version is `latest_sha`: the ETag covers the
/// bill's versions, `stamp` (what else the page shows that may change, or empty), the
/// language and this build; `render` runs only on a cache miss.
fn cached_page(
    app: &super::App,
    inm: &IfNoneMatch,
    ctx: &Ctx,
    latest_sha: &str,
    stamp: &str,
    render: impl FnOnce() -> Result<String, AppError>,
) -> CachedResult {
    // Pages for a signed-in person carry their name: rendered for them, not cached.
    if ctx.viewer.is_some() {
        return Ok(CachedPage::Private { body: render()? });
    }
    let etag = etag(app, ctx.lang, latest_sha, stamp);
    if inm.matches(&etag) {
        return Ok(CachedPage::NotModified { etag });
    }
    let body = app
        .pages
        .get_or_try_insert(page_key(&ctx.cache_key, &etag), render)?;
    Ok(CachedPage::Page { etag, body })
}

/// The ETag of a bill's pages: its latest version, the page's stamp (if any), the
/// language and this build.
fn etag(app: &super::App, lang: Lang, latest_sha: &str, stamp: &str) -> String {
    let sha = &latest_sha[..16.min(latest_sha.len())];
    let (lang, build) = (lang.code(), &app.build_tag);
    if stamp.is_empty() {
        format!("\"{sha}-{lang}-{build}\"")
    } else {
        format!("\"{sha}-{stamp}-{lang}-{build}\"")
    }
}

fn page_key(path: &str, etag: &str) -> String {
    format!("{path}|{etag}")
}

/// A cache hit served on the async worker, without the blocking pool or the database:
/// an anonymous request for a page already rendered at the bill's latest version, as
/// last checked less than `reading::FRESH_FOR` ago. A page in the cache was rendered
/// without error for this very path (query included), so the checks of the slow path
/// have passed for it. None: take the slow path, which also renews the check.
/// `stamp` gives the page's stamp from the bill's versions, or None when it is not known
/// without the database.
fn cache_hit(
    app: &super::App,
    inm: &IfNoneMatch,
    ctx: &Ctx,
    slug: &str,
    stamp: impl FnOnce(&[VersionMeta]) -> Option<String>,
) -> Option<CachedPage> {
    if ctx.viewer.is_some() {
        return None;
    }
    let versions = app.reader.fresh_versions(slug)?;
    let stamp = stamp(&versions)?;
    let etag = etag(app, ctx.lang, &versions.last()?.sha256, &stamp);
    let body = app.pages.get(&page_key(&ctx.cache_key, &etag))?;
    Some(if inm.matches(&etag) {
        CachedPage::NotModified { etag }
    } else {
        CachedPage::Page { etag, body }
    })
}

fn parse_number(v: Option<&str>) -> Result<Option<i32>, AppError> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<VersionRef>()
            .map(|r| Some(r.number))
            .map_err(|_| bad_version(s)),
    }
}

fn bad_version(value: &str) -> AppError {
    let shown: String = value.chars().take(40).collect();
    AppError::new(Status::BadRequest, move |t| {
        t.fmt("err_bad_version_ref", &[("value", &shown)])
    })
}

#[get("/")]
async fn home(app: &State<AppState>, ctx: Ctx) -> PageResult {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::reading::home(app, &ctx)?)
            .map(RawHtml)
    })
    .await
}

#[get("/bills/<slug>?<v>")]
async fn bill(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    v: Option<&str>,
    inm: IfNoneMatch,
) -> CachedResult {
    let number = parse_number(v)?;
    // The page shows counts per article: its stamp is theirs, known without the
    // database while they were read less than a second ago.
    let shown = |versions: &[VersionMeta]| match number {
        Some(n) => versions.iter().find(|v| v.number == n).map(|v| v.id),
        None => versions.last().map(|v| v.id),
    };
    if let Some(hit) = cache_hit(app, &inm, &ctx, slug, |versions| {
        Some(app.fresh_activity(shown(versions)?)?.stamp())
    }) {
        return Ok(hit);
    }
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (bill, versions) = app.reader.bill(&slug)?;
        let latest = versions
            .last()
            .ok_or_else(|| ReadError::Empty(slug.clone()))?;
        let number = number.unwrap_or(latest.number);
        let meta = versions
            .iter()
            .find(|v| v.number == number)
            .ok_or_else(|| ReadError::UnknownVersion {
                bill: slug.clone(),
                number,
            })?;
        let activity = app.activity(meta.id)?;
        cached_page(app, &inm, &ctx, &latest.sha256, &activity.stamp(), || {
            let page = view::reading::bill(app, &ctx, &bill, meta, latest.number, &activity)?;
            app.page(&ctx, &page)
        })
    })
    .await
}

#[get("/bills/<slug>/articles/<wid>?<v>")]
async fn article(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    wid: &str,
    v: Option<&str>,
    inm: IfNoneMatch,
) -> CachedResult {
    let number = parse_number(v)?;
    if let Some(hit) = cache_hit(app, &inm, &ctx, slug, |_| Some(String::new())) {
        return Ok(hit);
    }
    let (slug, wid) = (slug.to_string(), wid.to_string());
    super::blocking(app, move |app| {
        let (bill, versions) = app.reader.bill(&slug)?;
        let latest = versions
            .last()
            .ok_or_else(|| ReadError::Empty(slug.clone()))?;
        cached_page(app, &inm, &ctx, &latest.sha256, "", || {
            let page = view::reading::article(app, &ctx, &bill, &versions, &wid, number)?;
            app.page(&ctx, &page)
        })
    })
    .await
}

/// A permanent link to any unit (by work id): the latest text that has it.
#[get("/bills/<slug>/units/<wid>")]
async fn unit_permalink(
    app: &State<AppState>,
    slug: &str,
    wid: &str,
) -> Result<Redirect, AppError> {
    let (slug, wid) = (slug.to_string(), wid.to_string());
    super::blocking(app, move |app| {
        let (bill, _) = app.reader.bill(&slug)?;
        let history = app.reader.unit_history(&bill, &wid)?;
        let unknown = || view::reading::unknown_article(&slug, &wid);
        let last = history.last().ok_or_else(unknown)?;
        let loaded = app.reader.version(&bill, last.number)?;
        let idx = loaded.unit_index(&wid).ok_or_else(unknown)?;
        let unit = &loaded.units[idx];
        let target = match unit.kind {
            UnitKind::Article => format!("/bills/{slug}/articles/{wid}?v={}", last.number),
            UnitKind::Paragraph => match unit.parent.map(|p| &loaded.units[p]) {
                Some(a) if a.kind == UnitKind::Article => format!(
                    "/bills/{slug}/articles/{}?v={}#{}",
                    a.wid, last.number, unit.eid
                ),
                _ => format!("/bills/{slug}?v={}#{}", last.number, unit.eid),
            },
            UnitKind::Division => format!("/bills/{slug}?v={}#{}", last.number, unit.eid),
        };
        Ok(Redirect::to(target))
    })
    .await
}

#[get("/bills/<slug>/versions")]
async fn versions(app: &State<AppState>, ctx: Ctx, slug: &str) -> PageResult {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        app.page(&ctx, &view::reading::versions(app, &slug)?)
            .map(RawHtml)
    })
    .await
}

/// The markdown of one version, as imported (`/bills/x/versions/3.md`), or its Akoma
/// Ntoso XML (`/bills/x/versions/3.xml`, see docs/opendata.md). Versions are immutable:
/// the ETag is the version's hash (and, for the XML, this build, which writes it).
#[get("/bills/<slug>/versions/<file>")]
async fn version_markdown(
    app: &State<AppState>,
    slug: &str,
    file: &str,
    inm: IfNoneMatch,
) -> Result<super::conditional::Download, AppError> {
    let (number, xml) = match (file.strip_suffix(".md"), file.strip_suffix(".xml")) {
        (Some(n), _) => (n, false),
        (_, Some(n)) => (n, true),
        _ => return Err(bad_version(file)),
    };
    let number = number
        .parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad_version(file))?;
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (bill, _) = app.reader.bill(&slug)?;
        let v = app.reader.version(&bill, number)?;
        let sha = &v.meta.sha256[..32.min(v.meta.sha256.len())];
        if xml {
            let etag = format!("\"{sha}-akn-{}\"", app.build_tag);
            super::conditional::Download::new(super::conditional::akn_xml(), etag, &inm, || {
                let (xml, _) = crate::service::akn::version_xml(&app.reader, &slug, number)?;
                Ok(xml)
            })
        } else {
            super::conditional::Download::new(
                ContentType::new("text", "markdown").with_params(("charset", "utf-8")),
                format!("\"{sha}\""),
                &inm,
                || Ok(v.markdown.clone()),
            )
        }
    })
    .await
}

#[get("/bills/<slug>/diff?<from>&<to>&<mode>&<changed>")]
#[allow(clippy::too_many_arguments)] // one per query parameter
async fn diff(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    from: Option<&str>,
    to: Option<&str>,
    mode: Option<&str>,
    changed: Option<&str>,
    inm: IfNoneMatch,
) -> CachedResult {
    let parse = |v: Option<&str>| -> Result<Option<VersionRef>, AppError> {
        match v {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| bad_version(s)),
        }
    };
    let (from, to) = (parse(from)?, parse(to)?);
    let mode = view::reading::DiffMode {
        columns: mode == Some("columns"),
        changed_only: matches!(changed, Some(c) if !c.is_empty() && c != "0"),
    };
    if let Some(hit) = cache_hit(app, &inm, &ctx, slug, |_| Some(String::new())) {
        return Ok(hit);
    }
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (bill, versions) = app.reader.bill(&slug)?;
        let latest = versions
            .last()
            .ok_or_else(|| ReadError::Empty(slug.clone()))?;
        cached_page(app, &inm, &ctx, &latest.sha256, "", || {
            let page = view::reading::diff(app, &ctx, &bill, latest.number, from, to, mode)?;
            app.page(&ctx, &page)
        })
    })
    .await
}

#[get("/lang/<code>?<next>")]
fn set_lang(
    code: &str,
    next: Option<&str>,
    jar: &CookieJar<'_>,
    app: &rocket::State<super::AppState>,
) -> Result<Redirect, Status> {
    let lang = Lang::from_code(code)
        .filter(|l| l.code() == code)
        .ok_or(Status::NotFound)?;
    let cookie = Cookie::build((i18n::COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
        .secure(app.config.secure_cookies)
        .max_age(rocket::time::Duration::days(365));
    jar.add(cookie);
    Ok(Redirect::to(super::account::safe_next(next)))
}

pub struct StaticFile(ContentType, Vec<u8>);

impl<'r> rocket::response::Responder<'r, 'static> for StaticFile {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        rocket::Response::build_from((self.0, self.1).respond_to(req)?)
            .header(Header::new("Cache-Control", "public, max-age=3600"))
            .ok()
    }
}

#[get("/static/<file..>")]
fn static_file(file: PathBuf) -> Option<StaticFile> {
    let name = format!("static/{}", file.to_str()?);
    let asset = Assets::get(&name)?;
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let ct = ContentType::from_extension(ext).unwrap_or(ContentType::Binary);
    Some(StaticFile(ct, asset.data.into_owned()))
}
