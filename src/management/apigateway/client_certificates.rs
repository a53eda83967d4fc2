//! ClientCertificate: GenerateClientCertificate (a new ECDSA P-256 key pair and a self-signed
//! certificate, valid a year), GetClientCertificate, GetClientCertificates, Update (its
//! description), Delete. A stage's `clientCertificateId` makes its HTTP and HTTP_PROXY
//! integrations present the certificate to their backends.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use crate::domain::client_certificate::{ClientCertificate, generate};
use crate::domain::{ids, now};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::AwsJson;
use crate::store::{RowLock, Tenant, client_certificates as store};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateClientCertificateRequest {
    pub description: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// A page of certificates: AWS's `ClientCertificates`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientCertificateListing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<ClientCertificate>,
}

pub fn certificate_not_found() -> ApiError {
    ApiError::not_found("Invalid Client Certificate identifier specified")
}

/// The tenant's certificate `id` exists, or AWS's 404 (for stages that name one).
pub async fn ensure_certificate(conn: &mut sqlx::PgConnection, tenant: &Tenant, id: &str) -> ApiResult<()> {
    store::get(conn, tenant, id, RowLock::None)
        .await
        .or_not_found(certificate_not_found)?;
    Ok(())
}

#[utoipa::path(
    post,
    path = "/clientcertificates",
    operation_id = "GenerateClientCertificate",
    tag = "apigateway",
    request_body = GenerateClientCertificateRequest,
    responses((status = 201, description = "GenerateClientCertificate succeeded", body = ClientCertificate), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn generate_client_certificate(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(req): AwsJson<GenerateClientCertificateRequest>,
) -> ApiResult<(StatusCode, Json<ClientCertificate>)> {
    let tags = req.tags.unwrap_or_default();
    super::tags::check_tags(&tags)?;
    let id = ids::random_id(6);
    let created = now();
    let (pem, private_key, expires) = generate(&id, created).map_err(|e| {
        tracing::error!(error = %e, "cannot generate a client certificate");
        ApiError::internal()
    })?;
    let cert = ClientCertificate {
        client_certificate_id: id,
        description: req.description.filter(|d| !d.is_empty()),
        pem_encoded_certificate: pem,
        created_date: created,
        expiration_date: expires,
        tags,
    };
    let mut conn = app.store.pool().acquire().await?;
    store::insert(&mut conn, &tenant, &cert, &app.sealer, &private_key).await?;
    Ok((StatusCode::CREATED, Json(cert)))
}

#[utoipa::path(
    get,
    path = "/clientcertificates/{clientcertificate_id}",
    operation_id = "GetClientCertificate",
    tag = "apigateway",
    params(("clientcertificate_id" = String, Path)),
    responses((status = 200, description = "GetClientCertificate succeeded", body = ClientCertificate), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(client_certificate.id = %id))]
pub async fn get_client_certificate(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientCertificate>> {
    let mut conn = app.store.pool().acquire().await?;
    let cert = store::get(&mut conn, &tenant, &id, RowLock::None)
        .await
        .or_not_found(certificate_not_found)?;
    Ok(Json(cert))
}

#[utoipa::path(
    get,
    path = "/clientcertificates",
    operation_id = "GetClientCertificates",
    tag = "apigateway",
    params(("position" = Option<String>, Query), ("limit" = Option<i32>, Query)),
    responses((status = 200, description = "GetClientCertificates succeeded", body = ClientCertificateListing), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_client_certificates(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Pagination(page): Pagination,
) -> ApiResult<Json<ClientCertificateListing>> {
    let mut conn = app.store.pool().acquire().await?;
    let found = store::list(&mut conn, &tenant, page).await?;
    Ok(Json(ClientCertificateListing {
        position: found.next.map(|n| n.to_string()),
        items: found.items,
    }))
}

#[utoipa::path(
    patch,
    path = "/clientcertificates/{clientcertificate_id}",
    operation_id = "UpdateClientCertificate",
    tag = "apigateway",
    params(("clientcertificate_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateClientCertificate succeeded", body = ClientCertificate), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(client_certificate.id = %id))]
pub async fn update_client_certificate(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<ClientCertificate>> {
    let ops = patch::parse(body, "updateClientCertificateInput")?;
    let mut tx = app.store.begin().await?;
    let mut cert = store::get(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(certificate_not_found)?;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/description", Op::Replace) => cert.description = patch::optional_string(op),
            (_, Op::Replace) => return Err(op.invalid_path(&["/description"])),
            _ => return Err(op.unsupported_op()),
        }
    }
    store::update(&mut tx, &cert).await?;
    tx.commit().await?;
    Ok(Json(cert))
}

#[utoipa::path(
    delete,
    path = "/clientcertificates/{clientcertificate_id}",
    operation_id = "DeleteClientCertificate",
    tag = "apigateway",
    params(("clientcertificate_id" = String, Path)),
    responses((status = 202, description = "DeleteClientCertificate succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(client_certificate.id = %id))]
pub async fn delete_client_certificate(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    // A stage still presenting it would go on presenting a deleted key: refused.
    store::get(&mut tx, &tenant, &id, RowLock::Update)
        .await
        .or_not_found(certificate_not_found)?;
    if let Some((api, stage)) = store::stage_using(&mut tx, &tenant, &id).await? {
        return Err(ApiError::bad_request(format!(
            "Cannot delete client certificate {id}: stage {stage} of API {api} uses it"
        )));
    }
    store::delete(&mut tx, &tenant, &id)
        .await
        .or_not_found(certificate_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
