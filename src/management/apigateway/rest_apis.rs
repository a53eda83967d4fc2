//! RestApi: CreateRestApi, GetRestApi, GetRestApis, UpdateRestApi, DeleteRestApi.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody, PatchOp};
use super::{Listing, api_not_found, find_api};
use crate::domain::enums::{ApiKeySource, EndpointType, IpAddressType};
use crate::domain::rest_api::{
    Authorizer, EndpointConfiguration, GatewayResponse, Model, RequestValidator, RestApi, WithTags,
};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::Kind;
use crate::store::resources::Node;
use crate::store::{RowLock, Tenant, api_documents, methods, resources, rest_apis};

/// Largest `minimumCompressionSize` AWS accepts (10 MiB).
const MAX_COMPRESSION_SIZE: i64 = 10_485_760;
const COMPRESSION_ERROR: &str = "Invalid minimum compression size, must be between 0 and 10485760";

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WireEndpointConfiguration {
    pub types: Option<Vec<String>>,
    pub ip_address_type: Option<String>,
    pub vpc_endpoint_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestApiRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub clone_from: Option<String>,
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    pub minimum_compression_size: Option<Value>,
    pub api_key_source: Option<String>,
    pub endpoint_configuration: Option<WireEndpointConfiguration>,
    pub policy: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub disable_execute_api_endpoint: Option<bool>,
}

fn enum_error(value: &str, at: &str, choices: &str) -> String {
    format!(
        "Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy enum value set: [{choices}]"
    )
}

/// Turns a CreateRestApi body into a new API, with AWS's validation order: enum constraints
/// (all reported together), then the business rules.
pub(super) fn new_rest_api(req: CreateRestApiRequest) -> ApiResult<RestApi> {
    let mut errors = Vec::new();
    let ec = req.endpoint_configuration.unwrap_or_default();
    let types: Option<Vec<EndpointType>> = match &ec.types {
        None => Some(vec![]),
        Some(raw) => {
            let parsed: Option<Vec<_>> = raw.iter().map(|t| EndpointType::parse(t)).collect();
            if parsed.is_none() {
                errors.push(format!(
                    "Value '[{}]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: \
                     Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]",
                    raw.join(", ")
                ));
            }
            parsed
        }
    };
    let ip = ec.ip_address_type.as_deref().filter(|s| !s.is_empty());
    let ip_type = match ip {
        None => None,
        Some(raw) => {
            let parsed = IpAddressType::parse(raw);
            if parsed.is_none() {
                errors.push(enum_error(
                    raw,
                    "createRestApiInput.endpointConfiguration.ipAddressType",
                    "ipv4, dualstack",
                ));
            }
            parsed
        }
    };
    let api_key_source = match req.api_key_source.as_deref() {
        None => Some(ApiKeySource::Header),
        Some(raw) => {
            let parsed = ApiKeySource::parse(raw);
            if parsed.is_none() {
                errors.push(enum_error(
                    raw,
                    "createRestApiInput.apiKeySource",
                    "HEADER, AUTHORIZER",
                ));
            }
            parsed
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let (mut types, api_key_source) = (
        types.unwrap_or_default(),
        api_key_source.unwrap_or(ApiKeySource::Header),
    );

    let name = req
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid REST API name specified"))?;
    if req.description.as_deref() == Some("") {
        return Err(ApiError::bad_request("Description cannot be an empty string"));
    }
    match (&ec.types, types.len()) {
        (None, _) => types.push(EndpointType::Edge),
        (Some(_), 0) => {
            return Err(ApiError::bad_request(
                "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
            ));
        }
        (Some(_), 1) => {}
        _ => {
            return Err(ApiError::bad_request(
                "Cannot create an api with multiple Endpoint Types.",
            ));
        }
    }
    let ip_address_type = match (types[0], ip_type) {
        (EndpointType::Private, Some(IpAddressType::Ipv4)) => {
            return Err(ApiError::bad_request(
                "Only dualstack ipAddressType is supported for Private APIs.",
            ));
        }
        (EndpointType::Private, _) => IpAddressType::Dualstack,
        (_, Some(t)) => t,
        (_, None) => IpAddressType::Ipv4,
    };
    let minimum_compression_size = req
        .minimum_compression_size
        .map(parse_compression_size)
        .transpose()?;
    Ok(RestApi {
        id: ids::rest_api_id(),
        name,
        description: req.description,
        created_date: now(),
        version: req.version.filter(|v| !v.is_empty()),
        warnings: vec![],
        binary_media_types: dedup(req.binary_media_types),
        minimum_compression_size,
        api_key_source,
        endpoint_configuration: EndpointConfiguration {
            types,
            ip_address_type: Some(ip_address_type),
            vpc_endpoint_ids: ec.vpc_endpoint_ids.unwrap_or_default(),
        },
        policy: req.policy.as_deref().map(resource_policy).transpose()?.flatten(),
        tags: req.tags,
        disable_execute_api_endpoint: req.disable_execute_api_endpoint.unwrap_or(false),
        root_resource_id: ids::resource_id(true),
    })
}

/// A resource policy as given (plain JSON, or as GetRestApi returned it, escaped), checked and
/// in the form AWS stores and returns; `None` for an empty one.
fn resource_policy(raw: &str) -> ApiResult<Option<String>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let stored = crate::domain::rest_api::stored_policy(raw)
        .or_else(|| crate::domain::rest_api::stored_policy(&crate::domain::rest_api::policy_document(raw)))
        .ok_or_else(|| {
            ApiError::bad_request("Invalid policy document. Please check the policy syntax and try again.")
        })?;
    crate::iam::Policy::parse(&crate::domain::rest_api::policy_document(&stored)).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid policy document. Please check the policy syntax and try again. ({e})"
        ))
    })?;
    Ok(Some(stored))
}

