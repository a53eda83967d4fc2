//! GetUsage (what a plan's keys used, day by day, with what was left of their quota) and
//! UpdateUsage (a key's remaining quota for the current period, extended or cut).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use chrono::NaiveDate;
use serde::Serialize;

use super::api_keys::ensure_key;
use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::usage_plans::plan_not_found;
use crate::domain::usage_plan::UsagePlan;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::{RowLock, Tenant, usage, usage_plans};

/// The longest range GetUsage answers for, in days.
const MAX_DAYS: i64 = 366;

/// AWS's `Usage`: per key, one `[used, remaining]` pair a day (on the wire `values`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub usage_plan_id: String,
    pub start_date: String,
    pub end_date: String,
    #[serde(rename = "values")]
    pub items: BTreeMap<String, Vec<[i64; 2]>>,
    /// Where the next page of keys starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

fn date(raw: Option<&str>, name: &str) -> ApiResult<NaiveDate> {
    let raw = raw.ok_or_else(|| ApiError::bad_request(format!("The {name} is required (yyyy-MM-dd)")))?;
    let bad = || {
        ApiError::bad_request(format!(
            "Invalid {name} {raw}: expected yyyy-MM-dd between 2000 and 9999"
        ))
    };
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=9999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(bad)
}

/// The usage of `plan`'s keys (or of `key_id`) from `start` to `end`.
async fn usage_of(
    conn: &mut sqlx::PgConnection,
    plan: &UsagePlan,
    key_id: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> ApiResult<Usage> {
    // Remaining quota counts from the start of the period holding `start`.
    let from = plan.quota.map_or(start, |q| q.period(start).0);
    let counts = usage::daily(conn, &plan.id, key_id, from, end).await?;
    let mut used: HashMap<(&str, NaiveDate), i64> = HashMap::new();
    let mut keys: Vec<String> = match key_id {
        Some(k) => vec![k.to_owned()],
        None => usage_plans::plan_key_ids(conn, &plan.id).await?,
    };
    for (k, day, n) in &counts {
        used.insert((k.as_str(), *day), *n);
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    // What was left each day: the period's limit (with UpdateUsage's adjustments) less what
    // the key used from the period's first day, counted in one pass.
    let extra: HashMap<(String, NaiveDate), i64> = match plan.quota {
        Some(_) => usage_plans::adjustments(conn, &plan.id)
            .await?
            .into_iter()
            .map(|(k, d, e)| ((k, d), e))
            .collect(),
        None => HashMap::new(),
    };
    let mut items = BTreeMap::new();
    for key in keys {
        let mut days = vec![];
        let (mut period, mut spent) = (None, 0i64);
        let mut day = from;
        while day <= end {
            let today = used.get(&(key.as_str(), day)).copied().unwrap_or(0);
            let remaining = match &plan.quota {
                Some(q) => {
                    let (period_start, _) = q.period(day);
                    if period != Some(period_start) {
                        (period, spent) = (Some(period_start), 0);
                    }
                    spent = spent.saturating_add(today);
                    let extra = extra.get(&(key.clone(), period_start)).copied().unwrap_or(0);
                    i64::from(q.limit)
                        .saturating_add(extra)
                        .saturating_sub(spent)
                        .max(0)
                }
                None => 0,
            };
            if day >= start {
                days.push([today, remaining]);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        items.insert(key, days);
    }
    Ok(Usage {
        usage_plan_id: plan.id.clone(),
        start_date: start.to_string(),
        end_date: end.to_string(),
        items,
        position: None,
    })
}

#[utoipa::path(
    get,
    path = "/usageplans/{usageplanId}/usage",
    operation_id = "GetUsage",
    tag = "apigateway",
    params(("usageplanId" = String, Path), ("keyId" = Option<String>, Query), ("startDate" = String, Query), ("endDate" = String, Query), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetUsage succeeded", body = Usage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn get_usage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(plan_id): Path<String>,
    Pagination(page): Pagination,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Usage>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let start = date(param("startDate"), "start date")?;
    let end = date(param("endDate"), "end date")?;
    if end < start {
        return Err(ApiError::bad_request(
            "The end date must not be before the start date",
        ));
    }
    if (end - start).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "The date range may span at most {MAX_DAYS} days"
        )));
    }
    let key_id = param("keyId").filter(|k| !k.is_empty());
    let mut conn = app.store.pool().acquire().await?;
    let plan = usage_plans::get_plan(&mut conn, &tenant, &plan_id, RowLock::None)
        .await
        .or_not_found(plan_not_found)?;
    if let Some(k) = key_id {
        ensure_key(&mut conn, &tenant, k).await?;
    }
    let mut usage = usage_of(&mut conn, &plan, key_id, start, end).await?;
    // Pages of keys, in key order: `position` is how many came before.
    let (skip, take) = (page.after_seq as usize, page.limit as usize);
    let total = usage.items.len();
    usage.items = std::mem::take(&mut usage.items)
        .into_iter()
        .skip(skip)
        .take(take)
        .collect();
    if skip.saturating_add(take) < total {
        usage.position = Some((skip + take).to_string());
    }
    Ok(Json(usage))
}

#[utoipa::path(
    patch,
    path = "/usageplans/{usageplanId}/keys/{keyId}/usage",
    operation_id = "UpdateUsage",
    tag = "apigateway",
    params(("usageplanId" = String, Path), ("keyId" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateUsage succeeded", body = Usage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn update_usage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((plan_id, key_id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Usage>> {
    let ops = patch::parse(body, "updateUsageInput")?;
    let mut tx = app.store.begin().await?;
    let plan = usage_plans::get_plan(&mut tx, &tenant, &plan_id, RowLock::Update)
        .await
        .or_not_found(plan_not_found)?;
    usage_plans::get_plan_key(&mut tx, &plan_id, &key_id)
        .await
        .or_not_found(|| ApiError::not_found("Invalid Usage Plan Key identifier specified"))?;
    let quota = plan.quota.ok_or_else(|| {
        ApiError::bad_request("The usage plan has no quota: there is no remaining usage to update")
    })?;
    let today = chrono::Utc::now().date_naive();
    let (period_start, _) = quota.period(today);
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/remaining", Op::Replace) => {
                let wanted: i64 = op
                    .required_value()?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| {
                        ApiError::bad_request("The remaining quota must be a whole number, 0 or more")
                    })?;
                let left = usage::remaining(&mut tx, &plan.id, &quota, period_start, today).await?;
                let now = left.get(&key_id).copied().unwrap_or(i64::from(quota.limit));
                if wanted != now {
                    usage::adjust(&mut tx, &plan, &key_id, period_start, wanted - now).await?;
                }
            }
            (_, Op::Replace) => return Err(op.invalid_path(&["/remaining"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    let answer = usage_of(&mut tx, &plan, Some(&key_id), today, today).await?;
    tx.commit().await?;
    Ok(Json(answer))
}
