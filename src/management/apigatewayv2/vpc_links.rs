//! VpcLink: CreateVpcLink, GetVpcLink, GetVpcLinks, UpdateVpcLink, DeleteVpcLink. A link is
//! the tenant's (not an API's); HTTP APIs' private integrations name it (`connectionType:
//! VPC_LINK`, `connectionId`), and a link such an integration names cannot be deleted. Where a
//! link's targets are is the workers' to know (README: "Private integrations").

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::{Items, Paging, check_len};
use crate::domain::http_api::{VpcLink, iso_now};
use crate::domain::ids;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, vpc_links};

const V2: &str = "V2";

/// CreateVpcLink's body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVpcLinkInput {
    pub name: Option<String>,
    pub security_group_ids: Option<Vec<String>>,
    pub subnet_ids: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// UpdateVpcLink's body: a link's name is all that changes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVpcLinkInput {
    pub name: Option<String>,
}

pub fn vpc_link_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid VpcLink identifier specified {id}"))
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Invalid name: it must not be empty"));
    }
    check_len("name", name, 128)
}

/// The tenant's v2 link `id`.
pub async fn find_vpc_link(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> ApiResult<VpcLink> {
    vpc_links::get(conn, tenant, V2, id, lock)
        .await
        .or_not_found(|| vpc_link_not_found(id))
}

#[utoipa::path(
    post,
    path = "/v2/vpclinks",
    operation_id = "CreateVpcLinkV2",
    tag = "apigatewayv2",
    request_body = CreateVpcLinkInput,
    responses((status = 201, description = "CreateVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(input): AwsJson<CreateVpcLinkInput>,
) -> ApiResult<(StatusCode, Json<VpcLink>)> {
    let name = input
        .name
        .ok_or_else(|| ApiError::bad_request("name is required"))?;
    check_name(&name)?;
    let subnet_ids = input.subnet_ids.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::bad_request("subnetIds is required: a VPC link spans at least one subnet")
    })?;
    let security_group_ids = input.security_group_ids.unwrap_or_default();
    let tags = input.tags.unwrap_or_default();
    crate::management::apigateway::tags::check_tags(&tags)?;
    for id in subnet_ids.iter().chain(&security_group_ids) {
        if id.is_empty() || id.len() > 64 {
            return Err(ApiError::bad_request(format!(
                "Invalid subnet or security group id {id:?}"
            )));
        }
    }
    let link = VpcLink {
        vpc_link_id: ids::random_id(6),
        name,
        created_date: iso_now(),
        security_group_ids,
        subnet_ids,
        tags,
        vpc_link_status: "AVAILABLE".into(),
        vpc_link_status_message: Some("VPC link is ready to route traffic".into()),
        vpc_link_version: V2.into(),
    };
    let mut conn = app.store.pool().acquire().await?;
    vpc_links::insert(&mut conn, &tenant, V2, &link.vpc_link_id, &link).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

#[utoipa::path(
    get,
    path = "/v2/vpclinks/{vpcLinkId}",
    operation_id = "GetVpcLinkV2",
    tag = "apigatewayv2",
    params(("vpcLinkId" = String, Path)),
    responses((status = 200, description = "GetVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn get_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<Json<VpcLink>> {
    let mut conn = app.store.pool().acquire().await?;
    Ok(Json(find_vpc_link(&mut conn, &tenant, &id, RowLock::None).await?))
}

#[utoipa::path(
    get,
    path = "/v2/vpclinks",
    operation_id = "GetVpcLinksV2",
    tag = "apigatewayv2",
    params(("nextToken" = Option<String>, Query), ("maxResults" = Option<String>, Query)),
    responses((status = 200, description = "GetVpcLinks succeeded", body = Items<VpcLink>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_vpc_links(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Paging(page): Paging,
) -> ApiResult<Json<Items<VpcLink>>> {
    let mut conn = app.store.pool().acquire().await?;
    Ok(Json(vpc_links::list(&mut conn, &tenant, V2, page).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/v2/vpclinks/{vpcLinkId}",
    operation_id = "UpdateVpcLinkV2",
    tag = "apigatewayv2",
    params(("vpcLinkId" = String, Path)),
    request_body = UpdateVpcLinkInput,
    responses((status = 200, description = "UpdateVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn update_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(input): AwsJson<UpdateVpcLinkInput>,
) -> ApiResult<Json<VpcLink>> {
    let mut tx = app.store.begin().await?;
    let mut link = find_vpc_link(&mut tx, &tenant, &id, RowLock::Update).await?;
    if let Some(name) = input.name {
        check_name(&name)?;
        link.name = name;
    }
    vpc_links::update(&mut tx, &id, &link).await?;
    tx.commit().await?;
    Ok(Json(link))
}

#[utoipa::path(
    delete,
    path = "/v2/vpclinks/{vpcLinkId}",
    operation_id = "DeleteVpcLinkV2",
    tag = "apigatewayv2",
    params(("vpcLinkId" = String, Path)),
    responses((status = 202, description = "DeleteVpcLink accepted"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn delete_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mut tx = app.store.begin().await?;
    find_vpc_link(&mut tx, &tenant, &id, RowLock::Update).await?;
    let users = vpc_links::integrations_using(&mut tx, &tenant, &id).await?;
    if !users.is_empty() {
        let named: Vec<String> = users.iter().map(|(api, i)| format!("{api}:{i}")).collect();
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of [ApiId:IntegrationId].",
            named.join(", ")
        )));
    }
    vpc_links::delete(&mut tx, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({}))))
}
