//! Token buckets: the rate limits of stage methods and usage plans, held per worker and shared
//! by its threads.
//!
//! A bucket holds `burst` tokens and gains `rate` a second; a request takes one or is throttled,
//! told how long until one is back (`Retry-After`). Limits are fleet-wide: each worker enforces
//! its share, `1 / fleet size` of the rate and the burst (never less than one token of burst),
//! the fleet size being what the control plane last said. The buckets of a worker are found by
//! name in [`Limiters`], so a new configuration (every revision builds one) keeps the state of
//! the buckets whose limits did not change. Buckets no configuration holds are forgotten once
//! full again: a full bucket is what a new one would be, so nothing is lost.
//!
//! With a Redis backend ([`redis::RedisLimits`]), the buckets are kept in Redis instead and
//! limits are exact across the fleet; the local shares stand in while Redis cannot be reached.

pub mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A rate limit: requests a second, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub rate: f64,
    pub burst: f64,
}

impl Limit {
    /// A limit as AWS's settings give one: an unset rate or burst, or a negative one (`-1`,
    /// Terraform's "throttling disabled"), means no limit.
    pub fn of(rate: Option<f64>, burst: Option<i32>) -> Option<Self> {
        let (rate, burst) = (rate?, burst?);
        if rate.is_nan() || rate < 0.0 || burst < 0 {
            return None;
        }
        Some(Self {
            rate,
            burst: f64::from(burst),
        })
    }

    /// A stage's method setting's limit: as [`Limit::of`], and none for the values AWS shows
    /// when none was set (10,000/s, burst 5,000: the account's limit, which is not imposed).
    pub fn of_method_setting(rate: f64, burst: i32) -> Option<Self> {
        if rate == 10_000.0 && burst == 5_000 {
            return None;
        }
        Self::of(Some(rate), Some(burst))
    }
}

#[derive(Debug)]
pub struct Bucket {
    /// Its name in [`Limiters`] (and its key in Redis).
    name: Box<str>,
    limit: Limit,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    at: Instant,
    /// The share the tokens were counted for.
    fleet: u32,
}

impl Bucket {
    fn new(name: &str, limit: Limit) -> Self {
        Self {
            name: name.into(),
            limit,
            state: Mutex::new(State {
                tokens: limit.burst,
                at: Instant::now(),
                fleet: 1,
            }),
        }
    }

    /// This worker's share of the limit in a fleet of `fleet`: its rate and its burst. A limit
    /// of no burst lets nothing through; otherwise each worker may take at least one.
    fn share(&self, fleet: u32) -> (f64, f64) {
        let share = 1.0 / f64::from(fleet.max(1));
        let burst = if self.limit.burst <= 0.0 {
            0.0
        } else {
            (self.limit.burst * share).max(1.0)
        };
        (self.limit.rate * share, burst)
    }

    /// Whether the bucket is full at `now`: as a new one would be.
    fn is_full(&self, now: Instant) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (rate, burst) = self.share(s.fleet);
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens + elapsed * rate >= burst
    }

    /// Takes a token at `now` for a worker of a fleet of `fleet`; when there is none, how long
    /// until there is.
    pub fn take(&self, now: Instant, fleet: u32) -> Result<(), Duration> {
        let fleet = fleet.max(1);
        let (rate, burst) = self.share(fleet);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.fleet != fleet {
            s.tokens = s.tokens.min(burst);
            s.fleet = fleet;
        }
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * rate).min(burst);
        s.at = now.max(s.at);
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            return Ok(());
        }
        if rate <= 0.0 || burst < 1.0 {
            // Never refilled: AWS's answer to a limit of zero is a throttle, whenever asked.
            return Err(Duration::from_secs(1));
        }
        // A tiny rate may mean a wait too long to represent: a day says as much.
        const DAY: Duration = Duration::from_secs(86_400);
        Err(Duration::try_from_secs_f64((1.0 - s.tokens) / rate).map_or(DAY, |w| w.min(DAY)))
    }

    /// Gives back a token taken for a request that a later bucket throttled.
    pub fn give_back(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (_, burst) = self.share(s.fleet);
        s.tokens = (s.tokens + 1.0).min(burst);
    }
}

/// The buckets of a worker, by name, and the fleet's size.
#[derive(Debug)]
pub struct Limiters {
    buckets: Mutex<Registry>,
    fleet: AtomicU32,
    /// Where limits are kept for the whole fleet, when they are.
    remote: Option<redis::RedisLimits>,
}

#[derive(Debug)]
struct Registry {
    buckets: HashMap<String, Arc<Bucket>>,
    /// The size past which forgotten buckets are swept.
    sweep_at: usize,
}

const FIRST_SWEEP: usize = 1024;

