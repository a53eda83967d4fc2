//! Stage: CreateStage, GetStage, GetStages, UpdateStage, DeleteStage, DeleteAccessLogSettings,
//! DeleteRouteSettings, ResetAuthorizersCache. A stage's settings are live configuration: every write reaches the
//! workers without a deployment. An `autoDeploy` stage is deployed as it is created, and again
//! at every change of its API's definition.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::deployments::{deploy_stage, deployment_not_found};
use super::{Items, Paging, check_len, find_api};
use crate::domain::http_api::{AccessLogSettings, RouteKey, RouteSettings, Stage, iso_now};
use crate::domain::stage::{is_valid_variable_name, is_valid_variable_value};
use crate::management::AppState;
use crate::management::apigateway::tags::check_tags;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, StoreError, Tenant, deployments, stages};

/// CreateStage's and UpdateStage's body (UpdateStage: what it names changes; route settings
/// are merged, route by route).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageInput {
    pub access_log_settings: Option<AccessLogSettings>,
    pub auto_deploy: Option<bool>,
    pub client_certificate_id: Option<String>,
    pub default_route_settings: Option<RouteSettings>,
    pub deployment_id: Option<String>,
    pub description: Option<String>,
    pub route_settings: Option<BTreeMap<String, RouteSettings>>,
    pub stage_name: Option<String>,
    pub stage_variables: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

pub fn stage_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid stage identifier specified {name}"))
}

/// `$default`, or letters, digits, `-` and `_` (at most 128).
fn check_stage_name(name: &str) -> ApiResult<()> {
    if name == "$default" || crate::domain::stage::is_valid_stage_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid stageName {name:?}: use $default, or 1 to 128 letters, digits, - and _"
        )))
    }
}

fn check_settings(s: &RouteSettings) -> ApiResult<()> {
    if s.throttling_rate_limit
        .is_some_and(|r| !(r >= 0.0 && r.is_finite()))
    {
        return Err(ApiError::bad_request(
            "Invalid throttlingRateLimit: it must be a number of requests per second, 0 or more",
        ));
    }
    if s.throttling_burst_limit.is_some_and(|b| b < 0) {
        return Err(ApiError::bad_request(
            "Invalid throttlingBurstLimit: it must be 0 or more",
        ));
    }
    if let Some(l) = s.logging_level.as_deref()
        && !matches!(l, "ERROR" | "INFO" | "OFF")
    {
        return Err(ApiError::bad_request(format!(
            "Invalid loggingLevel {l}: expected ERROR, INFO or OFF"
        )));
    }
    Ok(())
}

