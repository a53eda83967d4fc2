//! Stage: CreateStage, GetStage, GetStages, UpdateStage (method settings, variables, access logs,
//! canary and its promotion), DeleteStage. Every change bumps the live-config revision.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde::{Deserialize, Serialize};

use super::deployments::deployment_not_found;
use super::find_api;
use super::patch::{self, Op, PatchBody, PatchOp};
use crate::domain::enums::{CacheClusterSize, UnauthorizedCacheControlHeaderStrategy};
use crate::domain::now;
use crate::domain::stage::{
    AccessLogSettings, CanarySettings, MethodSetting, Stage, is_valid_stage_name, is_valid_variable_name,
    is_valid_variable_value,
};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, query_param};
use crate::store::{RowLock, StoreError, Tenant, deployments, stages};

pub fn stage_not_found() -> ApiError {
    ApiError::not_found("Invalid Stage identifier specified")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryInput {
    pub percent_traffic: Option<f64>,
    pub deployment_id: Option<String>,
    pub stage_variable_overrides: Option<BTreeMap<String, String>>,
    pub use_stage_cache: Option<bool>,
}

impl CanaryInput {
    pub fn percent_traffic(&self) -> ApiResult<f64> {
        parse_percent(self.percent_traffic.unwrap_or(0.0))
    }
}

fn parse_percent(p: f64) -> ApiResult<f64> {
    if (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err(ApiError::bad_request(
            "Canary traffic percentage must be between 0.0 and 100.0",
        ))
    }
}

fn check_variables(vars: &BTreeMap<String, String>) -> ApiResult<()> {
    for (k, v) in vars {
        if !is_valid_variable_name(k) {
            return Err(ApiError::bad_request(format!(
                "Stage variable name {k} does not match regular expression: [A-Za-z0-9_]+"
            )));
        }
        if !is_valid_variable_value(v) {
            return Err(ApiError::bad_request(format!(
                "Stage variable value {v} does not match regular expression: [A-Za-z0-9-._~:/?#&=, ]+"
            )));
        }
    }
    Ok(())
}

fn parse_cache_size(raw: Option<&str>) -> ApiResult<Option<CacheClusterSize>> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => CacheClusterSize::parse(r).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid cache cluster size specified: {r}. Valid options are {}",
                CacheClusterSize::choices().replace(", ", ",")
            ))
        }),
    }
}

