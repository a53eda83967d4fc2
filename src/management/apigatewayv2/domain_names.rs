//! DomainName (CreateDomainName, GetDomainName, GetDomainNames, UpdateDomainName,
//! DeleteDomainName) and ApiMapping (Create, Get, GetApiMappings, Update, Delete): custom
//! domains as `apigatewayv2` shows them, the same rows `apigateway` shows
//! ([`crate::management::domains`]). v2 manages REGIONAL domains only, as AWS; its mappings
//! name any kind of API, with keys of several levels (`v1/orders`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::{Items, Paging};
use crate::domain::domain_name::{
    ApiMapping, ApiMappingV2, DomainName, DomainNameConfiguration, DomainNameV2, is_valid_mapping_key,
};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::apigateway::domain_names::MutualTlsInput;
use crate::management::domains::{self, DOMAIN_EXISTS, Mapper};
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, domain_names as store};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainNameInput {
    pub domain_name: Option<String>,
    pub domain_name_configurations: Option<Vec<DomainNameConfiguration>>,
    pub mutual_tls_authentication: Option<MutualTlsInput>,
    pub routing_mode: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDomainNameInput {
    pub domain_name_configurations: Option<Vec<DomainNameConfiguration>>,
    pub mutual_tls_authentication: Option<MutualTlsInput>,
    pub routing_mode: Option<String>,
}

fn exists() -> ApiError {
    ApiError::conflict(DOMAIN_EXISTS)
}

const EDGE_THROUGH_V2: &str = "Only REGIONAL domain names can be managed through the API Gateway V2 API. For EDGE domain names, please use the API Gateway V1 API. Also note that only REST APIs can be attached to EDGE domain names.";

/// The tenant's domain `name`, when v2 may manage it (a REGIONAL one).
async fn find_domain(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    name: &str,
    lock: RowLock,
) -> ApiResult<DomainName> {
    let d = domains::find_domain(conn, tenant, name, lock).await?;
    if !d.is_regional() {
        return Err(ApiError::bad_request(EDGE_THROUGH_V2));
    }
    Ok(d)
}

fn check_routing_mode(mode: Option<&str>) -> ApiResult<()> {
    match mode {
        None | Some("API_MAPPING_ONLY") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid routing mode: {other}. Gatehouse routes by API mappings only (API_MAPPING_ONLY)"
        ))),
    }
}

