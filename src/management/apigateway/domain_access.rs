//! DomainNameAccessAssociation (Create, GetDomainNameAccessAssociations, Delete, Reject): a
//! VPC endpoint's access to a private custom domain of the same account. Stored and answered
//! with AWS's shapes; Gatehouse serves no private APIs, so nothing routes by them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::Deserialize;

use super::Listing;
use super::paging::Pagination;
use crate::domain::domain_name::DomainNameAccessAssociation;
use crate::management::AppState;
use crate::management::domains::find_domain;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::{RowLock, StoreError, Tenant, domain_names as store};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainNameAccessAssociationRequest {
    pub domain_name_arn: Option<String>,
    pub access_association_source_type: Option<String>,
    pub access_association_source: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

fn association_not_found() -> ApiError {
    ApiError::not_found("Invalid domain name access association identifier specified")
}

/// The tenant's private domain `arn` names (`arn:aws:apigateway:{region}:{account}:/domainnames/{name}+{id}`).
async fn private_domain(conn: &mut sqlx::PgConnection, tenant: &Tenant, arn: &str) -> ApiResult<()> {
    let prefix = format!(
        "arn:aws:apigateway:{}:{}:/domainnames/",
        tenant.region, tenant.account_id
    );
    let (name, id) = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split_once('+'))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid domain name ARN: {arn}. It must name a private domain name of this account"
            ))
        })?;
    let d = find_domain(conn, tenant, name, RowLock::None).await?;
    if d.domain_name_id.as_deref() != Some(id) {
        return Err(crate::management::domains::domain_not_found());
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/domainnameaccessassociations",
    operation_id = "CreateDomainNameAccessAssociation",
    tag = "apigateway",
    request_body = CreateDomainNameAccessAssociationRequest,
    responses((status = 201, description = "CreateDomainNameAccessAssociation succeeded", body = DomainNameAccessAssociation), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn create_domain_name_access_association(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(req): AwsJson<CreateDomainNameAccessAssociationRequest>,
) -> ApiResult<(StatusCode, Json<DomainNameAccessAssociation>)> {
    let domain_arn = req
        .domain_name_arn
        .ok_or_else(|| ApiError::bad_request("domainNameArn is required"))?;
    let kind = req.access_association_source_type.unwrap_or_default();
    if kind != "VPCE" {
        return Err(ApiError::validation(&[format!(
            "Value '{kind}' at 'accessAssociationSourceType' failed to satisfy constraint: Member must satisfy enum value set: [VPCE]"
        )]));
    }
    let source = req.access_association_source.unwrap_or_default();
    if !source.starts_with("vpce-") || source.len() > 64 {
        return Err(ApiError::bad_request(format!(
            "Invalid accessAssociationSource: {source}. It must be a VPC endpoint id (vpce-...)"
        )));
    }
    let tags = req.tags.unwrap_or_default();
    super::tags::check_tags(&tags)?;
    let mut tx = app.store.begin().await?;
    private_domain(&mut tx, &tenant, &domain_arn).await?;
    let name_and_id = domain_arn.rsplit_once("/domainnames/").map_or("", |(_, n)| n);
    let association = DomainNameAccessAssociation {
        domain_name_access_association_arn: format!(
            "arn:aws:apigateway:{}:{}:/domainnameaccessassociations/domainname/{name_and_id}/vpcesource/{source}",
            tenant.region, tenant.account_id
        ),
        domain_name_arn: domain_arn,
        access_association_source_type: kind,
        access_association_source: source,
        tags,
    };
    match store::insert_association(&mut tx, &tenant, &association).await {
        Err(StoreError::AlreadyExists(_)) => {
            return Err(ApiError::conflict(
                "The domain name access association already exists",
            ));
        }
        other => other?,
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(association)))
}

#[utoipa::path(
    get,
    path = "/domainnameaccessassociations",
    operation_id = "GetDomainNameAccessAssociations",
    tag = "apigateway",
    params(("position" = Option<String>, Query), ("limit" = Option<i32>, Query), ("resourceOwner" = Option<String>, Query)),
    responses((status = 200, description = "GetDomainNameAccessAssociations succeeded", body = Listing<DomainNameAccessAssociation>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_domain_name_access_associations(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Pagination(page): Pagination,
    uri: http::Uri,
) -> ApiResult<Json<Listing<DomainNameAccessAssociation>>> {
    // Associations are of the account's own domains: none is another account's.
    let others = form_pairs(uri.query().unwrap_or(""))
        .into_iter()
        .any(|(k, v)| k == "resourceOwner" && v == "OTHER_ACCOUNTS");
    if others {
        return Ok(Json(Listing {
            position: None,
            items: vec![],
        }));
    }
    let mut conn = app.store.pool().acquire().await?;
    Ok(Json(store::associations(&mut conn, &tenant, page).await?.into()))
}

#[utoipa::path(
    delete,
    path = "/domainnameaccessassociations/{domain_name_access_association_arn}",
    operation_id = "DeleteDomainNameAccessAssociation",
    tag = "apigateway",
    params(("domain_name_access_association_arn" = String, Path)),
    responses((status = 202, description = "DeleteDomainNameAccessAssociation succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn delete_domain_name_access_association(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(arn): Path<String>,
) -> ApiResult<StatusCode> {
    let mut conn = app.store.pool().acquire().await?;
    store::delete_association(&mut conn, &tenant, &arn, None)
        .await
        .or_not_found(association_not_found)?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(
    post,
    path = "/rejectdomainnameaccessassociations",
    operation_id = "RejectDomainNameAccessAssociation",
    tag = "apigateway",
    params(("domainNameAccessAssociationArn" = String, Query), ("domainNameArn" = String, Query)),
    responses((status = 202, description = "RejectDomainNameAccessAssociation succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn reject_domain_name_access_association(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    uri: http::Uri,
) -> ApiResult<StatusCode> {
    let query: BTreeMap<String, String> = form_pairs(uri.query().unwrap_or("")).into_iter().collect();
    let (Some(arn), Some(domain_arn)) = (
        query.get("domainNameAccessAssociationArn"),
        query.get("domainNameArn"),
    ) else {
        return Err(ApiError::bad_request(
            "domainNameAccessAssociationArn and domainNameArn are required",
        ));
    };
    let mut conn = app.store.pool().acquire().await?;
    store::delete_association(&mut conn, &tenant, arn, Some(domain_arn))
        .await
        .or_not_found(association_not_found)?;
    Ok(StatusCode::ACCEPTED)
}
