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
    if claim.session_token != caller.config.session_token {
        return Err(unknown());
    }
    if claim.auth.region != region {
        return Err(refused(crate::sigv4::invalid_signature(format!(
            "Credential should be scoped to a valid region. Expected '{region}'."
        ))));
    }
    if !claim.signed_with(&caller.config.secret_access_key) {
        return Err(refused(crate::sigv4::invalid_signature(MISMATCH)).caused_by(
            Side::Client,
            format!("signature mismatch for {}", claim.auth.access_key_id),
        ));
    }
    Ok(caller.clone())
}

/// A signature that is malformed, expired or does not verify: AWS's 403 with its message.
fn refused(e: SigV4Error) -> GatewayError {
    GatewayError::new(GatewayResponseType::InvalidSignature, 403, e.message)
}
