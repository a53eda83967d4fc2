//! Fixtures for `scripts/bench-authorizers.sh`:
//! - `auth_fixtures issuer DIR URL`: an OpenID issuer at URL as static files under DIR
//!   (`.well-known/openid-configuration`, `jwks`), and prints an ID token it signed (ES256);
//! - `auth_fixtures sigv4 URL KEY SECRET`: prints the headers that sign `GET URL` for
//!   execute-api in us-east-1 now (valid for 15 minutes), one `Name: value` per line.

use std::time::SystemTime;

use base64::Engine;
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("issuer") => issuer(&args[2], &args[3]),
        Some("sigv4") => sigv4(&args[2], &args[3], &args[4]),
        _ => eprintln!("usage: auth_fixtures issuer DIR URL | sigv4 URL KEY SECRET"),
    }
}

fn issuer(dir: &str, url: &str) {
    let pair = rcgen::KeyPair::generate().unwrap();
    let raw = pair.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                                "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}]});
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir.join(".well-known")).unwrap();
    std::fs::write(dir.join("jwks"), jwks.to_string()).unwrap();
    let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
    std::fs::write(
        dir.join(".well-known/openid-configuration"),
        discovery.to_string(),
    )
    .unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let claims = json!({"iss": url, "sub": "bench-user", "token_use": "id", "aud": "bench", "exp": exp});
    println!("{}", jsonwebtoken::encode(&header, &claims, &key).unwrap());
}

fn sigv4(url: &str, key: &str, secret: &str) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let creds = aws_credential_types::Credentials::new(key, secret, None, None, "bench");
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
    let signable = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    for (name, value) in instructions.headers() {
        println!("{name}: {value}");
    }
}