/// A stage as CreateStage or CreateDeployment makes it.
pub fn new_stage(
    name: String,
    deployment_id: String,
    description: Option<String>,
    variables: BTreeMap<String, String>,
    cache_cluster_enabled: Option<bool>,
    cache_cluster_size: Option<&str>,
    tracing_enabled: Option<bool>,
) -> ApiResult<Stage> {
    if !is_valid_stage_name(&name) {
        return Err(ApiError::bad_request("Stage name only allows a-zA-Z0-9_-"));
    }
    check_variables(&variables)?;
    let cache_enabled = cache_cluster_enabled.unwrap_or(false);
    let mut cache_size = parse_cache_size(cache_cluster_size)?;
    if cache_enabled && cache_size.is_none() {
        cache_size = Some(CacheClusterSize::S0_5);
    }
    let t = now();
    Ok(Stage {
        stage_name: name,
        deployment_id,
        description: description.filter(|d| !d.is_empty()),
        client_certificate_id: None,
        cache_cluster_enabled: cache_enabled,
        cache_cluster_size: cache_size,
        cache_cluster_status: Stage::cache_status(cache_enabled),
        method_settings: BTreeMap::new(),
        variables,
        documentation_version: None,
        access_log_settings: None,
        canary_settings: None,
        tracing_enabled: tracing_enabled.unwrap_or(false),
        web_acl_arn: None,
        tags: BTreeMap::new(),
        created_date: t,
        last_updated_date: t,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateStageRequest {
    pub stage_name: Option<String>,
    pub deployment_id: Option<String>,
    pub description: Option<String>,
    pub cache_cluster_enabled: Option<bool>,
    pub cache_cluster_size: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub documentation_version: Option<String>,
    pub canary_settings: Option<CanaryInput>,
    pub tracing_enabled: Option<bool>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/stages",
    operation_id = "CreateStage",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateStageRequest,
    responses((status = 201, description = "CreateStage succeeded", body = Stage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateStageRequest>,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let name = req.stage_name.unwrap_or_default();
    let deployment_id = req.deployment_id.unwrap_or_default();
    if !deployments::exists(&mut tx, &api_id, &deployment_id).await? {
        return Err(deployment_not_found());
    }
    let mut stage = new_stage(
        name,
        deployment_id.clone(),
        req.description,
        req.variables,
        req.cache_cluster_enabled,
        req.cache_cluster_size.as_deref(),
        req.tracing_enabled,
    )?;
    stage.documentation_version = req.documentation_version.filter(|d| !d.is_empty());
    stage.tags = req.tags;
    if let Some(canary) = req.canary_settings {
        let canary_deployment = canary.deployment_id.clone().unwrap_or(deployment_id);
        if !deployments::exists(&mut tx, &api_id, &canary_deployment).await? {
            return Err(ApiError::bad_request("Deployment id does not exist"));
        }
        let overrides = canary.stage_variable_overrides.clone().unwrap_or_default();
        check_variables(&overrides)?;
        stage.canary_settings = Some(CanarySettings {
            deployment_id: Some(canary_deployment),
            percent_traffic: canary.percent_traffic()?,
            stage_variable_overrides: overrides,
            use_stage_cache: canary.use_stage_cache.unwrap_or(false),
        });
    }
    match stages::insert(&mut tx, &api_id, &stage).await {
        Ok(_) => {}
        Err(StoreError::AlreadyExists(_)) => return Err(ApiError::conflict("Stage already exists")),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(stage)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/stages/{stage_name}",
    operation_id = "GetStage",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path)),
    responses((status = 200, description = "GetStage succeeded", body = Stage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Stage>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        stages::get(&mut conn, &api_id, &name, false)
            .await
            .or_not_found(stage_not_found)?,
    ))
}

/// GetStages answers `{"item": [...]}` (AWS's field name), unpaginated.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StageList {
    pub item: Vec<Stage>,
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/stages",
    operation_id = "GetStages",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetStages succeeded", body = StageList), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_stages(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    uri: Uri,
) -> ApiResult<Json<StageList>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let deployment_id = query_param(uri.query(), "deploymentId");
    Ok(Json(StageList {
        item: stages::list(&mut conn, &api_id, deployment_id.as_deref()).await?,
    }))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/stages/{stage_name}",
    operation_id = "UpdateStage",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateStage succeeded", body = Stage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Stage>> {
    let ops = patch::parse(body, "updateStageInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let mut stage = stages::get(&mut tx, &api_id, &name, true)
        .await
        .or_not_found(stage_not_found)?;
    for op in &ops {
        apply_stage_patch(&mut stage, op)?;
    }
    if !deployments::exists(&mut tx, &api_id, &stage.deployment_id).await? {
        return Err(deployment_not_found());
    }
    if let Some(id) = &stage.client_certificate_id {
        super::client_certificates::ensure_certificate(&mut tx, &tenant, id).await?;
    }
    if let Some(canary) = &mut stage.canary_settings {
        let id = canary
            .deployment_id
            .get_or_insert_with(|| stage.deployment_id.clone());
        if !deployments::exists(&mut tx, &api_id, id).await? {
            return Err(ApiError::bad_request("Deployment id does not exist"));
        }
    }
    check_variables(&stage.variables)?;
    stage.last_updated_date = now();
    stages::update(&mut tx, &api_id, &stage).await?;
    tx.commit().await?;
    Ok(Json(stage))
}

const STAGE_PATHS: &str = "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, \
/accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, \
/{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, \
/{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit\
/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, \
/{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, \
/{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, \
/*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, \
/*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, \
/*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]";

fn invalid_stage_path(op: &PatchOp) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid method setting path: {}. Must be one of: {STAGE_PATHS}",
        op.path
    ))
}

fn nothing_to_remove(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Cannot remove method setting {what} because there is no method setting for this method "
    ))
}

/// The key of a method setting: `{resourcePath without leading /}/{httpMethod}`, or `*/*`.
fn method_setting_key(resource_path: &str, http_method: &str) -> String {
    format!("{}/{http_method}", resource_path.trim_start_matches('/'))
}

