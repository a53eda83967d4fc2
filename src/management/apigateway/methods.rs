//! Method and MethodResponse: Put/Get/Update/Delete of both.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sqlx::PgConnection;

use super::patch::{self, Op, PatchBody, PatchOp};
use super::{find_api_or, method_not_found, resource_not_found};
use crate::domain::enums::{AuthorizationType, HttpMethod};
use crate::domain::rest_api::{Method, MethodResponse, is_valid_status_code};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::Kind;
use crate::store::{RowLock, Tenant, api_documents, methods, resources};

/// `{restapi_id, resource_id, http_method}` of a method's URI.
pub type MethodPath = Path<(String, String, String)>;

pub fn parse_http_method(raw: &str) -> ApiResult<HttpMethod> {
    HttpMethod::parse(raw).ok_or_else(|| {
        ApiError::bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        )
    })
}

/// Outside PutMethod, AWS answers a verb it does not know as a method that does not exist.
pub fn known_method(raw: &str) -> ApiResult<HttpMethod> {
    HttpMethod::parse(raw).ok_or_else(method_not_found)
}

/// AWS's constraint message for a status code that is not `[1-5]\d\d`.
fn status_code_constraint(raw: &str) -> String {
    format!(
        "Value '{raw}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
    )
}

pub fn status_code_error(raw: &str) -> ApiError {
    ApiError::validation(&[status_code_constraint(raw)])
}

pub fn response_not_found() -> ApiError {
    ApiError::not_found("Invalid Response status code specified")
}

/// Checks the API and resource of a method URI exist (404s in AWS's order).
pub async fn resolve_resource(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api_id: &str,
    resource_id: &str,
    lock: RowLock,
) -> ApiResult<()> {
    // AWS names the innermost identifier: an unknown API is an unknown resource here.
    find_api_or(conn, tenant, api_id, lock, resource_not_found).await?;
    if resources::exists(conn, api_id, resource_id).await? {
        Ok(())
    } else {
        Err(resource_not_found())
    }
}

/// Loads a method for a read-modify-write (its row locked, the API's shared).
pub async fn load_method(
    conn: &mut PgConnection,
    tenant: &Tenant,
    (api_id, resource_id, verb): (&str, &str, &str),
) -> ApiResult<Method> {
    resolve_resource(conn, tenant, api_id, resource_id, RowLock::Share).await?;
    let verb = known_method(verb)?;
    methods::get(conn, api_id, resource_id, verb.as_str(), true)
        .await
        .or_not_found(method_not_found)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodRequest {
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
    pub api_key_required: Option<bool>,
    pub operation_name: Option<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    pub request_models: BTreeMap<String, String>,
    pub request_validator_id: Option<String>,
    #[serde(default)]
    pub authorization_scopes: Vec<String>,
}

/// An authorization type, in any case (AWS takes `none` for `NONE`, as its recordings show).
fn parse_authorization_type(raw: &str) -> ApiResult<AuthorizationType> {
    AuthorizationType::parse(&raw.to_ascii_uppercase()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid authorization type specified: {raw}. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS"
        ))
    })
}

/// `method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.{name}`.
fn check_request_parameter(name: &str) -> ApiResult<()> {
    let ok = [
        "path",
        "querystring",
        "header",
        "multivaluequerystring",
        "multivalueheader",
    ]
    .iter()
    .any(|loc| {
        name.strip_prefix("method.request.")
            .and_then(|r| r.strip_prefix(loc))
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|n| !n.is_empty())
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {name}]"
        )))
    }
}

/// The rules a method must satisfy whatever call produced it: authorizer for CUSTOM/COGNITO,
/// existing validator and models, well-formed and unique request parameters.
/// An authorizer id only means something for CUSTOM and COGNITO_USER_POOLS; with any other
/// authorization type AWS drops it rather than refuse the call.
fn normalize_method(m: &mut Method) {
    if !matches!(
        m.authorization_type,
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools
    ) {
        m.authorizer_id = None;
    }
}

