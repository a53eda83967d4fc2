//! UsagePlan (Create, Get, GetUsagePlans, Update, Delete) and UsagePlanKey (Create, Get,
//! GetUsagePlanKeys, Delete). A plan admits its keys to the stages it lists, with a throttle
//! and a quota; every change reaches the workers serving those stages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::Listing;
use super::api_keys::key_not_found;
use super::paging::Pagination;
use super::patch::{self, Op, PatchBody, PatchOp};
use crate::domain::ids;
use crate::domain::usage_plan::{
    ApiStage, QuotaPeriod, QuotaSettings, ThrottleSettings, UsagePlan, UsagePlanKey,
};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::usage_plans as store;
use crate::store::{RowLock, StoreError, Tenant};

pub fn plan_not_found() -> ApiError {
    ApiError::not_found("Invalid Usage Plan ID specified")
}

fn plan_key_not_found() -> ApiError {
    ApiError::not_found("Invalid Usage Plan Key identifier specified")
}

fn bad_api_stage() -> ApiError {
    ApiError::bad_request("Invalid API Stage specified")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUsagePlanRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    pub throttle: Option<ThrottleSettings>,
    pub quota: Option<QuotaRequest>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A quota as asked for (AWS checks the period itself, with its own message).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaRequest {
    pub limit: Option<i32>,
    pub offset: Option<i32>,
    pub period: Option<String>,
}

fn quota(q: QuotaRequest) -> ApiResult<QuotaSettings> {
    let period = q.period.as_deref().and_then(QuotaPeriod::parse).ok_or_else(|| {
        ApiError::bad_request("Invalid quota period specified: must be one of DAY, WEEK, MONTH")
    })?;
    let quota = QuotaSettings {
        limit: q.limit.unwrap_or(0),
        offset: q.offset.unwrap_or(0),
        period,
    };
    check_quota(&quota)?;
    Ok(quota)
}

fn check_quota(q: &QuotaSettings) -> ApiResult<()> {
    if q.limit < 0 {
        return Err(ApiError::bad_request("Quota limit must be 0 or greater"));
    }
    // The offset shifts the period's start within it: days into a week or month (AWS's rule).
    let max_offset = match q.period {
        QuotaPeriod::Day => 0,
        QuotaPeriod::Week => 6,
        QuotaPeriod::Month => 27,
    };
    if !(0..=max_offset).contains(&q.offset) {
        return Err(ApiError::bad_request(format!(
            "Quota offset must be between 0 and {max_offset} for period {}",
            match q.period {
                QuotaPeriod::Day => "DAY",
                QuotaPeriod::Week => "WEEK",
                QuotaPeriod::Month => "MONTH",
            }
        )));
    }
    Ok(())
}

fn check_throttle(t: &ThrottleSettings) -> ApiResult<()> {
    if t.burst_limit.is_some_and(|b| b < 0)
        || t.rate_limit
            .is_some_and(|r| r.is_nan() || r < 0.0 || r.is_infinite())
    {
        return Err(ApiError::bad_request(
            "Throttle rate and burst limits must be 0 or greater",
        ));
    }
    Ok(())
}

/// `apiId:stage` as the `/apiStages` patch paths and values name a stage.
fn split_api_stage(raw: &str) -> ApiResult<(&str, &str)> {
    raw.split_once(':')
        .filter(|(a, s)| !a.is_empty() && !s.is_empty())
        .ok_or_else(bad_api_stage)
}

/// A stage of the tenant's, or AWS's 404 naming it.
async fn check_stage(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    plan_id: &str,
    api: &str,
    stage: &str,
) -> ApiResult<()> {
    let missing = || {
        ApiError::not_found(format!(
            "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {plan_id}"
        ))
    };
    // A REST API's stage, or (as AWS allows) a WebSocket API's; HTTP APIs have no API keys.
    if super::find_api_or(conn, tenant, api, RowLock::Share, missing)
        .await
        .is_ok()
    {
        crate::store::stages::get::<crate::domain::stage::Stage>(conn, api, stage, false)
            .await
            .or_not_found(missing)?;
        return Ok(());
    }
    let v2 = crate::store::http_apis::get(conn, tenant, api, RowLock::Share)
        .await
        .or_not_found(missing)?;
    if v2.protocol_type != "WEBSOCKET" {
        return Err(ApiError::bad_request(format!(
            "API {api} is an HTTP API: usage plans and API keys are supported for REST and WebSocket APIs"
        )));
    }
    crate::store::stages::get::<crate::domain::http_api::Stage>(conn, api, stage, false)
        .await
        .or_not_found(missing)?;
    Ok(())
}

/// Per-method throttles are keyed `{resourcePath}/{METHOD}`.
fn check_method_throttles(stage: &ApiStage) -> ApiResult<()> {
    for (key, t) in &stage.throttle {
        let valid = key.starts_with('/') && key.rsplit_once('/').is_some_and(|(_, m)| !m.is_empty());
        if !valid {
            return Err(ApiError::bad_request(format!(
                "Invalid method throttle key {key}: must be {{resourcePath}}/{{httpMethod}}"
            )));
        }
        check_throttle(t)?;
    }
    Ok(())
}

/// What a plan answer shows: its tags always (`{}` when none) on a single plan.
fn shown(mut plan: UsagePlan, empty_tags: bool) -> UsagePlan {
    match &plan.tags {
        Some(t) if t.is_empty() && !empty_tags => plan.tags = None,
        None if empty_tags => plan.tags = Some(BTreeMap::new()),
        _ => {}
    }
    plan
}

#[utoipa::path(
    post,
    path = "/usageplans",
    operation_id = "CreateUsagePlan",
    tag = "apigateway",
    request_body = CreateUsagePlanRequest,
    responses((status = 201, description = "CreateUsagePlan succeeded", body = UsagePlan), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_usage_plan(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(req): AwsJson<CreateUsagePlanRequest>,
) -> ApiResult<(StatusCode, Json<UsagePlan>)> {
    let name = req
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Usage Plan name must be non-null and non-empty"))?;
    if let Some(t) = &req.throttle {
        check_throttle(t)?;
    }
    let quota = req.quota.map(quota).transpose()?;
    super::tags::check_tags(&req.tags)?;
    let id = ids::random_id(6);
    let mut tx = app.store.begin().await?;
    for (i, s) in req.api_stages.iter().enumerate() {
        check_stage(&mut tx, &tenant, &id, &s.api_id, &s.stage).await?;
        check_method_throttles(s)?;
        if req.api_stages[..i]
            .iter()
            .any(|o| o.api_id == s.api_id && o.stage == s.stage)
        {
            return Err(ApiError::bad_request(format!(
                "API Stage {{api: {}, stage: {}}} is listed twice",
                s.api_id, s.stage
            )));
        }
    }
    let plan = UsagePlan {
        id,
        name,
        description: req.description,
        api_stages: req.api_stages,
        throttle: req.throttle,
        quota,
        product_code: None,
        tags: Some(req.tags),
    };
    store::insert_plan(&mut tx, &tenant, &plan).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(shown(plan, false))))
}