/// UpdateStage's paths as AWS takes them, including canary promotion by `copy`.
fn apply_stage_patch(stage: &mut Stage, op: &PatchOp) -> ApiResult<()> {
    let segs = op.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let set = matches!(op.op, Op::Replace | Op::Add);
    match (op.op, segs.as_slice()) {
        (Op::Copy, _) => return apply_copy(stage, op),
        (_, ["deploymentId"]) if set => stage.deployment_id = op.required_value()?.to_owned(),
        (_, ["description"]) if set => stage.description = patch::optional_string(op),
        (Op::Remove, ["description"]) => stage.description = None,
        (_, ["cacheClusterEnabled"]) if set => {
            stage.cache_cluster_enabled = op.bool_value()?;
            stage.cache_cluster_status = Stage::cache_status(stage.cache_cluster_enabled);
            if stage.cache_cluster_enabled && stage.cache_cluster_size.is_none() {
                stage.cache_cluster_size = Some(CacheClusterSize::S0_5);
            }
        }
        (_, ["cacheClusterSize"]) if set => stage.cache_cluster_size = parse_cache_size(op.value.as_deref())?,
        (_, ["clientCertificateId"]) if set => stage.client_certificate_id = patch::optional_string(op),
        (Op::Remove, ["clientCertificateId"]) => stage.client_certificate_id = None,
        (_, ["tracingEnabled"]) if set => stage.tracing_enabled = op.bool_value()?,
        (_, ["documentationVersion"]) if set => stage.documentation_version = patch::optional_string(op),
        (_, ["variables", name]) if set => {
            stage
                .variables
                .insert((*name).to_owned(), op.required_value()?.to_owned());
        }
        (Op::Remove, ["variables", name]) => {
            stage.variables.remove(*name);
        }
        (Op::Remove, ["accessLogSettings"]) => stage.access_log_settings = None,
        (_, ["accessLogSettings"]) => return Err(invalid_access_log_path()),
        (_, ["accessLogSettings", field]) => apply_access_log(stage, op, field)?,
        (Op::Remove, ["canarySettings"]) => stage.canary_settings = None,
        (_, ["canarySettings", rest @ ..]) => apply_canary(stage, op, rest)?,
        (_, [resource_path, http_method, group, name]) if set => {
            let key = method_setting_key(resource_path, http_method);
            let mut setting = stage.method_settings.get(&key).cloned().unwrap_or_default();
            apply_method_setting(&mut setting, op, group, name)?;
            stage.method_settings.insert(key, setting);
        }
        (Op::Remove, [resource_path, http_method]) => {
            let key = method_setting_key(resource_path, http_method);
            if stage.method_settings.remove(&key).is_none() {
                return Err(nothing_to_remove(&key));
            }
        }
        (Op::Remove, [resource_path, http_method, _, _]) => {
            // Removing one setting of a method resets it to the default.
            let key = method_setting_key(resource_path, http_method);
            if !stage.method_settings.contains_key(&key) {
                return Err(nothing_to_remove(&key));
            }
        }
        (Op::Remove, _) => return Err(nothing_to_remove(op.path.trim_start_matches('/'))),
        _ => return Err(invalid_stage_path(op)),
    }
    Ok(())
}

fn apply_method_setting(s: &mut MethodSetting, op: &PatchOp, group: &str, name: &str) -> ApiResult<()> {
    match (group, name) {
        ("metrics", "enabled") => s.metrics_enabled = op.bool_value()?,
        ("logging", "dataTrace") => s.data_trace_enabled = op.bool_value()?,
        ("logging", "loglevel") => {
            let level = op.required_value()?;
            if !matches!(level, "OFF" | "ERROR" | "INFO") {
                return Err(ApiError::bad_request(format!(
                    "Invalid logging level: {level}. Valid options are OFF,ERROR,INFO"
                )));
            }
            s.logging_level = Some(level.to_owned());
        }
        ("throttling", "burstLimit") => s.throttling_burst_limit = op.number()?,
        ("throttling", "rateLimit") => s.throttling_rate_limit = op.number()?,
        ("caching", "enabled") => s.caching_enabled = op.bool_value()?,
        ("caching", "ttlInSeconds") => {
            let ttl: i32 = op.number()?;
            if !(0..=3600).contains(&ttl) {
                return Err(ApiError::bad_request(
                    "Cache TTL must be between 0 and 3600 seconds",
                ));
            }
            s.cache_ttl_in_seconds = ttl;
        }
        ("caching", "dataEncrypted") => s.cache_data_encrypted = op.bool_value()?,
        ("caching", "requireAuthorizationForCacheControl") => {
            s.require_authorization_for_cache_control = op.bool_value()?
        }
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            let raw = op.required_value()?;
            s.unauthorized_cache_control_header_strategy = UnauthorizedCacheControlHeaderStrategy::parse(raw)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid unauthorized cache control header strategy: {raw}"
                    ))
                })?;
        }
        _ => return Err(invalid_stage_path(op)),
    }
    Ok(())
}