async fn check_method(conn: &mut PgConnection, api_id: &str, m: &Method) -> ApiResult<()> {
    if matches!(
        m.authorization_type,
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools
    ) {
        let ok = match &m.authorizer_id {
            Some(id) => api_documents::exists(conn, Kind::Authorizer, api_id, id).await?,
            None => false,
        };
        if !ok {
            return Err(ApiError::bad_request(
                "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
            ));
        }
    }
    if let Some(id) = &m.request_validator_id
        && !api_documents::exists(conn, Kind::RequestValidator, api_id, id).await?
    {
        return Err(ApiError::bad_request(
            "Invalid Request Validator identifier specified",
        ));
    }
    for model in m.request_models.values() {
        if !api_documents::exists(conn, Kind::Model, api_id, model).await? {
            return Err(ApiError::bad_request(format!(
                "Invalid model identifier specified: {model}"
            )));
        }
    }
    let mut names = std::collections::HashSet::new();
    for p in m.request_parameters.keys() {
        check_request_parameter(p)?;
        let name = p.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
        if !names.insert(name) {
            return Err(ApiError::bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
    }
    Ok(())
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}",
    operation_id = "PutMethod",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    request_body = PutMethodRequest,
    responses((status = 201, description = "PutMethod succeeded", body = Method), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_method(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
    AwsJson(req): AwsJson<PutMethodRequest>,
) -> ApiResult<(StatusCode, Json<Method>)> {
    let mut tx = app.store.begin().await?;
    resolve_resource(&mut tx, &tenant, &api_id, &resource_id, RowLock::Share).await?;
    let http_method = parse_http_method(&verb)?;
    let authorization_type = parse_authorization_type(req.authorization_type.as_deref().unwrap_or("NONE"))?;
    let mut method = Method {
        http_method,
        authorization_type,
        authorizer_id: req.authorizer_id.filter(|a| !a.is_empty()),
        api_key_required: req.api_key_required.unwrap_or(false),
        request_validator_id: req.request_validator_id.filter(|v| !v.is_empty()),
        operation_name: req.operation_name.filter(|v| !v.is_empty()),
        request_parameters: req.request_parameters,
        request_models: req.request_models,
        method_responses: BTreeMap::new(),
        method_integration: None,
        authorization_scopes: req.authorization_scopes,
    };
    normalize_method(&mut method);
    check_method(&mut tx, &api_id, &method).await?;
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(method)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}",
    operation_id = "GetMethod",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    responses((status = 200, description = "GetMethod succeeded", body = Method), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_method(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
) -> ApiResult<Json<Method>> {
    let mut conn = app.store.pool().acquire().await?;
    resolve_resource(&mut conn, &tenant, &api_id, &resource_id, RowLock::None).await?;
    let verb = known_method(&verb)?;
    Ok(Json(
        methods::get(&mut conn, &api_id, &resource_id, verb.as_str(), false)
            .await
            .or_not_found(method_not_found)?,
    ))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}",
    operation_id = "UpdateMethod",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateMethod succeeded", body = Method), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_method(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Method>> {
    let ops = patch::parse(body, "updateMethodInput")?;
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    for op in &ops {
        apply_method_patch(&mut method, op)?;
    }
    normalize_method(&mut method);
    check_method(&mut tx, &api_id, &method).await?;
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(Json(method))
}

fn apply_method_patch(m: &mut Method, op: &PatchOp) -> ApiResult<()> {
    if !matches!(op.op, Op::Add | Op::Remove | Op::Replace) {
        return Err(ApiError::bad_request(
            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
        ));
    }
    let segs = op.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (segs.as_slice(), op.op) {
        // Scalar fields take `replace` only (an empty value unsets the optional ones).
        (
            [
                "authorizationType" | "authorizerId" | "apiKeyRequired" | "operationName"
                | "requestValidatorId",
            ],
            o,
        ) if o != Op::Replace => {
            return Err(PatchOp::invalid_op(&[Op::Replace]));
        }
        (["authorizationType"], _) => m.authorization_type = parse_authorization_type(op.required_value()?)?,
        (["authorizerId"], _) => m.authorizer_id = patch::optional_string(op),
        (["apiKeyRequired"], _) => m.api_key_required = op.bool_value()?,
        (["operationName"], _) => m.operation_name = patch::optional_string(op),
        (["requestValidatorId"], _) => m.request_validator_id = patch::optional_string(op),
        (["requestParameters", name], _) => {
            patch::patch_map(&mut m.request_parameters, op, name, patch::map_bool)?
        }
        (["requestModels", content_type], _) => {
            patch::patch_map(&mut m.request_models, op, content_type, patch::map_string)?
        }
        (["authorizationScopes"], Op::Add) => {
            let v = op.required_value()?.to_owned();
            if !m.authorization_scopes.contains(&v) {
                m.authorization_scopes.push(v);
            }
        }
        (["authorizationScopes"], Op::Remove) => match op.value.as_deref() {
            Some(v) => m.authorization_scopes.retain(|s| s != v),
            None => m.authorization_scopes.clear(),
        },
        (["authorizationScopes"], Op::Replace) => {
            m.authorization_scopes = op
                .required_value()?
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        _ => return Err(op.bad_path()),
    }
    Ok(())
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}",
    operation_id = "DeleteMethod",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    responses((status = 204, description = "DeleteMethod succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_method(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): MethodPath,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    resolve_resource(&mut tx, &tenant, &api_id, &resource_id, RowLock::Share).await?;
    let verb = known_method(&verb)?;
    methods::delete(&mut tx, &api_id, &resource_id, verb.as_str())
        .await
        .or_not_found(method_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodResponseRequest {
    pub response_parameters: Option<BTreeMap<String, bool>>,
    pub response_models: Option<BTreeMap<String, String>>,
}

/// `method.response.header.{name}` is the only place a method response parameter can be.
fn check_response_parameter(name: &str) -> ApiResult<()> {
    match name.strip_prefix("method.response.header.") {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid response parameter name specified: {name}"
        ))),
    }
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}",
    operation_id = "PutMethodResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    request_body = PutMethodResponseRequest,
    responses((status = 201, description = "PutMethodResponse succeeded", body = MethodResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_method_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
    AwsJson(req): AwsJson<PutMethodResponseRequest>,
) -> ApiResult<(StatusCode, Json<MethodResponse>)> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    for p in req.response_parameters.iter().flat_map(BTreeMap::keys) {
        check_response_parameter(p)?;
    }
    for model in req.response_models.iter().flat_map(BTreeMap::values) {
        if !api_documents::exists(&mut tx, Kind::Model, &api_id, model).await? {
            return Err(ApiError::bad_request(format!(
                "Invalid model identifier specified: {model}"
            )));
        }
    }
    let response = MethodResponse {
        status_code: status.clone(),
        response_parameters: req.response_parameters,
        response_models: req.response_models,
    };
    method.method_responses.insert(status, response.clone());
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}",
    operation_id = "GetMethodResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    responses((status = 200, description = "GetMethodResponse succeeded", body = MethodResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_method_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
) -> ApiResult<Json<MethodResponse>> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut conn = app.store.pool().acquire().await?;
    resolve_resource(&mut conn, &tenant, &api_id, &resource_id, RowLock::None).await?;
    let verb = known_method(&verb)?;
    let method = methods::get(&mut conn, &api_id, &resource_id, verb.as_str(), false)
        .await
        .or_not_found(method_not_found)?;
    method
        .method_responses
        .get(&status)
        .cloned()
        .map(Json)
        .ok_or_else(response_not_found)
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}",
    operation_id = "UpdateMethodResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    request_body = PatchBody,
    responses((status = 201, description = "UpdateMethodResponse succeeded", body = MethodResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_method_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    // AWS reports bad ops and a bad status code together, ops first.
    let status_errors = if is_valid_status_code(&status) {
        vec![]
    } else {
        vec![status_code_constraint(&status)]
    };
    let ops = patch::parse_with(body, "updateMethodResponseInput", status_errors)?;
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    let response = method
        .method_responses
        .get_mut(&status)
        .ok_or_else(response_not_found)?;
    for op in &ops {
        let segs = op.segments();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        match segs.as_slice() {
            ["responseParameters", name] => {
                if op.op == Op::Add {
                    check_response_parameter(name)?;
                } else if !response.parameters().contains_key(*name) {
                    return Err(ApiError::not_found("Invalid parameter name specified"));
                }
                let parameters = response.response_parameters.get_or_insert_default();
                patch::patch_map(parameters, op, name, patch::map_bool)?;
            }
            ["responseModels", content_type] => {
                if op.op != Op::Add && !response.models().contains_key(*content_type) {
                    return Err(ApiError::not_found("Content-Type specified was not found"));
                }
                let models = response.response_models.get_or_insert_default();
                patch::patch_map(models, op, content_type, patch::map_string)?;
            }
            _ => return Err(op.bad_path()),
        }
    }
    let response = response.clone();
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    // Unlike Put/GetMethodResponse, AWS's UpdateMethodResponse answer leaves out empty maps.
    let mut answer = serde_json::to_value(&response).expect("method responses serialise");
    if let Some(o) = answer.as_object_mut() {
        o.retain(|_, v| !v.as_object().is_some_and(serde_json::Map::is_empty));
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}",
    operation_id = "DeleteMethodResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path), ("status_code" = String, Path)),
    responses((status = 204, description = "DeleteMethodResponse succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_method_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb, status)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    if !is_valid_status_code(&status) {
        return Err(status_code_error(&status));
    }
    let mut tx = app.store.begin().await?;
    let mut method = load_method(&mut tx, &tenant, (&api_id, &resource_id, &verb)).await?;
    method
        .method_responses
        .remove(&status)
        .ok_or_else(response_not_found)?;
    methods::put(&mut tx, &api_id, &resource_id, &method).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
