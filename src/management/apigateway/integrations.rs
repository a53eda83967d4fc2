//! Integration and IntegrationResponse: Put/Get/Update/Delete of both.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::method_not_found;
use super::methods::{
    MethodPath, known_method, load_method, parse_http_method, resolve_resource, response_not_found,
    status_code_error,
};
use super::patch::{self, Op, PatchBody, PatchOp};
use crate::domain::enums::{ConnectionType, ContentHandling, IntegrationType, PassthroughBehavior};
use crate::domain::rest_api::{Integration, IntegrationResponse, TlsConfig, is_valid_status_code};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, methods};

/// AWS's bounds of `timeoutInMillis`.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i32> = 50..=29_000;

fn integration_not_found() -> ApiError {
    ApiError::not_found("Invalid Integration identifier specified")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationRequest {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub credentials: Option<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub request_templates: BTreeMap<String, String>,
    pub passthrough_behavior: Option<String>,
    pub cache_namespace: Option<String>,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<i32>,
    pub tls_config: Option<TlsConfig>,
}

fn parse_enum<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    what: &str,
    choices: &str,
) -> ApiResult<Option<T>> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => parse(r).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid {what} specified: {r}. Valid options are {choices}"
            ))
        }),
    }
}

/// Template keys are media types (`application/json`); anything else is refused as AWS does.
fn check_content_types<'a>(keys: impl IntoIterator<Item = &'a String>) -> ApiResult<()> {
    for k in keys {
        let valid = k
            .split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
        if !valid {
            return Err(ApiError::bad_request(format!(
                "Validation Result: warnings : [], errors : [Invalid content type specified: {k}]"
            )));
        }
    }
    Ok(())
}

/// `i` as AWS keeps it: a MOCK integration has no uri nor method (whatever was sent), an HTTP
/// one goes over the `INTERNET` unless it names a VPC link (as its recordings show).
pub fn with_aws_defaults(mut i: Integration) -> Integration {
    match i.kind {
        IntegrationType::Mock => {
            i.uri = None;
            i.http_method = None;
        }
        IntegrationType::Http | IntegrationType::HttpProxy => {
            i.connection_type.get_or_insert(ConnectionType::Internet);
        }
        IntegrationType::Aws | IntegrationType::AwsProxy => {}
    }
    i
}

