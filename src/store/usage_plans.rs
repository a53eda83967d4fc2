//! API keys, usage plans and their keys, scoped by tenant. A change that workers must learn of
//! (a key enabled, disabled or gone; a plan's limits, stages or keys) bumps the revision of
//! every stage it touches, so the stages' next deltas carry their plans again.

use std::collections::HashMap;

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, RowLock, StoreError, Tenant, revision};
use crate::domain::usage_plan::{ApiKey, KeyHasher, StagePlan, StagePlanKey, UsagePlan, UsagePlanKey};

// ---- API keys ----

pub async fn insert_key(
    conn: &mut PgConnection,
    tenant: &Tenant,
    key: &ApiKey,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO api_keys (id, account_id, region, value, doc) VALUES ($1, $2, $3, $4, $5)")
        .bind(&key.id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(value)
        .bind(Json(stored(key)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The document as stored: never with its value.
fn stored(key: &ApiKey) -> ApiKey {
    ApiKey {
        value: None,
        ..key.clone()
    }
}

fn with_value((value, doc): (String, serde_json::Value)) -> Result<ApiKey, StoreError> {
    let mut key: ApiKey = decode(doc)?;
    key.value = Some(value);
    Ok(key)
}

/// A key of the tenant, with its value.
pub async fn get_key(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<ApiKey, StoreError> {
    let row: (String, serde_json::Value) = sqlx::query_as(&format!(
        "SELECT value, doc FROM api_keys WHERE id = $1 AND account_id = $2 AND region = $3{}",
        lock.sql()
    ))
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    with_value(row)
}

/// What `GetApiKeys` filters by.
#[derive(Debug, Default)]
pub struct KeyFilter<'a> {
    /// A prefix of the name (case-sensitive, as AWS matches it).
    pub name_prefix: Option<&'a str>,
    pub customer_id: Option<&'a str>,
}

/// The tenant's API keys, newest first (as AWS lists them).
pub async fn list_keys(
    conn: &mut PgConnection,
    tenant: &Tenant,
    filter: &KeyFilter<'_>,
    page: PageRequest,
) -> Result<Page<ApiKey>, StoreError> {
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, value, doc FROM api_keys
         WHERE account_id = $1 AND region = $2 AND ($3 = 0 OR seq < $3)
           AND ($4::text IS NULL OR starts_with(doc->>'name', $4))
           AND ($5::text IS NULL OR doc->>'customerId' = $5)
         ORDER BY seq DESC LIMIT $6",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(page.after_seq)
    .bind(filter.name_prefix)
    .bind(filter.customer_id)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, value, doc)| Ok((seq, with_value((value, doc))?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

pub async fn update_key(conn: &mut PgConnection, tenant: &Tenant, key: &ApiKey) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE api_keys SET doc = $4 WHERE id = $1 AND account_id = $2 AND region = $3")
        .bind(&key.id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(Json(stored(key)))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    touch_stages_of_key(conn, &key.id).await
}

pub async fn delete_key(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> Result<(), StoreError> {
    // The stages that knew the key learn it is gone: find them before the cascade forgets.
    touch_stages_of_key(conn, id).await?;
    let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND account_id = $2 AND region = $3")
        .bind(id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

// ---- Usage plans ----

pub async fn insert_plan(
    conn: &mut PgConnection,
    tenant: &Tenant,
    plan: &UsagePlan,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO usage_plans (id, account_id, region, doc) VALUES ($1, $2, $3, $4)")
        .bind(&plan.id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(Json(plan))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_plan(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<UsagePlan, StoreError> {
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM usage_plans WHERE id = $1 AND account_id = $2 AND region = $3{}",
        lock.sql()
    ))
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// The tenant's plans, or only those holding `key_id`.
pub async fn list_plans(
    conn: &mut PgConnection,
    tenant: &Tenant,
    key_id: Option<&str>,
    page: PageRequest,
) -> Result<Page<UsagePlan>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT p.seq, p.doc FROM usage_plans p
         WHERE p.account_id = $1 AND p.region = $2 AND p.seq > $3
           AND ($4::text IS NULL OR EXISTS
                (SELECT 1 FROM usage_plan_keys k WHERE k.plan_id = p.id AND k.key_id = $4))
         ORDER BY p.seq LIMIT $5",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(page.after_seq)
    .bind(key_id)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, doc)| Ok((seq, decode(doc)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Writes a plan; the stages it covered (`before`) and covers now learn of it.
pub async fn update_plan(
    conn: &mut PgConnection,
    tenant: &Tenant,
    before: &UsagePlan,
    plan: &UsagePlan,
) -> Result<(), StoreError> {
    let done =
        sqlx::query("UPDATE usage_plans SET doc = $4 WHERE id = $1 AND account_id = $2 AND region = $3")
            .bind(&plan.id)
            .bind(&tenant.account_id)
            .bind(&tenant.region)
            .bind(Json(plan))
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if before.quota != plan.quota {
        // A new limit: whether a key's quota is spent is judged again at its next report.
        sqlx::query("DELETE FROM usage_exhausted WHERE plan_id = $1")
            .bind(&plan.id)
            .execute(&mut *conn)
            .await?;
    }
    touch_stages(conn, before).await?;
    touch_stages(conn, plan).await
}

pub async fn delete_plan(
    conn: &mut PgConnection,
    tenant: &Tenant,
    plan: &UsagePlan,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM usage_plans WHERE id = $1 AND account_id = $2 AND region = $3")
        .bind(&plan.id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    touch_stages(conn, plan).await
}

/// Bumps the revision of each stage `plan` covers.
async fn touch_stages(conn: &mut PgConnection, plan: &UsagePlan) -> Result<(), StoreError> {
    for s in &plan.api_stages {
        revision::bump(conn, "stage", &s.api_id, &s.stage).await?;
    }
    Ok(())
}

async fn touch_stages_of_key(conn: &mut PgConnection, key_id: &str) -> Result<(), StoreError> {
    let plans: Vec<(serde_json::Value,)> = sqlx::query_as(
        "SELECT p.doc FROM usage_plans p JOIN usage_plan_keys k ON k.plan_id = p.id WHERE k.key_id = $1",
    )
    .bind(key_id)
    .fetch_all(&mut *conn)
    .await?;
    for (doc,) in plans {
        touch_stages(conn, &decode(doc)?).await?;
    }
    Ok(())
}

/// The other plans of the tenant holding `key_id` that cover one of `plan`'s stages: a key may
/// be in one plan per stage only.
pub async fn plans_sharing_a_stage(
    conn: &mut PgConnection,
    plan: &UsagePlan,
    key_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT p.id, p.doc FROM usage_plans p JOIN usage_plan_keys k ON k.plan_id = p.id
         WHERE k.key_id = $1 AND p.id <> $2",
    )
    .bind(key_id)
    .bind(&plan.id)
    .fetch_all(conn)
    .await?;
    let mut sharing = vec![];
    for (id, doc) in rows {
        let other: UsagePlan = decode(doc)?;
        let shares = other.api_stages.iter().any(|s| {
            plan.api_stages
                .iter()
                .any(|t| t.api_id == s.api_id && t.stage == s.stage)
        });
        if shares {
            sharing.push(id);
        }
    }
    Ok(sharing)
}

// ---- Keys of a plan ----

/// Adds a key to a plan (`AlreadyExists` when it is in it).
pub async fn add_plan_key(conn: &mut PgConnection, plan: &UsagePlan, key_id: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO usage_plan_keys (plan_id, key_id) VALUES ($1, $2)")
        .bind(&plan.id)
        .bind(key_id)
        .execute(&mut *conn)
        .await?;
    touch_stages(conn, plan).await
}

pub async fn remove_plan_key(
    conn: &mut PgConnection,
    plan: &UsagePlan,
    key_id: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM usage_plan_keys WHERE plan_id = $1 AND key_id = $2")
        .bind(&plan.id)
        .bind(key_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    touch_stages(conn, plan).await
}

/// A key of a plan, as `GetUsagePlanKey` shows it.
pub async fn get_plan_key(
    conn: &mut PgConnection,
    plan_id: &str,
    key_id: &str,
) -> Result<UsagePlanKey, StoreError> {
    let row: (String, serde_json::Value) = sqlx::query_as(
        "SELECT a.value, a.doc FROM usage_plan_keys k JOIN api_keys a ON a.id = k.key_id
         WHERE k.plan_id = $1 AND k.key_id = $2",
    )
    .bind(plan_id)
    .bind(key_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(plan_key(with_value(row)?))
}

pub fn plan_key(key: ApiKey) -> UsagePlanKey {
    UsagePlanKey {
        id: key.id,
        key_type: "API_KEY".into(),
        value: key.value.unwrap_or_default(),
        name: key.name,
    }
}

/// The keys of a usage plan, the last added first (as AWS lists them).
pub async fn list_plan_keys(
    conn: &mut PgConnection,
    plan_id: &str,
    name_prefix: Option<&str>,
    page: PageRequest,
) -> Result<Page<UsagePlanKey>, StoreError> {
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT k.seq, a.value, a.doc FROM usage_plan_keys k JOIN api_keys a ON a.id = k.key_id
         WHERE k.plan_id = $1 AND ($2 = 0 OR k.seq < $2)
           AND ($3::text IS NULL OR starts_with(a.doc->>'name', $3))
         ORDER BY k.seq DESC LIMIT $4",
    )
    .bind(plan_id)
    .bind(page.after_seq)
    .bind(name_prefix)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, value, doc)| Ok((seq, plan_key(with_value((value, doc))?))))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Every adjustment of a plan's quotas: key, period start, extra requests.
pub async fn adjustments(
    conn: &mut PgConnection,
    plan_id: &str,
) -> Result<Vec<(String, chrono::NaiveDate, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT key_id, period_start, extra FROM usage_adjustments WHERE plan_id = $1")
            .bind(plan_id)
            .fetch_all(conn)
            .await?,
    )
}

/// The keys of `plan` that another plan holding them already admits to a stage of `stages`.
pub async fn keys_in_other_plans(
    conn: &mut PgConnection,
    plan: &UsagePlan,
    stages: &[crate::domain::usage_plan::ApiStage],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = vec![];
    for key_id in plan_key_ids(conn, &plan.id).await? {
        let probe = UsagePlan {
            api_stages: stages.to_vec(),
            ..plan.clone()
        };
        if let Some(other) = plans_sharing_a_stage(conn, &probe, &key_id)
            .await?
            .into_iter()
            .next()
        {
            found.push((key_id, other));
        }
    }
    Ok(found)
}

/// The ids of a plan's keys, in the order they were added.
pub async fn plan_key_ids(conn: &mut PgConnection, plan_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT key_id FROM usage_plan_keys WHERE plan_id = $1 ORDER BY seq")
            .bind(plan_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

// ---- What workers get ----

/// The plans covering a stage of an API of `account_id`, each with the keyed hashes of its
/// enabled keys.
pub async fn stage_plans(
    conn: &mut PgConnection,
    hasher: &KeyHasher,
    account_id: &str,
    api_id: &str,
    stage: &str,
) -> Result<Vec<StagePlan>, StoreError> {
    let rows: Vec<(String, serde_json::Value, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT p.id, p.doc, a.id, a.value FROM usage_plans p
         LEFT JOIN usage_plan_keys k ON k.plan_id = p.id
         LEFT JOIN api_keys a ON a.id = k.key_id AND (a.doc->>'enabled')::boolean
         WHERE p.account_id = $1
           AND p.doc->'apiStages' @> jsonb_build_array(jsonb_build_object('apiId', $2::text, 'stage', $3::text))
         ORDER BY p.seq, k.seq",
    )
    .bind(account_id)
    .bind(api_id)
    .bind(stage)
    .fetch_all(&mut *conn)
    .await?;
    let mut plans: Vec<StagePlan> = vec![];
    // Per plan with a quota: what is left of each key's, and when its period ends.
    let mut quota: Option<(HashMap<String, i64>, i64, i64)> = None;
    let today = chrono::Utc::now().date_naive();
    for (id, doc, key_id, value) in rows {
        if plans.last().is_none_or(|p| p.id != id) {
            let plan: UsagePlan = decode(doc)?;
            let method_throttles = plan
                .api_stages
                .iter()
                .find(|s| s.api_id == api_id && s.stage == stage)
                .map(|s| s.throttle.clone())
                .unwrap_or_default();
            quota = match &plan.quota {
                Some(q) => {
                    let (start, end) = q.period(today);
                    let left = super::usage::remaining(conn, &id, q, start, today).await?;
                    let ends = end.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp());
                    Some((left, i64::from(q.limit), ends))
                }
                None => None,
            };
            plans.push(StagePlan {
                id,
                throttle: plan.throttle,
                method_throttles,
                quota: plan.quota,
                keys: vec![],
            });
        }
        if let (Some(key_id), Some(value), Some(plan)) = (key_id, value, plans.last_mut()) {
            let (remaining, period_ends) = match &quota {
                Some((left, limit, ends)) => {
                    (Some(left.get(&key_id).copied().unwrap_or(*limit)), Some(*ends))
                }
                None => (None, None),
            };
            plan.keys.push(StagePlanKey {
                id: key_id,
                hash: hasher.hex(&value),
                remaining,
                period_ends,
            });
        }
    }
    Ok(plans)
}
