//! COGNITO_USER_POOLS authorizers: the `Authorization` header holds a user pool's JWT (with or
//! without `Bearer `), verified against the pool's keys ([`crate::dataplane::jwt`]) and cached
//! per token for the authorizer's TTL (never past the token's expiry), as AWS caches them. A method
//! without authorizationScopes takes ID tokens; one with scopes takes access tokens carrying one
//! of them, as AWS documents. The token's claims become `$context.authorizer.claims.*` and its
//! `sub` the principal. Every refusal is AWS's 401; keys that cannot be fetched its 500.

use std::sync::Arc;

use super::Verdict;
use crate::compiler::authorizers::UserPool;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::identity::Authorization;
use crate::dataplane::jwt::{self, Expected, JwtError};
use crate::dataplane::state::DataPlane;

/// Verifies the token in `header` (signature, issuer, times): its verdict, which [`admit`]
/// then holds against the method (and again for each method while it is cached).
pub async fn verify(dp: &DataPlane, pools: &[UserPool], header: &str) -> Result<Verdict, GatewayError> {
    let token = header.strip_prefix("Bearer ").unwrap_or(header).trim();
    let refused = |e: JwtError| GatewayError::unauthorized().caused_by(Side::Client, e);
    let iss = jwt::issuer_of(token).map_err(refused)?;
    let issuer = pools
        .iter()
        .map(|p| dp.aws.user_pool_issuer(&p.region, &p.id))
        .find(|i| *i == iss)
        .ok_or_else(|| refused(JwtError::Issuer))?;
    let unreachable = |why: String| GatewayError::authorizer_configuration().caused_by(Side::Backend, why);
    let mut keys = dp
        .shared
        .issuers
        .keys(&dp.http, &issuer, false)
        .await
        .map_err(unreachable)?;
    if let Err(JwtError::UnknownKey) = jwt::key_for(token, &keys) {
        // The pool may have rotated its keys since they were fetched.
        keys = dp
            .shared
            .issuers
            .keys(&dp.http, &issuer, true)
            .await
            .map_err(unreachable)?;
    }
    let (key, alg) = jwt::key_for(token, &keys).map_err(refused)?;
    let claims = jwt::verify_signature(token, key, alg, &issuer).map_err(refused)?;
    Ok(Verdict {
        authorization: Arc::new(Authorization {
            principal_id: claims.get("sub").and_then(|s| s.as_str()).map(str::to_owned),
            context: vec![],
            claims: Some(claims),
            usage_identifier_key: None,
        }),
        policy: None,
    })
}

/// Whether a verified token still admits its holder to a method with `scopes`: not expired, an
/// ID token for a method without scopes, an access token with one of them for one with some.
pub fn admit(verdict: &Verdict, scopes: &[String]) -> Result<(), GatewayError> {
    let claims = verdict
        .authorization
        .claims
        .as_ref()
        .ok_or_else(GatewayError::unauthorized)?;
    let expected = Expected {
        issuer: "",
        audiences: &[],
        token_use: if scopes.is_empty() { &["id"] } else { &["access"] },
        scopes,
    };
    jwt::check(claims, &expected, jwt::now())
        .map_err(|e| GatewayError::unauthorized().caused_by(Side::Client, e))
}

/// How long a verified token may be cached: the authorizer's TTL, but never past its expiry.
pub fn cache_for(verdict: &Verdict, ttl: std::time::Duration) -> std::time::Duration {
    let exp = verdict
        .authorization
        .claims
        .as_ref()
        .and_then(|c| c.get("exp"))
        .and_then(|e| e.as_f64())
        .map_or(0, |e| e as u64);
    ttl.min(std::time::Duration::from_secs(exp.saturating_sub(jwt::now())))
}
