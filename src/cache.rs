//! The in-memory caches' one crate, `quick_cache`, and how those bounded in bytes are made.
//! Entries are evicted by the crate's policy (recently and often read ones stay), so no
//! cache keeps its own eviction.

use std::hash::Hash;
use std::sync::Arc;

/// A concurrent cache bounded in entries or, with [`Bytes`], in bytes.
pub type Cache<K, V, W = quick_cache::UnitWeighter> = quick_cache::sync::Cache<K, V, W>;

/// What an entry of a cache bounded in bytes weighs: about the memory it holds.
pub trait Weight {
    fn bytes(&self) -> usize;
}

impl Weight for Arc<String> {
    fn bytes(&self) -> usize {
        self.len()
    }
}

/// Weighs entries by [`Weight`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Bytes;

impl<K, V: Weight> quick_cache::Weighter<K, V> for Bytes {
    fn weight(&self, _key: &K, value: &V) -> u64 {
        // Never zero: the crate never evicts an entry that weighs nothing.
        value.bytes().max(1) as u64
    }
}

/// A cache holding at most `max_bytes`; an entry heavier than that is not kept.
/// `estimated_entries` sizes its bookkeeping (`max_bytes` over a typical entry's weight).
pub fn in_bytes<K: Eq + Hash, V: Clone + Weight>(
    max_bytes: usize,
    estimated_entries: usize,
) -> Cache<K, V, Bytes> {
    let options = quick_cache::OptionsBuilder::new()
        .estimated_items_capacity(estimated_entries.max(1))
        .weight_capacity(max_bytes as u64)
        // One shard: each shard has its share of the bound and refuses anything larger,
        // and the text of a large bill may weigh a good part of the whole. Reads share the
        // shard's lock; only insertions wait for each other.
        .shards(1)
        .build()
        .expect("the options set are complete");
    Cache::with_options(options, Bytes, Default::default(), Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_bytes_and_refuses_what_cannot_fit() {
        let cache: Cache<&str, Arc<String>, Bytes> = in_bytes(10, 4);
        cache.insert("a", Arc::new("12345".into()));
        cache.insert("b", Arc::new("12345".into()));
        assert_eq!(cache.weight(), 10);
        cache.insert("c", Arc::new("123".into()));
        assert!(cache.weight() <= 10, "something was evicted");
        assert!(cache.get("c").is_some());
        cache.insert("big", Arc::new("12345678901".into()));
        assert!(cache.get("big").is_none(), "heavier than the bound");
        assert!(cache.get("c").is_some(), "and nothing evicted for it");
    }
}
