//! Documentation of REST APIs: parts (CreateDocumentationPart, GetDocumentationPart(s),
//! UpdateDocumentationPart, DeleteDocumentationPart, ImportDocumentationParts from an OpenAPI
//! document's `x-amazon-apigateway-documentation`) and versions (CreateDocumentationVersion,
//! which keeps the parts as they are and may name a stage's version, and Get, List, Update,
//! Delete). One part per location; a location takes its type's defaults (`path` `/`, `method`
//! and `statusCode` `*`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::{find_api, stages::stage_not_found};
use crate::domain::documentation::{
    DocumentationPart, DocumentationVersion, Location, StoredVersion, check_properties,
};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant, stages};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentationPartRequest {
    pub location: Option<Location>,
    pub properties: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentationPartListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<DocumentationPart>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentationVersionRequest {
    pub documentation_version: Option<String>,
    pub stage_name: Option<String>,
    pub description: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentationVersionListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<DocumentationVersion>,
}

/// ImportDocumentationParts' answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentationPartIds {
    pub ids: Vec<String>,
    /// Shown only when there are some, as AWS shows them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn part_not_found() -> ApiError {
    ApiError::not_found("Invalid Documentation part identifier specified")
}

fn version_not_found() -> ApiError {
    ApiError::not_found("Invalid Documentation version identifier specified")
}

fn duplicate(location: &Location) -> ApiError {
    ApiError::conflict(format!(
        "Documentation part already exists for the specified location: type '{}'{}{}{}{}",
        location.kind,
        location
            .path
            .as_ref()
            .map(|p| format!(", path '{p}'"))
            .unwrap_or_default(),
        location
            .method
            .as_ref()
            .map(|m| format!(", method '{m}'"))
            .unwrap_or_default(),
        location
            .status_code
            .as_ref()
            .map(|s| format!(", statusCode '{s}'"))
            .unwrap_or_default(),
        location
            .name
            .as_ref()
            .map(|n| format!(", name '{n}'"))
            .unwrap_or_default(),
    ))
}

/// The location types AWS takes, in the order its validation message lists them.
const TYPES: [&str; 12] = [
    "RESPONSE_BODY",
    "RESPONSE",
    "METHOD",
    "MODEL",
    "AUTHORIZER",
    "RESPONSE_HEADER",
    "RESOURCE",
    "PATH_PARAMETER",
    "REQUEST_BODY",
    "QUERY_PARAMETER",
    "API",
    "REQUEST_HEADER",
];

/// AWS's validation error for a location type it does not know.
fn check_type(location: Option<&Location>, input: &str) -> ApiResult<()> {
    match location {
        Some(l) if !TYPES.contains(&l.kind.as_str()) => Err(ApiError::validation(&[format!(
            "Value '{}' at '{input}.location.type' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            l.kind,
            TYPES.join(", ")
        )])),
        _ => Ok(()),
    }
}

