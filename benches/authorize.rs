//! What authorization costs a request, piece by piece (no I/O): verifying a SigV4 signature
//! (AWS_IAM methods), verifying an ES256 JWT with a cached key (user pool authorizers),
//! evaluating a Lambda authorizer's policy against a method ARN, and finding a cached verdict.
//! The end-to-end figures (throughput with and without an authorizer) come from
//! `scripts/bench-authorizers.sh`.
//!
//! `cargo bench --bench authorize`

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::dataplane::authorizer::{AuthorizerCache, Verdict};
use gatehouse::dataplane::identity::Authorization;
use gatehouse::dataplane::jwt::{self, Expected, KeySet};
use gatehouse::iam::{Caller, Policy, Request};
use gatehouse::sigv4::{Claim, SignedRequest};
use serde_json::json;

const URL: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/pets/42?limit=10";

/// A GET signed by the AWS SDK's signer, as a client of an AWS_IAM method sends it.
fn signed_headers() -> http::HeaderMap {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let creds = aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "bench");
    let identity: aws_smithy_runtime_api::client::identity::Identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", "abc123defg.execute-api.us-east-1.amazonaws.com"),
        ("user-agent", "bench/1.0"),
        ("accept", "application/json"),
    ];
    let signable = SignableRequest::new("GET", URL, headers.into_iter(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(k, v.parse().unwrap());
    }
    for (k, v) in instructions.headers() {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

fn sigv4(c: &mut Criterion) {
    let headers = signed_headers();
    let empty = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b""));
    c.bench_function("sigv4: read and verify a signed GET", |b| {
        b.iter(|| {
            let req = SignedRequest {
                method: "GET",
                path: "/dev/pets/42",
                query: "limit=10",
                headers: &headers,
                payload_hash: &empty,
            };
            let claim = Claim::read(&req, "execute-api", chrono::Utc::now())
                .unwrap()
                .unwrap();
            assert!(claim.signed_with("secret"));
        })
    });
}

fn jwt(c: &mut Criterion) {
    let pair = rcgen::KeyPair::generate().unwrap();
    let raw = pair.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                                "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}]});
    let keys = KeySet::parse(jwks.to_string().as_bytes()).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let claims = json!({"iss": "https://issuer", "sub": "u1", "token_use": "id", "exp": exp,
                        "email": "a@example.com", "cognito:groups": ["admin"]});
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let expected = Expected {
        issuer: "https://issuer",
        token_use: &["id"],
        ..Default::default()
    };
    c.bench_function("jwt: verify an ES256 ID token with a cached key", |b| {
        b.iter(|| {
            assert_eq!(jwt::issuer_of(&token).unwrap(), "https://issuer");
            let (k, alg) = jwt::key_for(&token, &keys).unwrap();
            jwt::verify(&token, k, alg, &expected).unwrap()
        })
    });
}

fn policy_and_cache(c: &mut Criterion) {
    let policy = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/GET/pets/*"},
            {"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/*/admin/*"}]}"#,
    )
    .unwrap();
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/GET/pets/42";
    c.bench_function("policy: evaluate an authorizer's policy for a method ARN", |b| {
        b.iter(|| {
            policy.evaluate(&Request {
                caller: Caller::Anonymous,
                action: "execute-api:Invoke",
                resource: arn,
                keys: &|_| None,
            })
        })
    });
    let cache = AuthorizerCache::default();
    let key = "10:abc123defg3:dev1:06:auth015:Bearer abc.def".to_owned();
    let verdict = Arc::new(Verdict {
        authorization: Arc::new(Authorization::default()),
        policy: Some(policy.clone()),
    });
    cache.put(key.clone(), verdict, Duration::from_secs(300));
    c.bench_function("cache: find a cached verdict", |b| {
        b.iter(|| cache.get(&key).unwrap())
    });
}

criterion_group!(benches, sigv4, jwt, policy_and_cache);
criterion_main!(benches);
