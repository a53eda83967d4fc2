//! ImportRestApi, PutRestApi, GetExport: a REST API from an OpenAPI document (Swagger 2.0 or
//! OpenAPI 3.0, JSON or YAML), an API's definition merged with or replaced by one, and a
//! stage's deployment as one. What a document asks for ([`super::openapi::import`]) is written
//! in one transaction: a document that cannot be read makes nothing, and with
//! `failonwarnings=true` neither does one with warnings.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlx::PgConnection;

use super::openapi::{self, ExportOf, Extensions, Imported};
use super::rest_apis::{CreateRestApiRequest, WireEndpointConfiguration, insert_new, new_rest_api};
use super::{find_api, stages::stage_not_found};
use crate::domain::rest_api::{Authorizer, GatewayResponse, Model, RequestValidator, RestApi, WithTags};
use crate::domain::{ids, snapshot::Snapshot};
use crate::management::AppState;
use crate::management::apigatewayv2::import_export::refuse_warnings;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::form_pairs;
use crate::openapi::BasePath;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::resources::Node;
use crate::store::{RowLock, Tenant, deployments, methods, resources, rest_apis, stages};

/// The most resources one import makes (AWS's quota of resources per API is 300, raised on
/// request).
const MAX_RESOURCES: usize = 1000;

/// AWS's one answer for a document it cannot read.
fn invalid_input() -> ApiError {
    ApiError::bad_request("Invalid OpenAPI input.")
}

/// The query's parameters an import takes.
struct Options {
    basepath: BasePath,
    fail_on_warnings: bool,
    overwrite: bool,
    /// `ignore=documentation`: the document's documentation parts are not imported.
    ignore_documentation: bool,
}

fn options(pairs: &[(String, String)]) -> ApiResult<Options> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let basepath = BasePath::parse(get("basepath")).map_err(ApiError::bad_request)?;
    let fail_on_warnings = match get("failonwarnings") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Invalid failonwarnings {v}: expected true or false"
            )));
        }
    };
    let overwrite = match get("mode") {
        None | Some("merge") | Some("import") => false,
        Some("overwrite") => true,
        Some(m) => {
            return Err(ApiError::bad_request(format!(
                "Invalid mode {m}: expected merge or overwrite"
            )));
        }
    };
    let ignore_documentation = match get("ignore") {
        None => false,
        Some("documentation") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid ignore {other}: expected documentation"
            )));
        }
    };
    Ok(Options {
        basepath,
        fail_on_warnings,
        overwrite,
        ignore_documentation,
    })
}

/// The document in `body`, and what it asks of API `api_id`.
fn read(body: &[u8], api_id: &str, basepath: BasePath) -> ApiResult<(serde_json::Value, Imported)> {
    let text = std::str::from_utf8(body).map_err(|_| invalid_input())?;
    let doc = crate::openapi::parse(text).map_err(|_| invalid_input())?;
    let imported = openapi::import(&doc, api_id, basepath).map_err(|_| invalid_input())?;
    Ok((doc, imported))
}

