//! The stage cache: answers of methods with caching enabled, kept per worker for their TTL and
//! shared by its threads, one cache per stage whose cache cluster is enabled.
//!
//! A stage's cache holds at most its `cacheClusterSize` (in GB, as AWS sizes it) and at most
//! what the worker allows a stage (`--cache-max-bytes`); past it, the least recently used
//! answers go first. Caches are found by stage in [`ResponseCaches`], so a new configuration
//! (every revision builds one) keeps the answers of stages whose cache did not change; a new
//! size starts an empty cache (AWS deletes a cache it resizes), and FlushStageCache, a new
//! generation, empties it on every worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::domain::enums::CacheClusterSize;
use crate::domain::stage::StageConfig;

/// AWS's limit on a cached answer (1 MB): larger ones are served, not kept.
pub const MAX_CACHED_BYTES: usize = 1 << 20;

/// What a worker lets one stage's cache hold, unless told otherwise.
pub const DEFAULT_STAGE_LIMIT: u64 = 512 << 20;

/// An answer as it is kept: what the integration answered, and for how long it stands.
#[derive(Debug)]
pub struct CachedAnswer {
    pub status: StatusCode,
    /// Its headers, a backend's passed through ones included (renamed as they would be sent).
    pub headers: HeaderMap,
    pub body: Bytes,
    pub traced: bool,
    pub ttl: Duration,
}

impl CachedAnswer {
    /// What the answer costs the cache: its body, headers and key, and a little for itself.
    fn weight(&self, key: &str) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 32)
            .sum();
        u32::try_from(key.len() + self.body.len() + headers + 128).unwrap_or(u32::MAX)
    }
}

type Entries = moka::sync::Cache<String, Arc<CachedAnswer>, foldhash::fast::RandomState>;

/// One stage's cache on this worker.
pub struct StageCache {
    /// The cluster size it was made for (a new size starts a new cache, as on AWS).
    size: Option<CacheClusterSize>,
    /// Bytes it may hold.
    capacity: u64,
    /// The generation of FlushStageCache it holds answers of.
    flushed: AtomicI64,
    entries: Entries,
}

/// Each answer lives for its method's TTL.
struct PerEntryTtl;

impl moka::Expiry<String, Arc<CachedAnswer>> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, answer: &Arc<CachedAnswer>, _: Instant) -> Option<Duration> {
        Some(answer.ttl)
    }

    /// A fresh answer (`Cache-Control: max-age=0`) stands for its whole TTL.
    fn expire_after_update(
        &self,
        _: &String,
        answer: &Arc<CachedAnswer>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(answer.ttl)
    }
}

impl StageCache {
    fn new(size: Option<CacheClusterSize>, capacity: u64, flushed: i64) -> Self {
        Self {
            size,
            capacity,
            flushed: AtomicI64::new(flushed),
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .weigher(|key: &String, answer: &Arc<CachedAnswer>| answer.weight(key))
                .expire_after(PerEntryTtl)
                // Keys hold caller-chosen values: foldhash's seeds are random per process, so
                // no caller can aim collisions at one bucket.
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        self.entries.get(key)
    }

    /// Keeps `answer` under `key` for its TTL (a zero TTL, or an answer over 1 MB, keeps
    /// nothing).
    pub fn put(&self, key: String, answer: CachedAnswer) {
        if !answer.ttl.is_zero() && answer.body.len() <= MAX_CACHED_BYTES {
            self.entries.insert(key, Arc::new(answer));
        }
    }

    /// How many answers it holds (once pending work is done).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for StageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageCache")
            .field("capacity", &self.capacity)
            .field("flushed", &self.flushed.load(Ordering::Relaxed))
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

/// Bytes of a cache cluster size (AWS's sizes are in GB).
fn cluster_bytes(size: Option<CacheClusterSize>) -> u64 {
    let gb: f64 = size
        .map_or("0.5", CacheClusterSize::as_str)
        .parse()
        .unwrap_or(0.5);
    (gb * f64::from(1u32 << 30)) as u64
}

/// The worker's stage caches, by API and stage.
#[derive(Debug)]
pub struct ResponseCaches {
    /// The most one stage's cache may hold on this worker.
    stage_limit: u64,
    stages: Mutex<HashMap<(String, String), Arc<StageCache>>>,
}

impl Default for ResponseCaches {
    fn default() -> Self {
        Self::with_stage_limit(DEFAULT_STAGE_LIMIT)
    }
}

impl ResponseCaches {
    pub fn with_stage_limit(stage_limit: u64) -> Self {
        Self {
            stage_limit,
            stages: Mutex::default(),
        }
    }

    /// The caches of `stages` (those with a cache cluster), as a new configuration serves them:
    /// a stage keeps its cache unless its size changed, emptied if it was flushed since; the
    /// caches of stages no longer served, or no longer cached, are dropped.
    pub fn refresh<'a>(
        &self,
        stages: impl IntoIterator<Item = &'a StageConfig>,
    ) -> HashMap<(String, String), Arc<StageCache>> {
        let mut kept = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        let mut now = HashMap::new();
        for s in stages {
            if !s.stage.cache_cluster_enabled {
                continue;
            }
            let key = (s.api_id.clone(), s.stage.stage_name.clone());
            let capacity = cluster_bytes(s.stage.cache_cluster_size).min(self.stage_limit);
            let cache = match kept.get(&key) {
                Some(c) if c.size == s.stage.cache_cluster_size && c.capacity == capacity => {
                    if c.flushed.swap(s.cache_flushed, Ordering::Relaxed) != s.cache_flushed {
                        c.entries.invalidate_all();
                    }
                    c.clone()
                }
                _ => Arc::new(StageCache::new(
                    s.stage.cache_cluster_size,
                    capacity,
                    s.cache_flushed,
                )),
            };
            now.insert(key, cache);
        }
        *kept = now.clone();
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static [u8], ttl: u64) -> CachedAnswer {
        CachedAnswer {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body),
            traced: false,
            ttl: Duration::from_secs(ttl),
        }
    }

    #[test]
    fn answers_are_kept_for_their_ttl_up_to_a_megabyte() {
        let cache = StageCache::new(None, 1 << 30, 0);
        cache.put("a".into(), answer(b"one", 60));
        cache.put("b".into(), answer(b"zero", 0));
        assert_eq!(&cache.get("a").unwrap().body[..], b"one");
        assert!(cache.get("b").is_none());
        let big = CachedAnswer {
            body: Bytes::from(vec![0u8; MAX_CACHED_BYTES + 1]),
            ..answer(b"", 60)
        };
        cache.put("c".into(), big);
        assert!(cache.get("c").is_none());
    }

    #[test]
    fn a_cache_holds_its_size_in_bytes() {
        let cache = StageCache::new(None, 64 << 10, 0);
        static KB: [u8; 1024] = [b'x'; 1024];
        for i in 0..200 {
            cache.put(format!("k{i}"), answer(&KB, 60));
        }
        let held = cache.len();
        assert!(held > 0 && held < 64, "{held} answers of 1 KB in 64 KB");
    }

    #[test]
    fn cluster_sizes_are_gigabytes() {
        assert_eq!(cluster_bytes(Some(CacheClusterSize::S0_5)), 512 << 20);
        assert_eq!(cluster_bytes(Some(CacheClusterSize::S237)), 237 << 30);
        assert_eq!(cluster_bytes(None), 512 << 20);
    }
}
