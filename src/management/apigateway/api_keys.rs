//! ApiKey: Create (and ImportApiKeys, the same URI with `mode=import`), Get, GetApiKeys, Update,
//! Delete. Keys belong to the account, not to an API; usage plans admit them to stages.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use crate::domain::usage_plan::ApiKey;
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs, parse_json};
use crate::store::usage_plans::{self as store, KeyFilter};
use crate::store::{RowLock, StoreError, Tenant};

pub fn key_not_found() -> ApiError {
    ApiError::not_found("Invalid API Key identifier specified")
}

/// The tenant's key `id` exists, or AWS's 404.
pub async fn ensure_key(conn: &mut sqlx::PgConnection, tenant: &Tenant, id: &str) -> ApiResult<()> {
    store::get_key(conn, tenant, id, RowLock::None)
        .await
        .or_not_found(key_not_found)?;
    Ok(())
}

/// AWS's limits on what a key is made of.
const MAX_NAME: usize = 1024;
const MAX_DESCRIPTION: usize = 125_000;
const MIN_VALUE: usize = 20;
const MAX_VALUE: usize = 128;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKeyRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub generate_distinct_id: Option<bool>,
    pub value: Option<String>,
    #[serde(default)]
    pub stage_keys: Vec<StageKey>,
    pub customer_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageKey {
    pub rest_api_id: Option<String>,
    pub stage_name: Option<String>,
}

/// `ImportApiKeys`' answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyIds {
    pub ids: Vec<String>,
    pub warnings: Vec<String>,
}

/// A page of keys: AWS's `ApiKeys` (with its `warnings`, always empty here).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<ApiKey>,
}

/// A new key's value: 40 letters and digits from the OS's CSPRNG.
fn generated_value() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn check_value(value: &str) -> ApiResult<()> {
    if value.len() > MAX_VALUE {
        return Err(ApiError::bad_request(format!(
            "API Key value exceeds maximum size of {MAX_VALUE} characters"
        )));
    }
    if value.len() < MIN_VALUE {
        return Err(ApiError::bad_request(format!(
            "API Key value should be at least {MIN_VALUE} characters"
        )));
    }
    // Keys travel in a header: visible ASCII only.
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "API Key value may contain only visible ASCII characters",
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "Invalid API Key name, can be at most {MAX_NAME} characters."
        )));
    }
    Ok(())
}

fn check_description(description: &str) -> ApiResult<()> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::bad_request("Invalid API Key description specified."));
    }
    Ok(())
}

/// What a key answer shows: its tags always (`{}` when none) on a single key; its value only
/// when asked.
fn shown(mut key: ApiKey, value: bool, empty_tags: bool) -> ApiKey {
    if !value {
        key.value = None;
    }
    match &key.tags {
        Some(t) if t.is_empty() && !empty_tags => key.tags = None,
        None if empty_tags => key.tags = Some(BTreeMap::new()),
        _ => {}
    }
    key
}

/// A stage key (`{restApiId}/{stageName}`) names a stage of the tenant's, or AWS's 404.
async fn check_stage_key(
    tx: &mut sqlx::PgConnection,
    tenant: &Tenant,
    api: &str,
    stage: &str,
) -> ApiResult<()> {
    super::find_api(tx, tenant, api, RowLock::None).await?;
    crate::store::stages::get::<crate::domain::stage::Stage>(tx, api, stage, false)
        .await
        .or_not_found(|| ApiError::not_found("Invalid Stage identifier specified"))?;
    Ok(())
}

/// A key written, or AWS's conflict for a value the account already has.
async fn insert(tx: &mut sqlx::PgConnection, tenant: &Tenant, key: &ApiKey, value: &str) -> ApiResult<()> {
    match store::insert_key(tx, tenant, key, value).await {
        Err(StoreError::AlreadyExists(_)) => Err(ApiError::conflict("API Key already exists")),
        other => Ok(other?),
    }
}

#[utoipa::path(
    post,
    path = "/apikeys",
    operation_id = "CreateApiKey",
    tag = "apigateway",
    request_body = CreateApiKeyRequest,
    params(("mode" = Option<String>, Query, description = "`import`: ImportApiKeys"), ("format" = Option<String>, Query), ("failonwarnings" = Option<bool>, Query)),
    responses((status = 201, description = "CreateApiKey succeeded (ImportApiKeys: ApiKeyIds)", body = ApiKey), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_api_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("mode") == Some("import") {
        let fail_on_warnings = param("failonwarnings").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let imported = import(&app, &tenant, param("format"), &body, fail_on_warnings).await?;
        return Ok((StatusCode::CREATED, Json(imported)).into_response());
    }
    let req: CreateApiKeyRequest = parse_json(&body)?;
    let name = req.name.filter(|n| !n.is_empty());
    if let Some(n) = &name {
        check_name(n)?;
    }
    if let Some(d) = &req.description {
        check_description(d)?;
    }
    super::tags::check_tags(&req.tags)?;
    let value = match req.value.filter(|v| !v.is_empty()) {
        Some(v) => {
            check_value(&v)?;
            v
        }
        None => generated_value(),
    };
    let mut tx = app.store.begin().await?;
    let mut stage_keys = vec![];
    for sk in &req.stage_keys {
        let (Some(api), Some(stage)) = (&sk.rest_api_id, &sk.stage_name) else {
            return Err(ApiError::bad_request("Invalid stage key specified"));
        };
        check_stage_key(&mut tx, &tenant, api, stage).await?;
        stage_keys.push(format!("{api}/{stage}"));
    }
    let created = now();
    let key = ApiKey {
        id: ids::random_id(10),
        value: Some(value.clone()),
        name,
        customer_id: req.customer_id,
        description: req.description,
        enabled: req.enabled.unwrap_or(false),
        created_date: created,
        last_updated_date: created,
        stage_keys,
        tags: Some(req.tags),
    };
    insert(&mut tx, &tenant, &key, &value).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(shown(key, true, false))).into_response())
}