/// A part, checked: its location normalized, its properties a JSON object.
fn checked(location: Option<Location>, properties: Option<String>) -> Result<(Location, String), String> {
    let location = location.ok_or("location is required")?.normalized()?;
    let properties = properties.ok_or("properties is required")?;
    check_properties(&properties)?;
    Ok((location, properties))
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/documentation/parts",
    operation_id = "CreateDocumentationPart",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateDocumentationPartRequest,
    responses((status = 201, description = "CreateDocumentationPart succeeded", body = DocumentationPart), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_documentation_part(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateDocumentationPartRequest>,
) -> ApiResult<(StatusCode, Json<DocumentationPart>)> {
    let mut tx = app.store.begin().await?;
    // The API's row, held: parts of one API are made one at a time (one per location).
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    check_type(req.location.as_ref(), "createDocumentationPartInput")?;
    let (location, properties) = checked(req.location, req.properties).map_err(ApiError::bad_request)?;
    let parts: Vec<DocumentationPart> = docs::all(&mut tx, Kind::DocumentationPart, &api_id).await?;
    if parts.iter().any(|p| p.location == location) {
        return Err(duplicate(&location));
    }
    let part = DocumentationPart {
        id: ids::random_id(6),
        location,
        properties,
    };
    docs::insert(&mut tx, Kind::DocumentationPart, &api_id, &part.id, &part).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(part)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/documentation/parts",
    operation_id = "GetDocumentationParts",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("type" = Option<String>, Query), ("name" = Option<String>, Query), ("path" = Option<String>, Query), ("locationStatus" = Option<String>, Query), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetDocumentationParts succeeded", body = DocumentationPartListing), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_documentation_parts(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    RawQuery(query): RawQuery,
    Pagination(page): Pagination,
) -> ApiResult<Json<DocumentationPartListing>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    // Every part is documented: none is listed as UNDOCUMENTED.
    if param("locationStatus") == Some("UNDOCUMENTED") {
        return Ok(Json(DocumentationPartListing {
            position: None,
            items: Vec::new(),
        }));
    }
    let parts: Vec<DocumentationPart> = docs::all(&mut conn, Kind::DocumentationPart, &api_id).await?;
    let name = param("name").map(str::to_ascii_lowercase);
    let matching: Vec<DocumentationPart> = parts
        .into_iter()
        .filter(|p| param("type").is_none_or(|t| p.location.kind == t))
        .filter(|p| param("path").is_none_or(|path| p.location.path.as_deref() == Some(path)))
        .filter(|p| {
            name.as_ref().is_none_or(|n| {
                p.location
                    .name
                    .as_ref()
                    .is_some_and(|pn| pn.to_ascii_lowercase().contains(n))
            })
        })
        .collect();
    // Positions are offsets into the filtered listing.
    let start = page.after_seq as usize;
    let end = start.saturating_add(page.limit as usize).min(matching.len());
    let items = matching.get(start..end).map(<[_]>::to_vec).unwrap_or_default();
    Ok(Json(DocumentationPartListing {
        position: (end < matching.len()).then(|| end.to_string()),
        items,
    }))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/documentation/parts/{part_id}",
    operation_id = "GetDocumentationPart",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("part_id" = String, Path)),
    responses((status = 200, description = "GetDocumentationPart succeeded", body = DocumentationPart), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, part.id = %id))]
pub async fn get_documentation_part(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<DocumentationPart>> {
    let mut conn = app.store.pool().acquire().await?;
    // An unknown API is an unknown part here, as AWS answers it.
    super::find_api_or(&mut conn, &tenant, &api_id, RowLock::None, part_not_found).await?;
    let part = docs::get(&mut conn, Kind::DocumentationPart, &api_id, &id, false)
        .await
        .or_not_found(part_not_found)?;
    Ok(Json(part))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/documentation/parts/{part_id}",
    operation_id = "UpdateDocumentationPart",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("part_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateDocumentationPart succeeded", body = DocumentationPart), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, part.id = %id))]
