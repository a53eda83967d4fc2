//! ImportApi, ReimportApi, ExportApi: an HTTP API from an OpenAPI 3.0 document (JSON or YAML),
//! its definition replaced by one, and its definition (or a stage's deployment) as one. What a
//! document asks for ([`super::openapi::plan`]) is made through the management API's own
//! checks, in one transaction: what cannot be made is a warning (and the import fails, having
//! made nothing, with `failOnWarnings=true`); a document that cannot be read makes nothing.

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::deployments::auto_deploy;
use super::openapi::{self, BasePath, Definition, Plan, Security};
use super::routes::RouteInput;
use super::{apis, authorizers, find_api, integrations, routes};
use crate::domain::http_api::{Authorizer, HttpApi, Integration, Route};
use crate::domain::snapshot::HttpSnapshot;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, Tenant, deployments, http_apis, stages};

/// ImportApi's and ReimportApi's body: the document, as a string.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ImportInput {
    pub body: Option<String>,
}

/// An API as an import answers it: with what the import could not make (`warnings`) and what
/// it left out (`importInfo`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    #[serde(flatten)]
    pub api: HttpApi,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub import_info: Vec<String>,
}

/// `basepath` and `failOnWarnings`.
fn import_options(query: Option<&str>) -> ApiResult<(BasePath, bool)> {
    let pairs = form_pairs(query.unwrap_or(""));
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let basepath = BasePath::parse(get("basepath")).map_err(ApiError::bad_request)?;
    let fail = match get("failOnWarnings") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid failOnWarnings {other}: expected true or false"
            )));
        }
    };
    Ok((basepath, fail))
}

/// Reads the document and what it asks for.
fn read(input: ImportInput, basepath: BasePath) -> ApiResult<Plan> {
    let body = input
        .body
        .ok_or_else(|| ApiError::bad_request("body is required: the OpenAPI document"))?;
    let doc = crate::openapi::parse(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid OpenAPI input: {e}")))?;
    openapi::plan(&doc, basepath).map_err(|e| ApiError::bad_request(format!("Invalid OpenAPI input: {e}")))
}

/// Sets the API's fields from the document's (a reimport replaces them).
fn apply_fields(api: &mut HttpApi, plan: &mut Plan) -> ApiResult<()> {
    let fields = std::mem::take(&mut plan.api);
    api.description = None;
    api.version = None;
    api.cors_configuration = None;
    api.disable_execute_api_endpoint = fields.disable_execute_api_endpoint;
    if let Some(tags) = fields.tags {
        crate::management::apigateway::tags::check_tags(&tags)?;
        api.tags = tags;
    }
    apis::apply(
        api,
        apis::ApiInput {
            name: Some(fields.name),
            description: fields.description,
            version: fields.version,
            cors_configuration: fields.cors,
            ..Default::default()
        },
    )
}

/// Makes what the plan asks for in `api`, through the same checks as the management calls;
/// what fails is a warning.
async fn make(conn: &mut PgConnection, tenant: &Tenant, api: &HttpApi, plan: Plan) -> ApiResult<Vec<String>> {
    let Plan {
        authorizers: planned_authorizers,
        iam_schemes,
        integrations: planned_integrations,
        routes: planned_routes,
        mut warnings,
        ..
    } = plan;
    let api_id = api.api_id.as_str();
    let mut authorizer_ids = std::collections::BTreeMap::new();
    for (scheme, input) in planned_authorizers {
        let made = authorizers::new_authorizer(api, input)
            .and_then(|a| authorizers::check_role(&a, tenant).map(|()| a));
        match made {
            Ok(a) => {
                docs::insert(conn, Kind::Authorizer, api_id, &a.authorizer_id, &a).await?;
                authorizer_ids.insert(scheme, (a.authorizer_id, a.authorizer_type));
            }
            Err(e) => warnings.push(format!(
                "Unable to create Authorizer '{scheme}': {}",
                refused(e)?.message
            )),
        }
    }
    let mut integration_ids = std::collections::BTreeMap::new();
    for (key, input) in planned_integrations {
        let made = match integrations::new_integration(api, input) {
            Ok(i) => integrations::check_tenant_resources(conn, tenant, &i)
                .await
                .map(|()| i),
            Err(e) => Err(e),
        };
        match made {
            Ok(i) => {
                docs::insert(conn, Kind::Integration, api_id, &i.integration_id, &i).await?;
                integration_ids.insert(key, i.integration_id);
            }
            Err(e) => warnings.push(format!(
                "Unable to create integration for resource at path '{key}': {}. Ignoring.",
                refused(e)?.message
            )),
        }
    }
    for planned in planned_routes {
        let key = planned.key.clone();
        let mut input = RouteInput {
            route_key: Some(planned.key),
            operation_name: planned.operation_name,
            target: planned
                .integration
                .and_then(|k| integration_ids.get(&k))
                .map(|id| format!("integrations/{id}")),
            ..Default::default()
        };
        if let Security::Scheme { name, scopes } = planned.security {
            if iam_schemes.contains(&name) {
                input.authorization_type = Some("AWS_IAM".into());
            } else if let Some((id, kind)) = authorizer_ids.get(&name) {
                let jwt = kind == "JWT";
                input.authorization_type = Some(if jwt { "JWT" } else { "CUSTOM" }.into());
                input.authorizer_id = Some(id.clone());
                input.authorization_scopes = Some(scopes).filter(|_| jwt);
            } else {
                // Made without its authorizer, the route would be open: it is not made.
                warnings.push(format!(
                    "Unable to create route '{key}': security scheme '{name}' is not an authorizer of this API. Ignoring."
                ));
                continue;
            }
        }
        let made = match routes::new_route(conn, api, input).await {
            Ok(route) => routes::save(conn, api, &route, true).await,
            Err(e) => Err(e),
        };
        if let Err(e) = made {
            warnings.push(format!(
                "Unable to create route '{key}': {}. Ignoring.",
                refused(e)?.message
            ));
        }
    }
    Ok(warnings)
}

/// A refusal of what the document asks for is a warning; any other failure (the store's) fails
/// the import, whose transaction can go no further.
fn refused(e: ApiError) -> ApiResult<ApiError> {
    if e.status.is_client_error() { Ok(e) } else { Err(e) }
}

/// With `failOnWarnings`, an import with warnings fails (its transaction rolled back), for
/// both APIs' imports.
pub(crate) fn refuse_warnings(fail: bool, warnings: &[String]) -> ApiResult<()> {
    if fail && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import:\n\t{}",
            warnings.join("\n\t")
        )));
    }
    Ok(())
}

