//! GatewayResponse: Put, Get (AWS's default when not customised), GetGatewayResponses (every
//! type), Update, Delete.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sqlx::PgConnection;

use super::patch::{self, Op, PatchBody};
use super::{Listing, find_api};
use crate::domain::enums::GatewayResponseType;
use crate::domain::rest_api::{DEFAULT_GATEWAY_TEMPLATE, GatewayResponse, is_valid_status_code};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult};
use crate::management::extract::AwsJson;
use crate::store::api_documents::{self as docs, Kind};
use crate::store::{RowLock, StoreError, Tenant};

fn parse_type(raw: &str) -> ApiResult<GatewayResponseType> {
    GatewayResponseType::parse(raw).ok_or_else(|| {
        ApiError::validation(&[format!(
            "Value '{raw}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            GatewayResponseType::choices()
        )])
    })
}

async fn customised(
    conn: &mut PgConnection,
    api_id: &str,
) -> ApiResult<BTreeMap<GatewayResponseType, GatewayResponse>> {
    let all: Vec<GatewayResponse> = docs::all(conn, Kind::GatewayResponse, api_id).await?;
    Ok(all.into_iter().map(|r| (r.response_type, r)).collect())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutGatewayResponseRequest {
    pub status_code: Option<String>,
    pub response_parameters: Option<BTreeMap<String, String>>,
    pub response_templates: Option<BTreeMap<String, String>>,
}

fn check_status(code: Option<&str>) -> ApiResult<()> {
    match code {
        Some(c) if !is_valid_status_code(c) => Err(ApiError::validation(&[format!(
            "Value '{c}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
        )])),
        _ => Ok(()),
    }
}

#[utoipa::path(
    put,
    path = "/restapis/{restapi_id}/gatewayresponses/{response_type}",
    operation_id = "PutGatewayResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("response_type" = String, Path)),
    request_body = PutGatewayResponseRequest,
    responses((status = 201, description = "PutGatewayResponse succeeded", body = GatewayResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn put_gateway_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, raw_type)): Path<(String, String)>,
    AwsJson(req): AwsJson<PutGatewayResponseRequest>,
) -> ApiResult<(StatusCode, Json<GatewayResponse>)> {
    let kind = parse_type(&raw_type)?;
    check_status(req.status_code.as_deref())?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Share).await?;
    let response = GatewayResponse {
        response_type: kind,
        status_code: req
            .status_code
            .filter(|s| !s.is_empty())
            .or_else(|| kind.default_status().map(str::to_owned)),
        response_parameters: req.response_parameters.unwrap_or_default(),
        response_templates: req.response_templates.unwrap_or_else(|| {
            BTreeMap::from([("application/json".to_owned(), DEFAULT_GATEWAY_TEMPLATE.to_owned())])
        }),
        default_response: false,
    };
    docs::put(&mut tx, Kind::GatewayResponse, &api_id, kind.as_str(), &response).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/gatewayresponses/{response_type}",
    operation_id = "GetGatewayResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("response_type" = String, Path)),
    responses((status = 200, description = "GetGatewayResponse succeeded", body = GatewayResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_gateway_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, raw_type)): Path<(String, String)>,
) -> ApiResult<Json<GatewayResponse>> {
    let kind = parse_type(&raw_type)?;
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    Ok(Json(GatewayResponse::effective(
        kind,
        &customised(&mut conn, &api_id).await?,
    )))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/gatewayresponses",
    operation_id = "GetGatewayResponses",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetGatewayResponses succeeded", body = Listing<GatewayResponse>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_gateway_responses(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
) -> ApiResult<Json<Listing<GatewayResponse>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let custom = customised(&mut conn, &api_id).await?;
    let mut types = GatewayResponseType::ALL.to_vec();
    types.sort_by_key(|t| t.as_str());
    // All 21 types fit in one page; AWS answers them alphabetically.
    let items = types
        .into_iter()
        .map(|t| GatewayResponse::effective(t, &custom))
        .collect();
    Ok(Json(Listing {
        position: None,
        items,
    }))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/gatewayresponses/{response_type}",
    operation_id = "UpdateGatewayResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("response_type" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateGatewayResponse succeeded", body = GatewayResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_gateway_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, raw_type)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<GatewayResponse>> {
    let kind = parse_type(&raw_type)?;
    let ops = patch::parse(body, "updateGatewayResponseInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Share).await?;
    // Updating a type that was never put customises it, starting from what it shows now.
    let custom = customised(&mut tx, &api_id).await?;
    let mut r = GatewayResponse::effective(kind, &custom);
    r.default_response = false;
    for op in &ops {
        let segs = op.segments();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if op.path.is_empty() {
            return Err(ApiError::bad_request("Invalid patch path null"));
        }
        match (segs.as_slice(), op.op) {
            (["statusCode"], Op::Replace) => {
                check_status(op.value.as_deref())?;
                r.status_code = patch::optional_string(op);
            }
            (["responseParameters", name], o) => {
                if o == Op::Replace && !r.response_parameters.contains_key(*name) {
                    return Err(ApiError::not_found("Invalid parameter name specified"));
                }
                if o != Op::Remove && op.value.as_deref().is_none_or(str::is_empty) {
                    return Err(ApiError::bad_request(
                        "Invalid null or empty value in responseParameters",
                    ));
                }
                patch::patch_map(&mut r.response_parameters, op, name, patch::map_string)?;
            }
            (["responseTemplates", ct], o) => {
                if o != Op::Remove && op.value.is_none() {
                    return Err(ApiError::bad_request(
                        "Invalid null or empty value in responseTemplates",
                    ));
                }
                patch::patch_map(&mut r.response_templates, op, ct, patch::map_string)?;
            }
            _ => return Err(op.bad_path()),
        }
    }
    docs::put(&mut tx, Kind::GatewayResponse, &api_id, kind.as_str(), &r).await?;
    tx.commit().await?;
    Ok(Json(r))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/gatewayresponses/{response_type}",
    operation_id = "DeleteGatewayResponse",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("response_type" = String, Path)),
    responses((status = 202, description = "DeleteGatewayResponse succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_gateway_response(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, raw_type)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let kind = parse_type(&raw_type)?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Share).await?;
    match docs::delete(&mut tx, Kind::GatewayResponse, &api_id, kind.as_str()).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found("Gateway response type not defined on api"));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