/// Applies a v2 domain configuration (v2 takes one) to `d`.
fn configure(d: &mut DomainName, configs: Vec<DomainNameConfiguration>) -> ApiResult<()> {
    let [config] = <[DomainNameConfiguration; 1]>::try_from(configs).map_err(|_| {
        ApiError::bad_request("Invalid domainNameConfigurations: a domain name has exactly one configuration")
    })?;
    match config.endpoint_type.as_deref() {
        None | Some("REGIONAL") => {}
        Some(_) => return Err(ApiError::bad_request(EDGE_THROUGH_V2)),
    }
    if let Some(p) = config.security_policy {
        if p != "TLS_1_0" && p != "TLS_1_2" {
            return Err(ApiError::bad_request(format!(
                "Invalid securityPolicy: {p}. It must be TLS_1_0 or TLS_1_2"
            )));
        }
        d.security_policy = p;
    }
    if config.certificate_arn.is_some() {
        d.regional_certificate_arn = config.certificate_arn;
        d.regional_certificate_name = config.certificate_name;
        d.certificate_upload_date = now();
    }
    if let Some(arn) = config.ownership_verification_certificate_arn {
        d.ownership_verification_certificate_arn = Some(arn);
    }
    if let Some(t) = config.ip_address_type {
        d.ip_address_type = t;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v2/domainnames",
    operation_id = "CreateDomainNameV2",
    tag = "apigatewayv2",
    request_body = CreateDomainNameInput,
    responses((status = 201, description = "CreateDomainName succeeded", body = DomainNameV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(input): AwsJson<CreateDomainNameInput>,
) -> ApiResult<(StatusCode, Json<DomainNameV2>)> {
    let name = input
        .domain_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid domain name: domainName must be specified"))?;
    check_routing_mode(input.routing_mode.as_deref())?;
    let tags = input.tags.unwrap_or_default();
    crate::management::apigateway::tags::check_tags(&tags)?;
    let mut d = DomainName {
        domain_name: name.to_ascii_lowercase(),
        endpoint_type: "REGIONAL".into(),
        certificate_arn: None,
        certificate_name: None,
        regional_certificate_arn: None,
        regional_certificate_name: None,
        certificate_upload_date: now(),
        security_policy: "TLS_1_2".into(),
        mutual_tls_authentication: input
            .mutual_tls_authentication
            .and_then(MutualTlsInput::into_truststore),
        ownership_verification_certificate_arn: None,
        endpoint_access_mode: None,
        policy: None,
        domain_name_id: None,
        ip_address_type: "ipv4".into(),
        hosted: domains::hosted_token(),
        tags,
    };
    configure(&mut d, input.domain_name_configurations.unwrap_or_default())?;
    let mut tx = app.store.begin().await?;
    domains::check_domain(&mut tx, &tenant, &d).await?;
    domains::insert_domain(&mut tx, &tenant, &d, exists).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(d.v2(&tenant.region, &tenant.account_id)),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/domainnames/{domainName}",
    operation_id = "GetDomainNameV2",
    tag = "apigatewayv2",
    params(("domainName" = String, Path)),
    responses((status = 200, description = "GetDomainName succeeded", body = DomainNameV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
) -> ApiResult<Json<DomainNameV2>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    Ok(Json(d.v2(&tenant.region, &tenant.account_id)))
}

#[utoipa::path(
    get,
    path = "/v2/domainnames",
    operation_id = "GetDomainNamesV2",
    tag = "apigatewayv2",
    params(("maxResults" = Option<String>, Query), ("nextToken" = Option<String>, Query)),
    responses((status = 200, description = "GetDomainNames succeeded", body = Items<DomainNameV2>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_domain_names(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<DomainNameV2>>> {
    let mut conn = app.store.pool().acquire().await?;
    // v2 shows the REGIONAL domains alone.
    let found = store::list(&mut conn, &tenant, Some("REGIONAL"), page).await?;
    Ok(Json(Items {
        items: found
            .items
            .iter()
            .map(|d| d.v2(&tenant.region, &tenant.account_id))
            .collect(),
        next_token: found.next.map(|n| n.to_string()),
    }))
}

#[utoipa::path(
    patch,
    path = "/v2/domainnames/{domainName}",
    operation_id = "UpdateDomainNameV2",
    tag = "apigatewayv2",
    params(("domainName" = String, Path)),
    request_body = UpdateDomainNameInput,
    responses((status = 200, description = "UpdateDomainName succeeded", body = DomainNameV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn update_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    AwsJson(input): AwsJson<UpdateDomainNameInput>,
) -> ApiResult<Json<DomainNameV2>> {
    check_routing_mode(input.routing_mode.as_deref())?;
    let mut tx = app.store.begin().await?;
    let mut d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    if let Some(configs) = input.domain_name_configurations {
        configure(&mut d, configs)?;
    }
    if let Some(m) = input.mutual_tls_authentication {
        d.mutual_tls_authentication = m.into_truststore();
    }
    domains::check_domain(&mut tx, &tenant, &d).await?;
    store::update(&mut tx, &d).await?;
    tx.commit().await?;
    Ok(Json(d.v2(&tenant.region, &tenant.account_id)))
}

#[utoipa::path(
    delete,
    path = "/v2/domainnames/{domainName}",
    operation_id = "DeleteDomainNameV2",
    tag = "apigatewayv2",
    params(("domainName" = String, Path)),
    responses((status = 204, description = "DeleteDomainName succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn delete_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    store::delete(&mut tx, &tenant, &d.domain_name)
        .await
        .or_not_found(domains::domain_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiMappingInput {
    pub api_id: Option<String>,
    pub api_mapping_key: Option<String>,
    pub stage: Option<String>,
}

fn mapping_not_found() -> ApiError {
    ApiError::not_found("Invalid ApiMapping identifier specified")
}

fn key_taken() -> ApiError {
    ApiError::conflict("ApiMapping key already exists for this domain name")
}

/// A v2 mapping key: levels separated by single slashes, none at its ends.
fn mapping_key(raw: Option<String>) -> ApiResult<String> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        return Ok(raw);
    }
    if raw.len() > 300 || !is_valid_mapping_key(&raw, usize::MAX) {
        return Err(ApiError::bad_request(
            "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'(), separated by single slashes, with no slash at its start or end",
        ));
    }
    Ok(raw)
}

#[utoipa::path(
    post,
    path = "/v2/domainnames/{domainName}/apimappings",
    operation_id = "CreateApiMapping",
    tag = "apigatewayv2",
    params(("domainName" = String, Path)),
    request_body = ApiMappingInput,
    responses((status = 201, description = "CreateApiMapping succeeded", body = ApiMappingV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn create_api_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    AwsJson(input): AwsJson<ApiMappingInput>,
) -> ApiResult<(StatusCode, Json<ApiMappingV2>)> {
    let api_id = input
        .api_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad_request("apiId is required"))?;
    let stage = input
        .stage
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("stage is required"))?;
    let m = ApiMapping {
        id: ids::random_id(6),
        key: mapping_key(input.api_mapping_key)?,
        api_id,
        stage,
    };
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    domains::check_target(&mut tx, &tenant, &d, &m, Mapper::V2).await?;
    domains::save_mapping(&mut tx, &d.domain_name, &m, true, key_taken).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ApiMappingV2::from(&m))))
}

#[utoipa::path(
    get,
    path = "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
    operation_id = "GetApiMapping",
    tag = "apigatewayv2",
    params(("domainName" = String, Path), ("apiMappingId" = String, Path)),
    responses((status = 200, description = "GetApiMapping succeeded", body = ApiMappingV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_api_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Json<ApiMappingV2>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    let m = store::mapping_by_id(&mut conn, &d.domain_name, &id)
        .await
        .or_not_found(mapping_not_found)?;
    Ok(Json(ApiMappingV2::from(&m)))
}

#[utoipa::path(
    get,
    path = "/v2/domainnames/{domainName}/apimappings",
    operation_id = "GetApiMappings",
    tag = "apigatewayv2",
    params(("domainName" = String, Path), ("maxResults" = Option<String>, Query), ("nextToken" = Option<String>, Query)),
    responses((status = 200, description = "GetApiMappings succeeded", body = Items<ApiMappingV2>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_api_mappings(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<ApiMappingV2>>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    let found = store::mappings(&mut conn, &d.domain_name, page).await?;
    Ok(Json(Items {
        items: found.items.iter().map(ApiMappingV2::from).collect(),
        next_token: found.next.map(|n| n.to_string()),
    }))
}

#[utoipa::path(
    patch,
    path = "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
    operation_id = "UpdateApiMapping",
    tag = "apigatewayv2",
    params(("domainName" = String, Path), ("apiMappingId" = String, Path)),
    request_body = ApiMappingInput,
    responses((status = 200, description = "UpdateApiMapping succeeded", body = ApiMappingV2), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn update_api_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<ApiMappingInput>,
) -> ApiResult<Json<ApiMappingV2>> {
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    let mut m = store::mapping_by_id(&mut tx, &d.domain_name, &id)
        .await
        .or_not_found(mapping_not_found)?;
    let api_id = input
        .api_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad_request("apiId is required"))?;
    m.api_id = api_id;
    if input.api_mapping_key.is_some() {
        m.key = mapping_key(input.api_mapping_key)?;
    }
    if let Some(stage) = input.stage {
        m.stage = stage;
    }
    domains::check_target(&mut tx, &tenant, &d, &m, Mapper::V2).await?;
    domains::save_mapping(&mut tx, &d.domain_name, &m, false, key_taken).await?;
    tx.commit().await?;
    Ok(Json(ApiMappingV2::from(&m)))
}

#[utoipa::path(
    delete,
    path = "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
    operation_id = "DeleteApiMapping",
    tag = "apigatewayv2",
    params(("domainName" = String, Path), ("apiMappingId" = String, Path)),
    responses((status = 204, description = "DeleteApiMapping succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn delete_api_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    store::delete_mapping(&mut tx, &d.domain_name, &id)
        .await
        .or_not_found(mapping_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
