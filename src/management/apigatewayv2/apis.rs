//! Api: CreateApi, GetApi, GetApis, UpdateApi, DeleteApi.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::{Items, Paging};
use crate::domain::http_api::{Cors, HttpApi, iso_now};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::apigateway::tags::check_tags;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, http_apis};

/// CreateApi's and UpdateApi's body (UpdateApi: every field optional, `protocolType` fixed).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiInput {
    pub name: Option<String>,
    pub protocol_type: Option<String>,
    pub api_key_selection_expression: Option<String>,
    pub cors_configuration: Option<Cors>,
    pub credentials_arn: Option<String>,
    pub description: Option<String>,
    pub disable_schema_validation: Option<bool>,
    pub disable_execute_api_endpoint: Option<bool>,
    pub ip_address_type: Option<String>,
    pub route_key: Option<String>,
    pub route_selection_expression: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub target: Option<String>,
    pub version: Option<String>,
}

fn api_not_found(tenant: &Tenant, id: &str) -> impl FnOnce() -> ApiError {
    let message = format!("Invalid API identifier specified {}:{id}", tenant.account_id);
    move || ApiError::not_found(message)
}

/// Checks and applies `input`'s fields to `api`.
fn apply(api: &mut HttpApi, input: ApiInput) -> ApiResult<()> {
    if let Some(name) = input.name {
        if name.is_empty() || name.len() > 128 {
            return Err(ApiError::bad_request(
                "Invalid name: it must be 1 to 128 characters",
            ));
        }
        api.name = name;
    }
    if let Some(description) = input.description {
        if description.len() > 1024 {
            return Err(ApiError::bad_request(
                "Invalid description: it must be at most 1024 characters",
            ));
        }
        api.description = Some(description);
    }
    if let Some(version) = input.version {
        if version.is_empty() || version.len() > 64 {
            return Err(ApiError::bad_request(
                "Invalid version: it must be 1 to 64 characters",
            ));
        }
        api.version = Some(version);
    }
    if let Some(cors) = input.cors_configuration {
        if api.protocol_type != "HTTP" {
            return Err(ApiError::bad_request(
                "CORS configuration is supported only for HTTP APIs",
            ));
        }
        if cors.max_age.is_some_and(|a| !(-1..=86400).contains(&a)) {
            return Err(ApiError::bad_request(
                "Invalid maxAge: it must be between -1 and 86400",
            ));
        }
        api.cors_configuration = Some(cors);
    }
    if let Some(e) = input.route_selection_expression {
        if api.protocol_type == "HTTP" && e != "$request.method $request.path" {
            return Err(ApiError::bad_request(
                "Only the route selection expression $request.method $request.path is supported for HTTP APIs",
            ));
        }
        api.route_selection_expression = e;
    }
    if let Some(e) = input.api_key_selection_expression {
        if !matches!(
            e.as_str(),
            "$request.header.x-api-key" | "$context.authorizer.usageIdentifierKey"
        ) {
            return Err(ApiError::bad_request(format!(
                "Invalid API key selection expression {e}: expected $request.header.x-api-key or $context.authorizer.usageIdentifierKey"
            )));
        }
        api.api_key_selection_expression = Some(e);
    }
    if let Some(ip) = input.ip_address_type {
        if !matches!(ip.as_str(), "ipv4" | "dualstack") {
            return Err(ApiError::bad_request(format!(
                "Invalid ipAddressType {ip}: expected ipv4 or dualstack"
            )));
        }
        api.ip_address_type = ip;
    }
    if let Some(d) = input.disable_schema_validation {
        api.disable_schema_validation = Some(d);
    }
    if let Some(d) = input.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = d;
    }
    if input.target.is_some() || input.route_key.is_some() || input.credentials_arn.is_some() {
        return Err(ApiError::bad_request(
            "Quick create (target, routeKey, credentialsArn) is not supported by Gatehouse yet: create the integration, route and $default stage one by one",
        ));
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v2/apis",
    operation_id = "CreateApi",
    tag = "apigatewayv2",
    request_body = ApiInput,
    responses((status = 201, description = "CreateApi succeeded", body = HttpApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(mut input): AwsJson<ApiInput>,
) -> ApiResult<(StatusCode, Json<HttpApi>)> {
    let protocol = match input.protocol_type.take().as_deref() {
        Some(p @ ("HTTP" | "WEBSOCKET")) => p.to_owned(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid protocolType {other}: expected HTTP or WEBSOCKET"
            )));
        }
        None => return Err(ApiError::bad_request("protocolType is required")),
    };
    if input.name.is_none() {
        return Err(ApiError::bad_request("name is required"));
    }
    let route_selection = match (protocol.as_str(), input.route_selection_expression.as_deref()) {
        ("HTTP", _) => "$request.method $request.path".to_owned(),
        (_, Some(e)) => e.to_owned(),
        (_, None) => {
            return Err(ApiError::bad_request(
                "routeSelectionExpression is required for WebSocket APIs",
            ));
        }
    };
    check_tags(&input.tags)?;
    let id = ids::random_id(10);
    let scheme = if protocol == "HTTP" { "https" } else { "wss" };
    let mut api = HttpApi {
        api_endpoint: format!("{scheme}://{id}.execute-api.{}.amazonaws.com", tenant.region),
        api_id: id,
        name: String::new(),
        protocol_type: protocol,
        api_key_selection_expression: Some("$request.header.x-api-key".into()),
        cors_configuration: None,
        created_date: iso_now(),
        description: None,
        disable_schema_validation: None,
        disable_execute_api_endpoint: false,
        ip_address_type: "ipv4".into(),
        route_selection_expression: route_selection,
        tags: std::mem::take(&mut input.tags),
        version: None,
    };
    apply(&mut api, input)?;
    let mut tx = app.store.begin().await?;
    http_apis::insert(&mut tx, &tenant, &api).await?;
    tx.commit().await?;
    tracing::info!(api.id = %api.api_id, account.id = %tenant.account_id, "api created");
    Ok((StatusCode::CREATED, Json(api)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}",
    operation_id = "GetApi",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    responses((status = 200, description = "GetApi succeeded", body = HttpApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %id))]