#[utoipa::path(
    get,
    path = "/usageplans/{usageplanId}",
    operation_id = "GetUsagePlan",
    tag = "apigateway",
    params(("usageplanId" = String, Path)),
    responses((status = 200, description = "GetUsagePlan succeeded", body = UsagePlan), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %id))]
pub async fn get_usage_plan(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<Json<UsagePlan>> {
    let mut conn = app.store.pool().acquire().await?;
    let plan = store::get_plan(&mut conn, &tenant, &id, RowLock::None)
        .await
        .or_not_found(plan_not_found)?;
    Ok(Json(shown(plan, true)))
}

#[utoipa::path(
    get,
    path = "/usageplans",
    operation_id = "GetUsagePlans",
    tag = "apigateway",
    params(("keyId" = Option<String>, Query), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetUsagePlans succeeded", body = Listing<UsagePlan>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_usage_plans(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(query): RawQuery,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<UsagePlan>>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let key_id = query.iter().find(|(k, _)| k == "keyId").map(|(_, v)| v.as_str());
    let mut conn = app.store.pool().acquire().await?;
    if let Some(key) = key_id {
        super::api_keys::ensure_key(&mut conn, &tenant, key).await?;
    }
    let mut found = store::list_plans(&mut conn, &tenant, key_id, page).await?;
    found.items = found.items.into_iter().map(|p| shown(p, false)).collect();
    Ok(Json(found.into()))
}

#[utoipa::path(
    patch,
    path = "/usageplans/{usageplanId}",
    operation_id = "UpdateUsagePlan",
    tag = "apigateway",
    params(("usageplanId" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateUsagePlan succeeded", body = UsagePlan), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %id))]
pub async fn update_usage_plan(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<UsagePlan>> {
    let ops = patch::parse(body, "updateUsagePlanInput")?;
    let mut tx = app.store.begin().await?;
    let before = store::get_plan(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(plan_not_found)?;
    let mut plan = before.clone();
    for op in &ops {
        apply(&mut tx, &tenant, &mut plan, op).await?;
    }
    if let Some(t) = &plan.throttle {
        check_throttle(t)?;
    }
    if let Some(q) = &plan.quota {
        check_quota(q)?;
    }
    store::update_plan(&mut tx, &tenant, &before, &plan).await?;
    tx.commit().await?;
    Ok(Json(shown(plan, true)))
}

/// One patch operation on a plan, as AWS takes them.
async fn apply(
    tx: &mut sqlx::PgConnection,
    tenant: &Tenant,
    plan: &mut UsagePlan,
    op: &PatchOp,
) -> ApiResult<()> {
    let number = |op: &PatchOp| -> ApiResult<f64> {
        op.required_value()?
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| ApiError::bad_request(format!("Invalid number for path {}", op.path)))
    };
    let int = |op: &PatchOp| -> ApiResult<i32> {
        op.required_value()?
            .parse::<i32>()
            .map_err(|_| ApiError::bad_request(format!("Invalid integer for path {}", op.path)))
    };
    let segments = op.segments();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (segs.as_slice(), op.op) {
        (["name"], Op::Replace) => {
            plan.name = op
                .value
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("Usage Plan name must be non-null and non-empty"))?;
        }
        (["description"], Op::Replace) => plan.description = patch::optional_string(op),
        (["productCode"], Op::Replace) => plan.product_code = patch::optional_string(op),
        (["throttle"], Op::Remove) => plan.throttle = None,
        (["throttle", "burstLimit"], Op::Replace) => {
            plan.throttle.get_or_insert_default().burst_limit = Some(int(op)?);
        }
        (["throttle", "rateLimit"], Op::Replace) => {
            plan.throttle.get_or_insert_default().rate_limit = Some(number(op)?);
        }
        (["quota"], Op::Remove) => plan.quota = None,
        (["quota", field], Op::Replace) => {
            let q = plan.quota.get_or_insert(QuotaSettings {
                limit: 0,
                offset: 0,
                period: QuotaPeriod::Day,
            });
            match *field {
                "limit" => q.limit = int(op)?,
                "offset" => q.offset = int(op)?,
                "period" => {
                    q.period = QuotaPeriod::parse(op.required_value()?).ok_or_else(|| {
                        ApiError::bad_request(
                            "Invalid quota period specified: must be one of DAY, WEEK, MONTH",
                        )
                    })?;
                }
                _ => return Err(op.bad_path()),
            }
        }
        (["apiStages"], Op::Add) => {
            let (api, stage) = split_api_stage(op.value.as_deref().ok_or_else(bad_api_stage)?)?;
            check_stage(tx, tenant, &plan.id, api, stage).await?;
            if !plan
                .api_stages
                .iter()
                .any(|s| s.api_id == api && s.stage == stage)
            {
                plan.api_stages.push(ApiStage {
                    api_id: api.to_owned(),
                    stage: stage.to_owned(),
                    throttle: BTreeMap::new(),
                });
            }
        }
        (["apiStages"], Op::Remove) => {
            let (api, stage) = split_api_stage(op.value.as_deref().ok_or_else(bad_api_stage)?)?;
            let before = plan.api_stages.len();
            plan.api_stages.retain(|s| !(s.api_id == api && s.stage == stage));
            if plan.api_stages.len() == before {
                return Err(ApiError::not_found(format!(
                    "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {}",
                    plan.id
                )));
            }
        }
        // `/apiStages/{api}:{stage}/throttle[/{resourcePath}/{METHOD}[/rateLimit|burstLimit]]`
        (["apiStages", api_stage, "throttle", rest @ ..], _) => {
            let (api, stage) = split_api_stage(api_stage)?;
            let plan_id = plan.id.clone();
            let s = plan
                .api_stages
                .iter_mut()
                .find(|s| s.api_id == api && s.stage == stage)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {plan_id}"
                    ))
                })?;
            match (rest, op.op) {
                ([], Op::Remove) => s.throttle.clear(),
                ([path @ .., method], Op::Remove) if !path.is_empty() => {
                    s.throttle.remove(&method_key(path, method));
                }
                ([path @ .., method, field], Op::Replace | Op::Add) if !path.is_empty() => {
                    let t = s.throttle.entry(method_key(path, method)).or_default();
                    match *field {
                        "rateLimit" => t.rate_limit = Some(number(op)?),
                        "burstLimit" => t.burst_limit = Some(int(op)?),
                        _ => return Err(op.bad_path()),
                    }
                    check_throttle(t)?;
                }
                _ => return Err(op.bad_path()),
            }
        }
        (_, Op::Replace | Op::Add | Op::Remove) => {
            return Err(op.invalid_path(&[
                "/name",
                "/description",
                "/productCode",
                "/throttle/burstLimit",
                "/throttle/rateLimit",
                "/quota/limit",
                "/quota/offset",
                "/quota/period",
                "/apiStages",
            ]));
        }
        _ => return Err(op.unsupported_op()),
    }
    Ok(())
}