fn invalid_access_log_path() -> ApiError {
    ApiError::bad_request(
        "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, /accessLogSettings/format]",
    )
}

fn apply_access_log(stage: &mut Stage, op: &PatchOp, field: &str) -> ApiResult<()> {
    let invalid = invalid_access_log_path;
    match op.op {
        Op::Add | Op::Replace => {
            let value = op
                .value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ApiError::bad_request("Access Log value must not be empty"))?;
            let settings = stage
                .access_log_settings
                .get_or_insert_with(AccessLogSettings::default);
            match field {
                "destinationArn" => settings.destination_arn = Some(value),
                "format" => settings.format = Some(value),
                _ => return Err(invalid()),
            }
        }
        // AWS removes the settings whole (`/accessLogSettings`): a field of theirs it reads as
        // a method setting's path (`/{resourcePath}/{httpMethod}`), which there is none of.
        Op::Remove => return Err(nothing_to_remove(&format!("accessLogSettings/{field}"))),
        _ => return Err(invalid_stage_path(op)),
    }
    Ok(())
}

fn apply_canary(stage: &mut Stage, op: &PatchOp, rest: &[&str]) -> ApiResult<()> {
    if op.op == Op::Remove {
        let canary = stage.canary_settings.as_mut();
        return match (rest, canary) {
            (["stageVariableOverrides", name], Some(c)) if c.stage_variable_overrides.contains_key(*name) => {
                c.stage_variable_overrides.remove(*name);
                Ok(())
            }
            _ => Err(nothing_to_remove(op.path.trim_start_matches('/'))),
        };
    }
    if !matches!(op.op, Op::Add | Op::Replace) {
        return Err(invalid_stage_path(op));
    }
    let base_deployment = stage.deployment_id.clone();
    let mut canary = stage.canary_settings.clone().unwrap_or(CanarySettings {
        deployment_id: Some(base_deployment),
        percent_traffic: 0.0,
        stage_variable_overrides: BTreeMap::new(),
        use_stage_cache: false,
    });
    match rest {
        ["deploymentId"] if op.op == Op::Add => {
            return Err(ApiError::bad_request(format!(
                "Invalid add operation with path: {}",
                op.path
            )));
        }
        ["deploymentId"] => canary.deployment_id = Some(op.required_value()?.to_owned()),
        ["percentTraffic"] => canary.percent_traffic = parse_percent(op.number()?)?,
        ["useStageCache"] => canary.use_stage_cache = op.bool_value()?,
        ["stageVariableOverrides", name] => {
            canary
                .stage_variable_overrides
                .insert((*name).to_owned(), op.required_value()?.to_owned());
        }
        _ => return Err(invalid_stage_path(op)),
    }
    stage.canary_settings = Some(canary);
    Ok(())
}

