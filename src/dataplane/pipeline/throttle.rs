//! Step 7, throttle: AWS's limits, from the client's to the account's, each a token bucket the
//! request takes a token from (see [`crate::dataplane::throttle`]):
//! 1. the usage plan's limit for this method, for the request's API key;
//! 2. the usage plan's limit for the key;
//! 3. the stage's limit for the method (`methodSettings`, its own or `*/*`);
//! 4. the account's, when UpdateAccount set one (`/throttle/rateLimit`, Gatehouse's own: AWS's
//!    account-level limit of 10,000 requests a second per region is not imposed by default, as a
//!    self-hosted gateway's capacity is its fleet's, and a fixed cap of AWS's would only hide it).
//!
//! The first without a token ends the request: 429 `Too Many Requests` (THROTTLED), with
//! `Retry-After` saying when to come back. With a Redis backend, the request's buckets are
//! checked at once, fleet-wide ([`crate::dataplane::throttle::redis`]).

use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;

use crate::compiler::CompiledMethod;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::state::DataPlane;
use crate::dataplane::throttle::Bucket;

pub async fn check(
    dp: &DataPlane,
    method: &Arc<CompiledMethod>,
    ctx: &RequestContext<'_>,
) -> Result<(), GatewayError> {
    let Some(stage) = ctx.stage_runtime else {
        return Ok(());
    };
    // Most requests meet no limit: no key, no method settings, no account limit.
    if ctx.api_key.is_none() && stage.stage.method_settings.is_empty() && stage.account_throttle.is_none() {
        return Ok(());
    }
    let limiters = &dp.shared.limiters;
    let mut buckets: SmallVec<[Arc<Bucket>; 4]> = SmallVec::new();
    if let Some(key) = ctx.api_key.as_deref() {
        let names = (&*stage.api_id, &*stage.stage.stage_name);
        buckets.extend(key.grant.method_bucket(limiters, method, names));
        buckets.extend(key.grant.bucket(limiters).cloned());
    }
    buckets.extend(stage.method_bucket(limiters, method));
    buckets.extend(stage.account_bucket(limiters).cloned());
    limiters.take_all(&buckets).await.map_err(throttled)
}

fn throttled(wait: Duration) -> GatewayError {
    GatewayError::throttled(wait.as_secs_f64().ceil().max(1.0) as u32)
}