#[utoipa::path(
    put,
    path = "/v2/apis",
    operation_id = "ImportApi",
    tag = "apigatewayv2",
    params(("basepath" = Option<String>, Query), ("failOnWarnings" = Option<bool>, Query)),
    request_body = ImportInput,
    responses((status = 201, description = "ImportApi succeeded", body = Imported), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn import_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(query): RawQuery,
    AwsJson(input): AwsJson<ImportInput>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let (basepath, fail) = import_options(query.as_deref())?;
    let mut plan = read(input, basepath)?;
    let mut api = apis::blank_api(&tenant, "HTTP".into(), "$request.method $request.path".into());
    apply_fields(&mut api, &mut plan)?;
    let import_info = std::mem::take(&mut plan.info);
    let mut tx = app.store.begin().await?;
    http_apis::insert(&mut tx, &tenant, &api).await?;
    let warnings = make(&mut tx, &tenant, &api, plan).await?;
    refuse_warnings(fail, &warnings)?;
    tx.commit().await?;
    tracing::info!(api.id = %api.api_id, warnings = warnings.len(), "api imported");
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            api,
            warnings,
            import_info,
        }),
    ))
}

#[utoipa::path(
    put,
    path = "/v2/apis/{apiId}",
    operation_id = "ReimportApi",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("basepath" = Option<String>, Query), ("failOnWarnings" = Option<bool>, Query)),
    request_body = ImportInput,
    responses((status = 201, description = "ReimportApi succeeded", body = Imported), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn reimport_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    RawQuery(query): RawQuery,
    AwsJson(input): AwsJson<ImportInput>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let (basepath, fail) = import_options(query.as_deref())?;
    let mut plan = read(input, basepath)?;
    let mut tx = app.store.begin().await?;
    let mut api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    if api.protocol_type != "HTTP" {
        return Err(ApiError::bad_request(
            "Only HTTP APIs can be imported from OpenAPI documents",
        ));
    }
    apply_fields(&mut api, &mut plan)?;
    let import_info = std::mem::take(&mut plan.info);
    // The document is the whole definition: what the API had goes (route and integration
    // responses with their parents).
    for kind in [Kind::Route, Kind::Integration, Kind::Authorizer] {
        docs::delete_all(&mut tx, kind, &api_id).await?;
    }
    http_apis::update(&mut tx, &tenant, &api).await?;
    let warnings = make(&mut tx, &tenant, &api, plan).await?;
    refuse_warnings(fail, &warnings)?;
    auto_deploy(&mut tx, &tenant, &api_id).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            api,
            warnings,
            import_info,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/exports/{specification}",
    operation_id = "ExportApi",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("specification" = String, Path), ("outputType" = String, Query), ("stageName" = Option<String>, Query), ("exportVersion" = Option<String>, Query), ("includeExtensions" = Option<bool>, Query)),
    responses((status = 200, description = "ExportApi succeeded: the document"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn export_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, specification)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if specification != "OAS30" {
        return Err(ApiError::bad_request(format!(
            "Invalid specification {specification}: expected OAS30"
        )));
    }
    let output = match get("outputType") {
        Some("JSON") => crate::openapi::Output::Json,
        Some("YAML") => crate::openapi::Output::Yaml,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid outputType {other}: expected JSON or YAML"
            )));
        }
        None => return Err(ApiError::bad_request("outputType is required: JSON or YAML")),
    };
    if let Some(v) = get("exportVersion").filter(|v| *v != "1.0") {
        return Err(ApiError::bad_request(format!(
            "Invalid exportVersion {v}: the only version is 1.0"
        )));
    }
    let extensions = get("includeExtensions") != Some("false");
    let stage = get("stageName");
    let mut conn = app.store.pool().acquire().await?;
    let api = find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    if api.protocol_type != "HTTP" {
        return Err(ApiError::bad_request(
            "Only HTTP APIs can be exported as OpenAPI documents",
        ));
    }
    let (routes, integrations, authorizers, exported_api) = match stage {
        None => {
            let routes: Vec<Route> = docs::all(&mut conn, Kind::Route, &api_id).await?;
            let integrations: Vec<Integration> = docs::all(&mut conn, Kind::Integration, &api_id).await?;
            let authorizers: Vec<Authorizer> = docs::all(&mut conn, Kind::Authorizer, &api_id).await?;
            (routes, integrations, authorizers, api.clone())
        }
        Some(name) => {
            let snapshot = stage_snapshot(&mut conn, &api_id, name).await?;
            let HttpSnapshot {
                http_api,
                routes,
                integrations,
                authorizers,
                ..
            } = snapshot;
            let exported = HttpApi {
                tags: api.tags.clone(),
                ..http_api
            };
            (
                routes,
                integrations.into_values().collect(),
                authorizers.into_values().collect(),
                exported,
            )
        }
    };
    if routes.is_empty() {
        return Err(ApiError::bad_request(
            "Unable to export an API without routes: it has nothing to describe",
        ));
    }
    let doc = openapi::export(
        &Definition {
            api: &exported_api,
            routes: &routes,
            integrations: &integrations,
            authorizers: &authorizers,
            stage,
        },
        extensions,
    );
    let text = crate::openapi::render(&doc, output).map_err(|e| {
        tracing::error!(error = %e, "an export could not be written");
        ApiError::internal()
    })?;
    Ok(([(http::header::CONTENT_TYPE, output.content_type())], text).into_response())
}

/// The definition a stage serves: its deployment's snapshot.
async fn stage_snapshot(conn: &mut PgConnection, api_id: &str, name: &str) -> ApiResult<HttpSnapshot> {
    let stage: crate::domain::http_api::Stage = stages::get(conn, api_id, name, false)
        .await
        .or_not_found(|| super::stages::stage_not_found(name))?;
    let deployment = stage
        .deployment_id
        .ok_or_else(|| ApiError::bad_request(format!("Stage {name} has no deployment to export")))?;
    let (_, hash): (crate::domain::http_api::Deployment, String) =
        deployments::get(conn, api_id, &deployment, false)
            .await
            .or_not_found(|| super::deployments::deployment_not_found(&deployment))?;
    let bytes = deployments::get_snapshot(conn, &hash).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        tracing::error!(error = %e, "a stored snapshot does not read");
        ApiError::internal()
    })
}
