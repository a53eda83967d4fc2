//! Client certificates (`apigateway`): GenerateClientCertificate makes a real key pair and a
//! self-signed certificate (a TLS server can trust it); Get, GetClientCertificates with paging,
//! Update, Delete; a stage may name only a certificate that exists; tenants are apart.

use aws_sdk_apigateway::types::{Op, PatchOperation};

use crate::helpers::*;

#[tokio::test]
async fn client_certificates_are_generated_and_managed() {
    let app = spawn_app().await;
    let c = app.client();
    let made = c
        .generate_client_certificate()
        .description("for the orders backend")
        .tags("team", "blue")
        .send()
        .await
        .unwrap();
    let id = made.client_certificate_id().unwrap().to_owned();
    let pem = made.pem_encoded_certificate().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Its private key is kept sealed.
    let (stored,): (String,) = sqlx::query_as("SELECT private_key FROM client_certificates WHERE id = $1")
        .bind(&id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(
        stored.starts_with("sealed:") && !stored.contains("PRIVATE KEY"),
        "{stored}"
    );
    // A real certificate: rustls takes it as a trust anchor (as a backend demanding it would).
    let der = rustls::pki_types::CertificateDer::from(base64_body(pem));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).expect("a certificate a TLS server can trust");
    let (created, expires) = (made.created_date().unwrap(), made.expiration_date().unwrap());
    let days = (expires.secs() - created.secs()) / 86_400;
    assert!((364..=366).contains(&days), "{days}");
    let got = c
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.pem_encoded_certificate(), Some(pem));
    assert_eq!(got.description(), Some("for the orders backend"));
    assert_eq!(got.tags().unwrap()["team"], "blue");

    let updated = c
        .update_client_certificate()
        .client_certificate_id(&id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/description")
                .value("renamed")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("renamed"));
    let other = c.generate_client_certificate().send().await.unwrap();
    assert_ne!(other.pem_encoded_certificate(), Some(pem));
    let first = c.get_client_certificates().limit(1).send().await.unwrap();
    assert_eq!(first.items().len(), 1);
    let rest = c
        .get_client_certificates()
        .position(first.position().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert!(
        app.other_client()
            .get_client_certificates()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );

    // A stage names only a certificate that exists.
    let api = crate::dataplane::mock_api(&c, "dev").await;
    let name = |value: &str| {
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/clientCertificateId")
                    .value(value)
                    .build(),
            )
            .send()
    };
    let e = name("nope").await.unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid Client Certificate identifier specified".into()
        )
    );
    let stage = name(&id).await.unwrap();
    assert_eq!(stage.client_certificate_id(), Some(id.as_str()));
    // A certificate a stage uses is kept.
    let e = c
        .delete_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");

    c.delete_client_certificate()
        .client_certificate_id(other.client_certificate_id().unwrap())
        .send()
        .await
        .unwrap();
    let e = c
        .get_client_certificate()
        .client_certificate_id(other.client_certificate_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

/// The DER bytes of a PEM block.
fn base64_body(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

/// A stage naming a client certificate presents it to its HTTP backends: a backend that
/// demands it answers that stage, and refuses another stage of the same API.
#[tokio::test]
async fn a_stages_client_certificate_is_presented_to_its_backends() {
    use aws_sdk_apigateway::types::{IntegrationType, TlsConfig};

    let app = spawn_app().await;
    let c = app.client();
    let cert = c.generate_client_certificate().send().await.unwrap();
    let backend = crate::backends::tls_backend_demanding(Some(cert.pem_encoded_certificate().unwrap())).await;
    let (api, root) = create_api(&c, "mtls").await;
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("https://{backend}/secure"))
        // The backend's own certificate is self-signed.
        .tls_config(TlsConfig::builder().insecure_skip_verification(true).build())
        .send()
        .await
        .unwrap();
    for stage in ["prod", "plain"] {
        c.create_deployment()
            .rest_api_id(&api)
            .stage_name(stage)
            .send()
            .await
            .unwrap();
    }
    c.update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/clientCertificateId")
                .value(cert.client_certificate_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(
        stage_holds(&worker, &api, "prod", |s| s.client_identity.is_some()).await,
        "the worker knows the stage's certificate"
    );
    let http = invoker(&api, &worker);
    let res = http
        .get(invoke_url(&api, &worker, "prod", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"tls": true, "path": "/secure"})
    );
    let refused = http
        .get(invoke_url(&api, &worker, "plain", "/"))
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_server_error(), "{}", refused.status());
}
