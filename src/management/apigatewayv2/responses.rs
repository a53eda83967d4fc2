//! RouteResponse (Create, Get, GetRouteResponses, Update, Delete) and IntegrationResponse
//! (Create, Get, GetIntegrationResponses, Update, Delete): what a WebSocket route sends back to
//! its client, and how an integration's answer becomes the route's. Both belong to WebSocket
//! APIs (AWS's HTTP APIs have neither); each lives under its route or integration, its key
//! unique there. A change redeploys the API's autoDeploy stages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::deployments::auto_deploy;
use super::integrations::integration_not_found;
use super::routes::route_not_found;
use super::{Items, Paging, find_api};
use crate::domain::http_api::{HttpApi, IntegrationResponse, ParameterConstraints, RouteResponse};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant};

/// The tenant's WebSocket API `api_id` (its row locked as asked) with its `parent` route or
/// integration; HTTP APIs have no route or integration responses.
async fn find_parent(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    api_id: &str,
    parent: Parent<'_>,
    lock: RowLock,
) -> ApiResult<HttpApi> {
    let api = find_api(conn, tenant, api_id, lock).await?;
    let (kind, id, not_found, what) = match parent {
        Parent::Route(id) => (Kind::Route, id, route_not_found(id), "Route responses"),
        Parent::Integration(id) => (
            Kind::Integration,
            id,
            integration_not_found(id),
            "Integration responses",
        ),
    };
    if !docs::exists(conn, kind, api_id, id).await? {
        return Err(not_found);
    }
    if api.protocol_type != "WEBSOCKET" {
        return Err(ApiError::bad_request(format!(
            "{what} are supported only for WebSocket APIs"
        )));
    }
    Ok(api)
}

#[derive(Debug, Clone, Copy)]
enum Parent<'a> {
    Route(&'a str),
    Integration(&'a str),
}

/// A response key AWS takes: `$default`, or (integration responses) a regular expression over
/// the integration's status between slashes, such as `/4\d\d/`.
fn check_key(name: &str, key: &str, regex_allowed: bool) -> ApiResult<()> {
    if key.is_empty() || key.len() > 256 {
        return Err(ApiError::bad_request(format!(
            "Invalid {name}: it must be 1 to 256 characters"
        )));
    }
    if key == "$default" {
        return Ok(());
    }
    let pattern = key
        .strip_prefix('/')
        .and_then(|k| k.strip_suffix('/'))
        .filter(|p| regex_allowed && !p.is_empty());
    match pattern {
        Some(p) => regex::Regex::new(p).map(drop).map_err(|e| {
            ApiError::bad_request(format!("Invalid {name} {key}: not a regular expression ({e})"))
        }),
        None if regex_allowed => Err(ApiError::bad_request(format!(
            "Invalid {name} {key}: expected $default or a regular expression between slashes, such as /4\\d\\d/"
        ))),
        None => Err(ApiError::bad_request(format!(
            "Invalid {name} {key}: only $default is supported"
        ))),
    }
}

/// Saves a new or changed response; a key its parent already has is AWS's conflict.
async fn save<T: serde::Serialize>(
    conn: &mut sqlx::PgConnection,
    kind: Kind,
    api_id: &str,
    parent: &str,
    (id, key): (&str, &str),
    doc: &T,
    new: bool,
) -> ApiResult<()> {
    let saved = if new {
        docs::insert_child(conn, kind, api_id, parent, id, doc).await
    } else {
        docs::update(conn, kind, api_id, id, doc).await
    };
    match saved {
        Err(StoreError::AlreadyExists(_)) => Err(ApiError::conflict(format!(
            "A response with key {key} already exists for {parent}"
        ))),
        other => Ok(other?),
    }
}

/// CreateRouteResponse's and UpdateRouteResponse's body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponseInput {
    pub model_selection_expression: Option<String>,
    pub response_models: Option<BTreeMap<String, String>>,
    pub response_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    pub route_response_key: Option<String>,
}

impl RouteResponseInput {
    fn apply_to(self, r: &mut RouteResponse) -> ApiResult<()> {
        if let Some(k) = self.route_response_key {
            r.route_response_key = k;
        }
        check_key("routeResponseKey", &r.route_response_key, false)?;
        if self.model_selection_expression.is_some() {
            r.model_selection_expression = self.model_selection_expression.filter(|m| !m.is_empty());
        }
        if let Some(m) = self.response_models {
            r.response_models = m;
        }
        if let Some(p) = self.response_parameters {
            r.response_parameters = p;
        }
        Ok(())
    }
}

