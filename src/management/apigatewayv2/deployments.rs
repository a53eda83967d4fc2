//! Deployment: CreateDeployment, GetDeployment, GetDeployments, UpdateDeployment,
//! DeleteDeployment; and the automatic deployments of `autoDeploy` stages, which every change
//! to an API's definition makes in its own transaction, as AWS redeploys them.

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;
use sqlx::PgConnection;

use super::{Items, Paging, check_len, find_api};
use crate::domain::http_api::{
    Authorizer, Deployment, Integration, IntegrationResponse, Route, RouteResponse, Stage, iso_now,
};
use crate::domain::ids;
use crate::domain::snapshot::HttpSnapshot;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant, deployments, stages};

pub fn deployment_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Deployment identifier specified {id}"))
}

/// Reads the whole definition of an API and freezes it, refusing one that cannot be served.
/// The API row is locked exclusively: no writer of the definition (they hold it shared) is
/// half-way through while it is read.
async fn freeze(conn: &mut PgConnection, tenant: &Tenant, api_id: &str) -> ApiResult<HttpSnapshot> {
    let api = find_api(conn, tenant, api_id, RowLock::Update).await?;
    let routes: Vec<Route> = docs::all(conn, Kind::Route, api_id).await?;
    if routes.is_empty() {
        return Err(ApiError::bad_request(
            "Unable to deploy API because no routes exist in this API",
        ));
    }
    let integrations: Vec<Integration> = docs::all(conn, Kind::Integration, api_id).await?;
    let mut snapshot = HttpSnapshot::new(api, routes, integrations);
    let authorizers: Vec<Authorizer> = docs::all(conn, Kind::Authorizer, api_id).await?;
    snapshot.authorizers = authorizers
        .into_iter()
        .map(|a| (a.authorizer_id.clone(), a))
        .collect();
    let compiled = if snapshot.http_api.protocol_type == "HTTP" {
        crate::compiler::http_api::compile(&snapshot, "").map(drop)
    } else {
        let responses: Vec<(String, RouteResponse)> =
            docs::all_children(conn, Kind::RouteResponse, api_id).await?;
        for (route, response) in responses {
            snapshot.route_responses.entry(route).or_default().push(response);
        }
        let responses: Vec<(String, IntegrationResponse)> =
            docs::all_children(conn, Kind::IntegrationResponse, api_id).await?;
        for (integration, response) in responses {
            snapshot
                .integration_responses
                .entry(integration)
                .or_default()
                .push(response);
        }
        let models: Vec<crate::domain::http_api::Model> = docs::all(conn, Kind::ApiModel, api_id).await?;
        snapshot.models = models.into_iter().map(|m| (m.name.clone(), m)).collect();
        crate::compiler::websocket::compile(&snapshot, "").map(drop)
    };
    compiled.map_err(|e| ApiError::bad_request(format!("Unable to deploy API: {e}")))?;
    Ok(snapshot)
}

/// Stores a frozen definition (once by its hash) and a deployment pointing at it.
async fn record(
    conn: &mut PgConnection,
    api_id: &str,
    (bytes, hash): (Vec<u8>, String),
    description: Option<String>,
    auto: bool,
) -> ApiResult<Deployment> {
    deployments::put_snapshot(conn, &hash, &bytes).await?;
    let deployment = Deployment {
        deployment_id: ids::deployment_id(),
        auto_deployed: auto,
        created_date: iso_now(),
        deployment_status: "DEPLOYED".into(),
        deployment_status_message: None,
        description,
    };
    deployments::insert(conn, api_id, &deployment, &hash).await?;
    Ok(deployment)
}

/// Deploys the API's current definition.
async fn deploy(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api_id: &str,
    description: Option<String>,
    auto: bool,
) -> ApiResult<Deployment> {
    let snapshot = freeze(conn, tenant, api_id).await?;
    record(conn, api_id, snapshot.canonical(), description, auto).await
}

/// Points `stage` at `deployment`, saying so as AWS does (the caller writes the stage).
fn point(stage: &mut Stage, deployment: &Deployment) {
    stage.deployment_id = Some(deployment.deployment_id.clone());
    stage.last_deployment_status_message = Some(format!(
        "Successfully deployed stage with deployment ID '{}'",
        deployment.deployment_id
    ));
    stage.last_updated_date = iso_now();
}

/// Why a definition could not be deployed, for an autoDeploy stage's status.
fn failed(stage: &mut Stage, e: &ApiError) {
    stage.last_deployment_status_message = Some(format!("Deployment failed: {}", e.message));
    stage.last_updated_date = iso_now();
}

