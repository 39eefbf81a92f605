//! Atom feeds (`/feeds/atom.xml`, `/bills/SLUG/feed.atom`), and the open-data page
//! (`/opendata`) and its files (`/opendata/…`): the folder of
//! `service::opendata::export_all`, generated on demand and at most every few minutes,
//! served from disk (streamed, never loaded whole) with `ETag` (the file's SHA-256 from
//! the signed `SHA256SUMS`) and `Last-Modified` (when the folder was generated).

use super::errors::AppError;
use super::{AppState, Ctx};
use crate::service::opendata::{self, DATASETS, DEFAULT_LICENCE};
use rocket::fs::NamedFile;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::RawHtml;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub fn routes() -> Vec<Route> {
    routes![page, file, feed, bill_feed]
}

/// How long a generated folder is served before the next request makes a new one.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// One generated folder.
pub struct Generated {
    pub dir: PathBuf,
    pub at: SystemTime,
    /// Relative path → SHA-256, from `SHA256SUMS` (plus the sums files themselves).
    pub sums: HashMap<String, String>,
    pub rows: Vec<(&'static str, u64)>,
}

/// The latest generated folder, shared by requests.
#[derive(Default)]
pub struct Cache {
    current: Mutex<Option<Arc<Generated>>>,
}

impl Cache {
    /// The current folder, generating a new one (and removing the one before) when it is
    /// missing or older than [`FRESH_FOR`]. One generation at a time: others wait.
    pub fn get(&self, app: &super::App) -> Result<Arc<Generated>, String> {
        let mut current = self.current.lock().map_err(|_| "open data lock poisoned")?;
        if let Some(g) = current.as_ref() {
            if g.at.elapsed().unwrap_or(FRESH_FOR) < FRESH_FOR {
                return Ok(g.clone());
            }
        }
        let root = app.export_dir.join("opendata");
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let tmp = tempfile::tempdir_in(&root).map_err(|e| e.to_string())?;
        let summary = opendata::export_all(app.reader.store(), app.voting.key(), tmp.path())?;
        let dir = tmp.keep();
        let mut sums = HashMap::new();
        let text = std::fs::read_to_string(dir.join("SHA256SUMS")).map_err(|e| e.to_string())?;
        for line in text.lines() {
            if let Some((hash, rel)) = line.split_once("  ") {
                sums.insert(rel.to_string(), hash.to_string());
            }
        }
        for f in ["SHA256SUMS", "SHA256SUMS.note"] {
            let bytes = std::fs::read(dir.join(f)).map_err(|e| e.to_string())?;
            sums.insert(f.to_string(), crate::text::hash::sha256_hex(&bytes));
        }
        let fresh = Arc::new(Generated {
            dir,
            at: SystemTime::now(),
            sums,
            rows: summary.rows,
        });
        // The folder before stays on disk while a download from it may still be
        // streaming; the one before that goes.
        if let Some(old) = current.replace(fresh.clone()) {
            let keep = old.dir.clone();
            if let Ok(entries) = std::fs::read_dir(&root) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p != keep && p != fresh.dir {
                        let _ = std::fs::remove_dir_all(p);
                    }
                }
            }
        }
        Ok(fresh)
    }
}

