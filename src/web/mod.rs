//! The web layer: Rocket routes (HTML pages and the JSON API), guards, templates, i18n,
//! errors and security headers. It calls `service`/`store` functions, never SQL.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod campaigns;
pub mod charts;
pub mod client;
pub mod comments;
pub mod conditional;
pub mod consolidation;
pub mod consultation_api;
pub mod consultations;
pub mod csrf;
pub mod datasets;
pub mod errors;
pub mod fragments;
pub mod i18n;
pub mod ids;
pub mod live;
pub mod moderation;
pub mod oidc;
pub mod opendata;
pub mod pages;
pub mod ratelimit;
pub mod templates;
pub mod verification;
pub mod view;
pub mod votes;

use crate::cache::Cache;
use crate::domain::ids::VersionId;
use crate::service::reading::Reader;
use crate::store::Store;
use handlebars::Handlebars;
use i18n::Lang;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Build, Request, Response, Rocket};
use std::sync::Arc;
use std::time::Instant;

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Demo mode: a banner on every page and the demo sign-in.
    pub demo: bool,
    /// Cookies get the `Secure` flag: the `--secure-cookies` override; always when
    /// `public_url` is https (`App::new` sets it, see `serves_https`).
    pub secure_cookies: bool,
    /// OpenID Connect providers people sign in with.
    pub providers: Vec<crate::config::ProviderConfig>,
    /// The address people reach the site at, without a final `/` (redirect URIs).
    pub public_url: String,
    /// `PROVIDER:SUBJECT` made admin at sign-in while there is no admin.
    pub first_admin: Option<String>,
    /// The key pseudonyms are derived with (`pseudonym.key` in the data folder); a
    /// random one for this process when absent (tests).
    pub pseudonym_key: Option<PseudonymKey>,
    /// The key that signs ballot-log checkpoints (`log.key` in the data folder); a
    /// random one for this process when absent (tests).
    pub log_key: Option<crate::service::voting::LogKey>,
    /// Days the consultation key is kept after a vote closes (default 30).
    pub publication_window_days: Option<u32>,
    /// Where ballot-log exports are written for download (`exports/` in the data
    /// folder); a temporary folder when absent.
    pub export_dir: Option<std::path::PathBuf>,
    /// Report threshold and rate limits.
    pub moderation: crate::config::ModerationConfig,
    /// The licence the open data is published under.
    pub licence: crate::service::opendata::Licence,
    /// How long the generated open-data folder is served before a new one is made
    /// (default five minutes).
    pub opendata_refresh: Option<std::time::Duration>,
    /// How long an anonymous visitor's consultation page may be served as rendered,
    /// and a bill page's counts of amendments and comments shown as last read (default
    /// one second; zero renders and reads every request). See [`live`].
    pub live_pages: Option<std::time::Duration>,
    /// The proxies whose `X-Forwarded-For` and `X-Real-IP` name the client (see
    /// [`client`]); none by default, so the client is the connection's peer.
    pub trusted_proxies: client::TrustedProxies,
}

/// Default publication window, in days, after which a consultation key is destroyed.
pub const DEFAULT_PUBLICATION_WINDOW_DAYS: u32 = 30;

/// The host part of a public URL (`https://a.example:8443/x` → `a.example:8443`).
/// Whether the site is reached over TLS (`public_url` starts with `https://`): its
/// cookies are then `Secure` and its answers carry HSTS.
pub fn serves_https(public_url: &str) -> bool {
    public_url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        "localhost"
    } else {
        host
    }
}

/// The instance's pseudonym key, kept out of `Debug` output.
#[derive(Clone)]
pub struct PseudonymKey(pub Vec<u8>);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
}

/// What every page knows about its request: language, path and viewer.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// The request's path and query, as sent (where to come back after signing in).
    pub path: String,
    /// The key the page is cached under (`cache_key`).
    pub cache_key: String,
    pub viewer: Option<crate::service::identity::SessionInfo>,
    /// The page header's view of the viewer (none when anonymous).
    pub user: Option<auth::Header>,
}

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Ctx {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        use rocket::request::Outcome;
        let viewer = req
            .guard::<auth::Viewer>()
            .await
            .succeeded()
            .unwrap_or(auth::Viewer(None));
        // Only a signed-in header has a form (sign-out): anonymous pages set no cookie.
        let user = match &viewer.0 {
            Some(_) => match req.guard::<auth::CsrfToken>().await.succeeded() {
                Some(csrf) => auth::Header::of(&viewer, &csrf),
                None => None,
            },
            None => None,
        };
        Outcome::Success(Ctx {
            lang: Lang::of(req),
            path: req.uri().to_string(),
            cache_key: cache_key(req),
            viewer: viewer.0,
            user,
        })
    }
}