fn route_response_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid RouteResponse identifier specified {id}"))
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/routes/{routeId}/routeresponses",
    operation_id = "CreateRouteResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path)),
    request_body = RouteResponseInput,
    responses((status = 201, description = "CreateRouteResponse succeeded", body = RouteResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_route_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, route_id)): Path<(String, String)>,
    AwsJson(input): AwsJson<RouteResponseInput>,
) -> ApiResult<(StatusCode, Json<RouteResponse>)> {
    let mut tx = app.store.begin().await?;
    find_parent(
        &mut tx,
        &tenant,
        &api_id,
        Parent::Route(&route_id),
        RowLock::Update,
    )
    .await?;
    if input.route_response_key.is_none() {
        return Err(ApiError::bad_request("routeResponseKey is required"));
    }
    let mut response = RouteResponse {
        route_response_id: ids::random_id(6),
        route_response_key: String::new(),
        model_selection_expression: None,
        response_models: BTreeMap::new(),
        response_parameters: BTreeMap::new(),
    };
    input.apply_to(&mut response)?;
    let key = (
        response.route_response_id.as_str(),
        response.route_response_key.as_str(),
    );
    save(
        &mut tx,
        Kind::RouteResponse,
        &api_id,
        &route_id,
        key,
        &response,
        true,
    )
    .await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    operation_id = "GetRouteResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path), ("routeResponseId" = String, Path)),
    responses((status = 200, description = "GetRouteResponse succeeded", body = RouteResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_route_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, route_id, id)): Path<(String, String, String)>,
) -> ApiResult<Json<RouteResponse>> {
    let mut conn = app.store.pool().acquire().await?;
    find_parent(
        &mut conn,
        &tenant,
        &api_id,
        Parent::Route(&route_id),
        RowLock::None,
    )
    .await?;
    let response = docs::get_child(&mut conn, Kind::RouteResponse, &api_id, &route_id, &id, false)
        .await
        .or_not_found(|| route_response_not_found(&id))?;
    Ok(Json(response))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/routes/{routeId}/routeresponses",
    operation_id = "GetRouteResponses",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetRouteResponses succeeded", body = Items<RouteResponse>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_route_responses(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, route_id)): Path<(String, String)>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<RouteResponse>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_parent(
        &mut conn,
        &tenant,
        &api_id,
        Parent::Route(&route_id),
        RowLock::None,
    )
    .await?;
    let page = docs::list_children(&mut conn, Kind::RouteResponse, &api_id, &route_id, page).await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    operation_id = "UpdateRouteResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path), ("routeResponseId" = String, Path)),
    request_body = RouteResponseInput,
    responses((status = 200, description = "UpdateRouteResponse succeeded", body = RouteResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_route_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, route_id, id)): Path<(String, String, String)>,
    AwsJson(input): AwsJson<RouteResponseInput>,
) -> ApiResult<Json<RouteResponse>> {
    let mut tx = app.store.begin().await?;
    find_parent(
        &mut tx,
        &tenant,
        &api_id,
        Parent::Route(&route_id),
        RowLock::Update,
    )
    .await?;
    let mut response: RouteResponse =
        docs::get_child(&mut tx, Kind::RouteResponse, &api_id, &route_id, &id, true)
            .await
            .or_not_found(|| route_response_not_found(&id))?;
    input.apply_to(&mut response)?;
    let key = (
        response.route_response_id.as_str(),
        response.route_response_key.as_str(),
    );
    save(
        &mut tx,
        Kind::RouteResponse,
        &api_id,
        &route_id,
        key,
        &response,
        false,
    )
    .await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(Json(response))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    operation_id = "DeleteRouteResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path), ("routeResponseId" = String, Path)),
    responses((status = 204, description = "DeleteRouteResponse succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_route_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, route_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_parent(
        &mut tx,
        &tenant,
        &api_id,
        Parent::Route(&route_id),
        RowLock::Update,
    )
    .await?;
    let _: RouteResponse = docs::get_child(&mut tx, Kind::RouteResponse, &api_id, &route_id, &id, true)
        .await
        .or_not_found(|| route_response_not_found(&id))?;
    docs::delete(&mut tx, Kind::RouteResponse, &api_id, &id).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// CreateIntegrationResponse's and UpdateIntegrationResponse's body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponseInput {
    pub content_handling_strategy: Option<String>,
    pub integration_response_key: Option<String>,
    pub response_parameters: Option<BTreeMap<String, String>>,
    pub response_templates: Option<BTreeMap<String, String>>,
    pub template_selection_expression: Option<String>,
}

impl IntegrationResponseInput {
    fn apply_to(self, r: &mut IntegrationResponse) -> ApiResult<()> {
        if let Some(k) = self.integration_response_key {
            r.integration_response_key = k;
        }
        check_key("integrationResponseKey", &r.integration_response_key, true)?;
        if let Some(c) = self.content_handling_strategy {
            if !matches!(c.as_str(), "CONVERT_TO_BINARY" | "CONVERT_TO_TEXT") {
                return Err(ApiError::bad_request(format!(
                    "Invalid contentHandlingStrategy {c}: expected CONVERT_TO_BINARY or CONVERT_TO_TEXT"
                )));
            }
            r.content_handling_strategy = Some(c);
        }
        if let Some(p) = self.response_parameters {
            r.response_parameters = p;
        }
        if let Some(t) = self.response_templates {
            r.response_templates = t;
        }
        if self.template_selection_expression.is_some() {
            r.template_selection_expression = self.template_selection_expression.filter(|t| !t.is_empty());
        }
        if let Some(e) = &r.template_selection_expression {
            use crate::compiler::websocket::{mapping, selection::SelectionExpression};
            SelectionExpression::parse(e)
                .and_then(|e| e.check(mapping::RESPONSE_SELECTION_VARIABLES))
                .map_err(ApiError::bad_request)?;
        }
        Ok(())
    }
}

fn integration_response_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid IntegrationResponse identifier specified {id}"))
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses",
    operation_id = "CreateIntegrationResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path)),
    request_body = IntegrationResponseInput,
    responses((status = 201, description = "CreateIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, integration_id)): Path<(String, String)>,
    AwsJson(input): AwsJson<IntegrationResponseInput>,
) -> ApiResult<(StatusCode, Json<IntegrationResponse>)> {
    let mut tx = app.store.begin().await?;
    let parent = Parent::Integration(&integration_id);
    find_parent(&mut tx, &tenant, &api_id, parent, RowLock::Update).await?;
    if input.integration_response_key.is_none() {
        return Err(ApiError::bad_request("integrationResponseKey is required"));
    }
    let mut response = IntegrationResponse {
        integration_response_id: ids::random_id(6),
        integration_response_key: String::new(),
        content_handling_strategy: None,
        response_parameters: BTreeMap::new(),
        response_templates: BTreeMap::new(),
        template_selection_expression: None,
    };
    input.apply_to(&mut response)?;
    let key = (
        response.integration_response_id.as_str(),
        response.integration_response_key.as_str(),
    );
    save(
        &mut tx,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        key,
        &response,
        true,
    )
    .await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
    operation_id = "GetIntegrationResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path), ("integrationResponseId" = String, Path)),
    responses((status = 200, description = "GetIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, integration_id, id)): Path<(String, String, String)>,
) -> ApiResult<Json<IntegrationResponse>> {
    let mut conn = app.store.pool().acquire().await?;
    let parent = Parent::Integration(&integration_id);
    find_parent(&mut conn, &tenant, &api_id, parent, RowLock::None).await?;
    let response = docs::get_child(
        &mut conn,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        &id,
        false,
    )
    .await
    .or_not_found(|| integration_response_not_found(&id))?;
    Ok(Json(response))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses",
    operation_id = "GetIntegrationResponses",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetIntegrationResponses succeeded", body = Items<IntegrationResponse>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integration_responses(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, integration_id)): Path<(String, String)>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<IntegrationResponse>>> {
    let mut conn = app.store.pool().acquire().await?;
    let parent = Parent::Integration(&integration_id);
    find_parent(&mut conn, &tenant, &api_id, parent, RowLock::None).await?;
    let page = docs::list_children(
        &mut conn,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        page,
    )
    .await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
    operation_id = "UpdateIntegrationResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path), ("integrationResponseId" = String, Path)),
    request_body = IntegrationResponseInput,
    responses((status = 200, description = "UpdateIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, integration_id, id)): Path<(String, String, String)>,
    AwsJson(input): AwsJson<IntegrationResponseInput>,
) -> ApiResult<Json<IntegrationResponse>> {
    let mut tx = app.store.begin().await?;
    let parent = Parent::Integration(&integration_id);
    find_parent(&mut tx, &tenant, &api_id, parent, RowLock::Update).await?;
    let mut response: IntegrationResponse = docs::get_child(
        &mut tx,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        &id,
        true,
    )
    .await
    .or_not_found(|| integration_response_not_found(&id))?;
    input.apply_to(&mut response)?;
    let key = (
        response.integration_response_id.as_str(),
        response.integration_response_key.as_str(),
    );
    save(
        &mut tx,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        key,
        &response,
        false,
    )
    .await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(Json(response))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
    operation_id = "DeleteIntegrationResponse",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path), ("integrationResponseId" = String, Path)),
    responses((status = 204, description = "DeleteIntegrationResponse succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, integration_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let parent = Parent::Integration(&integration_id);
    find_parent(&mut tx, &tenant, &api_id, parent, RowLock::Update).await?;
    let _: IntegrationResponse = docs::get_child(
        &mut tx,
        Kind::IntegrationResponse,
        &api_id,
        &integration_id,
        &id,
        true,
    )
    .await
    .or_not_found(|| integration_response_not_found(&id))?;
    docs::delete(&mut tx, Kind::IntegrationResponse, &api_id, &id).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
