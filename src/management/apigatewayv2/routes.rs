//! Route: CreateRoute, GetRoute, GetRoutes, UpdateRoute, DeleteRoute,
//! DeleteRouteRequestParameter. An HTTP API's route keys are `$default` or `VERB /path`, unique
//! within the API; a route's target is one of the API's integrations. Every change redeploys
//! the API's autoDeploy stages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;
use sqlx::PgConnection;

use super::deployments::auto_deploy;
use super::integrations::{integration_not_found, managed};
use super::{Items, Paging, find_api};
use crate::domain::http_api::{Authorizer, HttpApi, ParameterConstraints, Route, RouteKey};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant};

/// CreateRoute's and UpdateRoute's body (UpdateRoute: what it names changes).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteInput {
    pub api_key_required: Option<bool>,
    pub authorization_scopes: Option<Vec<String>>,
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub model_selection_expression: Option<String>,
    pub operation_name: Option<String>,
    pub request_models: Option<BTreeMap<String, String>>,
    pub request_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    pub route_key: Option<String>,
    pub route_response_selection_expression: Option<String>,
    pub target: Option<String>,
}

pub fn route_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Route identifier specified {id}"))
}

/// A new route of `api` from CreateRoute's body.
pub async fn new_route(conn: &mut PgConnection, api: &HttpApi, input: RouteInput) -> ApiResult<Route> {
    let key = input
        .route_key
        .clone()
        .ok_or_else(|| ApiError::bad_request("routeKey is required"))?;
    let mut route = Route {
        route_id: ids::random_id(7),
        route_key: key,
        api_gateway_managed: false,
        api_key_required: false,
        authorization_scopes: vec![],
        authorization_type: "NONE".into(),
        authorizer_id: None,
        model_selection_expression: None,
        operation_name: None,
        request_models: BTreeMap::new(),
        request_parameters: BTreeMap::new(),
        route_response_selection_expression: None,
        target: None,
    };
    apply(conn, api, &mut route, input).await?;
    Ok(route)
}