/// The path and, of the query, only the parameters the route reads, in the route's
/// order and decoded: the key shared pages are cached under. Anything else in the query
/// (`?x=1`, a reordering, `%61` for `a`) names the same page, so it can neither fill the
/// caches with copies nor get around them.
pub fn cache_key(req: &Request<'_>) -> String {
    let mut key = req.uri().path().to_string();
    let Some(template) = req.route().and_then(|r| r.uri.query()) else {
        return key;
    };
    let mut sep = '?';
    for segment in template.split('&') {
        let Some(name) = segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) else {
            continue;
        };
        if name.ends_with("..") {
            // A route reading every parameter: the whole query is its key.
            return req.uri().to_string();
        }
        if let Some(Ok(value)) = req.query_value::<&str>(name) {
            key.push(sep);
            key.push_str(name);
            key.push('=');
            key.push_str(&url_encode(value));
            sep = '&';
        }
    }
    key
}

/// Shared state of the server.
pub struct App {
    pub reader: Reader,
    pub hb: Handlebars<'static>,
    pub config: WebConfig,
    pub oidc: crate::oidc::Oidc,
    pub pseudonym_key: Vec<u8>,
    /// Rendered pages of immutable versions.
    pub pages: FragmentCache,
    /// Anonymous visitors' consultation pages, as rendered less than a second ago.
    pub live: live::LiveCache,
    /// Identifies this build's templates and strings, so ETags change with them.
    pub build_tag: String,
    pub sign_in_limiter: ratelimit::Limiter,
    /// Bounds blocking work (database, large renderings) in flight: beyond the pool's
    /// connections more threads would only wait, and each keeps memory.
    pub blocking_permits: rocket::tokio::sync::Semaphore,
    /// Ballot logs: casting, proofs, closing.
    pub voting: crate::service::voting::Voting,
    /// Ballot-log exports offered for download.
    pub export_dir: std::path::PathBuf,
    /// The open-data folder served on /opendata.
    pub opendata: Arc<datasets::Cache>,
    /// Amendments and comments per article of a version, as last read (bill pages), by
    /// version id.
    activity: Cache<VersionId, (Instant, Arc<crate::service::consultation::Activity>)>,
    /// How long those counts are shown as last read (`live_pages`).
    activity_fresh_for: std::time::Duration,
    /// Keeps a temporary export folder alive as long as the app (tests).
    _export_tmp: Option<tempfile::TempDir>,
}

pub type AppState = Arc<App>;

impl App {
    /// The activity on a version as read less than `activity_fresh_for` ago, without
    /// the database; None when it must be read again.
    pub fn fresh_activity(
        &self,
        version_id: VersionId,
    ) -> Option<Arc<crate::service::consultation::Activity>> {
        let (at, a) = self.activity.get(&version_id)?;
        (at.elapsed() < self.activity_fresh_for).then_some(a)
    }

    /// The activity on a version, read now (and remembered for the next requests).
    pub fn activity(
        &self,
        version_id: VersionId,
    ) -> Result<Arc<crate::service::consultation::Activity>, crate::store::StoreError> {
        if let Some(a) = self.fresh_activity(version_id) {
            return Ok(a);
        }
        let a = Arc::new(crate::service::consultation::activity(
            self.reader.store(),
            version_id,
        )?);
        self.activity
            .insert(version_id, (Instant::now(), a.clone()));
        Ok(a)
    }
}

/// Why the web application cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Translations(#[from] i18n::TranslationError),
    #[error(transparent)]
    Templates(#[from] templates::TemplateError),
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcConfigError),
    #[error("the system random generator failed")]
    Random,
    #[error("temporary folder: {0}")]
    TempDir(std::io::Error),
}

