//! RequestValidator: Create, Get, GetRequestValidators, Update, Delete.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::{Listing, find_api, find_api_or};
use crate::domain::ids;
use crate::domain::rest_api::RequestValidator;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, Tenant, methods};

fn validator_not_found() -> ApiError {
    ApiError::not_found("Invalid Request Validator identifier specified")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestValidatorRequest {
    pub name: Option<String>,
    pub validate_request_body: Option<bool>,
    pub validate_request_parameters: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/requestvalidators",
    operation_id = "CreateRequestValidator",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    request_body = CreateRequestValidatorRequest,
    responses((status = 201, description = "CreateRequestValidator succeeded", body = RequestValidator), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_request_validator(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    AwsJson(req): AwsJson<CreateRequestValidatorRequest>,
) -> ApiResult<(StatusCode, Json<RequestValidator>)> {
    let mut tx = app.store.begin().await?;
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Share, || {
        ApiError::bad_request("Invalid REST API identifier specified")
    })
    .await?;
    let validator = RequestValidator {
        id: ids::random_id(6),
        name: req.name.unwrap_or_default(),
        validate_request_body: req.validate_request_body.unwrap_or(false),
        validate_request_parameters: req.validate_request_parameters.unwrap_or(false),
    };
    docs::insert(
        &mut tx,
        Kind::RequestValidator,
        &api_id,
        &validator.id,
        &validator,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(validator)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/requestvalidators/{requestvalidator_id}",
    operation_id = "GetRequestValidator",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("requestvalidator_id" = String, Path)),
    responses((status = 200, description = "GetRequestValidator succeeded", body = RequestValidator), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_request_validator(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<Json<RequestValidator>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api_or(&mut conn, &tenant, &api_id, RowLock::None, validator_not_found).await?;
    Ok(Json(
        docs::get(&mut conn, Kind::RequestValidator, &api_id, &id, false)
            .await
            .or_not_found(validator_not_found)?,
    ))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/requestvalidators",
    operation_id = "GetRequestValidators",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetRequestValidators succeeded", body = Listing<RequestValidator>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_request_validators(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
) -> ApiResult<Json<Listing<RequestValidator>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(
        docs::list(&mut conn, Kind::RequestValidator, &api_id, page)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/requestvalidators/{requestvalidator_id}",
    operation_id = "UpdateRequestValidator",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("requestvalidator_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateRequestValidator succeeded", body = RequestValidator), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_request_validator(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<RequestValidator>> {
    let ops = patch::parse(body, "updateRequestValidatorInput")?;
    let mut tx = app.store.begin().await?;
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Share, validator_not_found).await?;
    let mut v: RequestValidator = docs::get(&mut tx, Kind::RequestValidator, &api_id, &id, true)
        .await
        .or_not_found(validator_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/name", Op::Replace) => {
                v.name = op
                    .value
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| ApiError::bad_request("Request Validator name cannot be blank"))?;
            }
            // AWS treats a missing value as false for the two flags.
            ("/validateRequestBody", Op::Replace) => {
                v.validate_request_body = patch::map_bool(op.value.as_deref())?
            }
            ("/validateRequestParameters", Op::Replace) => {
                v.validate_request_parameters = patch::map_bool(op.value.as_deref())?;
            }
            (_, Op::Replace) => {
                return Err(op.invalid_path(&[
                    "/name",
                    "/validateRequestParameters",
                    "/validateRequestBody",
                ]));
            }
            _ => return Err(op.unsupported_op()),
        }
    }
    docs::update(&mut tx, Kind::RequestValidator, &api_id, &id, &v).await?;
    tx.commit().await?;
    Ok(Json(v))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/requestvalidators/{requestvalidator_id}",
    operation_id = "DeleteRequestValidator",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("requestvalidator_id" = String, Path)),
    responses((status = 202, description = "DeleteRequestValidator succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_request_validator(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    find_api_or(&mut tx, &tenant, &api_id, RowLock::Update, validator_not_found).await?;
    docs::delete(&mut tx, Kind::RequestValidator, &api_id, &id)
        .await
        .or_not_found(validator_not_found)?;
    // Methods that used it stop validating, as in AWS.
    for (resource_id, mut m) in methods::all(&mut tx, &api_id).await? {
        if m.request_validator_id.as_deref() == Some(id.as_str()) {
            m.request_validator_id = None;
            methods::put(&mut tx, &api_id, &resource_id, &m).await?;
        }
    }
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
