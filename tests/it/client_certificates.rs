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
