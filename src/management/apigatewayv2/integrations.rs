//! Integration: CreateIntegration, GetIntegration, GetIntegrations, UpdateIntegration,
//! DeleteIntegration. HTTP APIs' integrations are AWS_PROXY (a Lambda function, payload format
//! 1.0 or 2.0; or with an integrationSubtype, an AWS service's action) and HTTP_PROXY (a URL);
//! every change redeploys the API's autoDeploy stages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::deployments::auto_deploy;
use super::{Items, Paging, check_len, find_api};
use crate::domain::http_api::{HttpApi, Integration, TlsConfig};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, Tenant};

/// CreateIntegration's and UpdateIntegration's body (UpdateIntegration: what it names changes).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationInput {
    pub connection_id: Option<String>,
    pub connection_type: Option<String>,
    pub content_handling_strategy: Option<String>,
    pub credentials_arn: Option<String>,
    pub description: Option<String>,
    pub integration_method: Option<String>,
    pub integration_subtype: Option<String>,
    pub integration_type: Option<String>,
    pub integration_uri: Option<String>,
    pub passthrough_behavior: Option<String>,
    pub payload_format_version: Option<String>,
    pub request_parameters: Option<BTreeMap<String, String>>,
    pub request_templates: Option<BTreeMap<String, String>>,
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
    pub template_selection_expression: Option<String>,
    pub timeout_in_millis: Option<i32>,
    pub tls_config: Option<TlsConfig>,
}

pub fn integration_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Integration identifier specified {id}"))
}

/// A new integration of `api` from CreateIntegration's body.
pub fn new_integration(api: &HttpApi, input: IntegrationInput) -> ApiResult<Integration> {
    let kind = input
        .integration_type
        .clone()
        .ok_or_else(|| ApiError::bad_request("integrationType is required"))?;
    let mut integration = Integration {
        integration_id: ids::random_id(7),
        integration_type: kind,
        api_gateway_managed: false,
        connection_id: None,
        connection_type: "INTERNET".into(),
        content_handling_strategy: None,
        credentials_arn: None,
        description: None,
        integration_method: None,
        integration_response_selection_expression: None,
        integration_subtype: None,
        integration_uri: None,
        passthrough_behavior: None,
        payload_format_version: None,
        request_parameters: BTreeMap::new(),
        request_templates: BTreeMap::new(),
        response_parameters: BTreeMap::new(),
        template_selection_expression: None,
        // AWS's defaults, which are each protocol's most.
        timeout_in_millis: if api.protocol_type == "HTTP" {
            30_000
        } else {
            29_000
        },
        tls_config: None,
    };
    apply(api, &mut integration, input)?;
    Ok(integration)
}

/// Applies `input` to `i` and checks the result as AWS does for the API's protocol.
fn apply(api: &HttpApi, i: &mut Integration, input: IntegrationInput) -> ApiResult<()> {
    let IntegrationInput {
        connection_id,
        connection_type,
        content_handling_strategy,
        credentials_arn,
        description,
        integration_method,
        integration_subtype,
        integration_type,
        integration_uri,
        passthrough_behavior,
        payload_format_version,
        request_parameters,
        request_templates,
        response_parameters,
        template_selection_expression,
        timeout_in_millis,
        tls_config,
    } = input;
    if let Some(t) = integration_type {
        i.integration_type = t;
    }
    if let Some(d) = description {
        check_len("description", &d, 1024)?;
        i.description = Some(d);
    }
    if let Some(c) = connection_type {
        i.connection_type = c;
    }
    if let Some(c) = connection_id {
        i.connection_id = Some(c).filter(|c| !c.is_empty());
    }
    if content_handling_strategy.is_some() {
        i.content_handling_strategy = content_handling_strategy;
    }
    if let Some(c) = credentials_arn {
        i.credentials_arn = Some(c).filter(|c| !c.is_empty());
    }
    if let Some(m) = integration_method {
        i.integration_method = Some(m);
    }
    if integration_subtype.is_some() {
        i.integration_subtype = integration_subtype;
    }
    if let Some(u) = integration_uri {
        i.integration_uri = Some(u);
    }
    if passthrough_behavior.is_some() {
        i.passthrough_behavior = passthrough_behavior;
    }
    if payload_format_version.is_some() {
        i.payload_format_version = payload_format_version;
    }
    if let Some(p) = request_parameters {
        i.request_parameters = p;
    }
    if let Some(t) = request_templates {
        i.request_templates = t;
    }
    if let Some(p) = response_parameters {
        i.response_parameters = p;
    }
    if template_selection_expression.is_some() {
        i.template_selection_expression = template_selection_expression;
    }
    if let Some(t) = timeout_in_millis {
        i.timeout_in_millis = t;
    }
    if tls_config.is_some() {
        i.tls_config = tls_config;
    }
    if api.protocol_type == "HTTP" {
        check_http(i)?;
    } else {
        check_websocket(i)?;
    }
    Ok(())
}

