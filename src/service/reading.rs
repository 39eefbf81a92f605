//! Reading bills: versions loaded once and kept in a bounded cache (a version never
//! changes, so a cached copy is never stale), and comparisons between versions.

use crate::domain::bill::VersionRef;
use crate::store::{self, Store, StoreError};
use crate::text::diff::{compare_versions, VersionDiff};
use crate::text::Unit;
use std::collections::{HashMap, VecDeque};
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

impl LoadedVersion {
    fn weight(&self) -> usize {
        self.markdown.len() + self.units.len() * 160
    }

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

/// A version list, the highest version number it was read at, and when and at which
/// import count (`IMPORTS`) that number was last checked.
struct CachedBill {
    bill: store::bills::Bill,
    max: Option<i32>,
    versions: Arc<Vec<store::versions::VersionMeta>>,
    checked: Instant,
    imports: u64,
}

/// Reads bills through a cache of loaded versions bounded in bytes.
pub struct Reader {
    store: Store,
    cache: Mutex<VersionCache>,
    /// Version lists by slug, with the highest version number they were read at.
    bills: Mutex<HashMap<String, CachedBill>>,
}

struct VersionCache {
    map: HashMap<(i64, i32), Arc<LoadedVersion>>,
    order: VecDeque<(i64, i32)>,
    bytes: usize,
    max_bytes: usize,
}

impl Reader {
    pub fn new(store: Store, max_cache_bytes: usize) -> Reader {
        Reader {
            store,
            bills: Mutex::new(HashMap::new()),
            cache: Mutex::new(VersionCache {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                max_bytes: max_cache_bytes,
            }),
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
        if let Some(c) = self.bills.lock().map_err(|_| poisoned())?.get_mut(slug) {
            if c.bill == bill && c.max == max {
                (c.checked, c.imports) = (checked, imports);
                return Ok((bill, c.versions.clone()));
            }
        }
        // Shared, not copied, by every request that reads it.
        let versions = Arc::new(store::versions::list_meta(&mut conn, bill.id)?);
        self.bills.lock().map_err(|_| poisoned())?.insert(
            slug.to_string(),
            CachedBill {
                bill: bill.clone(),
                max,
                versions: versions.clone(),
                checked,
                imports,
            },
        );
        Ok((bill, versions))
    }

    /// The cached version list of a bill, without any database access, if it was checked
    /// less than `FRESH_FOR` ago and no import committed in this process since. When the
    /// window has passed, the first caller gets None (and should call [`Reader::bill`],
    /// which checks again) while the others keep the list for one more window, so that
    /// the check runs about once per window, not once per waiting request.
    pub fn fresh_versions(&self, slug: &str) -> Option<Arc<Vec<store::versions::VersionMeta>>> {
        let mut bills = self.bills.lock().ok()?;
        let c = bills.get_mut(slug)?;
        if c.imports != IMPORTS.load(Ordering::Acquire) {
            return None;
        }
        let now = Instant::now();
        if now.duration_since(c.checked) >= FRESH_FOR {
            c.checked = now;
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
        let key = (bill.id, number);
        if let Some(v) = self.cache.lock().map_err(|_| poisoned())?.map.get(&key) {
            return Ok(v.clone());
        }
        let mut conn = self.store.conn()?;
        let v = store::versions::by_number(&mut conn, bill.id, number)?.ok_or_else(|| {
            ReadError::UnknownVersion {
                bill: bill.slug.clone(),
                number,
            }
        })?;
        let units = store::units::for_version(&mut conn, v.meta.id)?;
        let loaded = Arc::new(LoadedVersion {
            meta: v.meta,
            markdown: v.markdown,
            units,
        });
        let mut cache = self.cache.lock().map_err(|_| poisoned())?;
        let w = loaded.weight();
        if w <= cache.max_bytes && !cache.map.contains_key(&key) {
            while cache.bytes + w > cache.max_bytes {
                let Some(old) = cache.order.pop_front() else {
                    break;
                };
                if let Some(v) = cache.map.remove(&old) {
                    cache.bytes -= v.weight();
                }
            }
            cache.bytes += w;
            cache.order.push_back(key);
            cache.map.insert(key, loaded.clone());
        }
        Ok(loaded)
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
    ReadError::Internal("version cache lock poisoned")
}
