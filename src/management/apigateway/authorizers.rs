//! Authorizer: CRUD of TOKEN, REQUEST and COGNITO_USER_POOLS authorizers (enforcement is the data
//! plane's).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody, PatchOp};
use super::{Listing, find_api, find_api_or};
use crate::domain::enums::AuthorizerType;
use crate::domain::ids;
use crate::domain::rest_api::Authorizer;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::resources::Tree;
use crate::store::{RowLock, Tenant, methods, resources};

fn authorizer_not_found() -> ApiError {
    ApiError::not_found("Invalid Authorizer identifier specified")
}

/// The bound of `authorizerResultTtlInSeconds` (unset, it is 300: [`Authorizer::ttl`]).
const MAX_TTL: i32 = 3600;

/// The `authType` AWS gives an authorizer made without one: `custom` for Lambda authorizers
/// (as recorded), none for Cognito's.
fn default_auth_type(kind: &Option<String>) -> Option<String> {
    matches!(kind.as_deref(), Some("TOKEN" | "REQUEST")).then(|| "custom".to_owned())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthorizerRequest {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default, rename = "providerARNs")]
    pub provider_arns: Vec<String>,
    pub auth_type: Option<String>,
    pub authorizer_uri: Option<String>,
    pub authorizer_credentials: Option<String>,
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    pub authorizer_result_ttl_in_seconds: Option<i32>,
}

/// The rules AWS applies to an authorizer whatever call produced it.
pub(super) fn check_authorizer(a: &Authorizer) -> ApiResult<()> {
    if a.name.trim().is_empty() {
        return Err(ApiError::bad_request("Invalid authorizer name specified"));
    }
    match a.kind {
        AuthorizerType::Token | AuthorizerType::Request => {
            let uri = a.authorizer_uri.as_deref().unwrap_or_default();
            if !uri.starts_with("arn:") || !uri.contains(":lambda:path/") {
                return Err(ApiError::bad_request(format!(
                    "Invalid Authorizer URI specified: {uri}"
                )));
            }
        }
        AuthorizerType::CognitoUserPools => {
            if a.provider_arns.is_empty() || !a.provider_arns.iter().all(|p| p.starts_with("arn:")) {
                return Err(ApiError::bad_request(
                    "Invalid provider ARNs specified: a Cognito user pool ARN is required",
                ));
            }
        }
    }
    if a.kind == AuthorizerType::Token {
        let source = a.identity_source.as_deref().unwrap_or_default();
        if !source.starts_with("method.request.header.") {
            return Err(ApiError::bad_request(format!(
                "Invalid identity source specified: {source}. A TOKEN authorizer reads one method.request.header.*"
            )));
        }
    }
    if !(0..=MAX_TTL).contains(&a.ttl()) {
        return Err(ApiError::bad_request(format!(
            "Invalid TTL specified: must be between 0 and {MAX_TTL} seconds"
        )));
    }
    Ok(())
}

fn parse_type(raw: &str) -> ApiResult<AuthorizerType> {
    AuthorizerType::parse(raw).ok_or_else(|| {
        ApiError::validation(&[format!(
            "Value '{raw}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]"
        )])
    })
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/authorizers",
    operation_id = "CreateAuthorizer",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateAuthorizerRequest,
    responses((status = 201, description = "CreateAuthorizer succeeded", body = Authorizer), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateAuthorizerRequest>,
) -> ApiResult<(StatusCode, Json<Authorizer>)> {
    let mut tx = app.store.begin().await?;
    // AWS answers an unknown API here with this (odd, but recorded) conflict.
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Share, || {
        ApiError::from(crate::store::StoreError::Conflict)
    })
    .await?;
    let authorizer = Authorizer {
        id: ids::random_id(6),
        name: req.name.unwrap_or_default(),
        kind: parse_type(req.kind.as_deref().unwrap_or_default())?,
        provider_arns: req.provider_arns,
        auth_type: req
            .auth_type
            .filter(|s| !s.is_empty())
            .or_else(|| default_auth_type(&req.kind)),
        authorizer_uri: req.authorizer_uri.filter(|s| !s.is_empty()),
        authorizer_credentials: req.authorizer_credentials.filter(|s| !s.is_empty()),
        identity_source: req.identity_source.filter(|s| !s.is_empty()),
        identity_validation_expression: req.identity_validation_expression.filter(|s| !s.is_empty()),
        authorizer_result_ttl_in_seconds: req.authorizer_result_ttl_in_seconds,
    };
    check_authorizer(&authorizer)?;
    docs::insert(&mut tx, Kind::Authorizer, &api_id, &authorizer.id, &authorizer).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(authorizer)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/authorizers/{authorizer_id}",
    operation_id = "GetAuthorizer",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("authorizer_id" = String, Path)),
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
    Ok(Json(
        docs::get(&mut conn, Kind::Authorizer, &api_id, &id, false)
            .await
            .or_not_found(authorizer_not_found)?,
    ))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/authorizers",
    operation_id = "GetAuthorizers",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetAuthorizers succeeded", body = Listing<Authorizer>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_authorizers(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<Authorizer>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::Authorizer, &api_id, page)
            .await?
            .into(),
    ))
}