/// Applies `input` to `route` and checks the result as AWS does for the API's protocol.
async fn apply(
    conn: &mut PgConnection,
    api: &HttpApi,
    route: &mut Route,
    input: RouteInput,
) -> ApiResult<()> {
    let RouteInput {
        api_key_required,
        authorization_scopes,
        authorization_type,
        authorizer_id,
        model_selection_expression,
        operation_name,
        request_models,
        request_parameters,
        route_key,
        route_response_selection_expression,
        target,
    } = input;
    if let Some(k) = route_key {
        route.route_key = k;
    }
    let http = api.protocol_type == "HTTP";
    if route.route_key.len() > 1024 {
        return Err(ApiError::bad_request(
            "Invalid routeKey: it must be at most 1024 characters",
        ));
    }
    if http {
        RouteKey::parse(&route.route_key).map_err(ApiError::bad_request)?;
    } else if route.route_key.is_empty() || route.route_key.len() > 128 {
        return Err(ApiError::bad_request(
            "Invalid routeKey: it must be 1 to 128 characters",
        ));
    }
    if let Some(t) = target {
        if t.is_empty() {
            route.target = None;
        } else {
            let id = t.strip_prefix("integrations/").ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid target {t}: expected integrations/{{integrationId}}"
                ))
            })?;
            if !docs::exists(conn, Kind::Integration, &api.api_id, id).await? {
                return Err(integration_not_found(id));
            }
            route.target = Some(t);
        }
    }
    if let Some(t) = authorization_type {
        route.authorization_type = t;
    }
    if authorizer_id.is_some() {
        route.authorizer_id = authorizer_id.filter(|a| !a.is_empty());
    }
    if let Some(s) = authorization_scopes {
        route.authorization_scopes = s;
    }
    match route.authorization_type.as_str() {
        "NONE" => {
            route.authorizer_id = None;
            route.authorization_scopes.clear();
        }
        kind @ ("JWT" | "CUSTOM") if http => {
            let id = route.authorizer_id.as_deref().ok_or_else(|| {
                ApiError::bad_request(format!("authorizerId is required for {kind} routes"))
            })?;
            let authorizer: Authorizer = docs::get(conn, Kind::Authorizer, &api.api_id, id, false)
                .await
                .or_not_found(|| super::authorizers::authorizer_not_found(id))?;
            let needed = if kind == "JWT" { "JWT" } else { "REQUEST" };
            if authorizer.authorizer_type != needed {
                return Err(ApiError::bad_request(format!(
                    "Authorizer {id} is a {} authorizer: {kind} routes need a {needed} authorizer",
                    authorizer.authorizer_type
                )));
            }
            if kind == "CUSTOM" && !route.authorization_scopes.is_empty() {
                return Err(ApiError::bad_request(
                    "authorizationScopes are JWT routes': a Lambda authorizer decides alone",
                ));
            }
        }
        "AWS_IAM" if http => {
            route.authorizer_id = None;
            route.authorization_scopes.clear();
        }
        // A WebSocket API authorizes its clients when they connect: on `$connect` only.
        kind @ ("AWS_IAM" | "CUSTOM") if route.route_key != "$connect" => {
            return Err(ApiError::bad_request(format!(
                "authorizationType {kind} is supported only on the $connect route of a WebSocket API"
            )));
        }
        "CUSTOM" => {
            let id = route
                .authorizer_id
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("authorizerId is required for CUSTOM routes"))?;
            let authorizer: Authorizer = docs::get(conn, Kind::Authorizer, &api.api_id, id, false)
                .await
                .or_not_found(|| super::authorizers::authorizer_not_found(id))?;
            if authorizer.authorizer_type != "REQUEST" {
                return Err(ApiError::bad_request(format!(
                    "Authorizer {id} is not a REQUEST authorizer"
                )));
            }
            route.authorization_scopes.clear();
        }
        "AWS_IAM" => {
            route.authorizer_id = None;
            route.authorization_scopes.clear();
        }
        "JWT" => {
            return Err(ApiError::bad_request(
                "JWT authorizers are supported only for HTTP APIs",
            ));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid authorizationType {other}: expected NONE, AWS_IAM, CUSTOM or JWT"
            )));
        }
    }
    if let Some(r) = api_key_required {
        if r && http {
            return Err(ApiError::bad_request(
                "API keys are supported only for WebSocket APIs",
            ));
        }
        route.api_key_required = r;
    }
    if let Some(m) = request_models {
        if http && !m.is_empty() {
            return Err(ApiError::bad_request(
                "Request models are supported only for WebSocket APIs",
            ));
        }
        if !m.is_empty() {
            let models: Vec<crate::domain::http_api::Model> =
                docs::all(conn, Kind::ApiModel, &api.api_id).await?;
            if let Some(missing) = m.values().find(|name| !models.iter().any(|d| &d.name == *name)) {
                return Err(ApiError::bad_request(format!(
                    "Invalid model name {missing}: the API has no such model"
                )));
            }
        }
        route.request_models = m;
    }
    if let Some(p) = request_parameters {
        if http && !p.is_empty() {
            return Err(ApiError::bad_request(
                "Route request parameters are supported only for WebSocket APIs",
            ));
        }
        for key in p.keys() {
            crate::compiler::websocket::validation::parameter(key).map_err(ApiError::bad_request)?;
        }
        route.request_parameters = p;
    }
    if model_selection_expression.is_some() {
        route.model_selection_expression = model_selection_expression.filter(|e| !e.is_empty());
    }
    if let Some(e) = &route.model_selection_expression {
        use crate::compiler::websocket::{selection::SelectionExpression, validation};
        if http {
            return Err(ApiError::bad_request(
                "Model selection expressions are supported only for WebSocket APIs",
            ));
        }
        SelectionExpression::parse(e)
            .and_then(|e| e.check(validation::MODEL_SELECTION_VARIABLES))
            .map_err(ApiError::bad_request)?;
    }
    if let Some(o) = operation_name {
        super::check_len("operationName", &o, 64)?;
        route.operation_name = Some(o);
    }
    if route_response_selection_expression.is_some() {
        route.route_response_selection_expression = route_response_selection_expression;
    }
    Ok(())
}

/// The keys of the API's routes that `pick` picks (those a deletion would leave dangling).
pub async fn keys_where(
    conn: &mut PgConnection,
    api_id: &str,
    pick: impl Fn(&Route) -> bool,
) -> ApiResult<Vec<String>> {
    let routes: Vec<Route> = docs::all(conn, Kind::Route, api_id).await?;
    Ok(routes
        .into_iter()
        .filter(|r| pick(r))
        .map(|r| r.route_key)
        .collect())
}

