//! Reading bills: versions loaded once and kept in a bounded cache (a version never
//! changes, so a cached copy is never stale), and comparisons between versions.

use crate::cache::{Bytes, Cache, Weight};
use crate::domain::bill::VersionRef;
use crate::domain::ids::BillId;
use crate::store::{self, Store, StoreError};
use crate::text::diff::{compare_versions, VersionDiff};
use crate::text::Unit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a version list checked against the database is trusted without asking again
/// (`Reader::fresh_versions`): a version imported by another process is seen within
/// this window, one imported in this process at once (`note_new_versions`).
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Counts the imports committed in this process, so cached version lists are rechecked.
static IMPORTS: AtomicU64 = AtomicU64::new(0);

/// Called after an import committed new versions: every cached list gets rechecked.
pub fn note_new_versions() {
    IMPORTS.fetch_add(1, Ordering::Release);
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("there is no bill \"{0}\"")]
    UnknownBill(String),
    #[error("bill \"{bill}\" has no version {number}")]
    UnknownVersion { bill: String, number: i32 },
    #[error("versions of two different bills (\"{0}\" and \"{1}\") cannot be compared")]
    CrossBill(String, String),
    #[error("bill \"{0}\" has no version yet")]
    Empty(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A version with its text and units.
#[derive(Debug)]
pub struct LoadedVersion {
    pub meta: store::versions::VersionMeta,
    pub markdown: String,
    pub units: Vec<Unit>,
}

impl Weight for Arc<LoadedVersion> {
    fn bytes(&self) -> usize {
        self.markdown.len() + self.units.len() * 160
    }
}

impl LoadedVersion {
    pub fn unit_index(&self, wid: &str) -> Option<usize> {
        self.units.iter().position(|u| u.wid == wid)
    }
}

pub use crate::store::unit_history::UnitAt;

pub struct Comparison {
    pub from: Arc<LoadedVersion>,
    pub to: Arc<LoadedVersion>,
    pub diff: VersionDiff,
}

/// A bill and the metadata of its versions, oldest first.
pub type BillVersions = (store::bills::Bill, Arc<Vec<store::versions::VersionMeta>>);

/// A version list and the highest version number it was read at.
struct CachedBill {
    bill: store::bills::Bill,
    max: Option<i32>,
    versions: Arc<Vec<store::versions::VersionMeta>>,
    /// When and at which import count (`IMPORTS`) that number was last checked; its own
    /// lock, so that of the readers finding the window passed exactly one checks again.
    checked: Mutex<(Instant, u64)>,
}

/// Bills whose version list is kept at most.
const BILLS: usize = 1024;

/// Reads bills through a cache of loaded versions bounded in bytes.
pub struct Reader {
    store: Store,
    /// Loaded versions by bill id and number.
    versions: Cache<(BillId, i32), Arc<LoadedVersion>, Bytes>,
    /// Version lists by slug.
    bills: Cache<String, Arc<CachedBill>>,
}

impl Reader {
    pub fn new(store: Store, max_cache_bytes: usize) -> Reader {
        Reader {
            store,
            bills: Cache::new(BILLS),
            // A version weighs from some kilobytes to a few megabytes (a whole code).
            versions: crate::cache::in_bytes(max_cache_bytes, max_cache_bytes / (256 * 1024)),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bills(&self) -> Result<Vec<store::bills::BillSummary>, ReadError> {
        let mut conn = self.store.conn()?;
        Ok(store::bills::list(&mut conn)?)
    }

    /// The bill and the metadata of all its versions (oldest first).
    ///
    /// The list is kept in memory and reread only when the bill's highest version number
    /// changed (versions are append-only), which one indexed lookup tells, so that other
    /// processes' imports are seen at once.
    pub fn bill(&self, slug: &str) -> Result<BillVersions, ReadError> {
        // Taken before the queries, so that the window never outlasts what they saw.
        let (checked, imports) = (Instant::now(), IMPORTS.load(Ordering::Acquire));
        let mut conn = self.store.conn()?;
        let bill = store::bills::by_slug(&mut conn, slug)?
            .ok_or_else(|| ReadError::UnknownBill(slug.to_string()))?;
        let max = store::versions::max_number(&mut conn, bill.id)?;
        if let Some(c) = self.bills.get(slug) {
            if c.bill == bill && c.max == max {
                *c.checked.lock().map_err(|_| poisoned())? = (checked, imports);
                return Ok((bill, c.versions.clone()));
            }
        }
        // Shared, not copied, by every request that reads it.
        let versions = Arc::new(store::versions::list_meta(&mut conn, bill.id)?);
        let cached = CachedBill {
            bill: bill.clone(),
            max,
            versions: versions.clone(),
            checked: Mutex::new((checked, imports)),
        };
        self.bills.insert(slug.to_string(), Arc::new(cached));
        Ok((bill, versions))
    }

    /// The cached version list of a bill, without any database access, if it was checked
    /// less than `FRESH_FOR` ago and no import committed in this process since. When the
    /// window has passed, the first caller gets None (and should call [`Reader::bill`],
    /// which checks again) while the others keep the list for one more window, so that
    /// the check runs about once per window, not once per waiting request.
    pub fn fresh_versions(&self, slug: &str) -> Option<Arc<Vec<store::versions::VersionMeta>>> {
        let c = self.bills.get(slug)?;
        let mut checked = c.checked.lock().ok()?;
        let (at, imports) = &mut *checked;
        if *imports != IMPORTS.load(Ordering::Acquire) {
            return None;
        }
        let now = Instant::now();
        if now.duration_since(*at) >= FRESH_FOR {
            *at = now;
            return None;
        }
        Some(c.versions.clone())
    }

    /// Loads version `number` of a bill (cached).
    pub fn version(
        &self,
        bill: &store::bills::Bill,
        number: i32,
    ) -> Result<Arc<LoadedVersion>, ReadError> {
        // Versions never change: a kept one is never stale. Readers of one not yet kept
        // wait for the first one's loading rather than load it too.
        self.versions.get_or_insert_with(&(bill.id, number), || {
            let mut conn = self.store.conn()?;
            let v = store::versions::by_number(&mut conn, bill.id, number)?.ok_or_else(|| {
                ReadError::UnknownVersion {
                    bill: bill.slug.clone(),
                    number,
                }
            })?;
            let units = store::units::for_version(&mut conn, v.meta.id)?;
            Ok(Arc::new(LoadedVersion {
                meta: v.meta,
                markdown: v.markdown,
                units,
            }))
        })
    }

    /// Every version of the bill that has unit `wid`, oldest first.
    pub fn unit_history(
        &self,
        bill: &store::bills::Bill,
        wid: &str,
    ) -> Result<Vec<UnitAt>, ReadError> {
        let mut conn = self.store.conn()?;
        Ok(store::unit_history::history(&mut conn, bill.id, wid)?)
    }

    /// Compares two versions of bill `slug`; a reference naming another bill is refused.
    pub fn compare(
        &self,
        slug: &str,
        from: &VersionRef,
        to: &VersionRef,
    ) -> Result<Comparison, ReadError> {
        for r in [from, to] {
            if let Some(other) = &r.bill {
                if other != slug {
                    return Err(ReadError::CrossBill(slug.to_string(), other.clone()));
                }
            }
        }
        let (bill, _) = self.bill(slug)?;
        let a = self.version(&bill, from.number)?;
        let b = self.version(&bill, to.number)?;
        let diff = compare_versions(&a.markdown, &a.units, &b.markdown, &b.units);
        Ok(Comparison {
            from: a,
            to: b,
            diff,
        })
    }
}

fn poisoned() -> ReadError {
    ReadError::Internal("version list lock poisoned")
}
