//! Model: CreateModel, GetModel, GetModels, UpdateModel, DeleteModel (refused while a method uses
//! it), GetModelTemplate.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::{Listing, find_api, find_api_or};
use crate::domain::ids;
use crate::domain::rest_api::Model;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::resources::Tree;
use crate::store::{RowLock, StoreError, Tenant, methods, resources};

fn model_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model name specified: {name}"))
}

const EMPTY_SCHEMA: &str = "Model schema must have at least 1 property or array items defined";

/// A schema AWS accepts: present, non-blank, and (for JSON content types) a JSON object.
pub(crate) fn check_schema(schema: Option<&str>, content_type: &str) -> ApiResult<()> {
    let schema = schema
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request(EMPTY_SCHEMA))?;
    if content_type.contains("json") {
        match serde_json::from_str::<Value>(schema) {
            Ok(Value::Object(o)) if o.is_empty() => return Err(ApiError::bad_request(EMPTY_SCHEMA)),
            Ok(Value::Object(_)) => {}
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
                ));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateModelRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub schema: Option<String>,
    pub content_type: Option<String>,
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/models",
    operation_id = "CreateModel",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateModelRequest,
    responses((status = 201, description = "CreateModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateModelRequest>,
) -> ApiResult<(StatusCode, Json<Model>)> {
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Share).await?;
    let name = req
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Model name must be non-empty"))?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_request("Model name must be alphanumeric"));
    }
    let content_type = req
        .content_type
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "application/json".into());
    check_schema(req.schema.as_deref(), &content_type)?;
    let model = Model {
        id: ids::random_id(6),
        name: name.clone(),
        description: req.description.filter(|d| !d.is_empty()),
        schema: req.schema,
        content_type,
    };
    match docs::insert(&mut tx, Kind::Model, &api_id, &name, &model).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists(_)) => {
            return Err(ApiError::conflict("Model name already exists for this REST API"));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(model)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/models/{model_name}",
    operation_id = "GetModel",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("model_name" = String, Path)),
    responses((status = 200, description = "GetModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Model>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api_or(&mut conn, &tenant, &api_id, RowLock::None, || {
        model_not_found(&name)
    })
    .await?;
    Ok(Json(
        docs::get(&mut conn, Kind::Model, &api_id, &name, false)
            .await
            .or_not_found(|| model_not_found(&name))?,
    ))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/models",
    operation_id = "GetModels",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetModels succeeded", body = Listing<Model>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_models(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<Model>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::Model, &api_id, page).await?.into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/models/{model_name}",
    operation_id = "UpdateModel",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("model_name" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateModel succeeded", body = Model), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Model>> {
    let ops = patch::parse(body, "updateModelInput")?;
    let mut tx = app.store.begin().await?;
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Share, || {
        model_not_found(&name)
    })
    .await?;
    let mut model: Model = docs::get(&mut tx, Kind::Model, &api_id, &name, true)
        .await
        .or_not_found(|| model_not_found(&name))?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/description", Op::Replace) => model.description = patch::optional_string(op),
            ("/schema", Op::Replace) => {
                check_schema(op.value.as_deref(), &model.content_type)?;
                model.schema = op.value.clone();
            }
            (_, Op::Replace) => return Err(op.invalid_path(&["/description", "/schema"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    docs::update(&mut tx, Kind::Model, &api_id, &name, &model).await?;
    tx.commit().await?;
    Ok(Json(model))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/models/{model_name}",
    operation_id = "DeleteModel",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("model_name" = String, Path)),
    responses((status = 202, description = "DeleteModel succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_model(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    // Exclusive: no method may start using the model while we check that none does.
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Update, || {
        model_not_found(&name)
    })
    .await?;
    docs::get::<Model>(&mut tx, Kind::Model, &api_id, &name, true)
        .await
        .or_not_found(|| model_not_found(&name))?;
    let all = methods::all(&mut tx, &api_id).await?;
    if let Some((resource_id, method)) = all.iter().find(|(_, m)| {
        m.request_models.values().any(|v| v == &name)
            || m.method_responses
                .values()
                .any(|r| r.models().values().any(|v| v == &name))
    }) {
        let tree = Tree::new(resources::all(&mut tx, &api_id).await?);
        return Err(ApiError::conflict(format!(
            "Cannot delete model '{name}', is referenced in method request: {}/{}",
            tree.path_of(resource_id),
            method.http_method
        )));
    }
    docs::delete(&mut tx, Kind::Model, &api_id, &name).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Template {
    pub value: String,
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/models/{model_name}/default_template",
    operation_id = "GetModelTemplate",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("model_name" = String, Path)),
    responses((status = 200, description = "GetModelTemplate succeeded", body = Template), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_model_template(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Json<Template>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api_or(&mut conn, &tenant, &api_id, RowLock::None, || {
        model_not_found(&name)
    })
    .await?;
    let model: Model = docs::get(&mut conn, Kind::Model, &api_id, &name, false)
        .await
        .or_not_found(|| model_not_found(&name))?;
    let schema: Value = model
        .schema
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    Ok(Json(Template {
        value: mapping_template(&schema),
    }))
}

/// A starting mapping template for a JSON schema: every property read from `$inputRoot`.
pub fn mapping_template(schema: &Value) -> String {
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    render_value(schema, "$inputRoot", 0, &mut out);
    out
}

fn render_value(schema: &Value, expr: &str, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth + 1);
    let close = "  ".repeat(depth);
    // Deep or recursive schemas end in a plain reference rather than expanding forever.
    if depth > 8 {
        out.push_str(expr);
        return;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() || depth == 0 => {
            let props = schema.get("properties").and_then(Value::as_object);
            match props.filter(|p| !p.is_empty()) {
                None => out.push_str("{ }"),
                Some(props) => {
                    out.push_str("{\n");
                    let n = props.len();
                    for (i, (name, sub)) in props.iter().enumerate() {
                        out.push_str(&format!("{indent}\"{name}\" : "));
                        render_value(sub, &format!("{expr}.{name}"), depth + 1, out);
                        out.push_str(if i + 1 < n { ",\n" } else { "\n" });
                    }
                    out.push_str(&close);
                    out.push('}');
                }
            }
        }
        Some("array") => {
            let var = format!("$elem{depth}");
            out.push_str(&format!("[\n#foreach({var} in {expr})\n{indent}"));
            render_value(schema.get("items").unwrap_or(&Value::Null), &var, depth + 1, out);
            out.push_str(&format!("#if($foreach.hasNext),#end\n#end\n{close}]"));
        }
        Some("string") => out.push_str(&format!("\"{expr}\"")),
        Some(_) => out.push_str(expr),
        None => out.push_str(&format!("\"{expr}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_schema() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}
        });
        let t = mapping_template(&schema);
        assert!(t.starts_with("#set($inputRoot = $input.path('$'))\n{\n"));
        assert!(t.contains("\"name\" : \"$inputRoot.name\""));
        assert!(t.contains("\"age\" : $inputRoot.age"));
        assert!(t.contains("#foreach($elem1 in $inputRoot.tags)"));
        assert_eq!(
            mapping_template(&serde_json::json!({"type": "object"})),
            "#set($inputRoot = $input.path('$'))\n{ }"
        );
    }

    #[test]
    fn empty_schemas_are_refused() {
        assert_eq!(
            check_schema(None, "application/json").unwrap_err().message,
            EMPTY_SCHEMA
        );
        assert_eq!(
            check_schema(Some("{}"), "application/json").unwrap_err().message,
            EMPTY_SCHEMA
        );
        check_schema(Some(r#"{"type": "object"}"#), "application/json").unwrap();
        assert!(check_schema(Some("not json"), "application/json").is_err());
    }
}
