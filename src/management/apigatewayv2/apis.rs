//! Api: CreateApi (with quick create: `target`, `routeKey`, `credentialsArn` make an
//! integration, a route and an auto-deployed `$default` stage), GetApi, GetApis, UpdateApi,
//! DeleteApi, DeleteCorsConfiguration.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use sqlx::PgConnection;

use super::deployments::{auto_deploy, deploy_stage};
use super::integrations::{IntegrationInput, check_tenant_resources, new_integration};
use super::routes::{self, RouteInput, new_route};
use super::{Items, Paging, api_not_found};
use crate::domain::http_api::{Cors, HttpApi, Integration, Route, Stage, iso_now};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::apigateway::tags::check_tags;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, Tenant, http_apis, stages};

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

/// Checks and applies `input`'s fields to `api`.
pub(super) fn apply(api: &mut HttpApi, input: ApiInput) -> ApiResult<()> {
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
        let any_origin = cors.allow_origins.iter().flatten().any(|o| o == "*");
        if any_origin && cors.allow_credentials == Some(true) {
            return Err(ApiError::bad_request(
                "allowCredentials cannot be true with allowOrigins *: browsers refuse credentials for any origin; name the origins",
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
    if (input.target.is_some() || input.route_key.is_some() || input.credentials_arn.is_some())
        && api.protocol_type != "HTTP"
    {
        return Err(ApiError::bad_request(
            "Quick create (target, routeKey, credentialsArn) is supported only for HTTP APIs",
        ));
    }
    Ok(())
}

/// A new API of `protocol`, with a new id and AWS's defaults, for its fields to be applied.
pub(super) fn blank_api(tenant: &Tenant, protocol: String, route_selection: String) -> HttpApi {
    let id = ids::random_id(10);
    let scheme = if protocol == "HTTP" { "https" } else { "wss" };
    HttpApi {
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
        tags: BTreeMap::new(),
        version: None,
    }
}

/// What quick create makes of `target`: a Lambda function's ARN, or an HTTP URL.
fn quick_integration(target: String, credentials_arn: Option<String>) -> IntegrationInput {
    let lambda = target.starts_with("arn:");
    IntegrationInput {
        integration_type: Some(if lambda { "AWS_PROXY" } else { "HTTP_PROXY" }.into()),
        integration_method: Some(if lambda { "POST" } else { "ANY" }.into()),
        payload_format_version: Some(if lambda { "2.0" } else { "1.0" }.into()),
        integration_uri: Some(target),
        credentials_arn,
        ..IntegrationInput::default()
    }
}

/// Quick create: the integration `target` names, a route to it (`routeKey`, else
/// `$default`), and a `$default` stage deploying automatically; all managed by the API.
async fn quick_create(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api: &HttpApi,
    target: String,
    route_key: Option<String>,
    credentials_arn: Option<String>,
) -> ApiResult<()> {
    let mut integration = new_integration(api, quick_integration(target, credentials_arn))?;
    check_tenant_resources(conn, tenant, &integration).await?;
    integration.api_gateway_managed = true;
    docs::insert(
        conn,
        Kind::Integration,
        &api.api_id,
        &integration.integration_id,
        &integration,
    )
    .await?;
    let input = RouteInput {
        route_key: Some(route_key.unwrap_or_else(|| "$default".into())),
        target: Some(format!("integrations/{}", integration.integration_id)),
        ..RouteInput::default()
    };
    let mut route = new_route(conn, api, input).await?;
    route.api_gateway_managed = true;
    routes::save(conn, api, &route, true).await?;
    let mut stage = Stage {
        api_gateway_managed: true,
        auto_deploy: true,
        ..Stage::new("$default".into())
    };
    deploy_stage(conn, tenant, &api.api_id, &mut stage).await?;
    stages::insert(conn, &api.api_id, &stage).await?;
    Ok(())
}

/// UpdateApi's quick-create fields change what quick create made.
async fn quick_update(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api: &HttpApi,
    target: Option<String>,
    route_key: Option<String>,
    credentials_arn: Option<String>,
) -> ApiResult<()> {
    let not_quick = || {
        ApiError::bad_request(
            "The API was not made by quick create: update its integration and route instead",
        )
    };
    let routes: Vec<Route> = docs::all(conn, Kind::Route, &api.api_id).await?;
    let mut route = routes
        .into_iter()
        .find(|r| r.api_gateway_managed)
        .ok_or_else(not_quick)?;
    let id = route.integration_id().ok_or_else(not_quick)?.to_owned();
    let mut integration: Integration = docs::get(conn, Kind::Integration, &api.api_id, &id, true).await?;
    if target.is_some() || credentials_arn.is_some() {
        let target = target.or(integration.integration_uri.take()).unwrap_or_default();
        let credentials = credentials_arn.or(integration.credentials_arn.take());
        let mut changed = new_integration(api, quick_integration(target, credentials))?;
        check_tenant_resources(conn, tenant, &changed).await?;
        changed.integration_id = id.clone();
        changed.api_gateway_managed = true;
        integration = changed;
        docs::update(conn, Kind::Integration, &api.api_id, &id, &integration).await?;
    }
    if let Some(key) = route_key {
        crate::domain::http_api::RouteKey::parse(&key).map_err(ApiError::bad_request)?;
        route.route_key = key;
        routes::save(conn, api, &route, false).await?;
    }
    auto_deploy(conn, tenant, &api.api_id).await
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
    let quick = (
        input.target.take(),
        input.route_key.take(),
        input.credentials_arn.take(),
    );
    if quick.0.is_none() && (quick.1.is_some() || quick.2.is_some()) {
        return Err(ApiError::bad_request(
            "routeKey and credentialsArn are quick create's: they need a target",
        ));
    }
    let mut api = blank_api(&tenant, protocol, route_selection);
    api.tags = std::mem::take(&mut input.tags);
    apply(&mut api, input)?;
    let mut tx = app.store.begin().await?;
    http_apis::insert(&mut tx, &tenant, &api).await?;
    if let (Some(target), route_key, credentials) = quick {
        if api.protocol_type != "HTTP" {
            return Err(ApiError::bad_request(
                "Quick create (target, routeKey, credentialsArn) is supported only for HTTP APIs",
            ));
        }
        quick_create(&mut tx, &tenant, &api, target, route_key, credentials).await?;
    }
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
        .or_not_found(|| api_not_found(&tenant, &id))?;
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
    AwsJson(mut input): AwsJson<ApiInput>,
) -> ApiResult<Json<HttpApi>> {
    if !input.tags.is_empty() || input.protocol_type.is_some() {
        return Err(ApiError::bad_request(
            "UpdateApi changes neither tags (TagResource does) nor protocolType",
        ));
    }
    let mut tx = app.store.begin().await?;
    let mut api = http_apis::get(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(|| api_not_found(&tenant, &id))?;
    let quick = (
        input.target.take(),
        input.route_key.take(),
        input.credentials_arn.take(),
    );
    apply(&mut api, input)?;
    http_apis::update(&mut tx, &tenant, &api).await?;
    if quick.0.is_some() || quick.1.is_some() || quick.2.is_some() {
        if api.protocol_type != "HTTP" {
            return Err(ApiError::bad_request(
                "Quick create (target, routeKey, credentialsArn) is supported only for HTTP APIs",
            ));
        }
        quick_update(&mut tx, &tenant, &api, quick.0, quick.1, quick.2).await?;
    } else {
        auto_deploy(&mut tx, &tenant, &id).await?;
    }
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
        .or_not_found(|| api_not_found(&tenant, &id))?;
    // Workers drop every stage of the API. (Bumped after the API's row is taken, as every
    // writer takes them, so that two writers never wait on each other.)
    crate::store::revision::bump(&mut tx, "api", &id, "*").await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/cors",
    operation_id = "DeleteCorsConfiguration",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    responses((status = 204, description = "DeleteCorsConfiguration succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %id))]
pub async fn delete_cors_configuration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let mut api = http_apis::get(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(|| api_not_found(&tenant, &id))?;
    api.cors_configuration = None;
    http_apis::update(&mut tx, &tenant, &api).await?;
    auto_deploy(&mut tx, &tenant, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