pub async fn get_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<Json<HttpApi>> {
    let mut conn = app.store.pool().acquire().await?;
    let api = http_apis::get(&mut conn, &tenant, &id, RowLock::None)
        .await
        .or_not_found(api_not_found(&tenant, &id))?;
    Ok(Json(api))
}

#[utoipa::path(
    get,
    path = "/v2/apis",
    operation_id = "GetApis",
    tag = "apigatewayv2",
    params(("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetApis succeeded", body = Items<HttpApi>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_apis(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<HttpApi>>> {
    let mut conn = app.store.pool().acquire().await?;
    Ok(Json(http_apis::list(&mut conn, &tenant, page).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}",
    operation_id = "UpdateApi",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = ApiInput,
    responses((status = 200, description = "UpdateApi succeeded", body = HttpApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %id))]
pub async fn update_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(input): AwsJson<ApiInput>,
) -> ApiResult<Json<HttpApi>> {
    if !input.tags.is_empty() || input.protocol_type.is_some() {
        return Err(ApiError::bad_request(
            "UpdateApi changes neither tags (TagResource does) nor protocolType",
        ));
    }
    let mut tx = app.store.begin().await?;
    let mut api = http_apis::get(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(api_not_found(&tenant, &id))?;
    apply(&mut api, input)?;
    http_apis::update(&mut tx, &tenant, &api).await?;
    tx.commit().await?;
    Ok(Json(api))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}",
    operation_id = "DeleteApi",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    responses((status = 204, description = "DeleteApi succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %id))]
pub async fn delete_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    http_apis::delete(&mut tx, &tenant, &id)
        .await
        .or_not_found(api_not_found(&tenant, &id))?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
