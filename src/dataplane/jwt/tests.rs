use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;

const ISSUER: &str = "https://issuer.example";

/// A P-256 key pair: its private key for signing, and a JWKS naming it `kid`.
fn key_pair(kid: &str) -> (EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate().unwrap();
    let raw = pair.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                     "x": b64(&raw[1..33]), "y": b64(&raw[33..65])});
    (
        EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap(),
        jwk,
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(key: &EncodingKey, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

fn claims() -> Value {
    json!({"iss": ISSUER, "sub": "u1", "aud": "client-1", "token_use": "id", "exp": now() + 300})
}

fn check(t: &str, keys: &KeySet, expected: &Expected<'_>) -> Result<Map<String, Value>, JwtError> {
    let (key, alg) = key_for(t, keys)?;
    verify(t, key, alg, expected)
}

fn set(jwks: &[Value]) -> KeySet {
    KeySet::parse(json!({"keys": jwks}).to_string().as_bytes()).unwrap()
}

#[test]
fn a_well_signed_token_gives_its_claims_and_the_checks_hold() {
    let (sk, jwk) = key_pair("k1");
    let keys = set(&[jwk]);
    let audiences = ["client-1".to_owned()];
    let expected = Expected {
        issuer: ISSUER,
        audiences: &audiences,
        token_use: &["id"],
        scopes: &[],
    };
    let claims = check(&token(&sk, "k1", claims()), &keys, &expected).unwrap();
    assert_eq!(claims["sub"], "u1");
    assert_eq!(
        issuer_of(&token(&sk, "k1", claims.clone().into())).unwrap(),
        ISSUER
    );

    let mut other = super::tests::claims();
    other["aud"] = json!("client-2");
    assert_eq!(
        check(&token(&sk, "k1", other), &keys, &expected),
        Err(JwtError::Audience)
    );
    let mut access = super::tests::claims();
    access["token_use"] = json!("access");
    assert_eq!(
        check(&token(&sk, "k1", access), &keys, &expected),
        Err(JwtError::TokenUse)
    );
    let mut foreign = super::tests::claims();
    foreign["iss"] = json!("https://evil.example");
    assert_eq!(
        check(&token(&sk, "k1", foreign), &keys, &expected),
        Err(JwtError::Issuer)
    );
}

#[test]
fn expired_and_future_tokens_are_refused() {
    let (sk, jwk) = key_pair("k1");
    let keys = set(&[jwk]);
    let expected = Expected {
        issuer: ISSUER,
        ..Default::default()
    };
    let mut expired = claims();
    expired["exp"] = json!(now() - 5);
    assert!(matches!(
        check(&token(&sk, "k1", expired), &keys, &expected),
        Err(JwtError::Invalid(_))
    ));
    let mut future = claims();
    future["nbf"] = json!(now() + 120);
    assert!(matches!(
        check(&token(&sk, "k1", future), &keys, &expected),
        Err(JwtError::Invalid(_))
    ));
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(check(&token(&sk, "k1", no_exp), &keys, &expected).is_err());
}

#[test]
fn scopes_need_one_match() {
    let (sk, jwk) = key_pair("k1");
    let keys = set(&[jwk]);
    let scopes = ["pets/read".to_owned()];
    let expected = Expected {
        issuer: ISSUER,
        scopes: &scopes,
        ..Default::default()
    };
    let mut c = claims();
    c["scope"] = json!("openid pets/read");
    assert!(check(&token(&sk, "k1", c.clone()), &keys, &expected).is_ok());
    c["scope"] = json!("pets/readwrite");
    assert_eq!(
        check(&token(&sk, "k1", c), &keys, &expected),
        Err(JwtError::Scope)
    );
}

#[test]
fn forged_tokens_are_refused_none_hmac_unknown_kid_tampered() {
    let (sk, jwk) = key_pair("k1");
    let keys = set(std::slice::from_ref(&jwk));
    let expected = Expected {
        issuer: ISSUER,
        ..Default::default()
    };
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let body = b64(&claims().to_string());

    let none = format!("{}.{body}.", b64(r#"{"alg":"none","kid":"k1"}"#));
    assert!(matches!(
        check(&none, &keys, &expected),
        Err(JwtError::Malformed(_))
    ));

    // HMAC "signed" with the public key's text, the classic confusion.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let hmac = jsonwebtoken::encode(
        &header,
        &claims(),
        &EncodingKey::from_secret(jwk.to_string().as_bytes()),
    )
    .unwrap();
    assert_eq!(
        check(&hmac, &keys, &expected),
        Err(JwtError::Algorithm(Algorithm::HS256))
    );

    assert_eq!(
        check(&token(&sk, "k2", claims()), &keys, &expected),
        Err(JwtError::UnknownKey)
    );

    // Another key's signature under this kid.
    let (other, _) = key_pair("k1");
    assert!(matches!(
        check(&token(&other, "k1", claims()), &keys, &expected),
        Err(JwtError::Invalid(_))
    ));

    // A payload changed after signing.
    let good = token(&sk, "k1", claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = claims();
    changed["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&changed.to_string()), parts[2]);
    assert!(matches!(
        check(&tampered, &keys, &expected),
        Err(JwtError::Invalid(_))
    ));
}

#[test]
fn symmetric_and_encryption_keys_are_not_signing_keys() {
    let (_, mut jwk) = key_pair("k1");
    let keys = set(&[json!({"kty": "oct", "k": "c2VjcmV0", "kid": "s"}), {
        jwk["use"] = json!("enc");
        jwk
    }]);
    assert!(keys.is_empty());
}
