//! VpcLink (REST APIs'): CreateVpcLink, GetVpcLink, GetVpcLinks, UpdateVpcLink,
//! DeleteVpcLink. A link is the tenant's; its target is one Network Load Balancer, by ARN. It
//! is `AVAILABLE` at once, and cannot be deleted while an integration of the tenant's REST APIs
//! names it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use crate::domain::ids;
use crate::domain::vpc_link::VpcLink;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, vpc_links};

const V1: &str = "V1";

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVpcLinkRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub target_arns: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// A page of links: AWS's `VpcLinks`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VpcLinkListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<VpcLink>,
}

pub fn vpc_link_not_found(_id: &str) -> ApiError {
    ApiError::not_found("Invalid Vpc Link identifier specified")
}

/// The tenant's REST API link `id`, when it is one.
pub async fn rest_link(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> ApiResult<Option<VpcLink>> {
    match vpc_links::get(conn, tenant, V1, id, lock).await {
        Ok(link) => Ok(Some(link)),
        Err(crate::store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("Name cannot be empty"));
    }
    if name.len() > 255 {
        return Err(ApiError::bad_request(
            "Invalid VPC link name: at most 255 characters",
        ));
    }
    Ok(())
}

/// A target AWS takes: one Network Load Balancer's ARN, of the tenant's own account and
/// region (a worker reaches every tenant's targets by the same map of ARNs).
fn check_targets(targets: &[String], tenant: &Tenant) -> ApiResult<()> {
    let [target] = targets else {
        return Err(ApiError::bad_request(
            "A VPC link has exactly one target: a Network Load Balancer's ARN",
        ));
    };
    if !target.starts_with("arn:") || target.splitn(6, ':').count() < 6 {
        return Err(ApiError::bad_request(format!(
            "Invalid ARN. ARN is not well formed {target}"
        )));
    }
    if !crate::domain::vpc_link::is_load_balancer_arn(target) {
        return Err(ApiError::bad_request(format!(
            "Invalid target ARN {target}: expected a Network Load Balancer (arn:aws:elasticloadbalancing:{{region}}:{{account}}:loadbalancer/net/{{name}}/{{id}})"
        )));
    }
    crate::management::apigatewayv2::integrations::check_owned("targetArns", target, tenant)
}

#[utoipa::path(
    post,
    path = "/vpclinks",
    operation_id = "CreateVpcLink",
    tag = "apigateway",
    request_body = CreateVpcLinkRequest,
    responses((status = 202, description = "CreateVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(req): AwsJson<CreateVpcLinkRequest>,
) -> ApiResult<(StatusCode, Json<VpcLink>)> {
    let name = req
        .name
        .ok_or_else(|| ApiError::bad_request("name is required"))?;
    check_name(&name)?;
    let target_arns = req
        .target_arns
        .ok_or_else(|| ApiError::bad_request("targetArns is required"))?;
    check_targets(&target_arns, &tenant)?;
    let tags = req.tags.unwrap_or_default();
    super::tags::check_tags(&tags)?;
    let link = VpcLink {
        id: ids::random_id(6),
        name,
        description: req.description,
        target_arns,
        status: "AVAILABLE".into(),
        status_message: Some("Your vpc link is ready for use".into()),
        tags: Some(tags),
    };
    let mut conn = app.store.pool().acquire().await?;
    vpc_links::insert(&mut conn, &tenant, V1, &link.id, &link).await?;
    // As AWS answers a link it has only begun to make.
    let made = VpcLink {
        status: "PENDING".into(),
        status_message: None,
        ..link
    };
    Ok((StatusCode::ACCEPTED, Json(made.without_empty_tags())))
}

#[utoipa::path(
    get,
    path = "/vpclinks/{vpclink_id}",
    operation_id = "GetVpcLink",
    tag = "apigateway",
    params(("vpclink_id" = String, Path)),
    responses((status = 200, description = "GetVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn get_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<Json<VpcLink>> {
    let mut conn = app.store.pool().acquire().await?;
    let link: VpcLink = vpc_links::get(&mut conn, &tenant, V1, &id, RowLock::None)
        .await
        .or_not_found(|| vpc_link_not_found(&id))?;
    Ok(Json(link.with_tags()))
}

#[utoipa::path(
    get,
    path = "/vpclinks",
    operation_id = "GetVpcLinks",
    tag = "apigateway",
    params(("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetVpcLinks succeeded", body = VpcLinkListing), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_vpc_links(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Pagination(page): Pagination,
) -> ApiResult<Json<VpcLinkListing>> {
    let mut conn = app.store.pool().acquire().await?;
    let found = vpc_links::list(&mut conn, &tenant, V1, page).await?;
    Ok(Json(VpcLinkListing {
        position: found.next.map(|n| n.to_string()),
        items: found.items.into_iter().map(VpcLink::without_empty_tags).collect(),
    }))
}

#[utoipa::path(
    patch,
    path = "/vpclinks/{vpclink_id}",
    operation_id = "UpdateVpcLink",
    tag = "apigateway",
    params(("vpclink_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateVpcLink succeeded", body = VpcLink), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn update_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<VpcLink>> {
    let ops = patch::parse(body, "updateVpcLinkInput")?;
    let mut tx = app.store.begin().await?;
    let mut link: VpcLink = vpc_links::get(&mut tx, &tenant, V1, &id, RowLock::Update)
        .await
        .or_not_found(|| vpc_link_not_found(&id))?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/name", Op::Replace) => {
                let name = op.required_value()?;
                check_name(name)?;
                link.name = name.to_owned();
            }
            ("/description", Op::Replace) => link.description = patch::optional_string(op),
            (_, Op::Replace) => return Err(op.invalid_path(&["/name", "/description"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    vpc_links::update(&mut tx, &id, &link).await?;
    tx.commit().await?;
    Ok(Json(link.with_tags()))
}

#[utoipa::path(
    delete,
    path = "/vpclinks/{vpclink_id}",
    operation_id = "DeleteVpcLink",
    tag = "apigateway",
    params(("vpclink_id" = String, Path)),
    responses((status = 202, description = "DeleteVpcLink succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(vpc_link.id = %id))]
pub async fn delete_vpc_link(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let _: VpcLink = vpc_links::get(&mut tx, &tenant, V1, &id, RowLock::Update)
        .await
        .or_not_found(|| vpc_link_not_found(&id))?;
    let using = vpc_links::rest_integrations_using(&mut tx, &tenant, &id).await?;
    if let Some((api, resource, method)) = using.first() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{method}:{resource}:{api}] in format [Method:Resource:Api]."
        )));
    }
    vpc_links::delete(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
