//! DomainName (CreateDomainName, GetDomainName, GetDomainNames, UpdateDomainName,
//! DeleteDomainName) and BasePathMapping (Create, Get, GetBasePathMappings, Update, Delete):
//! custom domains as `apigateway` shows them. The domain and its mappings are the same rows
//! `apigatewayv2` shows ([`crate::management::domains`]); v1 maps REST APIs only, one level
//! of base path, `(none)` for none, and may leave the stage to the request's next segment.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::Listing;
use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use crate::domain::domain_name::{
    ApiMapping, BasePathMapping, DomainName, MutualTls, NO_BASE_PATH, RestDomainName, is_valid_mapping_key,
};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::domains::{self, DOMAIN_EXISTS, Mapper, find_domain};
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, domain_names as store};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfigurationInput {
    pub types: Option<Vec<String>>,
    pub ip_address_type: Option<String>,
    pub vpc_endpoint_ids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsInput {
    pub truststore_uri: Option<String>,
    pub truststore_version: Option<String>,
}

impl MutualTlsInput {
    /// The domain's truststore; none when no URI is given (how mutual TLS is turned off).
    pub fn into_truststore(self) -> Option<MutualTls> {
        let uri = self.truststore_uri.filter(|u| !u.is_empty())?;
        Some(MutualTls {
            truststore_uri: uri,
            truststore_version: self.truststore_version.filter(|v| !v.is_empty()),
            truststore_warnings: vec![],
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainNameRequest {
    pub domain_name: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_body: Option<String>,
    pub certificate_private_key: Option<String>,
    pub certificate_chain: Option<String>,
    pub certificate_arn: Option<String>,
    pub regional_certificate_name: Option<String>,
    pub regional_certificate_arn: Option<String>,
    pub endpoint_configuration: Option<EndpointConfigurationInput>,
    pub tags: Option<BTreeMap<String, String>>,
    pub security_policy: Option<String>,
    pub endpoint_access_mode: Option<String>,
    pub mutual_tls_authentication: Option<MutualTlsInput>,
    pub ownership_verification_certificate_arn: Option<String>,
    pub policy: Option<String>,
    pub routing_mode: Option<String>,
}

fn exists() -> ApiError {
    ApiError::bad_request(DOMAIN_EXISTS)
}

/// The endpoint type an `endpointConfiguration` names (EDGE when it names none, as AWS).
fn endpoint_type(config: Option<&EndpointConfigurationInput>) -> ApiResult<String> {
    match config.and_then(|c| c.types.as_deref()) {
        None | Some([]) => Ok("EDGE".into()),
        Some([one]) => Ok(one.clone()),
        Some(_) => Err(ApiError::bad_request(
            "Invalid endpoint configuration: a domain name has exactly one endpoint type",
        )),
    }
}

fn check_routing_mode(mode: Option<&str>) -> ApiResult<()> {
    match mode {
        None | Some("BASE_PATH_MAPPING_ONLY") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid routing mode: {other}. Gatehouse routes by base path mappings only (BASE_PATH_MAPPING_ONLY)"
        ))),
    }
}

#[utoipa::path(
    post,
    path = "/domainnames",
    operation_id = "CreateDomainName",
    tag = "apigateway",
    request_body = CreateDomainNameRequest,
    responses((status = 201, description = "CreateDomainName succeeded", body = RestDomainName), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(req): AwsJson<CreateDomainNameRequest>,
) -> ApiResult<(StatusCode, Json<RestDomainName>)> {
    let name = req
        .domain_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid domain name: domainName must be specified"))?;
    if req.certificate_body.is_some()
        || req.certificate_private_key.is_some()
        || req.certificate_chain.is_some()
    {
        return Err(ApiError::bad_request(
            "Uploading a certificate with the domain name is not supported: import it with `gatehouse certificates import` and name it by certificateArn",
        ));
    }
    check_routing_mode(req.routing_mode.as_deref())?;
    let tags = req.tags.unwrap_or_default();
    super::tags::check_tags(&tags)?;
    let endpoint_type = endpoint_type(req.endpoint_configuration.as_ref())?;
    let domain = DomainName {
        // A private domain is known by its name and an id of its own.
        domain_name_id: (endpoint_type == "PRIVATE").then(|| ids::random_id(8)),
        domain_name: name.to_ascii_lowercase(),
        endpoint_type,
        certificate_arn: req.certificate_arn.filter(|a| !a.is_empty()),
        certificate_name: req.certificate_name,
        regional_certificate_arn: req.regional_certificate_arn.filter(|a| !a.is_empty()),
        regional_certificate_name: req.regional_certificate_name,
        certificate_upload_date: now(),
        security_policy: req.security_policy.unwrap_or_else(|| "TLS_1_2".into()),
        mutual_tls_authentication: req
            .mutual_tls_authentication
            .and_then(MutualTlsInput::into_truststore),
        ownership_verification_certificate_arn: req.ownership_verification_certificate_arn,
        endpoint_access_mode: req.endpoint_access_mode,
        policy: req.policy,
        ip_address_type: req
            .endpoint_configuration
            .and_then(|c| c.ip_address_type)
            .unwrap_or_else(|| "ipv4".into()),
        hosted: domains::hosted_token(),
        tags,
    };
    let mut tx = app.store.begin().await?;
    domains::check_domain(&mut tx, &tenant, &domain).await?;
    domains::insert_domain(&mut tx, &tenant, &domain, exists).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(domain.v1(&tenant.region, &tenant.account_id)),
    ))
}