fn parse_compression_size(v: Value) -> ApiResult<i32> {
    let n = match &v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    n.filter(|n| (0..=MAX_COMPRESSION_SIZE).contains(n))
        .map(|n| n as i32)
        .ok_or_else(|| ApiError::bad_request(COMPRESSION_ERROR))
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

#[utoipa::path(
    post,
    path = "/restapis",
    operation_id = "CreateRestApi",
    tag = "apigateway",
    params(("mode" = Option<String>, Query, description = "`import`: ImportRestApi, the body an OpenAPI document")),
    request_body = CreateRestApiRequest,
    responses((status = 201, description = "CreateRestApi succeeded", body = RestApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_rest_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<RestApi>)> {
    // ImportRestApi is CreateRestApi's URI with `mode=import`, its body a document.
    let pairs = crate::management::extract::form_pairs(query.as_deref().unwrap_or(""));
    if pairs.iter().any(|(k, v)| k == "mode" && v == "import") {
        return super::import_export::import_rest_api(&app, &tenant, &pairs, &body).await;
    }
    let req: CreateRestApiRequest = crate::management::extract::parse_json(&body)?;
    let clone_from = req.clone_from.clone();
    let api = new_rest_api(req)?;
    let mut tx = app.store.begin().await?;
    insert_new(&mut tx, &tenant, &api, true).await?;
    if let Some(source_id) = clone_from {
        clone_definition(&mut tx, &tenant, &source_id, &api).await?;
    }
    tx.commit().await?;
    tracing::info!(api.id = %api.id, account.id = %tenant.account_id, "rest api created");
    Ok((StatusCode::CREATED, Json(api)))
}

/// Stores a new API with its root resource, and AWS's default models when `default_models`
/// (CreateRestApi makes them; ImportRestApi makes only the document's).
pub(super) async fn insert_new(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    api: &RestApi,
    default_models: bool,
) -> ApiResult<()> {
    rest_apis::insert(conn, tenant, api).await?;
    let root = Node {
        id: api.root_resource_id.clone(),
        parent_id: None,
        path_part: None,
    };
    resources::insert(conn, &api.id, &root).await?;
    if default_models {
        for (name, doc) in self::default_models() {
            api_documents::insert(conn, Kind::Model, &api.id, name, &doc).await?;
        }
    }
    Ok(())
}

/// The `Empty` and `Error` models AWS gives every new API.
fn default_models() -> [(&'static str, Value); 2] {
    let model = |name: &str, description: &str, schema: &str| {
        serde_json::json!({
            "id": ids::random_id(6),
            "name": name,
            "description": description,
            "schema": schema,
            "contentType": "application/json",
        })
    };
    [
        (
            "Empty",
            model(
                "Empty",
                "This is a default empty schema model",
                "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
            ),
        ),
        (
            "Error",
            model(
                "Error",
                "This is a default error schema model",
                "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
            ),
        ),
    ]
}

/// `cloneFrom`: copies the source API's resources and methods under new resource ids.
async fn clone_definition(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    source_id: &str,
    api: &RestApi,
) -> ApiResult<()> {
    let source = find_api(conn, tenant, source_id, RowLock::None).await?;
    let nodes = resources::all(conn, source_id).await?;
    let mut new_ids: HashMap<String, String> = HashMap::new();
    new_ids.insert(source.root_resource_id.clone(), api.root_resource_id.clone());
    // Creation order puts every parent before its children.
    for n in nodes.iter().filter(|n| n.parent_id.is_some()) {
        let id = ids::resource_id(false);
        new_ids.insert(n.id.clone(), id.clone());
        let parent_id = n.parent_id.as_ref().and_then(|p| new_ids.get(p)).cloned();
        resources::insert(
            conn,
            &api.id,
            &Node {
                id,
                parent_id,
                path_part: n.path_part.clone(),
            },
        )
        .await?;
    }
    for (resource_id, method) in methods::all(conn, source_id).await? {
        if let Some(new_id) = new_ids.get(&resource_id) {
            methods::put(conn, &api.id, new_id, &method).await?;
        }
    }
    // Ids of validators and authorizers are per API, so the copies keep them and the methods'
    // references stay valid.
    for m in api_documents::all::<Model>(conn, Kind::Model, source_id).await? {
        api_documents::put(conn, Kind::Model, &api.id, &m.name.clone(), &m).await?;
    }
    for v in api_documents::all::<RequestValidator>(conn, Kind::RequestValidator, source_id).await? {
        api_documents::insert(conn, Kind::RequestValidator, &api.id, &v.id.clone(), &v).await?;
    }
    for a in api_documents::all::<Authorizer>(conn, Kind::Authorizer, source_id).await? {
        api_documents::insert(conn, Kind::Authorizer, &api.id, &a.id.clone(), &a).await?;
    }
    for g in api_documents::all::<GatewayResponse>(conn, Kind::GatewayResponse, source_id).await? {
        api_documents::put(conn, Kind::GatewayResponse, &api.id, g.response_type.as_str(), &g).await?;
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}",
    operation_id = "GetRestApi",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetRestApi succeeded", body = RestApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_rest_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
) -> ApiResult<Json<WithTags>> {
    let mut conn = app.store.pool().acquire().await?;
    let api = find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(api.with_tags()))
}

#[utoipa::path(
    get,
    path = "/restapis",
    operation_id = "GetRestApis",
    tag = "apigateway",
    responses((status = 200, description = "GetRestApis succeeded", body = Listing<RestApi>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_rest_apis(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<RestApi>>> {
    let mut conn = app.store.pool().acquire().await?;
    Ok(Json(rest_apis::list(&mut conn, &tenant, page).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}",
    operation_id = "UpdateRestApi",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateRestApi succeeded", body = RestApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_rest_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<WithTags>> {
    let ops = patch::parse(body, "updateRestApiInput")?;
    let mut tx = app.store.begin().await?;
    let mut api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    for op in &ops {
        apply_patch(&mut api, op)?;
    }
    if api.endpoint_configuration.types.contains(&EndpointType::Private)
        && api.endpoint_configuration.ip_address_type == Some(IpAddressType::Ipv4)
    {
        return Err(ApiError::bad_request(
            "Only dualstack ipAddressType is supported for Private APIs.",
        ));
    }
    rest_apis::update(&mut tx, &tenant, &api).await?;
    tx.commit().await?;
    Ok(Json(api.with_tags()))
}

/// UpdateRestApi's paths, as AWS takes them.
fn apply_patch(api: &mut RestApi, op: &PatchOp) -> ApiResult<()> {
    let segs = op.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (segs.as_slice(), op.op) {
        (["name"], Op::Replace) => {
            api.name = op.required_value()?.to_owned();
            if api.name.trim().is_empty() {
                return Err(ApiError::bad_request("Name cannot be empty"));
            }
        }
        (["description"], Op::Replace | Op::Add) => api.description = patch::optional_string(op),
        (["description"], Op::Remove) => api.description = None,
        (["version"], Op::Replace | Op::Add) => api.version = patch::optional_string(op),
        (["version"], Op::Remove) => api.version = None,
        (["policy"], Op::Replace | Op::Add) => {
            api.policy = patch::optional_string(op)
                .as_deref()
                .map(resource_policy)
                .transpose()?
                .flatten()
        }
        (["policy"], Op::Remove) => api.policy = None,
        (["apiKeySource"], Op::Replace) => {
            let raw = op.required_value()?;
            api.api_key_source = ApiKeySource::parse(raw).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid API Key source specified: {raw}. Valid options are HEADER,AUTHORIZER"
                ))
            })?;
        }
        (["minimumCompressionSize"], Op::Replace) => {
            api.minimum_compression_size = match op.value.as_deref() {
                None | Some("") => None,
                Some(raw) => Some(parse_compression_size(Value::String(raw.to_owned()))?),
            };
        }
        (["minimumCompressionSize"], _) => return Err(PatchOp::invalid_op(&[Op::Replace])),
        (["disableExecuteApiEndpoint"], Op::Replace) => api.disable_execute_api_endpoint = op.bool_value()?,
        (["binaryMediaTypes"], _) => return Err(op.bad_path()),
        (["binaryMediaTypes", media], Op::Add) => {
            if !api.binary_media_types.iter().any(|t| t == media) {
                api.binary_media_types.push((*media).to_owned());
            }
        }
        (["binaryMediaTypes", media], Op::Remove) => api.binary_media_types.retain(|t| t != media),
        (["binaryMediaTypes", media], Op::Replace) => {
            // AWS removes the old type and appends the new one.
            let new = op.required_value()?.to_owned();
            api.binary_media_types.retain(|t| t != media && *t != new);
            api.binary_media_types.push(new);
        }
        (["endpointConfiguration", "types", old], o) => {
            let invalid = || {
                ApiError::bad_request(
                    "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                )
            };
            let types = &mut api.endpoint_configuration.types;
            match o {
                Op::Replace => {
                    let new = EndpointType::parse(op.required_value()?).ok_or_else(invalid)?;
                    // The path names the replaced type by value (`/types/EDGE`) or by index (`/types/0`).
                    let slot = match old.parse::<usize>() {
                        Ok(i) => i,
                        Err(_) => {
                            let old = EndpointType::parse(old).ok_or_else(invalid)?;
                            types.iter().position(|t| *t == old).ok_or_else(invalid)?
                        }
                    };
                    match types.get_mut(slot) {
                        Some(t) => *t = new,
                        None => return Err(invalid()),
                    }
                    // Private APIs are dualstack only; AWS switches the address type with the type.
                    if new == EndpointType::Private {
                        api.endpoint_configuration.ip_address_type = Some(IpAddressType::Dualstack);
                    }
                }
                // An API has exactly one endpoint type; AWS answers every other op with this.
                _ => {
                    return Err(ApiError::bad_request(
                        "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                    ));
                }
            }
        }
        (["endpointConfiguration", "ipAddressType"], Op::Replace) => {
            let raw = op.required_value()?;
            api.endpoint_configuration.ip_address_type =
                Some(IpAddressType::parse(raw).ok_or_else(|| {
                    ApiError::bad_request("ipAddressType must be either ipv4 or dualstack.")
                })?);
        }
        (["endpointConfiguration", "ipAddressType"], _) => return Err(PatchOp::invalid_op(&[Op::Replace])),
        (["endpointConfiguration", "vpcEndpointIds"], o) => {
            let ids = &mut api.endpoint_configuration.vpc_endpoint_ids;
            let values: Vec<String> = op
                .value
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            match o {
                Op::Add => ids.extend(
                    values
                        .into_iter()
                        .filter(|v| !ids.contains(v))
                        .collect::<Vec<_>>(),
                ),
                Op::Remove => ids.retain(|v| !values.contains(v)),
                Op::Replace => *ids = values,
                _ => return Err(op.unsupported_op()),
            }
        }
        _ => return Err(op.bad_path()),
    }
    Ok(())
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}",
    operation_id = "DeleteRestApi",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 202, description = "DeleteRestApi succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_rest_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    rest_apis::delete(&mut tx, &tenant, &api_id)
        .await
        .or_not_found(|| api_not_found(&tenant, &api_id))?;
    // Workers drop every stage of the API; stages vanish by cascade, so say it here (after
    // the API's row is taken, as every writer takes the two, so none waits on another).
    crate::store::revision::bump(&mut tx, "api", &api_id, "*").await?;
    tx.commit().await?;
    tracing::info!(api.id = %api_id, "rest api deleted");
    Ok(StatusCode::ACCEPTED)
}