/// An HTTP API's integration, as AWS checks it.
fn check_http(i: &mut Integration) -> ApiResult<()> {
    if !(50..=30_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Invalid timeoutInMillis: it must be between 50 and 30000 for HTTP APIs",
        ));
    }
    if !matches!(i.connection_type.as_str(), "INTERNET" | "VPC_LINK") {
        return Err(ApiError::bad_request(format!(
            "Invalid connectionType {}: expected INTERNET or VPC_LINK",
            i.connection_type
        )));
    }
    match (i.connection_type.as_str(), &i.connection_id) {
        ("VPC_LINK", None) => {
            return Err(ApiError::bad_request(
                "connectionId is required for VPC_LINK integrations: the id of the VPC link",
            ));
        }
        ("VPC_LINK", Some(_)) if i.integration_type != "HTTP_PROXY" => {
            return Err(ApiError::bad_request(
                "VPC_LINK integrations of HTTP APIs are HTTP_PROXY integrations",
            ));
        }
        ("INTERNET", Some(_)) => {
            return Err(ApiError::bad_request(
                "connectionId names a VPC link: it is only for connectionType VPC_LINK",
            ));
        }
        _ => {}
    }
    crate::compiler::http_mapping::response(&i.response_parameters).map_err(ApiError::bad_request)?;
    if !i.request_templates.is_empty() || i.template_selection_expression.is_some() {
        return Err(ApiError::bad_request(
            "Request templates are supported only for WebSocket APIs",
        ));
    }
    if let Some(subtype) = &i.integration_subtype {
        return check_aws_service(i, subtype.clone());
    }
    if !i.request_parameters.is_empty() && i.integration_type != "HTTP_PROXY" {
        return Err(ApiError::bad_request(
            "requestParameters map the requests of HTTP_PROXY integrations, and the actions of AWS service integrations (integrationSubtype)",
        ));
    }
    crate::compiler::http_mapping::request(&i.request_parameters).map_err(ApiError::bad_request)?;
    match i.integration_type.as_str() {
        "AWS_PROXY" => {
            match i.payload_format_version.as_deref() {
                Some("1.0" | "2.0") => {}
                Some(v) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid payloadFormatVersion {v}: expected 1.0 or 2.0"
                    )));
                }
                None => {
                    return Err(ApiError::bad_request(
                        "payloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs",
                    ));
                }
            }
            let uri = i.integration_uri.as_deref().ok_or_else(|| {
                ApiError::bad_request("integrationUri is required for AWS_PROXY integrations")
            })?;
            let invocation = crate::compiler::http_api::lambda_invocation_uri(uri);
            if crate::compiler::lambda_target(&invocation).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid integrationUri {uri}: expected a Lambda function ARN"
                )));
            }
            i.integration_method.get_or_insert_with(|| "POST".into());
        }
        "HTTP_PROXY" => {
            match i.payload_format_version.as_deref() {
                None | Some("1.0") => i.payload_format_version = Some("1.0".into()),
                Some(v) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid payloadFormatVersion {v}: HTTP_PROXY integrations use 1.0"
                    )));
                }
            }
            let uri = i.integration_uri.as_deref().ok_or_else(|| {
                ApiError::bad_request("integrationUri is required for HTTP_PROXY integrations")
            })?;
            let url = crate::compiler::UriTemplate::parse(uri).is_ok()
                && (uri.starts_with("http://") || uri.starts_with("https://"));
            if i.connection_type == "VPC_LINK" {
                // A target gets the request's path and query after its own URL.
                if url && uri.contains(['?', '#']) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid integrationUri {uri}: a private target's URL has no query or fragment"
                    )));
                }
                if !(url || crate::compiler::http_api::private_target_arn(uri)) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid integrationUri {uri}: a VPC_LINK integration names a load balancer listener ARN, a Cloud Map service ARN, or (Gatehouse) a URL"
                    )));
                }
            } else if !url {
                return Err(ApiError::bad_request(format!(
                    "Invalid integrationUri {uri}: expected an http:// or https:// URL"
                )));
            }
            let method = i.integration_method.as_deref().ok_or_else(|| {
                ApiError::bad_request("integrationMethod is required for HTTP_PROXY integrations")
            })?;
            if crate::domain::enums::HttpMethod::parse(method).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid integrationMethod {method}"
                )));
            }
        }
        other @ ("AWS" | "HTTP" | "MOCK") => {
            return Err(ApiError::bad_request(format!(
                "Integration type {other} is supported only for WebSocket APIs"
            )));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid integrationType {other}: expected AWS_PROXY or HTTP_PROXY"
            )));
        }
    }
    Ok(())
}

