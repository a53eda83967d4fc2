//! Deployment: CreateDeployment (freezes the API into a content-hashed snapshot, and may create
//! or update a stage or its canary), GetDeployment(s), UpdateDeployment, DeleteDeployment.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use sqlx::PgConnection;

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::stages::{CanaryInput, new_stage};
use super::{Listing, find_api};
use crate::domain::rest_api::{
    Authorizer, Deployment, GatewayResponse, Method, Model, RequestValidator, Resource,
};
use crate::domain::snapshot::Snapshot;
use crate::domain::stage::{CanarySettings, Stage};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, query_param};
use crate::store::api_documents::{self as docs, Kind};
use crate::store::resources::Tree;
use crate::store::{RowLock, StoreError, Tenant, deployments, methods, resources, stages};

pub fn deployment_not_found() -> ApiError {
    ApiError::not_found("Invalid Deployment identifier specified")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentRequest {
    pub stage_name: Option<String>,
    pub stage_description: Option<String>,
    pub description: Option<String>,
    pub cache_cluster_enabled: Option<bool>,
    pub cache_cluster_size: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub canary_settings: Option<CanaryInput>,
    pub tracing_enabled: Option<bool>,
}

/// Reads the whole definition of an API and freezes it. The API row is locked exclusively, so no
/// writer of the definition (they hold it shared) is half-way through while it is read.
pub async fn freeze(conn: &mut PgConnection, tenant: &Tenant, api_id: &str) -> ApiResult<Snapshot> {
    let api = find_api(conn, tenant, api_id, RowLock::Update).await?;
    let tree = Tree::new(resources::all(conn, api_id).await?);
    let mut by_resource: HashMap<String, BTreeMap<String, Method>> = HashMap::new();
    for (rid, m) in methods::all(conn, api_id).await? {
        by_resource
            .entry(rid)
            .or_default()
            .insert(m.http_method.as_str().to_owned(), m);
    }
    let resources = tree
        .nodes
        .iter()
        .map(|n| Resource {
            id: n.id.clone(),
            parent_id: n.parent_id.clone(),
            path_part: n.path_part.clone(),
            path: tree.path_of(&n.id),
            resource_methods: by_resource.remove(&n.id),
        })
        .collect();
    let mut snapshot = Snapshot::new(api, resources);
    let models: Vec<Model> = docs::all(conn, Kind::Model, api_id).await?;
    snapshot.models = models.into_iter().map(|m| (m.name.clone(), m)).collect();
    let validators: Vec<RequestValidator> = docs::all(conn, Kind::RequestValidator, api_id).await?;
    snapshot.request_validators = validators.into_iter().map(|v| (v.id.clone(), v)).collect();
    let authorizers: Vec<Authorizer> = docs::all(conn, Kind::Authorizer, api_id).await?;
    snapshot.authorizers = authorizers.into_iter().map(|a| (a.id.clone(), a)).collect();
    let responses: Vec<GatewayResponse> = docs::all(conn, Kind::GatewayResponse, api_id).await?;
    snapshot.gateway_responses = responses
        .into_iter()
        .map(|r| (r.response_type.as_str().to_owned(), r))
        .collect();
    // The links integrations may name (by id, or by a stage variable holding one).
    let private = snapshot.resources.iter().any(|r| {
        r.resource_methods.iter().flatten().any(|(_, m)| {
            m.method_integration
                .as_ref()
                .is_some_and(|i| i.connection_type == Some(crate::domain::enums::ConnectionType::VpcLink))
        })
    });
    if private {
        let page = crate::store::PageRequest {
            after_seq: 0,
            limit: 10_000,
        };
        let links: crate::store::Page<crate::domain::vpc_link::VpcLink> =
            crate::store::vpc_links::list(conn, tenant, "V1", page).await?;
        snapshot.vpc_links = links
            .items
            .into_iter()
            .filter_map(|l| Some((l.id, l.target_arns.into_iter().next()?)))
            .collect();
    }
    Ok(snapshot)
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/deployments",
    operation_id = "CreateDeployment",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateDeploymentRequest,
    responses((status = 201, description = "CreateDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateDeploymentRequest>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let mut tx = app.store.begin().await?;
    let snapshot = freeze(&mut tx, &tenant, &api_id).await?;
    if snapshot.method_count() == 0 {
        return Err(ApiError::bad_request("The REST API doesn't contain any methods"));
    }
    if req.canary_settings.is_some() {
        match req.stage_name.as_deref() {
            None => return Err(canary_without_stage("null")),
            Some("") => return Err(canary_without_stage("")),
            Some(_) => {}
        }
    }
    let (bytes, hash) = snapshot.canonical();
    deployments::put_snapshot(&mut tx, &hash, &bytes).await?;
    let deployment = Deployment {
        id: ids::deployment_id(),
        description: req.description.filter(|d| !d.is_empty()),
        created_date: now(),
        api_summary: None,
    };
    deployments::insert(&mut tx, &api_id, &deployment, &hash).await?;

    if let Some(stage_name) = req.stage_name.filter(|s| !s.is_empty()) {
        let existing = stages::get::<Stage>(&mut tx, &api_id, &stage_name, true).await;
        match (existing, req.canary_settings) {
            (Ok(mut stage), Some(canary)) => {
                stage.canary_settings = Some(CanarySettings {
                    deployment_id: Some(deployment.id.clone()),
                    percent_traffic: canary.percent_traffic()?,
                    stage_variable_overrides: canary.stage_variable_overrides.unwrap_or_default(),
                    use_stage_cache: canary.use_stage_cache.unwrap_or(false),
                });
                stage.last_updated_date = now();
                stages::update(&mut tx, &api_id, &stage).await?;
            }
            (Err(StoreError::NotFound), Some(_)) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid deployment content specified.Stage {stage_name} must already be created before making a canary release deployment"
                )));
            }
            (Ok(mut stage), None) => {
                stage.deployment_id = deployment.id.clone();
                stage.variables.extend(req.variables);
                if let Some(d) = req.stage_description.filter(|d| !d.is_empty()) {
                    stage.description = Some(d);
                }
                stage.last_updated_date = now();
                stages::update(&mut tx, &api_id, &stage).await?;
            }
            (Err(StoreError::NotFound), None) => {
                let stage = new_stage(
                    stage_name,
                    deployment.id.clone(),
                    req.stage_description,
                    req.variables,
                    req.cache_cluster_enabled,
                    req.cache_cluster_size.as_deref(),
                    req.tracing_enabled,
                )?;
                stages::insert(&mut tx, &api_id, &stage).await?;
            }
            (Err(e), _) => return Err(e.into()),
        }
    }
    tx.commit().await?;
    tracing::info!(api.id = %api_id, deployment.id = %deployment.id, snapshot.hash = %hash, "deployment created");
    Ok((StatusCode::CREATED, Json(deployment)))
}