/// AWS's quota of routes per API.
const MAX_ROUTES: usize = 300;

/// Inserts or replaces a route; a route key the API already has, or one whose path variables
/// clash with another route's, is AWS's conflict.
pub async fn save(conn: &mut PgConnection, api: &HttpApi, route: &Route, new: bool) -> ApiResult<()> {
    let api_id = api.api_id.as_str();
    let others: Vec<Route> = docs::all(conn, Kind::Route, api_id).await?;
    if new && others.len() >= MAX_ROUTES {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "LimitExceededException",
            format!("An API has at most {MAX_ROUTES} routes"),
        ));
    }
    let keys = others
        .iter()
        .filter(|r| r.route_id != route.route_id)
        .map(|r| r.route_key.as_str())
        .chain([route.route_key.as_str()]);
    if api.protocol_type == "HTTP" {
        crate::compiler::http_api::check_routes(keys).map_err(|e| {
            ApiError::conflict(format!(
                "Route key {} conflicts with the API's other routes: {e}",
                route.route_key
            ))
        })?;
    }
    let saved = if new {
        docs::insert(conn, Kind::Route, api_id, &route.route_id, route).await
    } else {
        docs::update(conn, Kind::Route, api_id, &route.route_id, route).await
    };
    match saved {
        Err(StoreError::AlreadyExists(c)) if c == "routes_route_key_unique" => Err(ApiError::conflict(
            format!("Route with key {} already exists for this API", route.route_key),
        )),
        other => Ok(other?),
    }
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/routes",
    operation_id = "CreateRoute",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = RouteInput,
    responses((status = 201, description = "CreateRoute succeeded", body = Route), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_route(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(input): AwsJson<RouteInput>,
) -> ApiResult<(StatusCode, Json<Route>)> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let route = new_route(&mut tx, &api, input).await?;
    save(&mut tx, &api, &route, true).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(route)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/routes/{routeId}",
    operation_id = "GetRoute",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path)),
    responses((status = 200, description = "GetRoute succeeded", body = Route), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_route(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Route>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let route = docs::get(&mut conn, Kind::Route, &api_id, &id, false)
        .await
        .or_not_found(|| route_not_found(&id))?;
    Ok(Json(route))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/routes",
    operation_id = "GetRoutes",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetRoutes succeeded", body = Items<Route>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_routes(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Route>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::Route, &api_id, page).await?.into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/routes/{routeId}",
    operation_id = "UpdateRoute",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path)),
    request_body = RouteInput,
    responses((status = 200, description = "UpdateRoute succeeded", body = Route), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_route(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<RouteInput>,
) -> ApiResult<Json<Route>> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut route: Route = docs::get(&mut tx, Kind::Route, &api_id, &id, true)
        .await
        .or_not_found(|| route_not_found(&id))?;
    if route.api_gateway_managed {
        return Err(managed("route"));
    }
    apply(&mut tx, &api, &mut route, input).await?;
    save(&mut tx, &api, &route, false).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(Json(route))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/routes/{routeId}",
    operation_id = "DeleteRoute",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path)),
    responses((status = 204, description = "DeleteRoute succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_route(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let route: Route = docs::get(&mut tx, Kind::Route, &api_id, &id, true)
        .await
        .or_not_found(|| route_not_found(&id))?;
    if route.api_gateway_managed {
        return Err(managed("route"));
    }
    docs::delete(&mut tx, Kind::Route, &api_id, &id).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/routes/{routeId}/requestparameters/{requestParameterKey}",
    operation_id = "DeleteRouteRequestParameter",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("routeId" = String, Path), ("requestParameterKey" = String, Path)),
    responses((status = 204, description = "DeleteRouteRequestParameter succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_route_request_parameter(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id, key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut route: Route = docs::get(&mut tx, Kind::Route, &api_id, &id, true)
        .await
        .or_not_found(|| route_not_found(&id))?;
    if route.request_parameters.remove(&key).is_none() {
        return Err(ApiError::not_found(format!(
            "Invalid request parameter key specified {key}"
        )));
    }
    save(&mut tx, &api, &route, false).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