/// ImportApiKeys: AWS's CSV (a header naming the columns `key`, `name`, `description`,
/// `enabled`, `usageplanIds`, in any order and case; `key` required), all rows in one
/// transaction. A row that cannot be imported is a warning; with `failOnWarnings` any warning
/// imports nothing.
async fn import(
    app: &AppState,
    tenant: &Tenant,
    format: Option<&str>,
    body: &[u8],
    fail_on_warnings: bool,
) -> ApiResult<ApiKeyIds> {
    if !format.is_some_and(|f| f.eq_ignore_ascii_case("csv")) {
        return Err(ApiError::bad_request(
            "Invalid format specified: the only format supported is csv",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("The CSV file is not UTF-8"))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines
        .next()
        .map(|(_, h)| split_csv(h))
        .ok_or_else(|| ApiError::bad_request("The CSV file is empty"))?;
    let column = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let key_at = column("key").ok_or_else(|| {
        ApiError::bad_request("The CSV file has no Key column: its header must name key, and may name name, description, enabled and usageplanIds")
    })?;
    let (name_at, description_at, enabled_at, plans_at) = (
        column("name"),
        column("description"),
        column("enabled"),
        column("usageplanids"),
    );
    let mut tx = app.store.begin().await?;
    let (mut ids, mut warnings) = (vec![], vec![]);
    for (n, line) in lines {
        let fields = split_csv(line);
        let at = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|f| f.trim())
                .filter(|f| !f.is_empty())
        };
        let line_no = n + 1;
        let Some(value) = at(Some(key_at)) else {
            warnings.push(format!("Line {line_no}: no key value"));
            continue;
        };
        if let Err(e) = check_value(value) {
            warnings.push(format!("Line {line_no}: {}", e.message));
            continue;
        }
        let name = at(name_at).map(str::to_owned);
        let description = at(description_at).map(str::to_owned);
        let checked = name
            .as_deref()
            .map_or(Ok(()), check_name)
            .and_then(|()| description.as_deref().map_or(Ok(()), check_description));
        if let Err(e) = checked {
            warnings.push(format!("Line {line_no}: {}", e.message));
            continue;
        }
        let created = now();
        let key = ApiKey {
            id: ids::random_id(10),
            value: Some(value.to_owned()),
            name,
            customer_id: None,
            description,
            enabled: at(enabled_at).is_some_and(|e| e.eq_ignore_ascii_case("true")),
            created_date: created,
            last_updated_date: created,
            stage_keys: vec![],
            tags: None,
        };
        if store::insert_key(&mut tx, tenant, &key, value).await.is_err() {
            // A failed statement ends the transaction: nothing of this import is kept.
            return Err(ApiError::conflict(format!(
                "Line {line_no}: an API key with this value already exists"
            )));
        }
        let mut plan_ids: Vec<&str> = at(plans_at)
            .into_iter()
            .flat_map(|p| p.split([',', ';']))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        plan_ids.sort_unstable();
        plan_ids.dedup();
        for plan_id in plan_ids {
            match store::get_plan(&mut tx, tenant, plan_id, RowLock::Update).await {
                Ok(plan) => {
                    if let Some(other) = store::plans_sharing_a_stage(&mut tx, &plan, &key.id)
                        .await?
                        .first()
                    {
                        warnings.push(format!(
                            "Line {line_no}: not added to usage plan {plan_id}: usage plan {other} covers one of its stages"
                        ));
                        continue;
                    }
                    store::add_plan_key(&mut tx, &plan, &key.id).await?;
                }
                Err(StoreError::NotFound) => {
                    warnings.push(format!("Line {line_no}: usage plan {plan_id} not found"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        ids.push(key.id);
    }
    if fail_on_warnings && !warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Import failed on warnings: {}",
            warnings.join("; ")
        )));
    }
    tx.commit().await?;
    Ok(ApiKeyIds { ids, warnings })
}

/// One CSV line's fields: commas separate them, double quotes enclose one that holds commas
/// (`""` inside stands for a quote).
fn split_csv(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (vec![], String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct GetApiKeyQuery {
    pub include_value: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/apikeys/{api_Key}",
    operation_id = "GetApiKey",
    tag = "apigateway",
    params(("api_Key" = String, Path), GetApiKeyQuery),
    responses((status = 200, description = "GetApiKey succeeded", body = ApiKey), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api_key.id = %id))]
pub async fn get_api_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ApiKey>> {
    let include = form_pairs(query.as_deref().unwrap_or(""))
        .iter()
        .any(|(k, v)| k == "includeValue" && v.eq_ignore_ascii_case("true"));
    let mut conn = app.store.pool().acquire().await?;
    let key = store::get_key(&mut conn, &tenant, &id, RowLock::None)
        .await
        .or_not_found(key_not_found)?;
    Ok(Json(shown(key, include, true)))
}

#[utoipa::path(
    get,
    path = "/apikeys",
    operation_id = "GetApiKeys",
    tag = "apigateway",
    params(("name" = Option<String>, Query), ("customerId" = Option<String>, Query), ("includeValues" = Option<bool>, Query), ("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetApiKeys succeeded", body = ApiKeyListing), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_api_keys(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(query): RawQuery,
    Pagination(page): Pagination,
) -> ApiResult<Json<ApiKeyListing>> {
    let query = form_pairs(query.as_deref().unwrap_or(""));
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let include = param("includeValues").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let filter = KeyFilter {
        name_prefix: param("name").filter(|n| !n.is_empty()),
        customer_id: param("customerId").filter(|c| !c.is_empty()),
    };
    let mut conn = app.store.pool().acquire().await?;
    let found = store::list_keys(&mut conn, &tenant, &filter, page).await?;
    Ok(Json(ApiKeyListing {
        position: found.next.map(|n| n.to_string()),
        items: found
            .items
            .into_iter()
            .map(|k| shown(k, include, false))
            .collect(),
    }))
}

#[utoipa::path(
    patch,
    path = "/apikeys/{api_Key}",
    operation_id = "UpdateApiKey",
    tag = "apigateway",
    params(("api_Key" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateApiKey succeeded", body = ApiKey), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api_key.id = %id))]
pub async fn update_api_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<ApiKey>> {
    let ops = patch::parse(body, "updateApiKeyInput")?;
    let mut tx = app.store.begin().await?;
    let mut key = store::get_key(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(key_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/name", Op::Replace) => {
                let name = patch::optional_string(op);
                if let Some(n) = &name {
                    check_name(n)?;
                }
                key.name = name;
            }
            ("/description", Op::Replace) => {
                let description = patch::optional_string(op);
                if let Some(d) = &description {
                    check_description(d)?;
                }
                key.description = description;
            }
            ("/customerId", Op::Replace) => key.customer_id = patch::optional_string(op),
            // AWS reads the flag the Java way: anything but `true` is false.
            ("/enabled", Op::Replace) => key.enabled = patch::map_bool(op.value.as_deref())?,
            ("/stages", Op::Add) => {
                let sk = op.required_value()?;
                let Some((api, stage)) = sk.split_once('/') else {
                    return Err(ApiError::bad_request(format!(
                        "Invalid stage key specified: {sk}"
                    )));
                };
                check_stage_key(&mut tx, &tenant, api, stage).await?;
                if !key.stage_keys.iter().any(|s| s == sk) {
                    key.stage_keys.push(sk.to_owned());
                }
            }
            ("/stages", Op::Remove) => {
                let sk = op.required_value()?;
                key.stage_keys.retain(|s| s != sk);
            }
            (_, Op::Replace) => {
                return Err(op.invalid_path(&["/description", "/enabled", "/name", "/customerId"]));
            }
            _ => return Err(op.unsupported_op()),
        }
    }
    key.last_updated_date = now();
    store::update_key(&mut tx, &tenant, &key).await?;
    tx.commit().await?;
    Ok(Json(shown(key, false, true)))
}

#[utoipa::path(
    delete,
    path = "/apikeys/{api_Key}",
    operation_id = "DeleteApiKey",
    tag = "apigateway",
    params(("api_Key" = String, Path)),
    responses((status = 202, description = "DeleteApiKey succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api_key.id = %id))]
pub async fn delete_api_key(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    store::delete_key(&mut tx, &tenant, &id)
        .await
        .or_not_found(key_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_split_on_commas_outside_quotes() {
        assert_eq!(split_csv("a,b,,c"), vec!["a", "b", "", "c"]);
        assert_eq!(
            split_csv(r#"k,"x, y","say ""hi""""#),
            vec!["k", "x, y", r#"say "hi""#]
        );
    }

    #[test]
    fn generated_values_are_40_letters_and_digits() {
        let v = generated_value();
        assert_eq!(v.len(), 40);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(check_value(&v).is_ok());
        assert!(check_value("short").is_err());
    }
}