/// Deploys an autoDeploy stage being created or turned to autoDeploy, before it is written:
/// the definition is read and compiled before the stage's write takes the configuration
/// revision, which every tenant's live changes wait for.
pub async fn deploy_stage(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api_id: &str,
    stage: &mut Stage,
) -> ApiResult<()> {
    match deploy(conn, tenant, api_id, None, true).await {
        Ok(deployment) => point(stage, &deployment),
        Err(e) if e.status == StatusCode::BAD_REQUEST => failed(stage, &e),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Redeploys the API's `autoDeploy` stages with its current definition, those not already
/// serving it (a change that leaves the definition as it was deploys nothing). A definition
/// that cannot be deployed leaves them as they were, with the reason in their status message.
/// The caller holds the API's row locked, as every writer of its stages does.
pub async fn auto_deploy(conn: &mut PgConnection, tenant: &Tenant, api_id: &str) -> ApiResult<()> {
    let auto: Vec<Stage> = stages::list::<Stage>(conn, api_id, None)
        .await?
        .into_iter()
        .filter(|s| s.auto_deploy)
        .collect();
    if auto.is_empty() {
        return Ok(());
    }
    let (bytes, hash) = match freeze(conn, tenant, api_id).await {
        Ok(snapshot) => snapshot.canonical(),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            for mut stage in auto {
                failed(&mut stage, &e);
                stages::update(conn, api_id, &stage).await?;
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut stale = Vec::with_capacity(auto.len());
    for stage in auto {
        let serving = match stage.deployment_id.as_deref() {
            Some(id) => Some(deployments::get::<Deployment>(conn, api_id, id, false).await?.1),
            None => None,
        };
        if serving.as_deref() != Some(hash.as_str()) {
            stale.push(stage);
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    let deployment = record(conn, api_id, (bytes, hash), None, true).await?;
    for mut stage in stale {
        point(&mut stage, &deployment);
        stages::update(conn, api_id, &stage).await?;
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub description: Option<String>,
    pub stage_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/deployments",
    operation_id = "CreateDeploymentV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = DeploymentInput,
    responses((status = 201, description = "CreateDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(input): AwsJson<DeploymentInput>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    if let Some(d) = &input.description {
        check_len("description", d, 1024)?;
    }
    let mut tx = app.store.begin().await?;
    // The API's row first, as every writer of its stages takes it.
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let stage = match input.stage_name.as_deref() {
        Some(name) => {
            let stage: Stage = stages::get(&mut tx, &api_id, name, true)
                .await
                .or_not_found(|| super::stages::stage_not_found(name))?;
            if stage.auto_deploy {
                return Err(ApiError::bad_request(format!(
                    "Stage {name} deploys automatically (autoDeploy): it cannot be deployed by hand"
                )));
            }
            Some(stage)
        }
        None => None,
    };
    let deployment = deploy(&mut tx, &tenant, &api_id, input.description, false).await?;
    if let Some(mut stage) = stage {
        point(&mut stage, &deployment);
        stages::update(&mut tx, &api_id, &stage).await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(deployment)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/deployments/{deploymentId}",
    operation_id = "GetDeploymentV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("deploymentId" = String, Path)),
    responses((status = 200, description = "GetDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Deployment>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let (deployment, _) = deployments::get::<Deployment>(&mut conn, &api_id, &id, false)
        .await
        .or_not_found(|| deployment_not_found(&id))?;
    Ok(Json(deployment))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/deployments",
    operation_id = "GetDeploymentsV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetDeployments succeeded", body = Items<Deployment>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_deployments(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Deployment>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let page = deployments::list::<Deployment>(&mut conn, &api_id, page).await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/deployments/{deploymentId}",
    operation_id = "UpdateDeploymentV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("deploymentId" = String, Path)),
    request_body = DeploymentInput,
    responses((status = 200, description = "UpdateDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<DeploymentInput>,
) -> ApiResult<Json<Deployment>> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let (mut deployment, _) = deployments::get::<Deployment>(&mut tx, &api_id, &id, true)
        .await
        .or_not_found(|| deployment_not_found(&id))?;
    if let Some(d) = input.description {
        check_len("description", &d, 1024)?;
        deployment.description = Some(d);
    }
    deployments::update(&mut tx, &api_id, &deployment).await?;
    tx.commit().await?;
    Ok(Json(deployment))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/deployments/{deploymentId}",
    operation_id = "DeleteDeploymentV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("deploymentId" = String, Path)),
    responses((status = 204, description = "DeleteDeployment succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let in_use = || {
        ApiError::bad_request(format!(
            "Deployment {id} is in use by a stage: point the stage at another deployment first"
        ))
    };
    if stages::uses_deployment(&mut tx, &api_id, &id).await? {
        return Err(in_use());
    }
    match deployments::delete(&mut tx, &api_id, &id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(deployment_not_found(&id)),
        // A stage that started using it concurrently: the foreign key has the last word.
        Err(StoreError::ForeignKey(_)) => return Err(in_use()),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
