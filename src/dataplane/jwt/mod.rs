//! JSON Web Tokens as API Gateway checks them (Cognito user pool authorizers now, HTTP APIs'
//! JWT authorizers later): the signature against the issuer's JWKS ([`keys`], fetched through
//! the issuer's OpenID discovery document and cached), then `iss`, `exp`, `nbf`, the audience
//! and scopes. The cryptography is `jsonwebtoken`'s (on ring). Only the asymmetric algorithms a
//! key set names are accepted: `alg: none` does not parse, HMAC is refused before any key is
//! looked at (an HMAC token "signed" with an RSA public key is the classic confusion), and a
//! key is used only with an algorithm of its own family (and its own `alg`, when it names one).

pub mod keys;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

pub use keys::{Issuers, KeySet};

/// Why a token was refused (every one is AWS's 401 Unauthorized; the reason is for logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    #[error("no key of the issuer has the token's kid")]
    UnknownKey,
    #[error("the token does not verify: {0}")]
    Invalid(String),
    #[error("the token's issuer is not trusted")]
    Issuer,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token is not of the use the method accepts")]
    TokenUse,
    #[error("the token has none of the method's scopes")]
    Scope,
}

/// What a token must be, besides well signed.
#[derive(Debug, Default)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    /// Accepted `aud` values (or Cognito access tokens' `client_id`); empty: any.
    pub audiences: &'a [String],
    /// Accepted `token_use` values (Cognito's `id` / `access`); empty: any.
    pub token_use: &'a [&'a str],
    /// The `scope` claim must name one of these; empty: no scope needed.
    pub scopes: &'a [String],
}

/// The unverified `iss` of `token`: which issuer's keys to verify it with.
pub fn issuer_of(token: &str) -> Result<String, JwtError> {
    use base64::Engine;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| JwtError::Malformed("fewer than three parts".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(e.to_string()))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|e| JwtError::Malformed(e.to_string()))?;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(JwtError::Issuer)
}

/// The key `token` names: its `kid` (or the set's only key, when the token names none).
pub fn key_for<'k>(token: &str, keys: &'k KeySet) -> Result<(&'k DecodingKey, Algorithm), JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
    if matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(JwtError::Algorithm(header.alg));
    }
    let key = keys
        .find(header.kid.as_deref(), header.alg)
        .ok_or(JwtError::UnknownKey)?;
    Ok((key, header.alg))
}

/// Verifies `token` with `key` and checks it is what `expected` says; its claims.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, JwtError> {
    let claims = verify_signature(token, key, alg, expected.issuer)?;
    check(&claims, expected, now())?;
    Ok(claims)
}

/// Verifies `token`'s signature with `key`, its issuer and its times (`exp`, `nbf`); its
/// claims, which [`check`] can then hold against a method's expectations as often as needed.
pub fn verify_signature(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    issuer: &str,
) -> Result<Map<String, Value>, JwtError> {
    let mut v = Validation::new(alg);
    v.leeway = 0;
    v.validate_nbf = true;
    v.validate_aud = false;
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "iss"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidIssuer => JwtError::Issuer,
            _ => JwtError::Invalid(e.to_string()),
        }
    })?;
    Ok(data.claims)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether verified `claims` are still valid at `now` and what `expected` says (audience,
/// token use, scopes): a cached token is held against every request's method.
pub fn check(claims: &Map<String, Value>, expected: &Expected<'_>, now: u64) -> Result<(), JwtError> {
    let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|t| t as u64);
    if time("exp").is_none_or(|exp| exp <= now) {
        return Err(JwtError::Invalid("the token has expired".into()));
    }
    if time("nbf").is_some_and(|nbf| nbf > now) {
        return Err(JwtError::Invalid("the token is not valid yet".into()));
    }
    if !expected.audiences.is_empty() {
        let mut auds = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        auds.extend(claims.get("client_id").and_then(Value::as_str));
        if !auds.iter().any(|a| expected.audiences.iter().any(|e| e == a)) {
            return Err(JwtError::Audience);
        }
    }
    if !expected.token_use.is_empty() {
        let token_use = claims
            .get("token_use")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !expected.token_use.contains(&token_use) {
            return Err(JwtError::TokenUse);
        }
    }
    if !expected.scopes.is_empty() {
        let scopes = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
        if !scopes.split(' ').any(|s| expected.scopes.iter().any(|e| e == s)) {
            return Err(JwtError::Scope);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