fn canary_without_stage(provided: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is {provided}"
    ))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/deployments/{deployment_id}",
    operation_id = "GetDeployment",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 200, description = "GetDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, deployment_id)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<Deployment>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let (mut deployment, hash) = deployments::get::<Deployment>(&mut conn, &api_id, &deployment_id, false)
        .await
        .or_not_found(deployment_not_found)?;
    if query_param(uri.query(), "embed")
        .is_some_and(|e| e.split(',').any(|x| x.trim().eq_ignore_ascii_case("apisummary")))
    {
        let bytes = deployments::get_snapshot(&mut conn, &hash).await?;
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        deployment.api_summary = Some(snapshot.api_summary());
    }
    Ok(Json(deployment))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/deployments",
    operation_id = "GetDeployments",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetDeployments succeeded", body = Listing<Deployment>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_deployments(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<Deployment>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(deployments::list(&mut conn, &api_id, page).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/deployments/{deployment_id}",
    operation_id = "UpdateDeployment",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("deployment_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateDeployment succeeded", body = Deployment), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, deployment_id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Deployment>> {
    let ops = patch::parse(body, "updateDeploymentInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let (mut deployment, _) = deployments::get::<Deployment>(&mut tx, &api_id, &deployment_id, true)
        .await
        .or_not_found(deployment_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/description", Op::Replace | Op::Add) => deployment.description = patch::optional_string(op),
            ("/description", Op::Remove) => deployment.description = None,
            ("/description", _) => return Err(op.unsupported_op()),
            _ => return Err(op.invalid_path(&["/description"])),
        }
    }
    deployments::update(&mut tx, &api_id, &deployment).await?;
    tx.commit().await?;
    Ok(Json(deployment))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/deployments/{deployment_id}",
    operation_id = "DeleteDeployment",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 202, description = "DeleteDeployment succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_deployment(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, deployment_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let in_use =
        || ApiError::bad_request("Active stages pointing to this deployment must be moved or deleted");
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    deployments::get::<Deployment>(&mut tx, &api_id, &deployment_id, true)
        .await
        .or_not_found(deployment_not_found)?;
    if stages::uses_deployment(&mut tx, &api_id, &deployment_id).await? {
        return Err(in_use());
    }
    match deployments::delete(&mut tx, &api_id, &deployment_id).await {
        Ok(()) => {}
        // A stage that started using it concurrently: the foreign key has the last word.
        Err(StoreError::ForeignKey(_)) => return Err(in_use()),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
