//! Atom feeds (`/feeds/atom.xml`, `/bills/SLUG/feed.atom`), and the open-data page
//! (`/opendata`) and its files (`/opendata/…`): the folder of
//! `service::opendata::export_all`, generated on demand and at most every few minutes,
//! served from disk (streamed, never loaded whole) with `ETag` (the file's SHA-256 from
//! the signed `SHA256SUMS`) and `Last-Modified` (when the folder was generated).

use super::conditional::IfNoneMatch;
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::service::opendata;
use rocket::fs::NamedFile;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::content::RawHtml;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route, State};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

pub fn routes() -> Vec<Route> {
    routes![page, file, feed, bill_feed]
}

/// How long a generated folder is served before a request starts making a new one,
/// unless `[opendata] refresh` says otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

/// One generated folder.
pub struct Generated {
    pub dir: PathBuf,
    pub at: SystemTime,
    /// Relative path → SHA-256, from `SHA256SUMS` (plus the sums files themselves).
    pub sums: HashMap<String, String>,
    pub rows: Vec<(&'static str, u64)>,
    /// Per dataset, the latest date-time in its rows.
    pub latest: Vec<(&'static str, String)>,
}

/// What a generation needs, owned, so it can run on its own thread.
struct Job {
    store: crate::store::Store,
    key: crate::service::voting::LogKey,
    licence: opendata::Licence,
    root: PathBuf,
}

impl Job {
    fn of(app: &super::App) -> Job {
        Job {
            store: app.reader.store().clone(),
            key: app.voting.key().clone(),
            licence: app.config.licence.clone(),
            root: app.export_dir.join("opendata"),
        }
    }

    fn run(&self) -> Result<Generated, FolderError> {
        let io = |path: &std::path::Path| {
            let path = path.to_owned();
            move |source| FolderError::Io { path, source }
        };
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let tmp = tempfile::tempdir_in(&self.root).map_err(io(&self.root))?;
        let summary = opendata::export_all(&self.store, &self.key, &self.licence, tmp.path())?;
        let dir = tmp.keep();
        let mut sums = HashMap::new();
        let sums_path = dir.join("SHA256SUMS");
        let text = std::fs::read_to_string(&sums_path).map_err(io(&sums_path))?;
        for line in text.lines() {
            if let Some((hash, rel)) = line.split_once("  ") {
                sums.insert(rel.to_string(), hash.to_string());
            }
        }
        for f in ["SHA256SUMS", "SHA256SUMS.note"] {
            let path = dir.join(f);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            sums.insert(f.to_string(), crate::text::hash::sha256_hex(&bytes));
        }
        Ok(Generated {
            dir,
            at: SystemTime::now(),
            sums,
            rows: summary.rows,
            latest: summary.latest,
        })
    }
}

/// Why the open-data folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error(transparent)]
    Export(#[from] opendata::ExportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the open-data generation lock is poisoned")]
    Poisoned,
}

impl From<FolderError> for AppError {
    fn from(e: FolderError) -> Self {
        AppError::internal(e)
    }
}

/// The latest generated folder, shared by requests. A stale folder is still served
/// while a new one is made on a thread of its own, so only the very first request
/// after start waits for a generation (the server starts one at liftoff).
#[derive(Default)]
pub struct Cache {
    current: Mutex<Option<Arc<Generated>>>,
    /// Held while a folder is generated: one generation at a time.
    generating: Mutex<()>,
    /// A background generation is under way; `idle` is signalled when it ends.
    busy: Mutex<bool>,
    idle: Condvar,
}

impl Cache {
    fn refresh(app: &super::App) -> Duration {
        app.config.opendata_refresh.unwrap_or(DEFAULT_REFRESH)
    }

    /// The current folder: generated now if there is none yet; when it is older than
    /// the refresh interval, served as it is while a new one is generated behind.
    pub fn get(self: &Arc<Self>, app: &super::App) -> Result<Arc<Generated>, FolderError> {
        let current = self.current();
        match current {
            Some(g) => {
                if g.at.elapsed().unwrap_or(Duration::MAX) >= Self::refresh(app) {
                    self.refresh_in_background(app);
                }
                Ok(g)
            }
            None => {
                let _one = self.generating.lock().map_err(|_| FolderError::Poisoned)?;
                // Another request may have made it while this one waited.
                if let Some(g) = self.current() {
                    return Ok(g);
                }
                let fresh = Arc::new(Job::of(app).run()?);
                self.install(fresh.clone());
                Ok(fresh)
            }
        }
    }

    fn current(&self) -> Option<Arc<Generated>> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// Starts a generation on its own thread unless one is already running.
    pub fn refresh_in_background(self: &Arc<Self>, app: &super::App) {
        {
            let Ok(mut busy) = self.busy.lock() else {
                return;
            };
            if *busy {
                return;
            }
            *busy = true;
        }
        let job = Job::of(app);
        let cache = self.clone();
        let spawned = std::thread::Builder::new()
            .name("opendata".into())
            .spawn(move || {
                if let Ok(_one) = cache.generating.lock() {
                    match job.run() {
                        Ok(g) => cache.install(Arc::new(g)),
                        Err(e) => tracing::error!("open data generation failed: {e}"),
                    }
                }
                cache.done();
            });
        if spawned.is_err() {
            self.done();
        }
    }

    fn done(&self) {
        if let Ok(mut busy) = self.busy.lock() {
            *busy = false;
        }
        self.idle.notify_all();
    }

    /// Waits until no background generation is under way (for tests and an orderly
    /// shutdown: a caller that must see the folder made after a change waits on this
    /// rather than polling).
    pub fn wait_idle(&self) {
        if let Ok(busy) = self.busy.lock() {
            // A poisoned lock means the generation thread panicked: nothing to wait for.
            drop(self.idle.wait_while(busy, |b| *b));
        }
    }

    /// Makes `fresh` the folder served. The folder before stays on disk while a
    /// download from it may still be streaming; older ones go. Called with
    /// `generating` held, so no folder being written is removed.
    fn install(&self, fresh: Arc<Generated>) {
        let Ok(mut current) = self.current.lock() else {
            return;
        };
        // Folders left by an earlier process go too.
        let keep = current.replace(fresh.clone()).map(|old| old.dir.clone());
        if let Some(root) = fresh.dir.parent() {
            if let Ok(entries) = std::fs::read_dir(root) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p != fresh.dir && Some(&p) != keep.as_ref() {
                        let _ = std::fs::remove_dir_all(p);
                    }
                }
            }
        }
    }
}