pub async fn update_documentation_part(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<DocumentationPart>> {
    let ops = patch::parse(body, "updateDocumentationPartInput")?;
    let mut tx = app.store.begin().await?;
    super::find_api_or(&mut tx, &tenant, &api_id, RowLock::None, part_not_found).await?;
    let mut part: DocumentationPart = docs::get(&mut tx, Kind::DocumentationPart, &api_id, &id, true)
        .await
        .or_not_found(part_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/properties", Op::Replace) => {
                let properties = op.required_value()?;
                check_properties(properties).map_err(ApiError::bad_request)?;
                part.properties = properties.to_owned();
            }
            (_, Op::Replace) => return Err(op.invalid_path(&["/properties"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    docs::update(&mut tx, Kind::DocumentationPart, &api_id, &id, &part).await?;
    tx.commit().await?;
    Ok(Json(part))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/documentation/parts/{part_id}",
    operation_id = "DeleteDocumentationPart",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("part_id" = String, Path)),
    responses((status = 202, description = "DeleteDocumentationPart succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, part.id = %id))]
pub async fn delete_documentation_part(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    docs::delete(&mut tx, Kind::DocumentationPart, &api_id, &id)
        .await
        .or_not_found(part_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/documentation/parts",
    operation_id = "ImportDocumentationParts",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("mode" = Option<String>, Query), ("failonwarnings" = Option<bool>, Query)),
    request_body(content = String, description = "An OpenAPI document (JSON or YAML) with x-amazon-apigateway-documentation"),
    responses((status = 200, description = "ImportDocumentationParts succeeded", body = DocumentationPartIds), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn import_documentation_parts(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<DocumentationPartIds>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let overwrite = match param("mode") {
        None | Some("merge") => false,
        Some("overwrite") => true,
        Some(m) => {
            return Err(ApiError::bad_request(format!(
                "Invalid mode {m}: expected merge or overwrite"
            )));
        }
    };
    let fail_on_warnings = param("failonwarnings").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // AWS's one answer for a document it cannot read.
    let unreadable = || ApiError::bad_request("Unable to build importer with provided input.");
    let text = std::str::from_utf8(&body).map_err(|_| unreadable())?;
    let document = crate::openapi::parse(text).map_err(|_| unreadable())?;
    if !document.is_object() {
        return Err(unreadable());
    }
    let (imported, warnings) = read_parts(&document);
    if fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import: {}",
            warnings.join("; ")
        )));
    }
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let ids = write_parts(&mut tx, &api_id, imported, overwrite).await?;
    tx.commit().await?;
    Ok(Json(DocumentationPartIds { ids, warnings }))
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/documentation/versions",
    operation_id = "CreateDocumentationVersion",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateDocumentationVersionRequest,
    responses((status = 201, description = "CreateDocumentationVersion succeeded", body = DocumentationVersion), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_documentation_version(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateDocumentationVersionRequest>,
) -> ApiResult<(StatusCode, Json<DocumentationVersion>)> {
    let name = req
        .documentation_version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request("documentationVersion is required"))?;
    if name.len() > 64 || name.contains('/') {
        return Err(ApiError::bad_request(
            "Invalid documentationVersion: at most 64 characters, no '/'",
        ));
    }
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    if docs::exists(&mut tx, Kind::DocumentationVersion, &api_id, &name).await? {
        return Err(ApiError::conflict(format!(
            "Documentation version already exists: {name}"
        )));
    }
    let parts: Vec<DocumentationPart> = docs::all(&mut tx, Kind::DocumentationPart, &api_id).await?;
    let version = DocumentationVersion {
        version: name.clone(),
        created_date: now(),
        description: req.description.filter(|d| !d.is_empty()),
    };
    let stored = StoredVersion {
        version: version.clone(),
        parts,
    };
    docs::insert(&mut tx, Kind::DocumentationVersion, &api_id, &name, &stored).await?;
    if let Some(stage_name) = req.stage_name.filter(|s| !s.is_empty()) {
        let mut stage: crate::domain::stage::Stage = stages::get(&mut tx, &api_id, &stage_name, true)
            .await
            .or_not_found(stage_not_found)?;
        stage.documentation_version = Some(name);
        stages::update(&mut tx, &api_id, &stage).await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(version)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/documentation/versions",
    operation_id = "GetDocumentationVersions",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetDocumentationVersions succeeded", body = DocumentationVersionListing), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_documentation_versions(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<DocumentationVersionListing>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let found = docs::list::<StoredVersion>(&mut conn, Kind::DocumentationVersion, &api_id, page).await?;
    Ok(Json(DocumentationVersionListing {
        position: found.next.map(|n| n.to_string()),
        items: found.items.into_iter().map(|v| v.version).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/documentation/versions/{doc_version}",
    operation_id = "GetDocumentationVersion",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("doc_version" = String, Path)),
    responses((status = 200, description = "GetDocumentationVersion succeeded", body = DocumentationVersion), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, version = %name))]
pub async fn get_documentation_version(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<DocumentationVersion>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let stored: StoredVersion = docs::get(&mut conn, Kind::DocumentationVersion, &api_id, &name, false)
        .await
        .or_not_found(version_not_found)?;
    Ok(Json(stored.version))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/documentation/versions/{doc_version}",
    operation_id = "UpdateDocumentationVersion",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("doc_version" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateDocumentationVersion succeeded", body = DocumentationVersion), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, version = %name))]
pub async fn update_documentation_version(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<DocumentationVersion>> {
    let ops = patch::parse(body, "updateDocumentationVersionInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    let mut stored: StoredVersion = docs::get(&mut tx, Kind::DocumentationVersion, &api_id, &name, true)
        .await
        .or_not_found(version_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/description", Op::Replace) => stored.version.description = patch::optional_string(op),
            (_, Op::Replace) => return Err(op.invalid_path(&["/description"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    docs::update(&mut tx, Kind::DocumentationVersion, &api_id, &name, &stored).await?;
    tx.commit().await?;
    Ok(Json(stored.version))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/documentation/versions/{doc_version}",
    operation_id = "DeleteDocumentationVersion",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("doc_version" = String, Path)),
    responses((status = 202, description = "DeleteDocumentationVersion succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, version = %name))]
pub async fn delete_documentation_version(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::None).await?;
    match docs::delete(&mut tx, Kind::DocumentationVersion, &api_id, &name).await {
        Err(StoreError::NotFound) => return Err(version_not_found()),
        other => other?,
    }
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// The parts a document's `x-amazon-apigateway-documentation` lists, each checked, and a
/// warning for each that cannot be imported.
pub fn read_parts(document: &serde_json::Value) -> (Vec<(Location, String)>, Vec<String>) {
    let listed = document
        .get("x-amazon-apigateway-documentation")
        .and_then(|d| d.get("documentationParts"))
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let mut warnings = Vec::new();
    let mut imported: Vec<(Location, String)> = Vec::new();
    for (i, raw) in listed.iter().enumerate() {
        let location = raw
            .get("location")
            .cloned()
            .map(serde_json::from_value::<Location>);
        let properties = raw.get("properties").map(|p| p.to_string());
        let part = match location {
            Some(Ok(l)) => checked(Some(l), properties),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("location is required".into()),
        };
        match part {
            Ok(p) if imported.iter().any(|(l, _)| *l == p.0) => {
                warnings.push(format!(
                    "Documentation part {i}: a location documented twice; the first is kept"
                ));
            }
            Ok(p) => imported.push(p),
            Err(e) => warnings.push(format!("Documentation part {i}: {e}")),
        }
    }
    (imported, warnings)
}

/// Writes imported parts to API `api_id` (whose row the caller holds): merged with its parts
/// (a location's part takes the new properties), or replacing them all. Their ids.
pub async fn write_parts(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    imported: Vec<(Location, String)>,
    overwrite: bool,
) -> ApiResult<Vec<String>> {
    if overwrite {
        docs::delete_all(conn, Kind::DocumentationPart, api_id).await?;
    }
    let existing: Vec<DocumentationPart> = docs::all(conn, Kind::DocumentationPart, api_id).await?;
    let mut ids = Vec::with_capacity(imported.len());
    for (location, properties) in imported {
        match existing.iter().find(|p| p.location == location) {
            // Merged: the part documenting the location takes the new properties.
            Some(found) => {
                let part = DocumentationPart {
                    properties,
                    ..found.clone()
                };
                docs::update(conn, Kind::DocumentationPart, api_id, &part.id, &part).await?;
                ids.push(part.id);
            }
            None => {
                let part = DocumentationPart {
                    id: ids::random_id(6),
                    location,
                    properties,
                };
                docs::insert(conn, Kind::DocumentationPart, api_id, &part.id, &part).await?;
                ids.push(part.id);
            }
        }
    }
    Ok(ids)
}

/// The documentation of API `api_id` as `x-amazon-apigateway-documentation` (for exports): the
/// parts of the stage's documentation version, or the API's current parts when the stage has
/// none.
pub async fn exported(
    conn: &mut sqlx::PgConnection,
    api_id: &str,
    version: Option<&str>,
) -> ApiResult<Option<serde_json::Value>> {
    let parts: Vec<DocumentationPart> = match version {
        Some(v) => {
            match docs::get::<crate::domain::documentation::StoredVersion>(
                conn,
                Kind::DocumentationVersion,
                api_id,
                v,
                false,
            )
            .await
            {
                Ok(stored) => stored.parts,
                Err(crate::store::StoreError::NotFound) => vec![],
                Err(e) => return Err(e.into()),
            }
        }
        None => docs::all(conn, Kind::DocumentationPart, api_id).await?,
    };
    if parts.is_empty() {
        return Ok(None);
    }
    let listed: Vec<serde_json::Value> = parts
        .iter()
        .map(|p| {
            serde_json::json!({
                "location": p.location,
                "properties": serde_json::from_str::<serde_json::Value>(&p.properties).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Some(serde_json::json!({
        "version": version.unwrap_or("1"),
        "documentationParts": listed,
    })))
}
