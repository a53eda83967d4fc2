//! HTTP APIs' JWT authorizers: the token (with or without `Bearer `) in the authorizer's
//! header must be signed by a key of the configured issuer (found through its OpenID discovery
//! document, [`crate::dataplane::jwt`]), name that issuer, be within its times and for one of
//! the configured audiences (`aud`, or `client_id` as Cognito's access tokens have it): else
//! 401. A route with authorization scopes needs a token whose `scope` (or `scp`) names one of
//! them: else 403. The claims and scopes reach the integration as `requestContext.authorizer.jwt`.

use std::sync::Arc;

use serde_json::Value;

use super::Verdict;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::identity::Authorization;
use crate::dataplane::jwt::{self, Expected, JwtError};
use crate::dataplane::state::DataPlane;

pub async fn verify(
    dp: &DataPlane,
    issuer: &str,
    audiences: &[String],
    header: &str,
    scopes: &[String],
) -> Result<Verdict, GatewayError> {
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim();
    let refused = |e: JwtError| GatewayError::unauthorized().caused_by(Side::Client, e);
    if jwt::issuer_of(token).map_err(refused)? != issuer {
        return Err(refused(JwtError::Issuer));
    }
    let unreachable = |why: String| GatewayError::internal().caused_by(Side::Backend, why);
    let mut keys = dp
        .shared
        .issuers
        .keys(&dp.http, issuer, false)
        .await
        .map_err(unreachable)?;
    if let Err(JwtError::UnknownKey) = jwt::key_for(token, &keys) {
        // The issuer may have rotated its keys since they were fetched.
        keys = dp
            .shared
            .issuers
            .keys(&dp.http, issuer, true)
            .await
            .map_err(unreachable)?;
    }
    let (key, alg) = jwt::key_for(token, &keys).map_err(refused)?;
    let claims = jwt::verify_signature(token, key, alg, issuer).map_err(refused)?;
    let expected = Expected {
        issuer,
        audiences,
        token_use: &[],
        scopes: &[],
    };
    jwt::check(&claims, &expected, jwt::now()).map_err(refused)?;
    if !scopes.is_empty()
        && !token_scopes(&claims)
            .iter()
            .any(|s| scopes.iter().any(|e| e == s))
    {
        return Err(GatewayError::access_denied("Forbidden").caused_by(Side::Client, JwtError::Scope));
    }
    Ok(Verdict {
        authorization: Arc::new(Authorization {
            principal_id: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            context: vec![],
            claims: Some(claims),
            usage_identifier_key: None,
        }),
        policy: None,
    })
}

/// The scopes a token holds: `scope` (space-separated, OAuth's) or `scp` (a list, or a string).
pub fn token_scopes(claims: &serde_json::Map<String, Value>) -> Vec<&str> {
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}