/// The rules AWS applies to an integration's type, uri and method, whatever call produced it.
pub fn check_integration(i: &Integration) -> ApiResult<()> {
    // The method first, whatever the uri (as AWS answers an AWS integration to `http://...`).
    if i.kind != IntegrationType::Mock && i.http_method.as_deref().unwrap_or_default().is_empty() {
        return Err(ApiError::bad_request(
            "Enumeration value for HttpMethod must be non-empty",
        ));
    }
    match i.kind {
        IntegrationType::Http | IntegrationType::HttpProxy => {
            // Stage variables and path parameters may stand anywhere, the host included.
            let uri = crate::compiler::UriTemplate::parse(i.uri.as_deref().unwrap_or_default())
                .map(|t| t.render(|_| Some("p"), |_| Some("stagevar")))
                .unwrap_or_default();
            let uri = uri.as_str();
            let valid = (uri.starts_with("http://") || uri.starts_with("https://"))
                && uri.len() > "https://".len()
                && uri
                    .parse::<http::Uri>()
                    .is_ok_and(|u| u.host().is_some_and(|h| !h.is_empty()))
                || i.connection_type == Some(ConnectionType::VpcLink) && !uri.is_empty();
            if !valid {
                return Err(ApiError::bad_request("Invalid HTTP endpoint specified for URI"));
            }
        }
        IntegrationType::Aws | IntegrationType::AwsProxy => {
            let uri = i.uri.as_deref().unwrap_or_default();
            let parts: Vec<&str> = uri.splitn(6, ':').collect();
            let invalid_arn = || ApiError::bad_request("Invalid ARN specified in the request");
            if parts.len() != 6 || parts[0] != "arn" {
                return Err(invalid_arn());
            }
            // An ARN, but not of a path or action (an IAM role's, say): AWS says so first.
            let target = parts[5];
            if !(target.starts_with("path/") || target.starts_with("action/")) {
                return Err(ApiError::bad_request(
                    "AWS ARN for integration must contain path or action",
                ));
            }
            if parts[2] != "apigateway" || !crate::compiler::is_region(parts[3]) {
                return Err(invalid_arn());
            }
            // A proxy calls a function (`path/{version}/functions/{arn}/invocations`) or a
            // Firehose stream's action, nothing else.
            let invokes_function = || {
                target
                    .strip_prefix("path/")
                    .and_then(|t| t.split_once('/'))
                    .and_then(|(_, t)| t.strip_prefix("functions/"))
                    .is_some_and(|f| f.len() > "/invocations".len() && f.ends_with("/invocations"))
            };
            let proxied = match parts[4] {
                "lambda" => invokes_function(),
                "firehose" => target.starts_with("action/"),
                _ => false,
            };
            if i.kind == IntegrationType::AwsProxy && !proxied {
                return Err(ApiError::bad_request(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                ));
            }
        }
        IntegrationType::Mock => {}
    }
    check_content_types(i.request_templates.keys())?;
    if !TIMEOUT_RANGE.contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Timeout should be between 50 ms and 29000 ms",
        ));
    }
    for (target, source) in &i.request_parameters {
        if !target.starts_with("integration.request.") {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping expression specified: {target}"
            )));
        }
        if source.is_empty() {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping expression specified: {source}"
            )));
        }
    }
    Ok(())
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration",
    operation_id = "PutIntegration",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    request_body = PutIntegrationRequest,
    responses((status = 201, description = "PutIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
    AwsJson(req): AwsJson<PutIntegrationRequest>,
) -> ApiResult<(StatusCode, Json<Integration>)> {
    let raw_kind = req.kind.clone().unwrap_or_default();
    let kind = IntegrationType::parse(&raw_kind).ok_or_else(|| {
        ApiError::validation(&[format!(
            "Value '{raw_kind}' at 'putIntegrationInput.type' failed to satisfy constraint: \
             Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]"
        )])
    })?;
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    let http_method = match req.http_method.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(parse_http_method(m)?.as_str().to_owned()),
        None => None,
    };
    let integration = Integration {
        kind,
        http_method,
        uri: req.uri.filter(|u| !u.is_empty()),
        connection_type: parse_enum(
            req.connection_type.as_deref(),
            ConnectionType::parse,
            "connection type",
            "INTERNET,VPC_LINK",
        )?,
        connection_id: req.connection_id.filter(|c| !c.is_empty()),
        credentials: req.credentials.filter(|c| !c.is_empty()),
        request_parameters: req.request_parameters,
        request_templates: req.request_templates,
        passthrough_behavior: Some(
            parse_enum(
                req.passthrough_behavior.as_deref(),
                PassthroughBehavior::parse,
                "passthrough behavior",
                "WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER",
            )?
            .unwrap_or(PassthroughBehavior::WhenNoMatch),
        ),
        content_handling: parse_enum(
            req.content_handling.as_deref(),
            ContentHandling::parse,
            "content handling",
            "CONVERT_TO_BINARY,CONVERT_TO_TEXT",
        )?,
        timeout_in_millis: req.timeout_in_millis.unwrap_or(*TIMEOUT_RANGE.end()),
        cache_namespace: Some(
            req.cache_namespace
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| resource_id.clone()),
        ),
        cache_key_parameters: req.cache_key_parameters,
        integration_responses: BTreeMap::new(),
        tls_config: req.tls_config,
    };
    check_integration(&integration)?;
    let integration = with_aws_defaults(integration);
    method.method_integration = Some(integration.clone());
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(integration)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration",
    operation_id = "GetIntegration",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    responses((status = 200, description = "GetIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
) -> ApiResult<Json<Integration>> {
    let mut conn = app.store.pool().acquire().await?;
    resolve_resource(&mut conn, &tenant, &api_id, &resource_id, RowLock::None).await?;
    let verb = known_method(&verb)?;
    let method = methods::get(&mut conn, &api_id, &resource_id, verb.as_str(), false)
        .await
        .or_not_found(method_not_found)?;
    method
        .method_integration
        .map(Json)
        .ok_or_else(integration_not_found)
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration",
    operation_id = "UpdateIntegration",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateIntegration succeeded", body = Integration), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Integration>> {
    let ops = patch::parse(body, "updateIntegrationInput")?;
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    let integration = method
        .method_integration
        .as_mut()
        .ok_or_else(integration_not_found)?;
    for op in &ops {
        apply_integration_patch(integration, op)?;
    }
    check_integration(integration)?;
    let integration = integration.clone();
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(Json(integration))
}

fn apply_integration_patch(i: &mut Integration, op: &PatchOp) -> ApiResult<()> {
    let segs = op.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let set = matches!(op.op, Op::Replace | Op::Add);
    match (segs.as_slice(), op.op) {
        (["uri"], _) if set => i.uri = patch::optional_string(op),
        (["httpMethod"], _) if set => {
            i.http_method = Some(parse_http_method(op.required_value()?)?.as_str().to_owned())
        }
        (["connectionType"], _) if set => {
            i.connection_type = parse_enum(
                op.value.as_deref(),
                ConnectionType::parse,
                "connection type",
                "INTERNET,VPC_LINK",
            )?;
        }
        (["connectionId"], _) if set => i.connection_id = patch::optional_string(op),
        (["credentials"], _) if set => i.credentials = patch::optional_string(op),
        (["credentials"], Op::Remove) => i.credentials = None,
        (["passthroughBehavior"], Op::Replace) => {
            i.passthrough_behavior = parse_enum(
                op.value.as_deref(),
                PassthroughBehavior::parse,
                "passthrough behavior",
                "WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER",
            )?;
        }
        (["contentHandling"], _) if set => {
            i.content_handling = parse_enum(
                op.value.as_deref(),
                ContentHandling::parse,
                "content handling",
                "CONVERT_TO_BINARY,CONVERT_TO_TEXT",
            )?;
        }
        (["contentHandling"], Op::Remove) => i.content_handling = None,
        (["timeoutInMillis"], Op::Replace) => {
            i.timeout_in_millis = op
                .required_value()?
                .parse()
                .map_err(|_| ApiError::bad_request("Timeout should be between 50 ms and 29000 ms"))?;
        }
        (["cacheNamespace"], _) if set => i.cache_namespace = patch::optional_string(op),
        (["cacheKeyParameters", name], Op::Add) => {
            if !i.cache_key_parameters.iter().any(|p| p == name) {
                i.cache_key_parameters.push((*name).to_owned());
            }
        }
        (["cacheKeyParameters", name], Op::Remove) => i.cache_key_parameters.retain(|p| p != name),
        (["requestParameters", name], _) => {
            patch::patch_map(&mut i.request_parameters, op, name, patch::map_string)?
        }
        (["requestTemplates", ct], _) => patch::patch_map(&mut i.request_templates, op, ct, |v| {
            Ok(v.unwrap_or("").to_owned())
        })?,
        (["tlsConfig", "insecureSkipVerification"], Op::Replace) => {
            i.tls_config = Some(TlsConfig {
                insecure_skip_verification: op.bool_value()?,
            });
        }
        _ => return Err(op.bad_path()),
    }
    Ok(())
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration",
    operation_id = "DeleteIntegration",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    responses((status = 204, description = "DeleteIntegration succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_integration(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    method
        .method_integration
        .take()
        .ok_or_else(integration_not_found)?;
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationResponseRequest {
    pub selection_pattern: Option<String>,
    #[serde(default)]
    pub response_parameters: BTreeMap<String, Option<String>>,
    pub response_templates: Option<BTreeMap<String, Option<String>>>,
    pub content_handling: Option<String>,
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}",
    operation_id = "PutIntegrationResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    request_body = PutIntegrationResponseRequest,
    responses((status = 201, description = "PutIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PutIntegrationResponseRequest>,
) -> ApiResult<(StatusCode, Json<IntegrationResponse>)> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    let integration = method
        .method_integration
        .as_mut()
        .ok_or_else(integration_not_found)?;
    let mut response_parameters = BTreeMap::new();
    for (k, v) in req.response_parameters {
        let v = v
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad_request("Invalid null or empty value in responseParameters"))?;
        if !k.starts_with("method.response.header.") {
            return Err(ApiError::bad_request(format!(
                "Invalid mapping expression specified: {k}"
            )));
        }
        response_parameters.insert(k, v);
    }
    check_content_types(req.response_templates.iter().flat_map(BTreeMap::keys))?;
    let response = IntegrationResponse {
        status_code: status.clone(),
        selection_pattern: req.selection_pattern,
        response_parameters,
        // AWS keeps an empty template as no template (null).
        response_templates: req.response_templates.map(|templates| {
            templates
                .into_iter()
                .map(|(k, v)| (k, v.filter(|t| !t.is_empty())))
                .collect()
        }),
        content_handling: parse_enum(
            req.content_handling.as_deref(),
            ContentHandling::parse,
            "content handling",
            "CONVERT_TO_BINARY,CONVERT_TO_TEXT",
        )?,
    };
    integration.integration_responses.insert(status, response.clone());
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}",
    operation_id = "GetIntegrationResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    responses((status = 200, description = "GetIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
) -> ApiResult<Json<IntegrationResponse>> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut conn = app.store.pool().acquire().await?;
    resolve_resource(&mut conn, &tenant, &api_id, &resource_id, RowLock::None).await?;
    let verb = known_method(&verb)?;
    let method = methods::get(&mut conn, &api_id, &resource_id, verb.as_str(), false)
        .await
        .or_not_found(method_not_found)?;
    let integration = method.method_integration.ok_or_else(integration_not_found)?;
    integration
        .integration_responses
        .get(&status)
        .cloned()
        .map(Json)
        .ok_or_else(response_not_found)
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}",
    operation_id = "UpdateIntegrationResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateIntegrationResponse succeeded", body = IntegrationResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<IntegrationResponse>> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let ops = patch::parse(body, "updateIntegrationResponseInput")?;
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    let integration = method
        .method_integration
        .as_mut()
        .ok_or_else(integration_not_found)?;
    let response = integration
        .integration_responses
        .get_mut(&status)
        .ok_or_else(response_not_found)?;
    for op in &ops {
        let segs = op.segments();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        match (segs.as_slice(), op.op) {
            (["selectionPattern"], Op::Replace | Op::Add) => response.selection_pattern = op.value.clone(),
            (["selectionPattern"], Op::Remove) => response.selection_pattern = None,
            (["contentHandling"], Op::Replace | Op::Add) => {
                response.content_handling = parse_enum(
                    op.value.as_deref(),
                    ContentHandling::parse,
                    "content handling",
                    "CONVERT_TO_BINARY,CONVERT_TO_TEXT",
                )?;
            }
            (["contentHandling"], Op::Remove) => response.content_handling = None,
            (["responseParameters", name], _) => {
                patch::patch_map(&mut response.response_parameters, op, name, patch::map_string)?;
            }
            (["responseTemplates", ct], _) => {
                let templates = response.response_templates.get_or_insert_default();
                patch::patch_map(templates, op, ct, |v| Ok(v.map(str::to_owned)))?;
            }
            _ => return Err(op.bad_path()),
        }
    }
    let response = response.clone();
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(Json(response))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}",
    operation_id = "DeleteIntegrationResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    responses((status = 204, description = "DeleteIntegrationResponse succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_integration_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut tx = app.store.begin().await?;
    // AWS answers a missing method (or unknown verb) here as a missing integration.
    let mut method = match load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await {
        Err(e) if e.message == method_not_found().message => return Err(integration_not_found()),
        other => other?,
    };
    let integration = method
        .method_integration
        .as_mut()
        .ok_or_else(integration_not_found)?;
    integration
        .integration_responses
        .remove(&status)
        .ok_or_else(response_not_found)?;
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