fn http_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[get("/opendata")]
async fn page(app: &State<AppState>, ctx: Ctx) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, lang, move |app| {
        let t = lang.tr();
        let g = app
            .opendata
            .get(app)
            .map_err(|e| AppError::internal(lang, e))?;
        let size = |rel: &str| {
            std::fs::metadata(g.dir.join(rel))
                .map(|m| human_size(m.len()))
                .unwrap_or_default()
        };
        let datasets: Vec<Value> = DATASETS
            .iter()
            .map(|d| {
                let rows = g
                    .rows
                    .iter()
                    .find(|(n, _)| *n == d.name)
                    .map_or(0, |(_, r)| *r);
                json!({
                    "name": d.name,
                    "title": t.get(&format!("dataset_{}", d.name)),
                    "description": d.description,
                    "rows": rows,
                    "csv": format!("/opendata/datasets/{}.csv", d.name),
                    "csv_size": size(&format!("datasets/{}.csv", d.name)),
                    "json": format!("/opendata/datasets/{}.json", d.name),
                    "json_size": size(&format!("datasets/{}.json", d.name)),
                    "fields": d.fields.iter().map(|f| json!({
                        "name": f.name, "type": f.kind, "description": f.description,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut ballot_logs: Vec<String> = g
            .sums
            .keys()
            .filter(|k| k.starts_with("consultations/") && k.ends_with("/entries.csv"))
            .cloned()
            .collect();
        ballot_logs.sort();
        let (_, licence, licence_url) = DEFAULT_LICENCE;
        let mut data = Map::new();
        data.insert("datasets".into(), json!(datasets));
        data.insert(
            "ballot_logs".into(),
            json!(ballot_logs
                .iter()
                .map(|p| {
                    let dir = p.trim_end_matches("entries.csv");
                    json!({
                        "consultation": dir.split('/').nth(1).unwrap_or(""),
                        "entries": format!("/opendata/{p}"),
                        "ballots": format!("/opendata/{dir}ballots.csv"),
                        "result": format!("/opendata/{dir}result.csv"),
                        "checkpoint": format!("/opendata/{dir}checkpoint.txt"),
                        "key": format!("/opendata/{dir}log.vkey"),
                    })
                })
                .collect::<Vec<_>>()),
        );
        data.insert("licence".into(), json!(licence));
        data.insert("licence_url".into(), json!(licence_url));
        data.insert(
            "updated".into(),
            json!(time::OffsetDateTime::from(g.at)
                .replace_nanosecond(0)
                .ok()
                .and_then(|d| d
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok())
                .unwrap_or_default()
                .replace('T', " ")
                .replace('Z', " UTC")),
        );
        data.insert("files".into(), json!(g.sums.len()));
        let bills = {
            let mut conn = app.reader.store().conn().map_err(AppError::store(lang))?;
            crate::store::bills::list(&mut conn).map_err(AppError::store(lang))?
        };
        // For each bill: its texts, its feed, and each consultation's own files.
        let mut per_bill = Vec::new();
        {
            let mut conn = app.reader.store().conn().map_err(AppError::store(lang))?;
            for b in &bills {
                let slug = &b.bill.slug;
                let versions: Vec<Value> = crate::store::versions::list_meta(&mut conn, b.bill.id)
                    .map_err(AppError::store(lang))?
                    .iter()
                    .map(|v| {
                        json!({
                            "number": v.number,
                            "md": format!("/opendata/versions/{slug}/{}.md", v.number),
                            "xml": format!("/opendata/versions/{slug}/{}.xml", v.number),
                        })
                    })
                    .collect();
                let mut consultations: Vec<Value> = Vec::new();
                for c in crate::store::consultations::for_bill(&mut conn, b.bill.id)
                    .map_err(AppError::store(lang))?
                {
                    let dir = format!("consultations/{}", c.id);
                    if !g.sums.contains_key(&format!("{dir}/amendments.csv")) {
                        continue;
                    }
                    let log = format!("{dir}/ballot-log/entries.csv");
                    consultations.push(json!({
                        "id": c.id,
                        "title": c.title,
                        "amendments_csv": format!("/opendata/{dir}/amendments.csv"),
                        "amendments_json": format!("/opendata/{dir}/amendments.json"),
                        "comments_csv": format!("/opendata/{dir}/comments.csv"),
                        "comments_json": format!("/opendata/{dir}/comments.json"),
                        "ballot_log": g.sums.contains_key(&log).then(|| format!("/opendata/{log}")),
                    }));
                }
                per_bill.push(json!({
                    "slug": slug,
                    "title": b.bill.meta.title,
                    "feed": format!("/bills/{slug}/feed.atom"),
                    "versions": versions,
                    "consultations": consultations,
                }));
            }
        }
        data.insert("bills".into(), json!(per_bill));
        app.render("opendata", &ctx, t.get("opendata_title"), data)
            .map(RawHtml)
    })
    .await
}

/// `If-None-Match` of the request, if any.
pub struct IfNoneMatch(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(IfNoneMatch(
            req.headers().get_one("If-None-Match").map(str::to_string),
        ))
    }
}

/// A file of the folder, with its validators; 304 when the client has it.
pub struct Download {
    file: Option<NamedFile>,
    kind: ContentType,
    etag: String,
    modified: String,
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = match self.file {
            Some(f) => f.respond_to(req)?,
            None => Response::build().status(Status::NotModified).finalize(),
        };
        res.set_header(self.kind);
        res.set_header(Header::new("ETag", self.etag));
        res.set_header(Header::new("Last-Modified", self.modified));
        res.set_header(Header::new("Cache-Control", "public, max-age=300"));
        Ok(res)
    }
}

#[get("/opendata/<path..>", rank = 2)]
async fn file(
    app: &State<AppState>,
    ctx: Ctx,
    path: PathBuf,
    if_none_match: IfNoneMatch,
) -> Result<Download, AppError> {
    let lang = ctx.lang;
    let rel = path.to_string_lossy().replace('\\', "/");
    let not_found = move || AppError::not_found(lang, lang.tr().get("err_not_found").into());
    let (full, etag, modified) = super::blocking(app, lang, move |app| {
        let g = app
            .opendata
            .get(app)
            .map_err(|e| AppError::internal(lang, e))?;
        // Only the files of the package: the signed list is the whitelist.
        let hash = g.sums.get(&rel).ok_or_else(not_found)?;
        Ok((g.dir.join(&rel), format!("\"{hash}\""), http_date(g.at)))
    })
    .await?;
    let kind = match full.extension().and_then(|e| e.to_str()) {
        Some("csv") => ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        Some("json") => ContentType::JSON,
        Some("md") => ContentType::new("text", "markdown").with_params(("charset", "utf-8")),
        Some("xml") => ContentType::XML,
        _ => ContentType::Text,
    };
    if if_none_match.0.as_deref() == Some(etag.as_str()) {
        return Ok(Download {
            file: None,
            kind,
            etag,
            modified,
        });
    }
    let f = NamedFile::open(&full).await.map_err(|_| not_found())?;
    Ok(Download {
        file: Some(f),
        kind,
        etag,
        modified,
    })
}

/// Where the current folder is, for tests and tools.
pub fn folder(app: &super::App) -> Result<PathBuf, String> {
    app.opendata.get(app).map(|g| g.dir.clone())
}

fn atom_response(xml: String) -> (ContentType, String) {
    (ContentType::new("application", "atom+xml"), xml)
}

fn feed_of(
    app: &super::App,
    lang: super::i18n::Lang,
    slug: Option<&str>,
    self_path: &str,
) -> Result<(ContentType, String), AppError> {
    let t = lang.tr();
    let entries = crate::service::feeds::entries(app.reader.store(), slug)
        .map_err(AppError::store(lang))?
        .ok_or_else(|| AppError::not_found(lang, t.get("err_not_found").into()))?;
    let title = match slug {
        Some(s) => format!("Amenda — {s}"),
        None => t.get("feed_title").to_string(),
    };
    Ok(atom_response(crate::service::feeds::atom(
        &app.config.public_url,
        self_path,
        &title,
        &entries,
        |k| t.get(&format!("feed_{k}")).to_string(),
    )))
}

/// New consultations, bill versions, amendments and results of the whole instance.
#[get("/feeds/atom.xml")]
async fn feed(app: &State<AppState>, ctx: Ctx) -> Result<(ContentType, String), AppError> {
    let lang = ctx.lang;
    super::blocking(app, lang, move |app| {
        feed_of(app, lang, None, "/feeds/atom.xml")
    })
    .await
}

/// The same, for one bill.
#[get("/bills/<slug>/feed.atom")]
async fn bill_feed(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
) -> Result<(ContentType, String), AppError> {
    let lang = ctx.lang;
    let slug = slug.to_string();
    super::blocking(app, lang, move |app| {
        let path = format!("/bills/{slug}/feed.atom");
        feed_of(app, lang, Some(&slug), &path)
    })
    .await
}