/// ImportRestApi (`POST /restapis?mode=import`): a new API from a document.
pub async fn import_rest_api(
    app: &AppState,
    tenant: &Tenant,
    pairs: &[(String, String)],
    body: &[u8],
) -> ApiResult<(StatusCode, Json<RestApi>)> {
    let opts = options(pairs)?;
    let types = pairs
        .iter()
        .find(|(k, _)| k == "endpointConfigurationTypes")
        .map(|(_, v)| vec![v.clone()]);
    // The API's id comes first: models' references name it.
    let mut api = new_rest_api(CreateRestApiRequest {
        name: Some("imported".into()),
        description: None,
        version: None,
        clone_from: None,
        binary_media_types: vec![],
        minimum_compression_size: None,
        api_key_source: None,
        endpoint_configuration: types.map(|types| WireEndpointConfiguration {
            types: Some(types),
            ..Default::default()
        }),
        policy: None,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: None,
    })?;
    let (_, mut imported) = read(body, &api.id, opts.basepath)?;
    if opts.ignore_documentation {
        imported.documentation = None;
    }
    let Some(name) = imported.fields.name.clone().filter(|n| !n.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "Invalid OpenAPI input: info.title names the API and is required",
        ));
    };
    api.name = name;
    let mut tx = app.store.begin().await?;
    insert_new(&mut tx, tenant, &api, false).await?;
    let warnings = write(&mut tx, tenant, &mut api, imported, false).await?;
    refuse_warnings(opts.fail_on_warnings, &warnings)?;
    tx.commit().await?;
    api.warnings = warnings;
    tracing::info!(api.id = %api.id, account.id = %tenant.account_id, "rest api imported");
    Ok((StatusCode::CREATED, Json(api)))
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}",
    operation_id = "PutRestApi",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("mode" = Option<String>, Query), ("failonwarnings" = Option<bool>, Query), ("basepath" = Option<String>, Query)),
    request_body(content = String, description = "An OpenAPI document (Swagger 2.0 or OpenAPI 3.0, JSON or YAML)"),
    responses((status = 200, description = "PutRestApi succeeded", body = RestApi), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_rest_api(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<WithTags>> {
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let opts = options(&pairs)?;
    // The document is read first: a bad one is refused whatever the API, as AWS does.
    let (_, mut imported) = read(&body, &api_id, opts.basepath)?;
    if opts.ignore_documentation {
        imported.documentation = None;
    }
    let mut tx = app.store.begin().await?;
    let mut api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let warnings = write(&mut tx, &tenant, &mut api, imported, opts.overwrite).await?;
    refuse_warnings(opts.fail_on_warnings, &warnings)?;
    tx.commit().await?;
    api.warnings = warnings;
    Ok(Json(api.with_tags()))
}

/// Writes what a document asks for to `api` (whose row the caller holds): merged with its
/// definition, or replacing it (`overwrite`). The warnings of what could not be made.
async fn write(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api: &mut RestApi,
    imported: Imported,
    overwrite: bool,
) -> ApiResult<Vec<String>> {
    let Imported {
        fields,
        resources: planned,
        models,
        validators,
        authorizers,
        gateway_responses,
        documentation,
        mut warnings,
        errors,
    } = imported;
    if !errors.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Errors found during import:\n\t{}",
            errors.join("\n\t")
        )));
    }
    if planned.len() > MAX_RESOURCES {
        return Err(ApiError::bad_request(format!(
            "Errors found during import:\n\tThe document has {} paths; an API has at most {MAX_RESOURCES} resources",
            planned.len()
        )));
    }
    let api_id = api.id.clone();

    // The API's own fields.
    if let Some(name) = fields.name.filter(|n| !n.trim().is_empty()) {
        api.name = name;
    }
    if fields.description.is_some() || overwrite {
        api.description = fields.description.filter(|d| !d.is_empty());
    }
    if fields.version.is_some() || overwrite {
        api.version = fields.version;
    }
    if overwrite {
        api.binary_media_types = fields.binary_media_types;
    } else {
        for t in fields.binary_media_types {
            if !api.binary_media_types.contains(&t) {
                api.binary_media_types.push(t);
            }
        }
    }
    if let Some(s) = fields.api_key_source {
        api.api_key_source = s;
    } else if overwrite {
        api.api_key_source = crate::domain::enums::ApiKeySource::Header;
    }
    if overwrite {
        // What the document does not say is AWS's default again.
        api.policy = None;
        api.minimum_compression_size = None;
    }
    if let Some(p) = fields.policy {
        match crate::domain::rest_api::stored_policy(&p)
            .filter(|s| crate::iam::Policy::parse(&crate::domain::rest_api::policy_document(s)).is_ok())
        {
            Some(stored) => api.policy = Some(stored),
            None => warnings.push("x-amazon-apigateway-policy is not a valid policy; it is left out".into()),
        }
    }
    if let Some(n) = fields.minimum_compression_size {
        api.minimum_compression_size = Some(n);
    }
    rest_apis::update(conn, tenant, api).await?;

    if overwrite {
        // The resources the document has too stay, with their ids (as AWS keeps them); the
        // others go, each with what is under it. Every method goes.
        let kept: std::collections::HashSet<String> = planned
            .iter()
            .flat_map(|r| {
                r.path
                    .match_indices('/')
                    .map(|(i, _)| r.path[..i].to_owned())
                    .chain([r.path.clone()])
            })
            .collect();
        let tree = resources::Tree::new(resources::all(conn, &api_id).await?);
        for node in &tree.nodes {
            let Some(parent) = node.parent_id.as_deref() else {
                continue;
            };
            let parent_kept = parent == api.root_resource_id || kept.contains(&tree.path_of(parent));
            if parent_kept && !kept.contains(&tree.path_of(&node.id)) {
                resources::delete(conn, &api_id, &node.id).await?;
            }
        }
        for (resource, m) in methods::all(conn, &api_id).await? {
            methods::delete(conn, &api_id, &resource, m.http_method.as_str()).await?;
        }
        for kind in [
            Kind::Model,
            Kind::RequestValidator,
            Kind::Authorizer,
            Kind::GatewayResponse,
        ] {
            docs::delete_all(conn, kind, &api_id).await?;
        }
    }

    // Models, validators and authorizers: by name, a name the API has keeps its id.
    for m in &models {
        let existing: Option<Model> = docs::get(conn, Kind::Model, &api_id, &m.name, false).await.ok();
        let m = Model {
            id: existing.map_or_else(|| m.id.clone(), |e| e.id),
            ..m.clone()
        };
        docs::put(conn, Kind::Model, &api_id, &m.name.clone(), &m).await?;
    }
    let mut validator_ids = HashMap::new();
    let existing: Vec<RequestValidator> = docs::all(conn, Kind::RequestValidator, &api_id).await?;
    for v in validators {
        let v = RequestValidator {
            id: existing
                .iter()
                .find(|e| e.name == v.name)
                .map_or(v.id.clone(), |e| e.id.clone()),
            ..v
        };
        docs::put(conn, Kind::RequestValidator, &api_id, &v.id.clone(), &v).await?;
        validator_ids.insert(v.name.clone(), v.id);
    }
    for e in existing {
        validator_ids.entry(e.name).or_insert(e.id);
    }
    let mut authorizer_ids = HashMap::new();
    let existing: Vec<Authorizer> = docs::all(conn, Kind::Authorizer, &api_id).await?;
    for a in authorizers {
        let a = Authorizer {
            id: existing
                .iter()
                .find(|e| e.name == a.name)
                .map_or(a.id.clone(), |e| e.id.clone()),
            ..a
        };
        docs::put(conn, Kind::Authorizer, &api_id, &a.id.clone(), &a).await?;
        authorizer_ids.insert(a.name.clone(), a.id);
    }
    for e in existing {
        authorizer_ids.entry(e.name).or_insert(e.id);
    }
    for g in gateway_responses {
        let g = GatewayResponse {
            default_response: false,
            ..g
        };
        docs::put(conn, Kind::GatewayResponse, &api_id, g.response_type.as_str(), &g).await?;
    }
    let model_names: Vec<String> = docs::all::<Model>(conn, Kind::Model, &api_id)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();

    // Resources by path, made with the parents they need; then their methods.
    let mut tree = resources::Tree::new(resources::all(conn, &api_id).await?);
    let mut by_path: HashMap<String, String> = tree
        .nodes
        .iter()
        .map(|n| (tree.path_of(&n.id), n.id.clone()))
        .collect();
    let mut made = 0usize;
    for r in planned {
        let mut parent = api.root_resource_id.clone();
        let mut path = String::new();
        for part in r.path.split('/').filter(|p| !p.is_empty()) {
            path.push('/');
            path.push_str(part);
            if let Some(id) = by_path.get(&path) {
                parent = id.clone();
                continue;
            }
            // AWS's rules, as CreateResource applies them.
            let refused = |e: ApiError| {
                ApiError::bad_request(format!(
                    "Errors found during import:\n\tResource {}: {}",
                    r.path, e.message
                ))
            };
            super::resources::parse_path_part(part).map_err(refused)?;
            super::resources::check_placement(&tree, &parent, part, None).map_err(refused)?;
            made += 1;
            if made > MAX_RESOURCES {
                return Err(refused(ApiError::bad_request(format!(
                    "an API has at most {MAX_RESOURCES} resources"
                ))));
            }
            let node = Node {
                id: ids::resource_id(false),
                parent_id: Some(parent.clone()),
                path_part: Some(part.to_owned()),
            };
            resources::insert(conn, &api_id, &node).await?;
            by_path.insert(path.clone(), node.id.clone());
            parent = node.id.clone();
            tree.insert(node);
        }
        for (verb, mut m) in r.methods {
            let at = format!("{verb} {}", r.path);
            if let Some(name) = m.authorizer_id.take() {
                match authorizer_ids.get(&name) {
                    Some(id) => m.authorizer_id = Some(id.clone()),
                    None => {
                        warnings.push(format!(
                            "{at}: security names no authorizer {name}; the method is not authorized"
                        ));
                        m.authorization_type = crate::domain::enums::AuthorizationType::None;
                    }
                }
            }
            if let Some(name) = m.request_validator_id.take() {
                match validator_ids.get(&name) {
                    Some(id) => m.request_validator_id = Some(id.clone()),
                    None => warnings.push(format!("{at}: no request validator {name}")),
                }
            }
            let unknown: Vec<String> = m
                .request_models
                .values()
                .chain(m.method_responses.values().flat_map(|r| r.models().values()))
                .filter(|name| !model_names.contains(name))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                warnings.push(format!("{at}: no models {}; left out", unknown.join(", ")));
                m.request_models.retain(|_, name| model_names.contains(name));
                for r in m.method_responses.values_mut() {
                    if let Some(models) = &mut r.response_models {
                        models.retain(|_, name| model_names.contains(name));
                    }
                }
            }
            if let Some(i) = &mut m.method_integration
                && i.cache_namespace.is_none()
            {
                i.cache_namespace = Some(parent.clone());
            }
            methods::put(conn, &api_id, &parent, &m).await?;
        }
    }

    // Documentation parts (replaced, or none left, when the definition is).
    if documentation.is_some() || overwrite {
        let doc = serde_json::json!({ "x-amazon-apigateway-documentation": documentation });
        let (parts, more) = super::documentation::read_parts(&doc);
        warnings.extend(more);
        super::documentation::write_parts(conn, &api_id, parts, overwrite).await?;
    }
    Ok(warnings)
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/stages/{stage_name}/exports/{export_type}",
    operation_id = "GetExport",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path), ("export_type" = String, Path), ("extensions" = Option<String>, Query)),
    responses((status = 200, description = "GetExport succeeded: the document, JSON or YAML as Accept asks"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_export(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, stage_name, export_type)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let oas3 = match export_type.as_str() {
        "oas30" => true,
        "swagger" => false,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid export type {other}: expected oas30 or swagger"
            )));
        }
    };
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let extensions = pairs
        .iter()
        .find(|(k, _)| k == "extensions")
        .map(|(_, v)| v.as_str());
    let ext = Extensions::parse(extensions).map_err(ApiError::bad_request)?;
    let accepts = |media: &str| {
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|a| a.to_str().ok())
            .any(|a| a.contains(media))
    };
    // YAML when the caller accepts it (the SDKs send their own `Accept` beside the one asked for).
    let output = if accepts("application/yaml") {
        crate::openapi::Output::Yaml
    } else {
        crate::openapi::Output::Json
    };
    // A JSON export nobody asked for by type (boto3 sends no `Accept`) is AWS's octet stream.
    let content_type = match output {
        crate::openapi::Output::Json if !accepts("application/json") => "application/octet-stream",
        _ => output.content_type(),
    };
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let stage: crate::domain::stage::Stage = stages::get(&mut conn, &api_id, &stage_name, false)
        .await
        .or_not_found(stage_not_found)?;
    let (deployment, hash): (crate::domain::rest_api::Deployment, String) =
        deployments::get(&mut conn, &api_id, &stage.deployment_id, false)
            .await
            .or_not_found(|| ApiError::not_found("Invalid Deployment identifier specified"))?;
    let bytes = deployments::get_snapshot(&mut conn, &hash).await?;
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| {
        tracing::error!(error = %e, "a stored snapshot does not read");
        ApiError::internal()
    })?;
    let documentation = if ext.documentation {
        super::documentation::exported(&mut conn, &api_id, stage.documentation_version.as_deref()).await?
    } else {
        None
    };
    let doc = openapi::export(
        &ExportOf {
            snapshot: &snapshot,
            stage: &stage_name,
            region: &tenant.region,
            deployed: deployment.created_date,
            documentation,
        },
        oas3,
        ext,
    );
    let text = crate::openapi::render(&doc, output).map_err(|e| {
        tracing::error!(error = %e, "an export does not render");
        ApiError::internal()
    })?;
    let extension = if output == crate::openapi::Output::Yaml {
        "yaml"
    } else {
        "json"
    };
    // AWS names the file by the export's type and the document's version (the API's, or the
    // deployment's time): `swagger_1.0.0.json`. Of letters, digits and `._-:` alone, as a
    // version may hold anything.
    let version = doc["info"]["version"].as_str().unwrap_or_default();
    let safe: String = version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-:".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{export_type}_{safe}.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}
