//! AWS_IAM callers: the request's SigV4 signature (the `Authorization` header or a presigned
//! URL, scoped to `execute-api` and the API's region, within 15 minutes of the clock, with its
//! session token for temporary credentials) verified with the shared verifier
//! ([`crate::sigv4`]) against the callers the control plane streams to workers. Failures are
//! AWS's 403s with AWS's messages.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::dataplane::config::{Caller, RuntimeConfig};
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::request::MethodRequest;
use crate::domain::enums::GatewayResponseType;
use crate::sigv4::{Claim, MISMATCH, SigV4Error, SignedRequest};

/// The service execute-api signatures are scoped to.
const SERVICE: &str = "execute-api";

/// The caller who signed the request.
pub fn caller(
    config: &RuntimeConfig,
    request: &MethodRequest<'_>,
    raw_path: &str,
    body: &[u8],
    region: &str,
    routed_host: Option<&str>,
) -> Result<Arc<Caller>, GatewayError> {
    let payload_hash = hex::encode(Sha256::digest(body));
    let signed = SignedRequest {
        method: request.method.as_str(),
        path: raw_path,
        query: request.raw_query.as_deref().unwrap_or(""),
        headers: request.headers(),
        payload_hash: &payload_hash,
    };
    let claim = match Claim::read(&signed, SERVICE, chrono::Utc::now()) {
        Ok(Some(claim)) => claim,
        Ok(None) => return Err(GatewayError::missing_token()),
        Err(e) => return Err(refused(e)),
    };
    let unknown = || {
        GatewayError::new(
            GatewayResponseType::InvalidSignature,
            403,
            "The security token included in the request is invalid.",
        )
    };
    let caller = config.caller(&claim.auth.access_key_id).ok_or_else(unknown)?;
    // The signature first: nothing else is said about a key before its holder is proven.
    if !claim.signed_with(&caller.config.secret_access_key) {
        return Err(refused(crate::sigv4::invalid_signature(MISMATCH)).caused_by(
            Side::Client,
            format!("signature mismatch for {}", claim.auth.access_key_id),
        ));
    }
    // Compared as digests, in time independent of where they differ.
    let token_matches = match (&claim.session_token, &caller.config.session_token) {
        (None, None) => true,
        (Some(sent), Some(kept)) => Sha256::digest(sent) == Sha256::digest(kept),
        _ => false,
    };
    if !token_matches {
        return Err(unknown());
    }
    if claim.auth.region != region {
        return Err(refused(crate::sigv4::invalid_signature(format!(
            "Credential should be scoped to a valid region. Expected '{region}'."
        ))));
    }
    // The signed Host must be the one the request was routed by (an absolute-form target
    // names its own): a signature for one API is not replayed against another.
    let signed_host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    if routed_host.is_some_and(|routed| signed_host != Some(routed)) {
        return Err(refused(crate::sigv4::invalid_signature(
            "The signed Host is not the host the request was sent to.",
        )));
    }
    Ok(caller.clone())
}

/// A signature that is malformed, expired or does not verify: AWS's 403 with its message.
fn refused(e: SigV4Error) -> GatewayError {
    GatewayError::new(GatewayResponseType::InvalidSignature, 403, e.message)
}
