//! Authorizer results, cached per stage, authorizer and identity for the authorizer's TTL,
//! across every thread of a worker (so a TTL means one call per identity per worker, not per
//! thread). Bounded: the least recently used entries go first past the capacity.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Verdict;

/// At most this many identities are remembered per worker.
const CAPACITY: u64 = 100_000;

pub struct AuthorizerCache {
    entries: moka::sync::Cache<String, Entry, foldhash::fast::RandomState>,
}

#[derive(Clone)]
struct Entry {
    verdict: Arc<Verdict>,
    ttl: Duration,
}

/// Each entry lives for its authorizer's TTL.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _created: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl Default for AuthorizerCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl AuthorizerCache {
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                // Keys are built by the gateway from caller-chosen values: foldhash's seeds are
                // random per process, so no caller can aim collisions at one bucket.
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Verdict>> {
        self.entries.get(key).map(|e| e.verdict)
    }

    /// Keeps `verdict` under `key` for `ttl` (a zero TTL keeps nothing).
    pub fn put(&self, key: String, verdict: Arc<Verdict>, ttl: Duration) {
        if !ttl.is_zero() {
            self.entries.insert(key, Entry { verdict, ttl });
        }
    }
}

impl std::fmt::Debug for AuthorizerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizerCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}
