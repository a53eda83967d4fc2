//! GetSdkTypes, GetSdkType, GetSdk: Gatehouse generates no client SDKs. It lists no SDK
//! types, and answers AWS's NotFound for any SDK type it is asked for (after the API and
//! stage named, which must exist).

use axum::Json;
use axum::extract::{Extension, Path, State};

use super::Listing;
use super::paging::Pagination;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::store::{RowLock, Tenant};

/// An SDK type, as GetSdkType would show it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkType {
    pub id: String,
    pub friendly_name: String,
    pub description: String,
}

fn sdk_type_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid SDK type identifier specified: {id}. Gatehouse generates no client SDKs"
    ))
}

#[utoipa::path(
    get,
    path = "/sdktypes",
    operation_id = "GetSdkTypes",
    tag = "apigateway",
    params(("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetSdkTypes succeeded", body = Listing<SdkType>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_sdk_types(page: Pagination) -> ApiResult<Json<Listing<SdkType>>> {
    // Paging is checked (a bad `limit` is refused) though there is nothing to page.
    let _ = page;
    Ok(Json(Listing {
        position: None,
        items: vec![],
    }))
}

#[utoipa::path(
    get,
    path = "/sdktypes/{sdktype_id}",
    operation_id = "GetSdkType",
    tag = "apigateway",
    params(("sdktype_id" = String, Path)),
    responses((status = 200, description = "GetSdkType succeeded", body = SdkType), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_sdk_type(Path(id): Path<String>) -> ApiResult<Json<SdkType>> {
    Err(sdk_type_not_found(&id))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/stages/{stage_name}/sdks/{sdk_type}",
    operation_id = "GetSdk",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("stage_name" = String, Path), ("sdk_type" = String, Path)),
    responses((status = 200, description = "GetSdk succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_sdk(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, stage, sdk_type)): Path<(String, String, String)>,
) -> ApiResult<Json<SdkType>> {
    let mut conn = app.store.pool().acquire().await?;
    super::find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    crate::store::stages::get::<crate::domain::stage::Stage>(&mut conn, &api_id, &stage, false)
        .await
        .or_not_found(super::stages::stage_not_found)?;
    Err(sdk_type_not_found(&sdk_type))
}
