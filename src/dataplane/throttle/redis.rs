//! Rate limits exact across the fleet: the buckets of every worker kept in Redis
//! (`--rate-limit-backend redis://...`).
//!
//! A request's buckets (up to four: the plan's for the method, the plan's for the key, the
//! stage's for the method, the account's) are checked and taken in one Lua script, atomically
//! and on Redis's clock: either each has a token and each gives one, or none does and the
//! answer is how long until all would have one. Concurrent requests share one multiplexed connection, so their
//! scripts are pipelined. When Redis does not answer within [`DEADLINE`], or errs, the worker's
//! local shares ([`super::Bucket`]) take over and Redis is left alone for [`PAUSE`] before it
//! is tried again: serving never waits on a Redis that is away.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::Bucket;

/// How long a check waits for Redis before the local shares decide.
pub const DEADLINE: Duration = Duration::from_millis(50);

/// How long Redis is left alone after it failed to answer.
pub const PAUSE: Duration = Duration::from_secs(1);

/// Each bucket a hash `{t: tokens, at: microseconds}` under its key, ARGV its rate and burst
/// (pairs in KEYS' order). Returns 0 when every bucket gave a token, else the microseconds
/// until each would have one (nothing taken).
const TAKE: &str = r"
-- Before Redis 5, a script that reads the clock may only write when replicated by effects.
if redis.replicate_commands then
  redis.replicate_commands()
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tokens = {}
local wait = 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 't', 'at')
  local t = tonumber(state[1])
  local at = tonumber(state[2])
  if t == nil or at == nil then
    t = burst
    at = now
  end
  if now > at then
    t = t + (now - at) / 1000000 * rate
  end
  if t > burst then
    t = burst
  end
  tokens[i] = t
  if t < 1 then
    local w = 1000000
    if rate > 0 and burst >= 1 then
      w = math.ceil((1 - t) / rate * 1000000)
    end
    if w > wait then
      wait = w
    end
  end
end
if wait > 0 then
  return wait
end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  -- Full precision: tostring keeps 14 digits, which would round the clock to 100 us.
  redis.call('HSET', KEYS[i], 't', string.format('%.17g', tokens[i] - 1), 'at', string.format('%.0f', now))
  local full = 86400000
  if rate > 0 then
    full = math.ceil(burst / rate * 1000) + 1000
  end
  redis.call('PEXPIRE', KEYS[i], full)
end
return 0
";

/// The fleet's buckets in Redis.
pub struct RedisLimits {
    conn: ConnectionManager,
    script: redis::Script,
    /// Put before every bucket's name to make its key.
    prefix: String,
    /// Microseconds since `epoch` before which Redis is not asked.
    paused_until: AtomicU64,
    epoch: Instant,
    /// Whether the last check reached Redis (to log each change once).
    reachable: AtomicBool,
}

impl std::fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimits")
            .field("prefix", &self.prefix)
            .field("reachable", &self.reachable.load(Ordering::Relaxed))
            .finish()
    }
}

impl RedisLimits {
    /// Limits kept at the Redis server of `url` (`redis://host:port/db`, `rediss://` for
    /// TLS is not built in), connected to when first needed and again after a failure. Must
    /// be called within a Tokio runtime.
    pub fn connect(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("{url}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn =
            ConnectionManager::new_lazy_with_config(client, config).map_err(|e| format!("{url}: {e}"))?;
        Ok(Self {
            conn,
            script: redis::Script::new(TAKE),
            prefix: "gatehouse:rl:".to_owned(),
            paused_until: AtomicU64::new(0),
            epoch: Instant::now(),
            reachable: AtomicBool::new(true),
        })
    }

    /// Connects and loads the script from the calling runtime (the worker's own, not a
    /// data-plane thread's, which would then drive the connection for every thread); a Redis
    /// that is away is only logged: requests connect again when it is back.
    pub async fn warm_up(&self) {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(Duration::from_secs(2), self.script.load_async(&mut conn)).await {
            Ok(Ok(_)) => tracing::info!("rate limits are kept in Redis"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Redis is unavailable: each worker enforces its share of rate limits until it is back")
            }
            Err(_) => tracing::warn!(
                "Redis did not answer within 2 s: each worker enforces its share of rate limits until it is back"
            ),
        }
    }

    /// Takes a token from each of `buckets` at once: `Ok` when all had one, else how long until
    /// they would; `None` when Redis could not say (the local shares decide then).
    pub async fn take(&self, buckets: &[&Bucket]) -> Option<Result<(), Duration>> {
        let now = self.epoch.elapsed().as_micros() as u64;
        if now < self.paused_until.load(Ordering::Relaxed) {
            return None;
        }
        let mut invocation = self.script.prepare_invoke();
        for b in buckets {
            invocation
                .key(format!("{}{}", self.prefix, b.name))
                .arg(b.limit.rate)
                .arg(b.limit.burst);
        }
        let mut conn = self.conn.clone();
        let outcome = tokio::time::timeout(DEADLINE, invocation.invoke_async::<u64>(&mut conn)).await;
        match outcome {
            Ok(Ok(wait)) => {
                if !self.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are fleet-wide");
                }
                Some(if wait == 0 {
                    Ok(())
                } else {
                    Err(Duration::from_micros(wait))
                })
            }
            failed => {
                let until = self.epoch.elapsed() + PAUSE;
                self.paused_until
                    .store(until.as_micros() as u64, Ordering::Relaxed);
                if self.reachable.swap(false, Ordering::Relaxed) {
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {DEADLINE:?}"),
                    };
                    tracing::warn!(%error, "Redis is unavailable: each worker enforces its share of rate limits until it is back");
                }
                None
            }
        }
    }
}