impl App {
    pub fn new(store: Store, mut config: WebConfig) -> Result<App, StartError> {
        i18n::init()?;
        // A site people reach over TLS never sends its cookies over plain HTTP.
        config.secure_cookies |= serves_https(&config.public_url);
        let live_pages = config.live_pages.unwrap_or(live::FRESH_FOR);
        let oidc = crate::oidc::Oidc::new(config.providers.clone(), config.public_url.clone())?;
        let pseudonym_key = match &config.pseudonym_key {
            Some(k) => k.0.clone(),
            None => {
                let mut k = vec![0u8; 32];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k)
                    .map_err(|_| StartError::Random)?;
                k
            }
        };
        let voting = crate::service::voting::Voting::new(
            store.clone(),
            config
                .log_key
                .clone()
                .unwrap_or_else(crate::service::voting::LogKey::random),
            url_host(&config.public_url),
            config
                .publication_window_days
                .unwrap_or(DEFAULT_PUBLICATION_WINDOW_DAYS),
        );
        let (export_dir, export_tmp) = match &config.export_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::tempdir().map_err(StartError::TempDir)?;
                (t.path().to_owned(), Some(t))
            }
        };
        Ok(App {
            voting,
            export_dir,
            _export_tmp: export_tmp,
            opendata: Arc::default(),
            // Bounded: versions nobody reads any more make room for the others.
            activity: Cache::new(ACTIVITY_VERSIONS),
            activity_fresh_for: live_pages,
            reader: Reader::new(store, 48 * 1024 * 1024),
            hb: templates::registry()?,
            config,
            oidc,
            pseudonym_key,
            pages: FragmentCache::new(32 * 1024 * 1024),
            live: live::LiveCache::new(32 * 1024 * 1024, live_pages),
            build_tag: templates::build_tag(),
            blocking_permits: rocket::tokio::sync::Semaphore::new(BLOCKING_PERMITS),
            sign_in_limiter: ratelimit::Limiter::new(
                ratelimit::SIGN_IN_PER_MINUTE,
                std::time::Duration::from_secs(60),
            ),
        })
    }

    /// Renders a page inside the layout, with what every page needs.
    pub fn page<P: view::Page>(&self, ctx: &Ctx, page: &P) -> Result<String, errors::AppError> {
        let title = page.title(ctx.lang.tr());
        self.layout(P::TEMPLATE, ctx, &title, page)
    }

    fn layout<P: serde::Serialize>(
        &self,
        template: &str,
        ctx: &Ctx,
        title: &str,
        page: &P,
    ) -> Result<String, errors::AppError> {
        let lang = ctx.lang;
        let other = lang.other();
        let layout = view::Layout {
            page,
            user: ctx.user.as_ref(),
            lang: lang.code(),
            t: &lang.tr().json,
            title,
            other_lang: other.code(),
            other_lang_name: other.tr().get("lang_name"),
            next: url_encode(&ctx.path),
            demo: self.config.demo,
        };
        self.hb
            .render(template, &layout)
            .map_err(|e| errors::AppError::internal(format!("template {template}: {e}")))
    }
}

/// Versions whose activity is kept at most.
const ACTIVITY_VERSIONS: usize = 4096;

/// Blocking jobs run at once (the SQLite pool has 8 connections, PostgreSQL's 10).
const BLOCKING_PERMITS: usize = 8;

/// Blocking work that could not start or did not finish (its thread panicked).
#[derive(Debug, thiserror::Error)]
#[error("blocking work failed: {0}")]
pub struct WorkerFailed(String);

impl From<WorkerFailed> for errors::AppError {
    fn from(e: WorkerFailed) -> Self {
        errors::AppError::internal(e)
    }
}

/// Runs blocking work (database, rendering of large texts) off the async workers,
/// at most `BLOCKING_PERMITS` at a time.
pub async fn run_blocking<T: Send + 'static>(
    app: &AppState,
    f: impl FnOnce(&App) -> T + Send + 'static,
) -> Result<T, WorkerFailed> {
    let _permit = app
        .blocking_permits
        .acquire()
        .await
        .map_err(|e| WorkerFailed(e.to_string()))?;
    let app = app.clone();
    rocket::tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| WorkerFailed(e.to_string()))
}

/// [`run_blocking`] for pages: errors are pages in the user's language.
pub async fn blocking<T: Send + 'static>(
    app: &AppState,
    f: impl FnOnce(&App) -> Result<T, errors::AppError> + Send + 'static,
) -> Result<T, errors::AppError> {
    run_blocking(app, f).await?
}