#[utoipa::path(
    get,
    path = "/domainnames/{domain_name}",
    operation_id = "GetDomainName",
    tag = "apigateway",
    params(("domain_name" = String, Path)),
    responses((status = 200, description = "GetDomainName succeeded", body = RestDomainName), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
) -> ApiResult<Json<RestDomainName>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    Ok(Json(d.v1(&tenant.region, &tenant.account_id)))
}

#[utoipa::path(
    get,
    path = "/domainnames",
    operation_id = "GetDomainNames",
    tag = "apigateway",
    params(("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetDomainNames succeeded", body = Listing<RestDomainName>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_domain_names(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<RestDomainName>>> {
    let mut conn = app.store.pool().acquire().await?;
    let found = store::list(&mut conn, &tenant, None, page).await?;
    Ok(Json(Listing {
        position: found.next.map(|n| n.to_string()),
        items: found
            .items
            .iter()
            .map(|d| d.v1(&tenant.region, &tenant.account_id))
            .collect(),
    }))
}

#[utoipa::path(
    patch,
    path = "/domainnames/{domain_name}",
    operation_id = "UpdateDomainName",
    tag = "apigateway",
    params(("domain_name" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateDomainName succeeded", body = RestDomainName), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn update_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<RestDomainName>> {
    const PATHS: &[&str] = &[
        "/certificateName",
        "/certificateArn",
        "/regionalCertificateName",
        "/regionalCertificateArn",
        "/endpointConfiguration/types",
        "/endpointConfiguration/ipAddressType",
        "/endpointAccessMode",
        "/policy",
        "/mutualTlsAuthentication/truststoreUri",
        "/mutualTlsAuthentication/truststoreVersion",
        "/routingMode",
        "/securityPolicy",
        "/ownershipVerificationCertificateArn",
    ];
    let ops = patch::parse(body, "updateDomainNameInput")?;
    let mut tx = app.store.begin().await?;
    let mut d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    for op in &ops {
        let value = patch::optional_string(op);
        let settable = matches!(op.op, Op::Add | Op::Replace | Op::Remove);
        match op.path.as_str() {
            "/certificateName" if settable => d.certificate_name = value,
            "/certificateArn" if settable => d.certificate_arn = value,
            "/regionalCertificateName" if settable => d.regional_certificate_name = value,
            "/regionalCertificateArn" if settable => d.regional_certificate_arn = value,
            "/ownershipVerificationCertificateArn" if settable => {
                d.ownership_verification_certificate_arn = value
            }
            // Moving between EDGE and REGIONAL: the old type removed, the new one added.
            "/endpointConfiguration/types" => match (op.op, value) {
                (Op::Add | Op::Replace, Some(t)) => d.endpoint_type = t,
                (Op::Remove, _) => {}
                _ => return Err(op.unsupported_op()),
            },
            "/endpointConfiguration/ipAddressType" if op.op == Op::Replace => {
                d.ip_address_type = value.unwrap_or_else(|| "ipv4".into())
            }
            "/endpointAccessMode" if op.op == Op::Replace => d.endpoint_access_mode = value,
            "/policy" if op.op == Op::Replace => d.policy = value,
            "/securityPolicy" if op.op == Op::Replace => {
                d.security_policy =
                    value.ok_or_else(|| ApiError::bad_request("Invalid security policy: it must be given"))?
            }
            "/routingMode" if op.op == Op::Replace => check_routing_mode(value.as_deref())?,
            "/mutualTlsAuthentication/truststoreUri" if settable => match value {
                Some(uri) => {
                    let m = d.mutual_tls_authentication.get_or_insert_with(|| MutualTls {
                        truststore_uri: String::new(),
                        truststore_version: None,
                        truststore_warnings: vec![],
                    });
                    m.truststore_uri = uri;
                }
                // An empty URI turns mutual TLS off.
                None => d.mutual_tls_authentication = None,
            },
            "/mutualTlsAuthentication/truststoreVersion" if settable => {
                if let Some(m) = &mut d.mutual_tls_authentication {
                    m.truststore_version = value;
                }
            }
            p if PATHS.contains(&p) => return Err(op.unsupported_op()),
            _ => return Err(op.invalid_path(PATHS)),
        }
    }
    // A domain moved between endpoint types keeps only the certificate its new type takes.
    if d.is_regional() {
        d.certificate_arn = None;
        d.certificate_name = None;
    } else {
        d.regional_certificate_arn = None;
        d.regional_certificate_name = None;
    }
    if ops.iter().any(|o| o.path.contains("ertificateArn")) {
        d.certificate_upload_date = now();
    }
    domains::check_domain(&mut tx, &tenant, &d).await?;
    store::update(&mut tx, &d).await?;
    tx.commit().await?;
    Ok(Json(d.v1(&tenant.region, &tenant.account_id)))
}

#[utoipa::path(
    delete,
    path = "/domainnames/{domain_name}",
    operation_id = "DeleteDomainName",
    tag = "apigateway",
    params(("domain_name" = String, Path)),
    responses((status = 202, description = "DeleteDomainName succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn delete_domain_name(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    store::delete(&mut tx, &tenant, &name)
        .await
        .or_not_found(domains::domain_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateBasePathMappingRequest {
    pub base_path: Option<String>,
    pub rest_api_id: Option<String>,
    pub stage: Option<String>,
}

fn mapping_not_found() -> ApiError {
    ApiError::not_found("Invalid base path mapping identifier specified")
}

fn base_path_taken() -> ApiError {
    ApiError::conflict("Base path already exists for this domain name")
}

/// The stored key of a v1 base path: `(none)`, empty and absent are none; one level only.
fn base_path_key(raw: Option<&str>) -> ApiResult<String> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() || raw == NO_BASE_PATH {
        return Ok(String::new());
    }
    if raw.contains('/') {
        return Err(ApiError::bad_request(
            "API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.",
        ));
    }
    if raw.len() > 300 || !is_valid_mapping_key(raw, 1) {
        return Err(ApiError::bad_request(format!(
            "Invalid base path: {raw}. A base path may contain only letters, numbers and one of $-_.+!*'()"
        )));
    }
    Ok(raw.to_owned())
}

/// The mapping a v1 URI's `{base_path}` names.
async fn find_mapping(conn: &mut sqlx::PgConnection, domain: &str, base_path: &str) -> ApiResult<ApiMapping> {
    let key = if base_path == NO_BASE_PATH { "" } else { base_path };
    store::mapping_by_key(conn, domain, key)
        .await
        .or_not_found(mapping_not_found)
}

#[utoipa::path(
    post,
    path = "/domainnames/{domain_name}/basepathmappings",
    operation_id = "CreateBasePathMapping",
    tag = "apigateway",
    params(("domain_name" = String, Path)),
    request_body = CreateBasePathMappingRequest,
    responses((status = 201, description = "CreateBasePathMapping succeeded", body = BasePathMapping), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn create_base_path_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    AwsJson(req): AwsJson<CreateBasePathMappingRequest>,
) -> ApiResult<(StatusCode, Json<BasePathMapping>)> {
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    let api_id = req
        .rest_api_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid REST API identifier specified"))?;
    let m = ApiMapping {
        id: ids::random_id(6),
        key: base_path_key(req.base_path.as_deref())?,
        api_id,
        stage: req.stage.unwrap_or_default(),
    };
    domains::check_target(&mut tx, &tenant, &d, &m, Mapper::V1).await?;
    domains::save_mapping(&mut tx, &d.domain_name, &m, true, base_path_taken).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(BasePathMapping::from(&m))))
}

#[utoipa::path(
    get,
    path = "/domainnames/{domain_name}/basepathmappings/{base_path}",
    operation_id = "GetBasePathMapping",
    tag = "apigateway",
    params(("domain_name" = String, Path), ("base_path" = String, Path)),
    responses((status = 200, description = "GetBasePathMapping succeeded", body = BasePathMapping), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_base_path_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, base_path)): Path<(String, String)>,
) -> ApiResult<Json<BasePathMapping>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    let m = find_mapping(&mut conn, &d.domain_name, &base_path).await?;
    Ok(Json(BasePathMapping::from(&m)))
}

#[utoipa::path(
    get,
    path = "/domainnames/{domain_name}/basepathmappings",
    operation_id = "GetBasePathMappings",
    tag = "apigateway",
    params(("domain_name" = String, Path), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetBasePathMappings succeeded", body = Listing<BasePathMapping>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn get_base_path_mappings(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(name): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<BasePathMapping>>> {
    let mut conn = app.store.pool().acquire().await?;
    let d = find_domain(&mut conn, &tenant, &name, RowLock::None).await?;
    let found = store::mappings(&mut conn, &d.domain_name, page).await?;
    Ok(Json(Listing {
        position: found.next.map(|n| n.to_string()),
        items: found.items.iter().map(BasePathMapping::from).collect(),
    }))
}

#[utoipa::path(
    patch,
    path = "/domainnames/{domain_name}/basepathmappings/{base_path}",
    operation_id = "UpdateBasePathMapping",
    tag = "apigateway",
    params(("domain_name" = String, Path), ("base_path" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateBasePathMapping succeeded", body = BasePathMapping), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn update_base_path_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, base_path)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<BasePathMapping>> {
    const PATHS: &[&str] = &["/basePath", "/restapiId", "/stage"];
    let ops = patch::parse(body, "updateBasePathMappingInput")?;
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    let mut m = find_mapping(&mut tx, &d.domain_name, &base_path).await?;
    for op in &ops {
        // AWS's documents spell these paths several ways; all are taken.
        let path = op.path.to_ascii_lowercase();
        let known = matches!(path.as_str(), "/basepath" | "/restapiid" | "/stage");
        if !known {
            return Err(op.invalid_path(PATHS));
        }
        if op.op != Op::Replace {
            return Err(op.unsupported_op());
        }
        let value = op.value.clone().unwrap_or_default();
        match path.as_str() {
            "/basepath" => m.key = base_path_key(Some(&value))?,
            "/restapiid" => m.api_id = value,
            _ => m.stage = value,
        }
    }
    domains::check_target(&mut tx, &tenant, &d, &m, Mapper::V1).await?;
    domains::save_mapping(&mut tx, &d.domain_name, &m, false, base_path_taken).await?;
    tx.commit().await?;
    Ok(Json(BasePathMapping::from(&m)))
}

#[utoipa::path(
    delete,
    path = "/domainnames/{domain_name}/basepathmappings/{base_path}",
    operation_id = "DeleteBasePathMapping",
    tag = "apigateway",
    params(("domain_name" = String, Path), ("base_path" = String, Path)),
    responses((status = 202, description = "DeleteBasePathMapping succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(domain.name = %name))]
pub async fn delete_base_path_mapping(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((name, base_path)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let d = find_domain(&mut tx, &tenant, &name, RowLock::Update).await?;
    let m = find_mapping(&mut tx, &d.domain_name, &base_path).await?;
    store::delete_mapping(&mut tx, &d.domain_name, &m.id)
        .await
        .or_not_found(mapping_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