fn http_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

#[get("/opendata")]
async fn page(app: &State<AppState>, ctx: Ctx) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &super::view::opendata::opendata(app, &ctx)?)
            .map(RawHtml)
    })
    .await
}

/// A file of the folder, with its validators; 304 when the client has it.
pub struct FileDownload {
    file: Option<NamedFile>,
    kind: ContentType,
    etag: String,
    modified: String,
}

impl<'r> Responder<'r, 'static> for FileDownload {
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
    path: PathBuf,
    if_none_match: IfNoneMatch,
) -> Result<FileDownload, AppError> {
    let rel = path.to_string_lossy().replace('\\', "/");
    let not_found = move || AppError::not_found();
    let (full, etag, modified) = super::blocking(app, move |app| {
        let g = app.opendata.get(app)?;
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
    if if_none_match.matches(&etag) {
        return Ok(FileDownload {
            file: None,
            kind,
            etag,
            modified,
        });
    }
    let f = NamedFile::open(&full).await.map_err(|_| not_found())?;
    Ok(FileDownload {
        file: Some(f),
        kind,
        etag,
        modified,
    })
}

/// Where the current folder is, for tests and tools.
pub fn folder(app: &super::App) -> Result<PathBuf, FolderError> {
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
    let entries = crate::service::feeds::entries(app.reader.store(), slug)?
        .ok_or_else(AppError::not_found)?;
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
    super::blocking(app, move |app| feed_of(app, lang, None, "/feeds/atom.xml")).await
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
    super::blocking(app, move |app| {
        let path = format!("/bills/{slug}/feed.atom");
        feed_of(app, lang, Some(&slug), &path)
    })
    .await
}