/// What an integration names of its account must be the tenant's: the VPC link and the
/// private target (a listener's or Cloud Map service's ARN) of a private integration, and the
/// role an integration calls AWS as. (Workers reach targets and assume roles for
/// every tenant: one account naming another's would reach what is not its own.)
pub(super) async fn check_tenant_resources(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    i: &Integration,
) -> ApiResult<()> {
    if let ("VPC_LINK", Some(id)) = (i.connection_type.as_str(), &i.connection_id) {
        match super::vpc_links::find_vpc_link(conn, tenant, id, RowLock::Share).await {
            Ok(_) => {}
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                return Err(ApiError::bad_request(format!(
                    "Invalid VpcLink identifier specified {id}"
                )));
            }
            Err(e) => return Err(e),
        }
        if let Some(uri) = i.integration_uri.as_deref().filter(|u| u.starts_with("arn:")) {
            check_owned("integrationUri", uri, tenant)?;
        }
    }
    if let Some(role) = i.credentials_arn.as_deref().filter(|c| c.starts_with("arn:")) {
        check_owned("credentialsArn", role, tenant)?;
    }
    Ok(())
}

/// An ARN of the tenant's account (and, when it names one, region).
pub(crate) fn check_owned(field: &str, arn: &str, tenant: &Tenant) -> ApiResult<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (region, account) = match parts.as_slice() {
        [_, _, _, region, account, _] => (*region, *account),
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid {field} {arn}: not an ARN"
            )));
        }
    };
    if account != tenant.account_id || !(region.is_empty() || region == tenant.region) {
        return Err(ApiError::bad_request(format!(
            "Invalid {field} {arn}: it must name a resource of account {} in {}",
            tenant.account_id, tenant.region
        )));
    }
    Ok(())
}

/// An HTTP API's AWS service integration: an AWS_PROXY integration whose subtype names the
/// action and whose requestParameters are the action's parameters (payload format 1.0).
fn check_aws_service(i: &mut Integration, subtype: String) -> ApiResult<()> {
    if i.integration_type != "AWS_PROXY" {
        return Err(ApiError::bad_request(
            "integrationSubtype is supported only for AWS_PROXY integrations",
        ));
    }
    if i.connection_type != "INTERNET" {
        return Err(ApiError::bad_request(
            "AWS service integrations use connectionType INTERNET",
        ));
    }
    match i.payload_format_version.as_deref() {
        None | Some("1.0") => i.payload_format_version = Some("1.0".into()),
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Invalid payloadFormatVersion {v}: AWS service integrations use 1.0"
            )));
        }
    }
    crate::compiler::aws_action::compile(&subtype, &i.request_parameters).map_err(ApiError::bad_request)?;
    // The service is called as the integration's role, never as the gateway itself.
    match &i.credentials_arn {
        Some(c) if c.starts_with("arn:") && c.contains(":role/") => Ok(()),
        Some(c) => Err(ApiError::bad_request(format!(
            "Invalid credentialsArn {c}: expected an IAM role ARN"
        ))),
        None => Err(ApiError::bad_request(
            "credentialsArn is required for AWS service integrations: the role API Gateway calls the service as",
        )),
    }
}