fn apply_patch(a: &mut Authorizer, op: &PatchOp) -> ApiResult<()> {
    let set = matches!(op.op, Op::Replace | Op::Add);
    match op.path.as_str() {
        "/name" if set => a.name = op.required_value()?.to_owned(),
        "/type" if set => a.kind = parse_type(op.required_value()?)?,
        "/authType" if set => a.auth_type = patch::optional_string(op),
        "/authorizerUri" if set => a.authorizer_uri = patch::optional_string(op),
        "/authorizerCredentials" if set => a.authorizer_credentials = patch::optional_string(op),
        "/authorizerCredentials" if op.op == Op::Remove => a.authorizer_credentials = None,
        "/identitySource" if set => a.identity_source = patch::optional_string(op),
        "/identityValidationExpression" if set => {
            a.identity_validation_expression = patch::optional_string(op)
        }
        "/identityValidationExpression" if op.op == Op::Remove => a.identity_validation_expression = None,
        "/authorizerResultTtlInSeconds" if set => {
            a.authorizer_result_ttl_in_seconds = Some(
                op.required_value()?
                    .parse()
                    .map_err(|_| ApiError::bad_request("Invalid TTL specified"))?,
            );
        }
        "/providerARNs" => {
            let v = op.required_value()?.to_owned();
            match op.op {
                Op::Add if !a.provider_arns.contains(&v) => a.provider_arns.push(v),
                Op::Add => {}
                Op::Remove => a.provider_arns.retain(|p| *p != v),
                Op::Replace => a.provider_arns = vec![v],
                _ => return Err(op.unsupported_op()),
            }
        }
        _ => return Err(op.bad_path()),
    }
    Ok(())
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/authorizers/{authorizer_id}",
    operation_id = "UpdateAuthorizer",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("authorizer_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateAuthorizer succeeded", body = Authorizer), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Authorizer>> {
    let ops = patch::parse(body, "updateAuthorizerInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Share).await?;
    let mut a: Authorizer = docs::get(&mut tx, Kind::Authorizer, &api_id, &id, true)
        .await
        .or_not_found(authorizer_not_found)?;
    for op in &ops {
        apply_patch(&mut a, op)?;
    }
    check_authorizer(&a)?;
    docs::update(&mut tx, Kind::Authorizer, &api_id, &id, &a).await?;
    tx.commit().await?;
    Ok(Json(a))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/authorizers/{authorizer_id}",
    operation_id = "DeleteAuthorizer",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("authorizer_id" = String, Path)),
    responses((status = 202, description = "DeleteAuthorizer succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    // Exclusive: no method may start using it while we check that none does.
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    docs::get::<Authorizer>(&mut tx, Kind::Authorizer, &api_id, &id, true)
        .await
        .or_not_found(authorizer_not_found)?;
    let all = methods::all(&mut tx, &api_id).await?;
    if let Some((resource_id, m)) = all
        .iter()
        .find(|(_, m)| m.authorizer_id.as_deref() == Some(id.as_str()))
    {
        let tree = Tree::new(resources::all(&mut tx, &api_id).await?);
        return Err(ApiError::conflict(format!(
            "Cannot delete authorizer '{id}', is referenced in method: {}/{}",
            tree.path_of(resource_id),
            m.http_method
        )));
    }
    docs::delete(&mut tx, Kind::Authorizer, &api_id, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizerRequest {
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default)]
    pub additional_context: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizerResponse {
    /// What a client would have got: 200 when the authorizer answered, 401 or 500 else.
    pub client_status: u16,
    pub log: String,
    pub latency: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The policy document the authorizer returned, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<BTreeMap<String, String>>,
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/authorizers/{authorizer_id}",
    operation_id = "TestInvokeAuthorizer",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("authorizer_id" = String, Path)),
    request_body = TestInvokeAuthorizerRequest,
    responses((status = 200, description = "TestInvokeAuthorizer succeeded", body = TestInvokeAuthorizerResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
/// Runs the authorizer as the data plane would for a simulated request (with the control
/// plane's own Lambda endpoint and credentials), and reports what it answered.
pub async fn test_invoke_authorizer(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(req): AwsJson<TestInvokeAuthorizerRequest>,
) -> ApiResult<Json<TestInvokeAuthorizerResponse>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let authorizer: Authorizer = docs::get(&mut conn, Kind::Authorizer, &api_id, &id, false)
        .await
        .or_not_found(authorizer_not_found)?;
    drop(conn);
    let started = std::time::Instant::now();
    let method_arn = crate::iam::method_arn(
        &tenant.region,
        &tenant.account_id,
        &api_id,
        "ESTestInvoke-stage",
        "GET",
        "/",
    );
    let mut test = TestInvocation {
        req: &req,
        api_id: &api_id,
        method_arn: &method_arn,
        log: vec![
            "Execution log for request test-request".to_owned(),
            format!("Starting authorizer: {id} for request: test-invoke-request"),
        ],
    };
    let mut answer = test.run(&app, &authorizer).await;
    test.log.push(format!(
        "Authorizer result: client status {}",
        answer.client_status
    ));
    answer.latency = started.elapsed().as_millis() as u64;
    answer.log = test.log.join("\n");
    Ok(Json(answer))
}

/// One TestInvokeAuthorizer call: the simulated request and the log it writes.
struct TestInvocation<'a> {
    req: &'a TestInvokeAuthorizerRequest,
    api_id: &'a str,
    method_arn: &'a str,
    log: Vec<String>,
}

impl TestInvocation<'_> {
    async fn run(&mut self, app: &AppState, authorizer: &Authorizer) -> TestInvokeAuthorizerResponse {
        use crate::compiler::authorizers::{AuthorizerKind, IdentitySource, compile};
        use crate::dataplane::authorizer::{cognito, lambda};
        let status = |client_status: u16| TestInvokeAuthorizerResponse {
            client_status,
            ..Default::default()
        };
        let compiled = compile(authorizer);
        let (path, query) = self.path_and_query();
        let mut identity = Vec::new();
        for source in &compiled.identity {
            let value = match source {
                IdentitySource::Header(name) => self.header(name),
                IdentitySource::Query(name) => query
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone()),
                IdentitySource::StageVariable(name) => self.req.stage_variables.get(name).cloned(),
                IdentitySource::Context(v) => self.req.additional_context.get(v.name().as_ref()).cloned(),
            };
            match value.filter(|v| !v.is_empty()) {
                Some(v) => identity.push(v),
                None => {
                    self.log.push(
                        "Unauthorized request: test-invoke-request (an identity source is missing)".into(),
                    );
                    return status(401);
                }
            }
        }
        match &compiled.kind {
            AuthorizerKind::Misconfigured(why) => {
                self.log.push(format!("Authorizer configuration error: {why}"));
                status(500)
            }
            AuthorizerKind::Jwt { .. } => {
                self.log
                    .push("Authorizer configuration error: JWT authorizers are HTTP APIs'".into());
                status(500)
            }
            AuthorizerKind::CognitoUserPools(pools) => {
                let verified = cognito::verify(&app.tester, pools, &identity[0]).await;
                match verified.and_then(|v| cognito::admit(&v, &[]).map(|()| v)) {
                    Ok(v) => TestInvokeAuthorizerResponse {
                        client_status: 200,
                        principal_id: v.authorization.principal_id.clone(),
                        claims: v.authorization.claims.as_ref().map(|c| {
                            c.iter()
                                .map(|(k, v)| (k.clone(), crate::dataplane::identity::text(v).into_owned()))
                                .collect()
                        }),
                        ..Default::default()
                    },
                    Err(e) => self.failed(e),
                }
            }
            AuthorizerKind::Lambda(l) => {
                if let Some(expected) = &l.validation
                    && !expected.is_match(&identity[0])
                {
                    self.log.push(
                        "Unauthorized request: the token does not match the identity validation expression"
                            .into(),
                    );
                    return status(401);
                }
                let event = if l.token {
                    lambda::token_event(&identity[0], self.method_arn)
                } else {
                    self.request_event(&path, &query)
                };
                self.log
                    .push(format!("Endpoint request body after transformations: {event}"));
                let answer = match lambda::invoke(&app.tester, l, &self.req.stage_variables, &event).await {
                    Ok(answer) => answer,
                    Err(e) => return self.failed(e),
                };
                self.log.push(format!(
                    "Endpoint response body before transformations: {}",
                    String::from_utf8_lossy(&answer)
                ));
                let verdict = match lambda::verdict(&answer) {
                    Ok(v) => v,
                    Err(why) => {
                        self.log
                            .push(format!("Execution failed due to configuration error: {why}"));
                        return status(500);
                    }
                };
                let raw: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
                let policy = match &raw["policyDocument"] {
                    serde_json::Value::String(text) => Some(text.clone()),
                    doc => Some(doc.to_string()),
                };
                let authorization = verdict
                    .authorization
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), vec![crate::dataplane::identity::text(v).into_owned()]))
                    .collect();
                TestInvokeAuthorizerResponse {
                    client_status: 200,
                    principal_id: verdict.authorization.principal_id.clone(),
                    policy,
                    authorization: Some(authorization),
                    ..Default::default()
                }
            }
        }
    }

    fn failed(&mut self, e: crate::dataplane::error::GatewayError) -> TestInvokeAuthorizerResponse {
        let why = e.cause.as_ref().map_or(e.message.as_str(), |c| c.error.as_str());
        self.log.push(format!("Authorizer failed: {why}"));
        TestInvokeAuthorizerResponse {
            client_status: e.status,
            ..Default::default()
        }
    }

    /// A header of the simulated request (single-valued first, then the last of a list).
    fn header(&self, name: &str) -> Option<String> {
        self.req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .or_else(|| {
                self.req
                    .multi_value_headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.last().cloned())
            })
    }

    fn path_and_query(&self) -> (String, Vec<(String, String)>) {
        let raw = self.req.path_with_query_string.as_deref().unwrap_or("/");
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let path = if path.is_empty() { "/" } else { path };
        (path.to_owned(), crate::dataplane::request::parse_query(query))
    }

    /// A REQUEST authorizer's event for the simulated request.
    fn request_event(&self, path: &str, query: &[(String, String)]) -> serde_json::Value {
        let mut multi_headers: BTreeMap<&str, Vec<&str>> = self
            .req
            .multi_value_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
            .collect();
        for (k, v) in &self.req.headers {
            multi_headers.entry(k).or_default().push(v);
        }
        let headers: BTreeMap<&str, &str> = multi_headers
            .iter()
            .filter_map(|(k, v)| Some((*k, *v.last()?)))
            .collect();
        let mut multi_query: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, v) in query {
            multi_query.entry(k).or_default().push(v);
        }
        let single_query: BTreeMap<&str, &str> =
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let or_null = |empty: bool, v: serde_json::Value| if empty { serde_json::Value::Null } else { v };
        serde_json::json!({
            "type": "REQUEST",
            "methodArn": self.method_arn,
            "resource": path,
            "path": path,
            "httpMethod": "GET",
            "headers": or_null(headers.is_empty(), serde_json::json!(headers)),
            "multiValueHeaders": or_null(multi_headers.is_empty(), serde_json::json!(multi_headers)),
            "queryStringParameters": or_null(query.is_empty(), serde_json::json!(single_query)),
            "multiValueQueryStringParameters": or_null(query.is_empty(), serde_json::json!(multi_query)),
            "pathParameters": {},
            "stageVariables": or_null(self.req.stage_variables.is_empty(), serde_json::json!(self.req.stage_variables)),
            "requestContext": {
                "resourcePath": path,
                "httpMethod": "GET",
                "path": path,
                "stage": "test-invoke-stage",
                "requestId": "test-invoke-request",
                "apiId": self.api_id,
                "identity": {"sourceIp": "test-invoke-source-ip", "userAgent": null},
            },
        })
    }
}
