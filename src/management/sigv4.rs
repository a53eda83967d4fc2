//! SigV4 verification of management calls: the middleware that checks every call's signature
//! against the stored credentials ([`crate::sigv4`] does the protocol) and hands the handler
//! the caller's tenant.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::sigv4::{Claim, MISMATCH, SigV4Error, SignedRequest, invalid_signature};
use crate::store::{Tenant, credentials};

/// The service name a signature's credential scope must carry.
pub const SERVICE: &str = "apigateway";

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        ApiError::forbidden(e.kind, e.message)
    }
}

/// Middleware: buffers the body (bounded), verifies the signature, and hands the handler the
/// caller's [`Tenant`] (account of the key, region of the credential scope).
pub async fn authenticate(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, app.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                format!("Request body exceeds the limit of {} bytes", app.max_body_bytes),
            )
            .into_response();
        }
    };
    match verify(&app, &parts, &bytes).await {
        Ok(tenant) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(tenant);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn verify(app: &AppState, parts: &axum::http::request::Parts, body: &[u8]) -> Result<Tenant, ApiError> {
    let payload_hash = hex::encode(Sha256::digest(body));
    let request = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        payload_hash: &payload_hash,
    };
    let Some(claim) = Claim::read(&request, SERVICE, chrono::Utc::now())? else {
        return Err(ApiError::forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let mut conn = app.store.pool().acquire().await?;
    let credential = credentials::get(&mut conn, &claim.auth.access_key_id)
        .await?
        .ok_or_else(|| {
            ApiError::forbidden(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    drop(conn);
    if !claim.signed_with(&credential.secret_access_key) {
        tracing::debug!(access_key.id = %claim.auth.access_key_id, "signature mismatch");
        return Err(invalid_signature(MISMATCH).into());
    }
    Ok(Tenant {
        account_id: credential.account_id,
        region: claim.auth.region,
    })
}
