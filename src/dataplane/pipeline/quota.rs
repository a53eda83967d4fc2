//! Step 8, quota: a request with an API key counts against its usage plan's quota. The worker
//! knows what was left of the key's quota when its configuration was built, and counts what it
//! admitted since: past that, AWS's 429 `Limit Exceeded` (QUOTA_EXCEEDED) until the period ends.
//! What other workers admitted reaches it when the control plane, counting the reports of all
//! of them, finds the quota spent and says so (within about a second of the last report).

use std::sync::atomic::Ordering;

use crate::dataplane::config::KeyGrant;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::state::DataPlane;

pub fn check(dp: &DataPlane, ctx: &RequestContext<'_>) -> Result<(), GatewayError> {
    match ctx.api_key.as_deref() {
        Some(key) => spend(dp, &key.grant),
        None => Ok(()),
    }
}

/// Counts one request of `grant`'s key against its plan's quota (and in its usage).
pub fn spend(dp: &DataPlane, grant: &KeyGrant) -> Result<(), GatewayError> {
    let now = chrono::Utc::now();
    if let Some(q) = &grant.quota
        && now.timestamp() < q.period_ends
        && q.used.fetch_add(1, Ordering::Relaxed) >= q.remaining
    {
        q.used.fetch_sub(1, Ordering::Relaxed);
        return Err(GatewayError::quota_exceeded());
    }
    dp.shared
        .usage
        .count(&grant.plan.id, &grant.key_id, now.date_naive());
    Ok(())
}