/// Applies `input`'s settings to `stage` and checks them (the deployment is the caller's).
fn apply(stage: &mut Stage, http: bool, input: StageInput) -> ApiResult<()> {
    if let Some(d) = input.description {
        check_len("description", &d, 1024)?;
        stage.description = Some(d);
    }
    if let Some(a) = input.access_log_settings {
        if a.destination_arn.is_some() != a.format.is_some() {
            return Err(ApiError::bad_request(
                "Access log settings need both a destinationArn and a format",
            ));
        }
        stage.access_log_settings = Some(a);
    }
    if let Some(a) = input.auto_deploy {
        stage.auto_deploy = a;
    }
    if input.client_certificate_id.is_some() {
        stage.client_certificate_id = input.client_certificate_id.filter(|c| !c.is_empty());
    }
    if let Some(s) = input.default_route_settings {
        check_settings(&s)?;
        stage.default_route_settings.merge(s);
    }
    for (key, settings) in input.route_settings.unwrap_or_default() {
        if http {
            RouteKey::parse(&key).map_err(ApiError::bad_request)?;
        }
        check_settings(&settings)?;
        stage.route_settings.entry(key).or_default().merge(settings);
    }
    if let Some(vars) = input.stage_variables {
        for (k, v) in &vars {
            if !is_valid_variable_name(k) || !is_valid_variable_value(v) {
                return Err(ApiError::bad_request(format!(
                    "Invalid stage variable {k}: names are alphanumerics and _, values at most 512 characters of letters, digits and -._~:/?#&=,"
                )));
            }
        }
        stage.stage_variables = vars;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/stages",
    operation_id = "CreateStageV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = StageInput,
    responses((status = 201, description = "CreateStage succeeded", body = Stage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(mut input): AwsJson<StageInput>,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    let name = input
        .stage_name
        .take()
        .ok_or_else(|| ApiError::bad_request("stageName is required"))?;
    check_stage_name(&name)?;
    check_tags(&input.tags)?;
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut stage = Stage {
        tags: std::mem::take(&mut input.tags),
        ..Stage::new(name.clone())
    };
    if let Some(id) = input.deployment_id.take() {
        if !deployments::exists(&mut tx, &api_id, &id).await? {
            return Err(deployment_not_found(&id));
        }
        stage.deployment_id = Some(id);
    }
    apply(&mut stage, api.protocol_type == "HTTP", input)?;
    if stage.auto_deploy {
        deploy_stage(&mut tx, &tenant, &api_id, &mut stage).await?;
    }
    match stages::insert(&mut tx, &api_id, &stage).await {
        Ok(_) => {}
        Err(StoreError::AlreadyExists(_)) => {
            return Err(ApiError::conflict(format!("Stage {name} already exists")));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(stage)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/stages/{stageName}",
    operation_id = "GetStageV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path)),
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
    let stage = stages::get(&mut conn, &api_id, &name, false)
        .await
        .or_not_found(|| stage_not_found(&name))?;
    Ok(Json(stage))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/stages",
    operation_id = "GetStagesV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetStages succeeded", body = Items<Stage>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_stages(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Stage>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        stages::page::<Stage>(&mut conn, &api_id, page).await?.into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/stages/{stageName}",
    operation_id = "UpdateStageV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path)),
    request_body = StageInput,
    responses((status = 200, description = "UpdateStage succeeded", body = Stage), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(mut input): AwsJson<StageInput>,
) -> ApiResult<Json<Stage>> {
    if !input.tags.is_empty() || input.stage_name.take().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "UpdateStage changes neither the stage's name nor its tags (TagResource does)",
        ));
    }
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut stage: Stage = stages::get(&mut tx, &api_id, &name, true)
        .await
        .or_not_found(|| stage_not_found(&name))?;
    if stage.api_gateway_managed && input.auto_deploy == Some(false) {
        return Err(super::integrations::managed("stage's autoDeploy"));
    }
    if let Some(id) = input.deployment_id.take() {
        if !deployments::exists(&mut tx, &api_id, &id).await? {
            return Err(deployment_not_found(&id));
        }
        stage.deployment_id = Some(id);
    }
    let was_auto = stage.auto_deploy;
    apply(&mut stage, api.protocol_type == "HTTP", input)?;
    stage.last_updated_date = iso_now();
    // A stage that starts deploying automatically is deployed at once.
    if stage.auto_deploy && !was_auto {
        deploy_stage(&mut tx, &tenant, &api_id, &mut stage).await?;
    }
    stages::update(&mut tx, &api_id, &stage).await?;
    tx.commit().await?;
    Ok(Json(stage))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/stages/{stageName}",
    operation_id = "DeleteStageV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path)),
    responses((status = 204, description = "DeleteStage succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_stage(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let stage: Stage = stages::get(&mut tx, &api_id, &name, true)
        .await
        .or_not_found(|| stage_not_found(&name))?;
    if stage.api_gateway_managed {
        return Err(super::integrations::managed("stage"));
    }
    stages::delete(&mut tx, &api_id, &name).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/stages/{stageName}/accesslogsettings",
    operation_id = "DeleteAccessLogSettings",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path)),
    responses((status = 204, description = "DeleteAccessLogSettings succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_access_log_settings(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    edit_stage(&app, &tenant, &api_id, &name, |stage| {
        stage.access_log_settings = None;
        Ok(())
    })
    .await
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}",
    operation_id = "DeleteRouteSettings",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path), ("routeKey" = String, Path)),
    responses((status = 204, description = "DeleteRouteSettings succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_route_settings(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name, key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    edit_stage(&app, &tenant, &api_id, &name, |stage| {
        stage
            .route_settings
            .remove(&key)
            .map(drop)
            .ok_or_else(|| ApiError::not_found(format!("Invalid route settings key specified {key}")))
    })
    .await
}

/// Reads a stage locked, changes it with `edit`, and saves it.
async fn edit_stage(
    app: &AppState,
    tenant: &Tenant,
    api_id: &str,
    name: &str,
    edit: impl FnOnce(&mut Stage) -> ApiResult<()>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    // The API's row, as every writer of its stages takes it (an auto-deployment rewrites them).
    find_api(&mut tx, tenant, api_id, RowLock::Update).await?;
    let mut stage: Stage = stages::get(&mut tx, api_id, name, true)
        .await
        .or_not_found(|| stage_not_found(name))?;
    edit(&mut stage)?;
    stage.last_updated_date = iso_now();
    stages::update(&mut tx, api_id, &stage).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/stages/{stageName}/cache/authorizers",
    operation_id = "ResetAuthorizersCache",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("stageName" = String, Path)),
    responses((status = 204, description = "ResetAuthorizersCache succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn reset_authorizers_cache(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    // A new generation of the stage's cached authorizer answers, on every worker.
    stages::flush(&mut tx, &api_id, &name, stages::Flushed::Authorizers)
        .await
        .or_not_found(|| stage_not_found(&name))?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