/// Promotion: `copy` from `/canarySettings/deploymentId` to `/deploymentId`, and from
/// `/canarySettings/stageVariableOverrides` to `/variables` (merged over the stage's own).
fn apply_copy(stage: &mut Stage, op: &PatchOp) -> ApiResult<()> {
    let from = op.from.as_deref().unwrap_or_default();
    match (op.path.as_str(), from) {
        ("/deploymentId", "/canarySettings/deploymentId")
        | ("/variables", "/canarySettings/stageVariableOverrides") => {}
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid copy operation with path: {} and from {from}. Valid copy:path are [/deploymentId, /variables] \
                 and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]",
                op.path
            )));
        }
    }
    let canary = stage
        .canary_settings
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("Promotion not available. Canary does not exist."))?;
    if op.path == "/deploymentId" {
        stage.deployment_id = canary
            .deployment_id
            .clone()
            .unwrap_or_else(|| stage.deployment_id.clone());
    } else {
        let overrides = canary.stage_variable_overrides.clone();
        stage.variables.extend(overrides);
    }
    Ok(())
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/stages/{stage_name}",
    operation_id = "DeleteStage",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path)),
    responses((status = 202, description = "DeleteStage succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    stages::delete(&mut tx, &api_id, &name)
        .await
        .or_not_found(stage_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/stages/{stage_name}/cache/authorizers",
    operation_id = "FlushStageAuthorizersCache",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path)),
    responses((status = 202, description = "FlushStageAuthorizersCache succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn flush_stage_authorizers_cache(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    flush(&app, &tenant, &api_id, &name, stages::Flushed::Authorizers).await
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/stages/{stage_name}/cache/data",
    operation_id = "FlushStageCache",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path)),
    responses((status = 202, description = "FlushStageCache succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn flush_stage_cache(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    flush(&app, &tenant, &api_id, &name, stages::Flushed::Cache).await
}

/// Empties what `what` names on the tenant's stage, fleet-wide: AWS's 202.
async fn flush(
    app: &AppState,
    tenant: &Tenant,
    api_id: &str,
    name: &str,
    what: stages::Flushed,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, tenant, api_id, RowLock::None).await?;
    stages::flush(&mut tx, api_id, name, what)
        .await
        .or_not_found(stage_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage() -> Stage {
        new_stage("dev".into(), "d1".into(), None, BTreeMap::new(), None, None, None).unwrap()
    }

    fn op(op: Op, path: &str, value: Option<&str>) -> PatchOp {
        PatchOp {
            op,
            path: path.into(),
            value: value.map(Into::into),
            from: None,
        }
    }

    #[test]
    fn method_settings_are_addressed_by_escaped_paths() {
        let mut s = stage();
        apply_stage_patch(
            &mut s,
            &op(Op::Replace, "/~1pets/GET/throttling/rateLimit", Some("12.5")),
        )
        .unwrap();
        apply_stage_patch(&mut s, &op(Op::Replace, "/*/*/caching/enabled", Some("true"))).unwrap();
        assert_eq!(s.method_settings["pets/GET"].throttling_rate_limit, 12.5);
        assert!(s.method_settings["*/*"].caching_enabled);
        apply_stage_patch(&mut s, &op(Op::Remove, "/*/*", None)).unwrap();
        let e = apply_stage_patch(&mut s, &op(Op::Remove, "/*/*", None)).unwrap_err();
        assert_eq!(
            e.message,
            "Cannot remove method setting */* because there is no method setting for this method "
        );
    }

    #[test]
    fn promotion_copies_the_canary_over_the_stage() {
        let mut s = stage();
        s.variables.insert("v".into(), "base".into());
        let e = apply_stage_patch(
            &mut s,
            &PatchOp {
                from: Some("/canarySettings/deploymentId".into()),
                ..op(Op::Copy, "/deploymentId", None)
            },
        )
        .unwrap_err();
        assert_eq!(e.message, "Promotion not available. Canary does not exist.");
        apply_stage_patch(
            &mut s,
            &op(Op::Replace, "/canarySettings/deploymentId", Some("d2")),
        )
        .unwrap();
        apply_stage_patch(
            &mut s,
            &op(
                Op::Replace,
                "/canarySettings/stageVariableOverrides/v",
                Some("canary"),
            ),
        )
        .unwrap();
        apply_stage_patch(
            &mut s,
            &PatchOp {
                from: Some("/canarySettings/deploymentId".into()),
                ..op(Op::Copy, "/deploymentId", None)
            },
        )
        .unwrap();
        apply_stage_patch(
            &mut s,
            &PatchOp {
                from: Some("/canarySettings/stageVariableOverrides".into()),
                ..op(Op::Copy, "/variables", None)
            },
        )
        .unwrap();
        assert_eq!(s.deployment_id, "d2");
        assert_eq!(s.variables["v"], "canary");
    }

    #[test]
    fn unknown_paths_list_the_valid_ones() {
        let mut s = stage();
        let e = apply_stage_patch(&mut s, &op(Op::Replace, "/documentation_version", Some("x"))).unwrap_err();
        assert!(e.message.starts_with(
            "Invalid method setting path: /documentation_version. Must be one of: [/deploymentId,"
        ));
    }
}
