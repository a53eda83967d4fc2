//! COGNITO_USER_POOLS authorizers: the `Authorization` header holds a user pool's JWT (with or
//! without `Bearer `), verified against the pool's keys ([`crate::dataplane::jwt`]). A method
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

pub async fn ask(
    dp: &DataPlane,
    pools: &[UserPool],
    header: &str,
    scopes: &[String],
) -> Result<Verdict, GatewayError> {
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
    let expected = Expected {
        issuer: &issuer,
        audiences: &[],
        token_use: if scopes.is_empty() { &["id"] } else { &["access"] },
        scopes,
    };
    let claims = jwt::verify(token, key, alg, &expected).map_err(refused)?;
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
