//! Model: CreateModel, GetModel, GetModels, UpdateModel, DeleteModel, GetModelTemplate. A
//! model is a JSON schema with a name unique in its API; its schema is checked as
//! `apigateway`'s models are, and its template made by the same code.

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::{Items, Paging, check_len, find_api};
use crate::domain::http_api::Model;
use crate::domain::ids;
use crate::management::AppState;
use crate::management::apigateway::models::{check_schema, mapping_template};
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant};

/// CreateModel's and UpdateModel's body (UpdateModel: what it names changes).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelInput {
    pub content_type: Option<String>,
    pub description: Option<String>,
    pub name: Option<String>,
    pub schema: Option<String>,
}

fn model_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model identifier specified {id}"))
}

fn apply(m: &mut Model, input: ModelInput) -> ApiResult<()> {
    if let Some(n) = input.name {
        if n.is_empty() || n.len() > 128 || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad_request(
                "Invalid model name: 1 to 128 letters and digits",
            ));
        }
        m.name = n;
    }
    if let Some(d) = input.description {
        check_len("description", &d, 1024)?;
        m.description = Some(d);
    }
    if let Some(c) = input.content_type {
        m.content_type = Some(c);
    }
    if let Some(s) = input.schema {
        check_len("schema", &s, 32_768)?;
        m.schema = Some(s);
    }
    let content_type = m.content_type.as_deref().unwrap_or("application/json");
    check_schema(m.schema.as_deref(), content_type)
}

async fn save(conn: &mut sqlx::PgConnection, api_id: &str, m: &Model, new: bool) -> ApiResult<()> {
    let saved = if new {
        docs::insert(conn, Kind::ApiModel, api_id, &m.model_id, m).await
    } else {
        docs::update(conn, Kind::ApiModel, api_id, &m.model_id, m).await
    };
    match saved {
        Err(StoreError::AlreadyExists(_)) => Err(ApiError::conflict(format!(
            "Model name already exists for this API: {}",
            m.name
        ))),
        other => Ok(other?),
    }
}

#[utoipa::path(
    post,
    path = "/v2/apis/{apiId}/models",
    operation_id = "CreateModelV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path)),
    request_body = ModelInput,
    responses((status = 201, description = "CreateModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(input): AwsJson<ModelInput>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    if input.name.is_none() || input.schema.is_none() {
        return Err(ApiError::bad_request("name and schema are required"));
    }
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut model = Model {
        model_id: ids::random_id(6),
        name: String::new(),
        content_type: None,
        description: None,
        schema: None,
    };
    apply(&mut model, input)?;
    save(&mut tx, &api_id, &model, true).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(model)))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/models/{modelId}",
    operation_id = "GetModelV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("modelId" = String, Path)),
    responses((status = 200, description = "GetModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Model>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let model = docs::get(&mut conn, Kind::ApiModel, &api_id, &id, false)
        .await
        .or_not_found(|| model_not_found(&id))?;
    Ok(Json(model))
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/models",
    operation_id = "GetModelsV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetModels succeeded", body = Items<Model>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_models(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<Model>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::ApiModel, &api_id, page).await?.into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/v2/apis/{apiId}/models/{modelId}",
    operation_id = "UpdateModelV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("modelId" = String, Path)),
    request_body = ModelInput,
    responses((status = 200, description = "UpdateModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(input): AwsJson<ModelInput>,
) -> ApiResult<Json<Model>> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut model: Model = docs::get(&mut tx, Kind::ApiModel, &api_id, &id, true)
        .await
        .or_not_found(|| model_not_found(&id))?;
    apply(&mut model, input)?;
    save(&mut tx, &api_id, &model, false).await?;
    tx.commit().await?;
    Ok(Json(model))
}

#[utoipa::path(
    delete,
    path = "/v2/apis/{apiId}/models/{modelId}",
    operation_id = "DeleteModelV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("modelId" = String, Path)),
    responses((status = 204, description = "DeleteModel succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    docs::delete(&mut tx, Kind::ApiModel, &api_id, &id)
        .await
        .or_not_found(|| model_not_found(&id))?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GetModelTemplate's answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TemplateValue {
    pub value: String,
}

#[utoipa::path(
    get,
    path = "/v2/apis/{apiId}/models/{modelId}/template",
    operation_id = "GetModelTemplateV2",
    tag = "apigatewayv2",
    params(("apiId" = String, Path), ("modelId" = String, Path)),
    responses((status = 200, description = "GetModelTemplate succeeded", body = TemplateValue), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_model_template(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<TemplateValue>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let model: Model = docs::get(&mut conn, Kind::ApiModel, &api_id, &id, false)
        .await
        .or_not_found(|| model_not_found(&id))?;
    let schema = model
        .schema
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok(Json(TemplateValue {
        value: mapping_template(&schema),
    }))
}