impl Default for Limiters {
    fn default() -> Self {
        Self {
            buckets: Mutex::new(Registry {
                buckets: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
            fleet: AtomicU32::new(1),
            remote: None,
        }
    }
}

impl Limiters {
    /// Limiters that keep their buckets in Redis.
    pub fn with_redis(remote: redis::RedisLimits) -> Self {
        Self {
            remote: Some(remote),
            ..Self::default()
        }
    }

    /// The fleet-wide store of buckets, when there is one.
    pub fn remote(&self) -> Option<&redis::RedisLimits> {
        self.remote.as_ref()
    }

    /// Takes a token of each bucket, all or none: fleet-wide through Redis when the fleet
    /// shares it (and it answers), else from this worker's share. `Err`: how long until the
    /// first bucket without a token has one.
    pub async fn take_all(&self, buckets: &[Arc<Bucket>]) -> Result<(), Duration> {
        if buckets.is_empty() {
            return Ok(());
        }
        if let Some(remote) = self.remote() {
            let all: smallvec::SmallVec<[&Bucket; 4]> = buckets.iter().map(|b| &**b).collect();
            // Boxed: only this mode waits here, and its state would enlarge every caller's
            // future.
            if let Some(decided) = Box::pin(remote.take(&all)).await {
                return decided;
            }
        }
        // The tokens a refused event took from earlier buckets go back.
        let (now, fleet) = (Instant::now(), self.fleet());
        for (i, b) in buckets.iter().enumerate() {
            if let Err(wait) = b.take(now, fleet) {
                buckets[..i].iter().for_each(|b| b.give_back());
                return Err(wait);
            }
        }
        Ok(())
    }

    /// The bucket named `name` with `limit`: the live one when its limit is the same, else a
    /// new, full one.
    pub fn bucket(&self, name: &str, limit: Limit) -> Arc<Bucket> {
        let mut registry = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = registry.buckets.get(name)
            && b.limit == limit
        {
            return b.clone();
        }
        if registry.buckets.len() >= registry.sweep_at {
            let now = Instant::now();
            registry
                .buckets
                .retain(|_, b| Arc::strong_count(b) > 1 || !b.is_full(now));
            registry.sweep_at = (registry.buckets.len() * 2).max(FIRST_SWEEP);
        }
        let b = Arc::new(Bucket::new(name, limit));
        registry.buckets.insert(name.to_owned(), b.clone());
        b
    }

    /// How many workers share the limits (at least one).
    pub fn fleet(&self) -> u32 {
        self.fleet.load(Ordering::Relaxed).max(1)
    }

    pub fn set_fleet(&self, workers: u32) {
        self.fleet.store(workers.max(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: f64, burst: f64) -> Limit {
        Limit { rate, burst }
    }

    #[test]
    fn a_bucket_lets_its_burst_through_then_its_rate() {
        let b = Bucket::new("b", limit(5.0, 10.0));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(b.take(t0, 1).is_ok());
        }
        let wait = b.take(t0, 1).unwrap_err();
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-6, "{wait:?}");
        let t1 = t0 + Duration::from_millis(400);
        assert!(b.take(t1, 1).is_ok());
        assert!(b.take(t1, 1).is_ok());
        assert!(b.take(t1, 1).is_err());
    }

    #[test]
    fn each_worker_takes_its_share_of_the_fleet_limit() {
        let b = Bucket::new("b", limit(10.0, 10.0));
        let t0 = Instant::now();
        let admitted = (0..20).filter(|_| b.take(t0, 2).is_ok()).count();
        assert_eq!(admitted, 5, "half the burst");
        // Over a second, half the rate.
        let t1 = t0 + Duration::from_secs(1);
        let admitted = (0..20).filter(|_| b.take(t1, 2).is_ok()).count();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn negative_and_unset_default_limits_are_no_limits() {
        assert_eq!(Limit::of(Some(-1.0), Some(-1)), None);
        assert_eq!(Limit::of(Some(5.0), Some(-1)), None);
        assert_eq!(Limit::of(None, Some(5)), None);
        assert_eq!(Limit::of_method_setting(10_000.0, 5_000), None);
        assert_eq!(
            Limit::of_method_setting(10_000.0, 100),
            Some(limit(10_000.0, 100.0))
        );
    }

    #[test]
    fn a_token_given_back_is_taken_again() {
        let b = Bucket::new("b", limit(1.0, 1.0));
        let t0 = Instant::now();
        assert!(b.take(t0, 1).is_ok());
        assert!(b.take(t0, 1).is_err());
        b.give_back();
        assert!(b.take(t0, 1).is_ok());
    }

    #[test]
    fn a_limit_of_zero_throttles_everything() {
        let b = Bucket::new("b", limit(0.0, 0.0));
        assert!(b.take(Instant::now(), 1).is_err());
        let b = Bucket::new("b", limit(1.0, 0.0));
        assert!(b.take(Instant::now() + Duration::from_secs(5), 1).is_err());
    }

    #[test]
    fn buckets_keep_their_state_while_their_limit_holds() {
        let limiters = Limiters::default();
        let a = limiters.bucket("s", limit(1.0, 1.0));
        assert!(a.take(Instant::now(), 1).is_ok());
        let again = limiters.bucket("s", limit(1.0, 1.0));
        assert!(Arc::ptr_eq(&a, &again));
        assert!(again.take(Instant::now(), 1).is_err(), "the same, spent bucket");
        drop((a, again));
        let kept = limiters.bucket("s", limit(1.0, 1.0));
        assert!(
            kept.take(Instant::now(), 1).is_err(),
            "kept while no configuration holds it"
        );
        let changed = limiters.bucket("s", limit(2.0, 2.0));
        assert!(!Arc::ptr_eq(&kept, &changed));
        assert!(changed.take(Instant::now(), 1).is_ok(), "a new limit starts full");
    }
}
