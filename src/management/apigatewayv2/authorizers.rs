//! Authorizer: CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer,
//! DeleteAuthorizer. HTTP APIs' JWT authorizers: an issuer (whose OpenID discovery document
//! names its keys), the audiences a token may be for, and the header the token comes in.
//! Lambda (REQUEST) authorizers: a function called with payload format 1.0 or 2.0 events,
//! answering IAM policies or (2.0) simple responses; WebSocket APIs' are refused until served.

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::deployments::auto_deploy;
use super::{Items, Paging, find_api};
use crate::domain::http_api::{Authorizer, HttpApi, JwtConfiguration};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, Tenant};

/// CreateAuthorizer's and UpdateAuthorizer's body (UpdateAuthorizer: what it names changes).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerInput {
    pub authorizer_credentials_arn: Option<String>,
    pub authorizer_payload_format_version: Option<String>,
    pub authorizer_result_ttl_in_seconds: Option<i32>,
    pub authorizer_type: Option<String>,
    pub authorizer_uri: Option<String>,
    pub enable_simple_responses: Option<bool>,
    pub identity_source: Option<Vec<String>>,
    pub identity_validation_expression: Option<String>,
    pub jwt_configuration: Option<JwtConfiguration>,
    pub name: Option<String>,
}

pub fn authorizer_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid Authorizer identifier specified {id}"))
}

/// The role a Lambda authorizer is invoked as must be of the tenant's account.
pub(super) fn check_role(a: &Authorizer, tenant: &Tenant) -> ApiResult<()> {
    match a
        .authorizer_credentials_arn
        .as_deref()
        .filter(|c| c.starts_with("arn:"))
    {
        Some(role) => super::integrations::check_owned("authorizerCredentialsArn", role, tenant),
        None => Ok(()),
    }
}

/// A new authorizer of `api` from CreateAuthorizer's body.
pub fn new_authorizer(api: &HttpApi, input: AuthorizerInput) -> ApiResult<Authorizer> {
    let mut authorizer = Authorizer {
        authorizer_id: ids::random_id(6),
        name: String::new(),
        authorizer_type: String::new(),
        identity_source: vec![],
        jwt_configuration: None,
        authorizer_uri: None,
        authorizer_credentials_arn: None,
        authorizer_payload_format_version: None,
        authorizer_result_ttl_in_seconds: None,
        enable_simple_responses: None,
        identity_validation_expression: None,
    };
    apply(api, &mut authorizer, input)?;
    Ok(authorizer)
}

