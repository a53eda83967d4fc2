//! Usage of API keys under usage plans: the daily counts workers report (each batch applied
//! once), what is left of a quota in its period, and UpdateUsage's adjustments. A key whose
//! quota runs out is recorded once per period, and the stages of its plan learn it through a
//! revision.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::error::decode;
use super::{StoreError, revision};
use crate::domain::usage_plan::{QuotaSettings, UsagePlan};

pub use crate::domain::usage_plan::UsageCount;

/// Applies a worker's batch, unless it was applied already (a retried report). Keys whose
/// quota it exhausts are recorded, and their plans' stages get a new revision.
pub async fn record(
    conn: &mut PgConnection,
    batch_id: &str,
    counts: &[UsageCount],
) -> Result<bool, StoreError> {
    let fresh = sqlx::query("INSERT INTO usage_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(batch_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if !fresh {
        return Ok(false);
    }
    // One statement, in key order: two batches that touch the same rows lock them in the same
    // order and cannot deadlock. Counts of plans or keys deleted since are dropped.
    let mut counts: Vec<&UsageCount> = counts.iter().collect();
    counts.sort_by(|a, b| (&a.plan_id, &a.key_id, a.day).cmp(&(&b.plan_id, &b.key_id, b.day)));
    let plans: Vec<&str> = counts.iter().map(|c| c.plan_id.as_str()).collect();
    let keys: Vec<&str> = counts.iter().map(|c| c.key_id.as_str()).collect();
    let days: Vec<NaiveDate> = counts.iter().map(|c| c.day).collect();
    let used: Vec<i64> = counts.iter().map(|c| c.used.max(0)).collect();
    sqlx::query(
        "INSERT INTO usage_counts (plan_id, key_id, day, used)
         SELECT c.plan_id, c.key_id, c.day, sum(c.used)::bigint
         FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[]) AS c(plan_id, key_id, day, used)
         JOIN usage_plans p ON p.id = c.plan_id
         JOIN api_keys k ON k.id = c.key_id
         GROUP BY c.plan_id, c.key_id, c.day
         ORDER BY c.plan_id, c.key_id, c.day
         ON CONFLICT (plan_id, key_id, day) DO UPDATE SET used = usage_counts.used + EXCLUDED.used",
    )
    .bind(&plans)
    .bind(&keys)
    .bind(&days)
    .bind(&used)
    .execute(&mut *conn)
    .await?;
    let mut touched: Vec<(&str, &str)> = plans.iter().copied().zip(keys.iter().copied()).collect();
    touched.dedup();
    let today = chrono::Utc::now().date_naive();
    // The counts are in plan order: each plan is read, and its keys' remainders summed, once.
    for of_plan in touched.chunk_by(|a, b| a.0 == b.0) {
        let plan_id = of_plan[0].0;
        let plan: Option<(serde_json::Value,)> = sqlx::query_as("SELECT doc FROM usage_plans WHERE id = $1")
            .bind(plan_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((doc,)) = plan else { continue };
        let plan: UsagePlan = decode(doc)?;
        let Some(quota) = plan.quota else { continue };
        let (start, _) = quota.period(today);
        let left = remaining(conn, plan_id, &quota, start, today).await?;
        let mut newly = false;
        for (_, key_id) in of_plan {
            if left.get(*key_id).copied().unwrap_or(i64::from(quota.limit)) > 0 {
                continue;
            }
            newly |= sqlx::query(
                "INSERT INTO usage_exhausted (plan_id, key_id, period_start) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(plan_id)
            .bind(key_id)
            .bind(start)
            .execute(&mut *conn)
            .await?
            .rows_affected()
                == 1;
        }
        if newly {
            for s in &plan.api_stages {
                revision::bump(conn, "stage", &s.api_id, &s.stage).await?;
            }
        }
    }
    Ok(true)
}

/// What is left of each key's quota in the period starting `start`, up to `until` (keys that
/// used nothing and have no adjustment are absent: they have the whole limit).
pub async fn remaining(
    conn: &mut PgConnection,
    plan_id: &str,
    quota: &QuotaSettings,
    start: NaiveDate,
    until: NaiveDate,
) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key_id, sum(n)::bigint FROM (
             SELECT key_id, -used AS n FROM usage_counts WHERE plan_id = $1 AND day >= $2 AND day <= $3
             UNION ALL
             SELECT key_id, extra FROM usage_adjustments WHERE plan_id = $1 AND period_start = $2
         ) t GROUP BY key_id",
    )
    .bind(plan_id)
    .bind(start)
    .bind(until)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k, (i64::from(quota.limit) + n).max(0)))
        .collect())
}

/// Daily counts of a plan's keys (or of one) from `start` to `end`, inclusive.
pub async fn daily(
    conn: &mut PgConnection,
    plan_id: &str,
    key_id: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(String, NaiveDate, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT key_id, day, used FROM usage_counts
         WHERE plan_id = $1 AND ($2::text IS NULL OR key_id = $2) AND day >= $3 AND day <= $4
         ORDER BY key_id, day",
    )
    .bind(plan_id)
    .bind(key_id)
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await?)
}

/// Adds `extra` requests (negative: takes them) to a key's quota for the period starting
/// `start`; the plan's stages learn the new remainder.
pub async fn adjust(
    conn: &mut PgConnection,
    plan: &UsagePlan,
    key_id: &str,
    start: NaiveDate,
    extra: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO usage_adjustments (plan_id, key_id, period_start, extra) VALUES ($1, $2, $3, $4)
         ON CONFLICT (plan_id, key_id, period_start) DO UPDATE SET extra = usage_adjustments.extra + EXCLUDED.extra",
    )
    .bind(&plan.id)
    .bind(key_id)
    .bind(start)
    .bind(extra)
    .execute(&mut *conn)
    .await?;
    // Exhausted or not, the key is judged again on its next report.
    sqlx::query("DELETE FROM usage_exhausted WHERE plan_id = $1 AND key_id = $2 AND period_start = $3")
        .bind(&plan.id)
        .bind(key_id)
        .bind(start)
        .execute(&mut *conn)
        .await?;
    for s in &plan.api_stages {
        revision::bump(conn, "stage", &s.api_id, &s.stage).await?;
    }
    Ok(())
}

/// Forgets batch ids older than a day: a worker retries a report for minutes, not days.
pub async fn prune_batches(conn: &mut PgConnection) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM usage_batches WHERE received_at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
