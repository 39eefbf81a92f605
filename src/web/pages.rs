//! HTML pages: home, bill, article, versions, comparison; language switch; static files.

use super::errors::AppError;
use super::fragments::{self, PageLinks};
use super::i18n::{self, Lang};
use super::templates::Assets;
use super::{AppState, Ctx};
use crate::domain::bill::VersionRef;
use crate::service::reading::ReadError;
use crate::store::versions::VersionMeta;
use crate::text::UnitKind;
use rocket::http::{ContentType, Cookie, CookieJar, Header, SameSite, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use serde_json::{json, Map, Value};
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
        .get_or_try_insert(page_key(&ctx.path, &etag), render)?;
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
    let body = app.pages.get(&page_key(&ctx.path, &etag))?;
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
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let bills = app.reader.bills()?;
        let list: Vec<Value> = bills
            .iter()
            .map(|b| {
                json!({
                    "slug": b.bill.slug,
                    "title": b.bill.meta.title,
                    "language": b.bill.meta.language,
                    "summary": b.bill.meta.summary,
                    "versions_label": t.fmt("versions_count", &[("n", &b.version_count)]),
                    "latest_date": b.latest_date.as_deref().map(short_date).unwrap_or_default(),
                })
            })
            .collect();
        let mut data = Map::new();
        data.insert("bills".into(), json!(list));
        app.render("home", &ctx, t.get("home_title"), data)
            .map(RawHtml)
    })
    .await
}

/// `2018-06-08T00:00:00+02:00` → `2018-06-08`: dates of versions are days.
fn short_date(d: &str) -> String {
    d.get(..10).unwrap_or(d).to_string()
}

fn version_json(v: &crate::store::versions::VersionMeta) -> Value {
    json!({
        "number": v.number,
        "date": short_date(&v.date),
        "author": v.author,
        "note": v.note,
        "sha256": v.sha256,
        "short_sha": &v.sha256[..12.min(v.sha256.len())],
    })
}

fn bill_json(b: &crate::store::bills::Bill) -> Value {
    json!({
        "slug": b.slug,
        "title": b.meta.title,
        "language": b.meta.language,
    })
}