/// A WebSocket API's integration, as AWS checks it; its integration response selection
/// expression is AWS's for its type (the status for HTTP and MOCK, a Lambda function's error
/// message for AWS).
fn check_websocket(i: &mut Integration) -> ApiResult<()> {
    use crate::compiler::websocket::{mapping, selection::SelectionExpression};
    if i.connection_type == "VPC_LINK" {
        return Err(ApiError::bad_request(
            "VPC_LINK integrations of WebSocket APIs go through REST (v1) VPC links, which Gatehouse does not have yet",
        ));
    }
    if i.connection_type != "INTERNET" {
        return Err(ApiError::bad_request(format!(
            "Invalid connectionType {}: expected INTERNET",
            i.connection_type
        )));
    }
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Invalid timeoutInMillis: it must be between 50 and 29000 for WebSocket APIs",
        ));
    }
    if i.integration_subtype.is_some() || !i.response_parameters.is_empty() || i.tls_config.is_some() {
        return Err(ApiError::bad_request(
            "integrationSubtype, responseParameters and tlsConfig are supported only for HTTP APIs",
        ));
    }
    let uri = i.integration_uri.as_deref();
    let url = |uri: Option<&str>| {
        uri.is_some_and(|u| {
            (u.starts_with("http://") || u.starts_with("https://"))
                && crate::compiler::UriTemplate::parse(u).is_ok()
        })
    };
    let lambda = |uri: Option<&str>| {
        uri.is_some_and(|u| {
            crate::compiler::lambda_target(&crate::compiler::http_api::lambda_invocation_uri(u)).is_some()
        })
    };
    let kind = i.integration_type.as_str();
    match kind {
        "AWS_PROXY" if !lambda(uri) => {
            return Err(ApiError::bad_request(format!(
                "Invalid integrationUri {}: AWS_PROXY integrations of WebSocket APIs name a Lambda function",
                uri.unwrap_or("(none)")
            )));
        }
        "HTTP" | "HTTP_PROXY" if !url(uri) => {
            return Err(ApiError::bad_request(format!(
                "Invalid integrationUri {}: expected an http:// or https:// URL",
                uri.unwrap_or("(none)")
            )));
        }
        "AWS" => {
            let service = uri.and_then(crate::compiler::service_target);
            if !lambda(uri) && service.is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid integrationUri {}: expected a Lambda function or an AWS service action (arn:aws:apigateway:{{region}}:{{service}}:action/{{Action}} or :path/{{path}})",
                    uri.unwrap_or("(none)")
                )));
            }
            // A service is called as the integration's role, never as the gateway itself.
            let role = i
                .credentials_arn
                .as_deref()
                .is_some_and(|c| c.starts_with("arn:") && c.contains(":role/"));
            if service.is_some() && !role {
                return Err(ApiError::bad_request(
                    "credentialsArn is required for AWS service integrations: the IAM role API Gateway calls the service as",
                ));
            }
        }
        "MOCK" if uri.is_some() => {
            return Err(ApiError::bad_request("MOCK integrations have no integrationUri"));
        }
        "AWS_PROXY" | "HTTP" | "HTTP_PROXY" | "MOCK" => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid integrationType {other}: expected AWS, AWS_PROXY, HTTP, HTTP_PROXY or MOCK"
            )));
        }
    }
    if let Some(m) = &i.integration_method
        && crate::domain::enums::HttpMethod::parse(m).is_none()
    {
        return Err(ApiError::bad_request(format!("Invalid integrationMethod {m}")));
    }
    match i.payload_format_version.as_deref() {
        None | Some("1.0") => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Invalid payloadFormatVersion {v}: WebSocket APIs use 1.0"
            )));
        }
    }
    if let Some(p) = i.passthrough_behavior.as_deref()
        && crate::domain::enums::PassthroughBehavior::parse(p).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid passthroughBehavior {p}: expected WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"
        )));
    }
    if let Some(c) = i.content_handling_strategy.as_deref()
        && crate::domain::enums::ContentHandling::parse(c).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid contentHandlingStrategy {c}: expected CONVERT_TO_BINARY or CONVERT_TO_TEXT"
        )));
    }
    if let Some(e) = &i.template_selection_expression {
        SelectionExpression::parse(e)
            .and_then(|e| e.check(mapping::TEMPLATE_SELECTION_VARIABLES))
            .map_err(ApiError::bad_request)?;
    }
    for (target, source) in &i.request_parameters {
        mapping::parse_target(target).map_err(ApiError::bad_request)?;
        mapping::WsSource::parse(source).map_err(ApiError::bad_request)?;
    }
    let proxy = matches!(kind, "AWS_PROXY" | "HTTP_PROXY");
    if proxy && !i.request_templates.is_empty() {
        return Err(ApiError::bad_request(
            "requestTemplates transform the requests of AWS, HTTP and MOCK integrations: a proxy integration passes them as they are",
        ));
    }
    i.integration_response_selection_expression =
        mapping::default_response_selection(kind).map(str::to_owned);
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/integrations",
    operation_id = "CreateIntegration",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = IntegrationInput,
    responses((status = 201, description = "CreateIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(input): AwsJson<IntegrationInput>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let integration = new_integration(&api, input)?;
    check_tenant_resources(&mut tx, &tenant, &integration).await?;
    docs::insert(
        &mut tx,
        Kind::Integration,
        &api_id,
        &integration.integration_id,
        &integration,
    )
    .await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(integration)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/integrations/{integrationId}",
    operation_id = "GetIntegrationV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path)),
    responses((status = 200, description = "GetIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Integration>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let integration = docs::get(&mut conn, Kind::Integration, &api_id, &id, false)
        .await
        .or_not_found(|| integration_not_found(&id))?;
    Ok(Json(integration))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/integrations",
    operation_id = "GetIntegrations",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetIntegrations succeeded", body = Items<Integration>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integrations(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Integration>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let page = docs::list(&mut conn, Kind::Integration, &api_id, page).await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/integrations/{integrationId}",
    operation_id = "UpdateIntegrationV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path)),
    request_body = IntegrationInput,
    responses((status = 200, description = "UpdateIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<IntegrationInput>,
) -> ApiResult<Json<Integration>> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut integration: Integration = docs::get(&mut tx, Kind::Integration, &api_id, &id, true)
        .await
        .or_not_found(|| integration_not_found(&id))?;
    if integration.api_gateway_managed {
        return Err(managed("integration"));
    }
    apply(&api, &mut integration, input)?;
    check_tenant_resources(&mut tx, &tenant, &integration).await?;
    docs::update(&mut tx, Kind::Integration, &api_id, &id, &integration).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(Json(integration))
}

/// AWS's refusal to change what quick create made by hand.
pub fn managed(what: &str) -> ApiError {
    ApiError::conflict(format!(
        "Cannot modify or delete the {what}: it is managed by API Gateway (quick create); update the API instead"
    ))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/integrations/{integrationId}",
    operation_id = "DeleteIntegrationV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("integrationId" = String, Path)),
    responses((status = 204, description = "DeleteIntegration succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let integration: Integration = docs::get(&mut tx, Kind::Integration, &api_id, &id, true)
        .await
        .or_not_found(|| integration_not_found(&id))?;
    if integration.api_gateway_managed {
        return Err(managed("integration"));
    }
    let users =
        super::routes::keys_where(&mut tx, &api_id, |r| r.integration_id() == Some(id.as_str())).await?;
    if !users.is_empty() {
        return Err(ApiError::conflict(format!(
            "Integration {id} is the target of route(s) {}: change their targets first",
            users.join(", ")
        )));
    }
    docs::delete(&mut tx, Kind::Integration, &api_id, &id).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