/// `{resourcePath}/{METHOD}` from a path's segments, whether the resource path was escaped
/// (`~1pets`, one segment) or not (`/pets`, empty segment first).
fn method_key(path: &[&str], method: &str) -> String {
    let resource = path.join("/");
    let resource = if resource.starts_with('/') {
        resource
    } else {
        format!("/{resource}")
    };
    format!("{resource}/{}", method.to_ascii_uppercase())
}

#[utoipa::path(
    delete,
    path = "/usageplans/{usageplanId}",
    operation_id = "DeleteUsagePlan",
    tag = "apigateway",
    params(("usageplanId" = String, Path)),
    responses((status = 202, description = "DeleteUsagePlan succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %id))]
pub async fn delete_usage_plan(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let plan = store::get_plan(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(plan_not_found)?;
    store::delete_plan(&mut tx, &tenant, &plan).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUsagePlanKeyRequest {
    pub key_id: Option<String>,
    pub key_type: Option<String>,
}

#[utoipa::path(
    post,
    path = "/usageplans/{usageplanId}/keys",
    operation_id = "CreateUsagePlanKey",
    tag = "apigateway",
    params(("usageplanId" = String, Path)),
    request_body = CreateUsagePlanKeyRequest,
    responses((status = 201, description = "CreateUsagePlanKey succeeded", body = UsagePlanKey), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn create_usage_plan_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(plan_id): Path<String>,
    AwsJson(req): AwsJson<CreateUsagePlanKeyRequest>,
) -> ApiResult<(StatusCode, Json<UsagePlanKey>)> {
    if req.key_type.as_deref() != Some("API_KEY") {
        return Err(ApiError::bad_request(
            "Invalid key type specified: the only key type is API_KEY",
        ));
    }
    let key_id = req
        .key_id
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid API Key identifier specified"))?;
    let mut tx = app.store.begin().await?;
    let plan = store::get_plan(&mut tx, &tenant, &plan_id, RowLock::Update)
        .await
        .or_not_found(plan_not_found)?;
    let key = store::get_key(&mut tx, &tenant, &key_id, RowLock::Share)
        .await
        .or_not_found(key_not_found)?;
    // A request on a stage must find one plan for its key: one plan per key and stage.
    if let Some(other) = store::plans_sharing_a_stage(&mut tx, &plan, &key_id)
        .await?
        .first()
    {
        return Err(ApiError::conflict(format!(
            "Usage Plan {plan_id} cannot be added because API Key {key_id} cannot reference multiple Usage Plans with the same API Stage: it is in usage plan {other}"
        )));
    }
    match store::add_plan_key(&mut tx, &plan, &key_id).await {
        Err(StoreError::AlreadyExists(_)) => {
            return Err(ApiError::conflict(format!(
                "API Key {key_id} is already in usage plan {plan_id}"
            )));
        }
        other => other?,
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(store::plan_key(key))))
}

#[utoipa::path(
    get,
    path = "/usageplans/{usageplanId}/keys/{keyId}",
    operation_id = "GetUsagePlanKey",
    tag = "apigateway",
    params(("usageplanId" = String, Path), ("keyId" = String, Path)),
    responses((status = 200, description = "GetUsagePlanKey succeeded", body = UsagePlanKey), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn get_usage_plan_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((plan_id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<UsagePlanKey>> {
    let mut conn = app.store.pool().acquire().await?;
    store::get_plan(&mut conn, &tenant, &plan_id, RowLock::None)
        .await
        .or_not_found(plan_not_found)?;
    Ok(Json(
        store::get_plan_key(&mut conn, &plan_id, &key_id)
            .await
            .or_not_found(plan_key_not_found)?,
    ))
}

#[utoipa::path(
    get,
    path = "/usageplans/{usageplanId}/keys",
    operation_id = "GetUsagePlanKeys",
    tag = "apigateway",
    params(("usageplanId" = String, Path), ("name" = Option<String>, Query), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetUsagePlanKeys succeeded", body = Listing<UsagePlanKey>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn get_usage_plan_keys(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(plan_id): Path<String>,
    RawQuery(query): RawQuery,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<UsagePlanKey>>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let name = query
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.as_str())
        .filter(|n| !n.is_empty());
    let mut conn = app.store.pool().acquire().await?;
    // AWS lists no keys for a plan it does not know, rather than failing.
    match store::get_plan(&mut conn, &tenant, &plan_id, RowLock::None).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Ok(Json(Listing {
                position: None,
                items: vec![],
            }));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(
        store::list_plan_keys(&mut conn, &plan_id, name, page)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete,
    path = "/usageplans/{usageplanId}/keys/{keyId}",
    operation_id = "DeleteUsagePlanKey",
    tag = "apigateway",
    params(("usageplanId" = String, Path), ("keyId" = String, Path)),
    responses((status = 202, description = "DeleteUsagePlanKey succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(usage_plan.id = %plan_id))]
pub async fn delete_usage_plan_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((plan_id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let plan = store::get_plan(&mut tx, &tenant, &plan_id, RowLock::Update)
        .await
        .or_not_found(plan_not_found)?;
    store::remove_plan_key(&mut tx, &plan, &key_id)
        .await
        .or_not_found(plan_key_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_throttle_keys_read_escaped_and_plain_paths() {
        assert_eq!(method_key(&["/pets"], "GET"), "/pets/GET");
        assert_eq!(method_key(&["", "pets", "{id}"], "get"), "/pets/{id}/GET");
        assert_eq!(method_key(&["/"], "POST"), "//POST", "the root resource");
    }

    #[test]
    fn quota_offsets_stay_within_their_period() {
        let q = |offset, period| QuotaSettings {
            limit: 10,
            offset,
            period,
        };
        assert!(check_quota(&q(0, QuotaPeriod::Day)).is_ok());
        assert!(check_quota(&q(1, QuotaPeriod::Day)).is_err());
        assert!(check_quota(&q(6, QuotaPeriod::Week)).is_ok());
        assert!(check_quota(&q(7, QuotaPeriod::Week)).is_err());
    }
}