#[get("/bills/<slug>?<v>")]
async fn bill(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    v: Option<&str>,
    inm: IfNoneMatch,
) -> CachedResult {
    let lang = ctx.lang;
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
        let t = lang.tr();
        let read = AppError::from;
        let (bill, versions) = app.reader.bill(&slug).map_err(read)?;
        let latest = versions
            .last()
            .ok_or_else(|| read(ReadError::Empty(slug.clone())))?;
        let number = number.unwrap_or(latest.number);
        let meta = versions
            .iter()
            .find(|v| v.number == number)
            .ok_or_else(|| {
                read(ReadError::UnknownVersion {
                    bill: slug.clone(),
                    number,
                })
            })?;
        let activity = app.activity(meta.id)?;
        cached_page(app, &inm, &ctx, &latest.sha256, &activity.stamp(), || {
            let v = app.reader.version(&bill, number).map_err(read)?;
            let links = PageLinks { slug: &slug, tr: t };
            let mut data = Map::new();
            data.insert("bill".into(), bill_json(&bill));
            data.insert("version".into(), version_json(meta));
            data.insert(
                "version_label".into(),
                json!(t.fmt("version_label", &[("n", &number)])),
            );
            data.insert("is_latest".into(), json!(number == latest.number));
            data.insert(
                "previous".into(),
                json!(if number > 1 { Some(number - 1) } else { None }),
            );
            data.insert(
                "empty".into(),
                json!(!v.units.iter().any(|u| u.kind == UnitKind::Article)),
            );
            data.insert(
                "toc_html".into(),
                json!(fragments::toc(&v.units, Some(&activity), t)),
            );
            data.insert("consultation".into(), json!(activity.consultation));
            data.insert(
                "text_html".into(),
                json!(fragments::text(&v.markdown, &v.units, &links)),
            );
            app.render("bill", &ctx, &bill.meta.title, data)
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
    let lang = ctx.lang;
    let number = parse_number(v)?;
    if let Some(hit) = cache_hit(app, &inm, &ctx, slug, |_| Some(String::new())) {
        return Ok(hit);
    }
    let (slug, wid) = (slug.to_string(), wid.to_string());
    super::blocking(app, move |app| {
        let t = lang.tr();
        let read = AppError::from;
        let (bill, versions) = app.reader.bill(&slug).map_err(read)?;
        let latest_meta = versions
            .last()
            .ok_or_else(|| read(ReadError::Empty(slug.clone())))?;
        let latest = latest_meta.number;
        cached_page(app, &inm, &ctx, &latest_meta.sha256, "", || {
            let history = app.reader.unit_history(&bill, &wid).map_err(read)?;
            let unknown = || {
                let (slug, wid) = (slug.clone(), wid.clone());
                AppError::new(Status::NotFound, move |t| {
                    t.fmt("err_unknown_article", &[("slug", &slug), ("wid", &wid)])
                })
            };
            if history.iter().all(|h| h.kind != UnitKind::Article) {
                return Err(unknown());
            }
            // The requested version, or the latest that has the article.
            let shown = match number {
                Some(n) => history.iter().find(|h| h.number == n).ok_or_else(unknown)?,
                None => history.last().ok_or_else(unknown)?,
            };
            let removed_in = if number.is_none() && shown.number < latest {
                versions
                    .iter()
                    .find(|v| v.number > shown.number)
                    .map(|v| t.fmt("removed_in", &[("n", &v.number), ("last", &shown.number)]))
            } else {
                None
            };
            let loaded = app.reader.version(&bill, shown.number).map_err(read)?;
            let idx = loaded.unit_index(&wid).ok_or_else(unknown)?;
            let unit = &loaded.units[idx];
            // The article's paragraphs follow it until the next non-paragraph unit.
            let end = loaded.units[idx + 1..]
                .iter()
                .position(|u| u.kind != UnitKind::Paragraph || u.parent != Some(idx))
                .map_or(loaded.units.len(), |p| idx + 1 + p);
            let links = PageLinks { slug: &slug, tr: t };
            let text_html = crate::text::render::render_units(
                &loaded.markdown,
                &loaded.units,
                idx + 1..end,
                2,
                &links,
            );
            let mut ancestors = Vec::new();
            let mut p = unit.parent;
            while let Some(i) = p {
                let d = &loaded.units[i];
                ancestors.push(json!({"eid": d.eid, "label": d.num.clone().unwrap_or_default()}));
                p = d.parent;
            }
            ancestors.reverse();
            // One row per version: present or not, and how it changed.
            let mut rows = Vec::new();
            let mut prev: Option<&crate::service::reading::UnitAt> = None;
            let mut prev_number = None;
            for v in versions.iter() {
                let here = history.iter().find(|h| h.number == v.number);
                let status = match (prev, here) {
                    (None, Some(_)) => "st_added",
                    (Some(a), Some(b)) if a.sha256 == b.sha256 => "st_unchanged",
                    (Some(_), Some(_)) => "st_modified",
                    (Some(_), None) => "st_removed",
                    (None, None) => "st_absent",
                };
                let changed = matches!(status, "st_modified" | "st_removed" | "st_added")
                    && prev_number.is_some();
                rows.push(json!({
                    "number": v.number,
                    "date": short_date(&v.date),
                    "status": t.get(status),
                    "present": here.is_some(),
                    "current": v.number == shown.number,
                    "eid": here.or(prev).map(|h| h.eid.clone()).unwrap_or_default(),
                    "diff_from": if changed { prev_number } else { None },
                }));
                prev = here;
                prev_number = Some(v.number);
            }
            let meta = versions
                .iter()
                .find(|v| v.number == shown.number)
                .ok_or_else(unknown)?;
            let heading = unit.heading.clone().unwrap_or_default();
            let mut data = Map::new();
            data.insert("bill".into(), bill_json(&bill));
            data.insert("version".into(), version_json(meta));
            data.insert(
                "version_label".into(),
                json!(t.fmt("version_label", &[("n", &shown.number)])),
            );
            data.insert("wid".into(), json!(wid));
            data.insert("heading".into(), json!(heading));
            data.insert("path".into(), json!(ancestors));
            data.insert("is_latest".into(), json!(shown.number == latest));
            data.insert("removed_in".into(), json!(removed_in));
            data.insert("text_html".into(), json!(text_html));
            data.insert("no_paragraphs".into(), json!(end == idx + 1));
            data.insert("history".into(), json!(rows));
            let title = format!("{heading} — {}", bill.meta.title);
            app.render("article", &ctx, &title, data)
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
        let read = AppError::from;
        let (bill, _) = app.reader.bill(&slug).map_err(read)?;
        let history = app.reader.unit_history(&bill, &wid).map_err(read)?;
        let unknown = || {
            let (slug, wid) = (slug.clone(), wid.clone());
            AppError::new(Status::NotFound, move |t| {
                t.fmt("err_unknown_article", &[("slug", &slug), ("wid", &wid)])
            })
        };
        let last = history.last().ok_or_else(unknown)?;
        let loaded = app.reader.version(&bill, last.number).map_err(read)?;
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
    let lang = ctx.lang;
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let (bill, versions) = app.reader.bill(&slug)?;
        let n = versions.len();
        let list: Vec<Value> = versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut j = version_json(v);
                j["selected_from"] = json!(n >= 2 && i == n - 2 || n == 1);
                j["selected_to"] = json!(i == n - 1);
                j["previous"] = json!(if i > 0 {
                    Some(versions[i - 1].number)
                } else {
                    None
                });
                j
            })
            .collect();
        let mut desc = list.clone();
        desc.reverse();
        let mut data = Map::new();
        data.insert("bill".into(), bill_json(&bill));
        data.insert("versions".into(), json!(list));
        data.insert("versions_desc".into(), json!(desc));
        let title = format!("{} — {}", t.get("versions"), bill.meta.title);
        app.render("versions", &ctx, &title, data).map(RawHtml)
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
        let read = AppError::from;
        let (bill, _) = app.reader.bill(&slug).map_err(read)?;
        let v = app.reader.version(&bill, number).map_err(read)?;
        let sha = &v.meta.sha256[..32.min(v.meta.sha256.len())];
        if xml {
            let etag = format!("\"{sha}-akn-{}\"", app.build_tag);
            super::conditional::Download::new(super::conditional::akn_xml(), etag, &inm, || {
                crate::service::akn::version_xml(&app.reader, &slug, number)
                    .map(|(x, _)| x)
                    .map_err(read)
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
    let lang = ctx.lang;
    let parse = |v: Option<&str>| -> Result<Option<VersionRef>, AppError> {
        match v {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| bad_version(s)),
        }
    };
    let (from, to) = (parse(from)?, parse(to)?);
    let columns = mode == Some("columns");
    let changed_only = matches!(changed, Some(c) if !c.is_empty() && c != "0");
    if let Some(hit) = cache_hit(app, &inm, &ctx, slug, |_| Some(String::new())) {
        return Ok(hit);
    }
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let read = AppError::from;
        let (bill, versions) = app.reader.bill(&slug).map_err(read)?;
        let latest_meta = versions
            .last()
            .ok_or_else(|| read(ReadError::Empty(slug.clone())))?;
        let latest = latest_meta.number;
        let to = to.unwrap_or(VersionRef { bill: None, number: latest });
        let from = from.unwrap_or(VersionRef { bill: None, number: (to.number - 1).max(1) });
        cached_page(app, &inm, &ctx, &latest_meta.sha256, "", || {
        let c = app.reader.compare(&slug, &from, &to).map_err(read)?;
        let (body, shown) = fragments::comparison(&c, columns, changed_only, t);
        let (f, tn) = (from.number, to.number);
        let href = |cols: bool, ch: bool| {
            format!(
                "/bills/{slug}/diff?from={f}&to={tn}&mode={}{}",
                if cols { "columns" } else { "inline" },
                if ch { "&changed=1" } else { "" }
            )
        };
        let options = vec![
            json!({"label": t.get("opt_inline"), "href": href(false, changed_only), "current": !columns}),
            json!({"label": t.get("opt_columns"), "href": href(true, changed_only), "current": columns}),
            json!({"label": t.get("opt_all"), "href": href(columns, false), "current": !changed_only}),
            json!({"label": t.get("opt_changed"), "href": href(columns, true), "current": changed_only}),
        ];
        let heading = t.fmt("diff_heading", &[("from", &f), ("to", &tn)]);
        let s = c.diff.summary;
        let mut data = Map::new();
        data.insert("bill".into(), bill_json(&bill));
        data.insert("heading".into(), json!(heading));
        data.insert("summary".into(), json!({"added": s.added, "removed": s.removed, "modified": s.modified, "unchanged": s.unchanged}));
        data.insert("options".into(), json!(options));
        data.insert("columns".into(), json!(columns));
        data.insert("nothing".into(), json!(!shown));
        data.insert("from_label".into(), json!(t.fmt("current_text", &[("n", &f)])));
        data.insert("to_label".into(), json!(t.fmt("modified_text", &[("n", &tn)])));
        data.insert("body_html".into(), json!(body));
        let title = format!("{heading} — {}", bill.meta.title);
        app.render("diff", &ctx, &title, data)
        })
    })
    .await
}

#[get("/lang/<code>?<next>")]
fn set_lang(code: &str, next: Option<&str>, jar: &CookieJar<'_>) -> Result<Redirect, Status> {
    let lang = Lang::from_code(code)
        .filter(|l| l.code() == code)
        .ok_or(Status::NotFound)?;
    let cookie = Cookie::build((i18n::COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
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