/// Percent-encodes a path and query for use as a query parameter value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Rendered fragments of immutable versions (table of contents and text), bounded in
/// bytes, so a large bill is rendered once, not on every request.
pub struct FragmentCache(Cache<String, Arc<String>, crate::cache::Bytes>);

impl FragmentCache {
    pub fn new(max_bytes: usize) -> Self {
        // A page of a bill weighs some tens of kilobytes.
        FragmentCache(crate::cache::in_bytes(max_bytes, max_bytes / (32 * 1024)))
    }

    pub fn get(&self, key: &str) -> Option<Arc<String>> {
        self.0.get(key)
    }

    /// The cached value, or `make`'s (cached when it succeeds and fits). Requests for
    /// the same key meanwhile wait for this rendering rather than make their own.
    pub fn get_or_try_insert<E>(
        &self,
        key: String,
        make: impl FnOnce() -> Result<String, E>,
    ) -> Result<Arc<String>, E> {
        self.0
            .get_or_insert_with(key.as_str(), || make().map(Arc::new))
    }
}

/// Security headers on every response (DESIGN §9, docs/security.md).
pub struct SecurityHeaders {
    csp: String,
    /// `Strict-Transport-Security`, when the site is reached over TLS.
    hsts: bool,
}

/// One year, the HSTS preload list's minimum; subdomains are left out (an institution's
/// other sites are not ours to bind).
const HSTS: &str = "max-age=31536000";

impl SecurityHeaders {
    /// Forms post to this site only, but signing out may continue (by redirect) to an
    /// identity provider's logout page, which `form-action` must then allow.
    pub fn new(form_targets: &[String], hsts: bool) -> Self {
        let mut form_action = String::from("'self'");
        for t in form_targets {
            form_action.push(' ');
            form_action.push_str(t);
        }
        SecurityHeaders {
            csp: format!(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
            ),
            hsts,
        }
    }
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("Content-Security-Policy", self.csp.clone()));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        if self.hsts {
            res.set_header(Header::new("Strict-Transport-Security", HSTS));
        }
        // Stored nowhere unless the response says it may be: a page that depends on who
        // asks (account, administration, moderation, `/api/v1/me`, a form with its
        // token) can then never be kept by the browser's or a proxy's cache. Those that
        // may be cached say so themselves: static files, the open data, pages with an
        // ETag (`no-cache`, revalidated each time).
        if !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}

/// The Rocket application, ready to be launched or tested with a local client.
pub fn build(figment: rocket::figment::Figment, app: App) -> Rocket<Build> {
    let origins = crate::config::Config {
        providers: app.config.providers.clone(),
        ..Default::default()
    }
    .provider_origins();
    let hsts = serves_https(&app.config.public_url);
    // Rocket's `client_ip()` believes `X-Real-IP` from anyone: off, so that nothing can
    // use it; the client's address is `client::of`, which believes trusted proxies only.
    let mut rocket = rocket::custom(figment.merge(("ip_header", false)))
        .manage(Arc::new(app))
        .attach(SecurityHeaders::new(&origins, hsts))
        .attach(live::ExpireOnWrite);
    // Every route is mounted through the CSRF shield: an unsafe one cannot be reached
    // without this browser's token, whether or not its handler thinks of it.
    for (base, routes) in [
        ("/", pages::routes()),
        ("/", account::routes()),
        ("/", admin::routes()),
        ("/", verification::routes()),
        ("/", oidc::routes()),
        ("/", consultations::routes()),
        ("/", opendata::routes()),
        ("/", votes::routes()),
        ("/", consolidation::routes()),
        ("/", comments::routes()),
        ("/", moderation::routes()),
        ("/", datasets::routes()),
        ("/api/v1", moderation::api_routes()),
        ("/", campaigns::routes()),
        ("/api/v1", comments::api_routes()),
        ("/api/v1", consultation_api::routes()),
        ("/api/v1", api::routes()),
        ("/api/v1", votes::api_routes()),
    ] {
        rocket = rocket.mount(base, csrf::shield(routes));
    }
    rocket
        .register("/", errors::html_catchers())
        .register("/api", errors::api_catchers())
}

/// A Rocket configuration for tests and tools: no secret key needed, quiet logs.
pub fn test_figment() -> rocket::figment::Figment {
    rocket::Config::figment()
        .merge(("log_level", rocket::config::LogLevel::Off))
        .merge(("cli_colors", false))
}
