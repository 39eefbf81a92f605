//! Pages of a consultation as anonymous visitors see them (an article with its comments,
//! the amendment list, an amendment, the consultation). They change with every comment,
//! filing and ruling, so unlike a bill's pages they cannot be keyed by a version. Each is
//! kept as rendered for [`FRESH_FOR`]; once that has passed, one request renders it again
//! while the others are served the previous rendering. A visitor therefore sees a new
//! contribution about a second after it is made, and a page read by many costs one
//! rendering a second instead of one per request (issue 4: 32 readers at once on an
//! article with 300 comments). Signed-in people, whose pages carry their own forms and
//! their just-posted comments, always get a page rendered for them.
//!
//! Every write this server carries out (a request other than GET or HEAD answered 2xx or
//! 3xx: a comment, a filing, a ruling, a moderation decision…) makes every kept page stale
//! ([`ExpireOnWrite`]): the next request renders it again, so on one server a change shows
//! at once to whoever comes next (those already waiting get the previous rendering
//! rather than all rendering it at once). The second bounds how late a write made by
//! another process shows (several servers on one PostgreSQL database, the command line).

use super::auth::CsrfToken;
use super::conditional::{CachedPage, IfNoneMatch};
use super::errors::AppError;
use super::{App, AppState, Ctx};
use crate::cache::{Bytes, Cache, Weight};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::{Request, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a rendering is served as it is, unless configured (`live_pages_ms`).
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// A renewal taking longer than this (a stuck or failed worker) is handed to the next
/// request, so a page is never left stale because one rendering did not finish.
const RENEWAL_TIMEOUT: Duration = Duration::from_secs(10);

struct Entry {
    rendered_at: Instant,
    /// The cache's generation when the rendering began: stale once writes have moved it.
    generation: u64,
    body: Arc<String>,
    etag: String,
    /// When a request took on rendering this page again, if one is at it. Its own lock,
    /// so that of the requests finding the page stale exactly one takes it on.
    renewing_since: Mutex<Option<Instant>>,
}

impl Weight for Arc<Entry> {
    fn bytes(&self) -> usize {
        self.body.len()
    }
}

/// Rendered anonymous pages of consultations, bounded in bytes.
pub struct LiveCache {
    pages: Cache<String, Arc<Entry>, Bytes>,
    /// Counts the writes seen: a page rendered before the last one is stale.
    generation: AtomicU64,
    /// Held while a rendering is kept or dropped, so that checking for a later rendering
    /// and replacing the page are one step.
    writing: Mutex<()>,
    /// Zero: no page is kept.
    fresh_for: Duration,
}

/// What a request should do with a page.
#[derive(Debug)]
pub enum Lookup {
    /// Serve this rendering.
    Serve { body: Arc<String>, etag: String },
    /// Render it (and [`LiveCache::store`] or [`LiveCache::abandon`] the result),
    /// reading after this point of the cache's life.
    Render { generation: u64 },
}

impl LiveCache {
    pub fn new(max_bytes: usize, fresh_for: Duration) -> Self {
        LiveCache {
            // A consultation page weighs some tens of kilobytes.
            pages: crate::cache::in_bytes(max_bytes, max_bytes / (32 * 1024)),
            generation: AtomicU64::new(0),
            writing: Mutex::new(()),
            fresh_for,
        }
    }

    /// The page under `key` as of `now`: fresh, or stale while another request renders
    /// it again, is served; otherwise the caller renders it (and, when a rendering is
    /// there, the others are served that one meanwhile).
    pub fn lookup(&self, key: &str, now: Instant) -> Lookup {
        let generation = self.generation.load(Ordering::Acquire);
        let Some(e) = self.pages.get(key) else {
            return Lookup::Render { generation };
        };
        let serve = || Lookup::Serve {
            body: e.body.clone(),
            etag: e.etag.clone(),
        };
        if e.generation == generation
            && now.saturating_duration_since(e.rendered_at) < self.fresh_for
        {
            return serve();
        }
        let mut renewing = e
            .renewing_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if renewing.is_some_and(|s| now.saturating_duration_since(s) < RENEWAL_TIMEOUT) {
            return serve();
        }
        *renewing = Some(now);
        Lookup::Render { generation }
    }

    /// Keeps a rendering begun at `rendered_at` in `generation` (when it fits; already
    /// stale if a write came since, but still the newest there is), replacing the
    /// previous one; returns it with its ETag, a digest of the bytes.
    pub fn store(
        &self,
        key: String,
        body: String,
        rendered_at: Instant,
        generation: u64,
    ) -> (Arc<String>, String) {
        let digest = crate::text::hash::sha256_hex(body.as_bytes());
        let etag = format!("\"l-{}\"", &digest[..24]);
        let body = Arc::new(body);
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        // Two renderings raced (a cold start): the one that read later stays.
        if self
            .pages
            .peek(key.as_str())
            .is_some_and(|e| e.generation > generation)
        {
            return (body, etag);
        }
        // One too large to keep still drops the previous one (the crate's insertion does).
        if !self.fresh_for.is_zero() {
            let entry = Entry {
                rendered_at,
                generation,
                body: body.clone(),
                etag: etag.clone(),
                renewing_since: Mutex::new(None),
            };
            self.pages.insert(key, Arc::new(entry));
        }
        (body, etag)
    }

    /// The rendering failed (a page that is now an error, say): the page is dropped, so
    /// errors are never served from here and the next request renders it.
    pub fn abandon(&self, key: &str) {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.pages.remove(key);
    }

    /// Makes every kept page stale: something may have changed.
    pub fn expire_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Makes the [`LiveCache`]'s pages stale after each write request, once its response is
/// ready (the write is then committed).
pub struct ExpireOnWrite;

#[rocket::async_trait]
impl Fairing for ExpireOnWrite {
    fn info(&self) -> Info {
        Info {
            name: "live pages expired by writes",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Only a write that was carried out, by someone signed in (every write that
        // changes a page needs an account): a refusal answers 4xx through the one error
        // path and its transaction changed nothing, and an anonymous form is sent to
        // the sign-in page. Otherwise anyone could empty the cache at will.
        let carried_out = matches!(
            res.status().class(),
            rocket::http::StatusClass::Success | rocket::http::StatusClass::Redirection
        );
        if carried_out
            && !matches!(req.method(), Method::Get | Method::Head)
            && req
                .guard::<super::auth::Viewer>()
                .await
                .succeeded()
                .is_some_and(|v| v.0.is_some())
        {
            if let Some(app) = req.rocket().state::<AppState>() {
                app.live.expire_all();
            }
        }
    }
}

/// Serves a consultation page: rendered for a signed-in viewer, from the [`LiveCache`]
/// for anyone else. `render` gets the CSRF token only for a signed-in viewer: a page
/// shared between visitors must carry nobody's token (anonymous visitors are offered no
/// form there anyway).
pub async fn page(
    app: &AppState,
    ctx: Ctx,
    csrf: Option<CsrfToken>,
    inm: IfNoneMatch,
    render: impl FnOnce(&App, &Ctx, Option<&CsrfToken>) -> Result<String, AppError> + Send + 'static,
) -> Result<CachedPage, AppError> {
    let lang = ctx.lang;
    if ctx.viewer.is_some() {
        let body = super::blocking(app, move |app| render(app, &ctx, csrf.as_ref())).await?;
        return Ok(CachedPage::Private { body });
    }
    let key = format!("{}|{}", lang.code(), ctx.cache_key);
    let (body, etag) = match app.live.lookup(&key, Instant::now()) {
        Lookup::Serve { body, etag } => (body, etag),
        Lookup::Render { generation } => {
            super::blocking(app, move |app| {
                let started = Instant::now();
                match render(app, &ctx, None) {
                    Ok(body) => Ok(app.live.store(key, body, started, generation)),
                    Err(e) => {
                        app.live.abandon(&key);
                        Err(e)
                    }
                }
            })
            .await?
        }
    };
    Ok(if inm.matches(&etag) {
        CachedPage::NotModified { etag }
    } else {
        CachedPage::Page { etag, body }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(l: Lookup) -> Option<String> {
        match l {
            Lookup::Serve { body, .. } => Some(body.to_string()),
            Lookup::Render { .. } => None,
        }
    }

    #[test]
    fn one_request_renders_again_while_the_others_get_the_last_rendering() {
        let cache = LiveCache::new(1 << 20, FRESH_FOR);
        let t0 = Instant::now();
        assert!(
            served(cache.lookup("k", t0)).is_none(),
            "nothing yet: render"
        );
        let (_, etag1) = cache.store("k".into(), "one".into(), t0, 0);
        assert_eq!(served(cache.lookup("k", t0)).as_deref(), Some("one"));
        let later = t0 + FRESH_FOR + Duration::from_millis(1);
        assert!(
            served(cache.lookup("k", later)).is_none(),
            "stale: the first request renders"
        );
        assert_eq!(
            served(cache.lookup("k", later)).as_deref(),
            Some("one"),
            "the others meanwhile get the last rendering"
        );
        let (_, etag2) = cache.store("k".into(), "two".into(), later, 0);
        assert_ne!(etag1, etag2, "the ETag follows the bytes");
        assert_eq!(served(cache.lookup("k", later)).as_deref(), Some("two"));
        // A renewal that never finishes is handed on.
        let stale = later + FRESH_FOR;
        assert!(served(cache.lookup("k", stale)).is_none());
        assert!(served(cache.lookup("k", stale + RENEWAL_TIMEOUT)).is_none());
    }

    #[test]
    fn a_failed_rendering_leaves_nothing_and_the_bytes_are_bounded() {
        let cache = LiveCache::new(10, FRESH_FOR);
        let t0 = Instant::now();
        cache.store("a".into(), "12345".into(), t0, 0);
        cache.abandon("a");
        assert!(served(cache.lookup("a", t0)).is_none());
        cache.store("a".into(), "12345".into(), t0, 0);
        cache.store("b".into(), "12345".into(), t0, 0);
        cache.store("c".into(), "123".into(), t0, 0);
        let kept =
            |cache: &LiveCache| ["a", "b", "c"].map(|k| served(cache.lookup(k, t0)).is_some());
        let before = kept(&cache);
        assert!(before[2], "the newest is kept");
        assert!(
            !(before[0] && before[1]),
            "one of the others made room for it"
        );
        cache.store("big".into(), "12345678901".into(), t0, 0);
        assert!(served(cache.lookup("big", t0)).is_none(), "too big to keep");
        assert_eq!(kept(&cache), before, "and evicts nothing");
    }

    #[test]
    fn after_a_write_the_next_request_renders_and_the_others_meanwhile_get_the_last_page() {
        let cache = LiveCache::new(1 << 20, FRESH_FOR);
        let t0 = Instant::now();
        let Lookup::Render { generation } = cache.lookup("k", t0) else {
            panic!("an empty cache serves nothing")
        };
        cache.store("k".into(), "before".into(), t0, generation);
        assert!(served(cache.lookup("k", t0)).is_some());
        cache.expire_all();
        let Lookup::Render { generation: g2 } = cache.lookup("k", t0) else {
            panic!("stale after a write: the next request renders")
        };
        assert_eq!(served(cache.lookup("k", t0)).as_deref(), Some("before"));
        // A rendering begun before the write, kept after it: stale at once.
        cache.store("k".into(), "old".into(), t0, generation);
        assert!(served(cache.lookup("k", t0)).is_none());
        cache.store("k".into(), "new".into(), t0, g2);
        assert_eq!(served(cache.lookup("k", t0)).as_deref(), Some("new"));
        // One begun before the write and finished after a newer one does not replace it.
        cache.store("k".into(), "older".into(), t0, generation);
        assert_eq!(served(cache.lookup("k", t0)).as_deref(), Some("new"));
    }

    #[test]
    fn a_zero_freshness_keeps_nothing() {
        let cache = LiveCache::new(1 << 20, Duration::ZERO);
        let t0 = Instant::now();
        cache.store("k".into(), "page".into(), t0, 0);
        assert!(served(cache.lookup("k", t0)).is_none());
    }
}