/// Applies `input` to `a` and checks the result as AWS does.
fn apply(api: &HttpApi, a: &mut Authorizer, input: AuthorizerInput) -> ApiResult<()> {
    if let Some(n) = input.name {
        if n.is_empty() || n.len() > 128 {
            return Err(ApiError::bad_request(
                "Invalid name: it must be 1 to 128 characters",
            ));
        }
        a.name = n;
    }
    if let Some(t) = input.authorizer_type {
        a.authorizer_type = t;
    }
    if let Some(s) = input.identity_source {
        a.identity_source = s;
    }
    if let Some(j) = input.jwt_configuration {
        a.jwt_configuration = Some(j);
    }
    if input.authorizer_uri.is_some() {
        a.authorizer_uri = input.authorizer_uri;
    }
    if input.authorizer_credentials_arn.is_some() {
        a.authorizer_credentials_arn = input.authorizer_credentials_arn;
    }
    if input.authorizer_payload_format_version.is_some() {
        a.authorizer_payload_format_version = input.authorizer_payload_format_version;
    }
    if let Some(ttl) = input.authorizer_result_ttl_in_seconds {
        if !(0..=3600).contains(&ttl) {
            return Err(ApiError::bad_request(
                "Invalid authorizerResultTtlInSeconds: it must be between 0 and 3600",
            ));
        }
        a.authorizer_result_ttl_in_seconds = Some(ttl);
    }
    if input.enable_simple_responses.is_some() {
        a.enable_simple_responses = input.enable_simple_responses;
    }
    if input.identity_validation_expression.is_some() {
        a.identity_validation_expression = input.identity_validation_expression;
    }
    match a.authorizer_type.as_str() {
        "JWT" if api.protocol_type == "HTTP" => {
            let jwt = a
                .jwt_configuration
                .as_ref()
                .ok_or_else(|| ApiError::bad_request("jwtConfiguration is required for JWT authorizers"))?;
            let issuer = jwt.issuer.as_deref().unwrap_or_default();
            if !issuer.starts_with("https://") && !issuer.starts_with("http://") {
                return Err(ApiError::bad_request(format!(
                    "Invalid jwtConfiguration.issuer {issuer:?}: expected the issuer's URL"
                )));
            }
            if jwt.audience.is_empty() {
                return Err(ApiError::bad_request(
                    "jwtConfiguration.audience needs at least one audience",
                ));
            }
            match a.identity_source.as_slice() {
                [one]
                    if one
                        .strip_prefix("$request.header.")
                        .is_some_and(|h| !h.is_empty()) => {}
                _ => {
                    return Err(ApiError::bad_request(
                        "A JWT authorizer reads one identity source, a header: $request.header.{name}",
                    ));
                }
            }
        }
        "JWT" => {
            return Err(ApiError::bad_request(
                "JWT authorizers are supported only for HTTP APIs",
            ));
        }
        "REQUEST" if api.protocol_type == "HTTP" => {
            let uri = a
                .authorizer_uri
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("authorizerUri is required for REQUEST authorizers"))?;
            let invocation = crate::compiler::http_api::lambda_invocation_uri(uri);
            if crate::compiler::lambda_target(&invocation).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid authorizerUri {uri}: expected a Lambda function's ARN or invocation URI"
                )));
            }
            match a.authorizer_payload_format_version.as_deref() {
                Some("2.0") => {}
                Some("1.0") if a.enable_simple_responses != Some(true) => {}
                Some("1.0") => {
                    return Err(ApiError::bad_request(
                        "enableSimpleResponses needs authorizerPayloadFormatVersion 2.0",
                    ));
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "authorizerPayloadFormatVersion (1.0 or 2.0) is required for REQUEST authorizers of HTTP APIs",
                    ));
                }
            }
            for s in &a.identity_source {
                if crate::compiler::http_api::identity_source(s).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "Invalid identity source {s}: expected $request.header.*, $request.querystring.*, $context.* or $stageVariables.*"
                    )));
                }
            }
            if a.authorizer_result_ttl_in_seconds.unwrap_or(0) > 0 && a.identity_source.is_empty() {
                return Err(ApiError::bad_request(
                    "Caching authorizer results (authorizerResultTtlInSeconds) needs identity sources to key them",
                ));
            }
        }
        // A WebSocket API's: a Lambda function asked on `$connect`, with the handshake's
        // headers and query string as identity sources, answering an IAM policy.
        "REQUEST" => {
            let uri = a
                .authorizer_uri
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("authorizerUri is required for REQUEST authorizers"))?;
            let invocation = crate::compiler::http_api::lambda_invocation_uri(uri);
            if crate::compiler::lambda_target(&invocation).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid authorizerUri {uri}: expected a Lambda function's ARN or invocation URI"
                )));
            }
            for s in &a.identity_source {
                if crate::compiler::websocket::identity_source(s).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "Invalid identity source {s}: expected route.request.header.*, route.request.querystring.*, stageVariables.* or context.*"
                    )));
                }
            }
            if a.enable_simple_responses == Some(true) {
                return Err(ApiError::bad_request(
                    "enableSimpleResponses is for HTTP APIs: a WebSocket API's authorizer answers an IAM policy",
                ));
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid authorizerType {other}: expected JWT or REQUEST"
            )));
        }
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/authorizers",
    operation_id = "CreateAuthorizerV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = AuthorizerInput,
    responses((status = 201, description = "CreateAuthorizer succeeded", body = Authorizer), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(input): AwsJson<AuthorizerInput>,
) -> ApiResult<(StatusCode, Json<Authorizer>)> {
    if input.name.is_none() || input.authorizer_type.is_none() {
        return Err(ApiError::bad_request("name and authorizerType are required"));
    }
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let authorizer = new_authorizer(&api, input)?;
    check_role(&authorizer, &tenant)?;
    docs::insert(
        &mut tx,
        Kind::Authorizer,
        &api_id,
        &authorizer.authorizer_id,
        &authorizer,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(authorizer)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/authorizers/{authorizerId}",
    operation_id = "GetAuthorizerV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("authorizerId" = String, Path)),
    responses((status = 200, description = "GetAuthorizer succeeded", body = Authorizer), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Authorizer>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let authorizer = docs::get(&mut conn, Kind::Authorizer, &api_id, &id, false)
        .await
        .or_not_found(|| authorizer_not_found(&id))?;
    Ok(Json(authorizer))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/authorizers",
    operation_id = "GetAuthorizersV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetAuthorizers succeeded", body = Items<Authorizer>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_authorizers(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Authorizer>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::Authorizer, &api_id, page)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/authorizers/{authorizerId}",
    operation_id = "UpdateAuthorizerV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("authorizerId" = String, Path)),
    request_body = AuthorizerInput,
    responses((status = 200, description = "UpdateAuthorizer succeeded", body = Authorizer), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<AuthorizerInput>,
) -> ApiResult<Json<Authorizer>> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut authorizer: Authorizer = docs::get(&mut tx, Kind::Authorizer, &api_id, &id, true)
        .await
        .or_not_found(|| authorizer_not_found(&id))?;
    apply(&api, &mut authorizer, input)?;
    check_role(&authorizer, &tenant)?;
    docs::update(&mut tx, Kind::Authorizer, &api_id, &id, &authorizer).await?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok(Json(authorizer))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/authorizers/{authorizerId}",
    operation_id = "DeleteAuthorizerV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("authorizerId" = String, Path)),
    responses((status = 204, description = "DeleteAuthorizer succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let users = super::routes::keys_where(&mut tx, &api_id, |r| {
        r.authorizer_id.as_deref() == Some(id.as_str())
    })
    .await?;
    if !users.is_empty() {
        return Err(ApiError::conflict(format!(
            "Authorizer {id} protects route(s) {}: change their authorization first",
            users.join(", ")
        )));
    }
    docs::delete(&mut tx, Kind::Authorizer, &api_id, &id)
        .await
        .or_not_found(|| authorizer_not_found(&id))?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
