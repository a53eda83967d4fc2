//! Custom domain names: `apigateway`'s DomainName and BasePathMapping and `apigatewayv2`'s
//! DomainName and ApiMapping (one domain seen through both), with AWS's shapes and errors; and
//! workers routing requests by Host to the mapping with the longest base path.

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, Op, SecurityPolicy};
use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, ProtocolType};
use serde_json::Value;

use crate::helpers::*;

fn regional_cert() -> String {
    format!("arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a1b2c3d")
}

fn regional() -> EndpointConfiguration {
    EndpointConfiguration::builder()
        .types(EndpointType::Regional)
        .build()
}

#[tokio::test]
async fn rest_domain_names_are_managed_as_aws_manages_them() {
    let app = spawn_app().await;
    let c = app.client();
    let created = c
        .create_domain_name()
        .domain_name("API.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .security_policy(SecurityPolicy::Tls12)
        .tags("team", "edge")
        .send()
        .await
        .unwrap();
    assert_eq!(created.domain_name(), Some("api.example.com"));
    let regional_name = created.regional_domain_name().unwrap();
    assert!(
        regional_name.starts_with("d-") && regional_name.ends_with(".execute-api.us-east-1.amazonaws.com"),
        "{regional_name}"
    );
    assert_eq!(created.regional_hosted_zone_id(), Some("Z1UJRXOUMOOFQ8"));
    assert_eq!(created.regional_certificate_arn(), Some(regional_cert().as_str()));
    assert_eq!(
        created.domain_name_status(),
        Some(&aws_sdk_apigateway::types::DomainNameStatus::Available)
    );
    assert_eq!(
        created.endpoint_configuration().unwrap().types(),
        [EndpointType::Regional]
    );
    assert_eq!(created.tags().unwrap()["team"], "edge");
    assert!(created.certificate_upload_date().is_some());

    let got = c
        .get_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(got.regional_domain_name(), created.regional_domain_name());
    let listed = c.get_domain_names().send().await.unwrap();
    assert_eq!(listed.items().len(), 1);

    // An edge domain, by default, with its certificate in us-east-1.
    let edge = c
        .create_domain_name()
        .domain_name("edge.example.com")
        .certificate_arn(regional_cert())
        .send()
        .await
        .unwrap();
    assert_eq!(
        edge.endpoint_configuration().unwrap().types(),
        [EndpointType::Edge]
    );
    assert!(
        edge.distribution_domain_name()
            .unwrap()
            .ends_with(".cloudfront.net")
    );
    assert_eq!(edge.distribution_hosted_zone_id(), Some("Z2FDTNDATAQYW2"));

    let updated = c
        .update_domain_name()
        .domain_name("api.example.com")
        .patch_operations(patch_op(Op::Replace, "/securityPolicy", Some("TLS_1_0")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.security_policy(), Some(&SecurityPolicy::Tls10));

    // What AWS refuses.
    let taken = c
        .create_domain_name()
        .domain_name("api.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(taken),
        (
            "BadRequestException".into(),
            "The domain name you provided already exists.".into()
        )
    );
    // A name is the fleet's: another account cannot have it either.
    let elsewhere = app
        .other_client()
        .create_domain_name()
        .domain_name("api.example.com")
        .regional_certificate_arn(regional_cert().replace(ACCOUNT, OTHER_ACCOUNT))
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(elsewhere).0, "BadRequestException");
    let foreign = c
        .create_domain_name()
        .domain_name("b.example.com")
        .regional_certificate_arn(regional_cert().replace(ACCOUNT, OTHER_ACCOUNT))
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(foreign).1,
        "Cross-account certificate references are not allowed."
    );
    let wrong_region = c
        .create_domain_name()
        .domain_name("b.example.com")
        .regional_certificate_arn(regional_cert().replace(REGION, "eu-west-1"))
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert!(
        err_of(wrong_region)
            .1
            .ends_with("Certificate must be in 'us-east-1'.")
    );
    let no_cert = c
        .create_domain_name()
        .domain_name("b.example.com")
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(no_cert).0, "BadRequestException");
    let bad_name = c
        .create_domain_name()
        .domain_name("not a name")
        .certificate_arn(regional_cert())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(bad_name).0, "BadRequestException");
    let unknown = c
        .get_domain_name()
        .domain_name("nope.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(unknown),
        (
            "NotFoundException".into(),
            "Invalid domain name identifier specified".into()
        )
    );
    // Another tenant sees none of it.
    let theirs = app.other_client().get_domain_names().send().await.unwrap();
    assert!(theirs.items().is_empty());
    // Nor can it take names under a wildcard domain of this account, or the other way round.
    c.create_domain_name()
        .domain_name("*.shop.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap();
    let under = app
        .other_client()
        .create_domain_name()
        .domain_name("pay.shop.example.com")
        .regional_certificate_arn(regional_cert().replace(ACCOUNT, OTHER_ACCOUNT))
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert!(err_of(under).1.contains("another account"));
    let over = app
        .other_client()
        .create_domain_name()
        .domain_name("*.example.com")
        .regional_certificate_arn(regional_cert().replace(ACCOUNT, OTHER_ACCOUNT))
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert!(err_of(over).1.contains("another account"));
    c.create_domain_name()
        .domain_name("pay.shop.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .send()
        .await
        .expect("a name under the account's own wildcard");

    // Tags by the domain's ARN.
    let arn = format!("arn:aws:apigateway:{REGION}::/domainnames/api.example.com");
    c.tag_resource()
        .resource_arn(&arn)
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()["env"], "prod");

    c.delete_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let gone = c
        .get_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(gone).0, "NotFoundException");
}

#[tokio::test]
async fn base_path_mappings_and_api_mappings_are_one_thing() {
    let app = spawn_app().await;
    let c = app.client();
    let v2 = app.v2_client();
    let api = TestApi::create(&c, "shop").await;
    api.mock("/pets", "GET", "{}").await.deploy("prod").await;
    c.create_domain_name()
        .domain_name("api.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap();

    let none = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .rest_api_id(&api.id)
        .stage("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(none.base_path(), Some("(none)"));
    let v1 = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .rest_api_id(&api.id)
        .stage("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(v1.base_path(), Some("v1"));
    let got = c
        .get_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("(none)")
        .send()
        .await
        .unwrap();
    assert_eq!(got.rest_api_id(), Some(api.id.as_str()));

    // What AWS refuses of v1.
    let taken = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .rest_api_id(&api.id)
        .stage("prod")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(taken),
        (
            "ConflictException".into(),
            "Base path already exists for this domain name".into()
        )
    );
    let slash = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1/orders")
        .rest_api_id(&api.id)
        .send()
        .await
        .unwrap_err();
    assert!(
        err_of(slash)
            .1
            .starts_with("API Gateway V1 doesn't support the slash character")
    );
    let unknown_api = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("x")
        .rest_api_id("nope000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(unknown_api),
        (
            "BadRequestException".into(),
            "Invalid REST API identifier specified".into()
        )
    );
    let unknown_stage = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("x")
        .rest_api_id(&api.id)
        .stage("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(unknown_stage).1, "Invalid stage identifier specified");
    let unknown_path = c
        .get_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("zzz")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(unknown_path),
        (
            "NotFoundException".into(),
            "Invalid base path mapping identifier specified".into()
        )
    );
    let http = v2
        .create_api()
        .name("orders")
        .protocol_type(ProtocolType::Http)
        .target("http://127.0.0.1:9")
        .send()
        .await
        .unwrap();
    let http_id = http.api_id().unwrap();
    let mixing = c
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("orders")
        .rest_api_id(http_id)
        .stage("$default")
        .send()
        .await
        .unwrap_err();
    assert!(err_of(mixing).1.starts_with("Mixing of REST APIs and HTTP APIs"));

    // v2 sees v1's mappings, and maps HTTP APIs with keys of several levels.
    let seen = v2
        .get_api_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = seen.items().iter().filter_map(|m| m.api_mapping_key()).collect();
    assert_eq!(keys, ["", "v1"]);
    let orders = v2
        .create_api_mapping()
        .domain_name("api.example.com")
        .api_id(http_id)
        .stage("$default")
        .api_mapping_key("orders/v2")
        .send()
        .await
        .unwrap();
    assert_eq!(orders.api_mapping_key(), Some("orders/v2"));
    let dup = v2
        .create_api_mapping()
        .domain_name("api.example.com")
        .api_id(http_id)
        .stage("$default")
        .api_mapping_key("orders/v2")
        .send()
        .await
        .unwrap_err();
    let meta = dup.as_service_error().unwrap();
    assert_eq!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::message(meta),
        Some("ApiMapping key already exists for this domain name")
    );
    let bad_key = v2
        .create_api_mapping()
        .domain_name("api.example.com")
        .api_id(http_id)
        .stage("$default")
        .api_mapping_key("orders//v2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(bad_key.as_service_error().unwrap()),
        Some("BadRequestException")
    );
    let listed = c
        .get_base_path_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let paths: Vec<&str> = listed.items().iter().filter_map(|m| m.base_path()).collect();
    assert_eq!(paths, ["(none)", "v1", "orders/v2"]);

    let id = orders.api_mapping_id().unwrap();
    let moved = v2
        .update_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(id)
        .api_id(http_id)
        .api_mapping_key("orders/v3")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.api_mapping_key(), Some("orders/v3"));
    let renamed = c
        .update_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .patch_operations(patch_op(Op::Replace, "/basePath", Some("v9")))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.base_path(), Some("v9"));
    c.delete_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v9")
        .send()
        .await
        .unwrap();
    v2.delete_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(id)
        .send()
        .await
        .unwrap();
    let left = v2
        .get_api_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(left.items().len(), 1);

    // v2 lists the REGIONAL domains alone, pages full.
    c.create_domain_name()
        .domain_name("edge-listed.example.com")
        .certificate_arn(regional_cert())
        .send()
        .await
        .unwrap();
    let listed = v2.get_domain_names().max_results("1").send().await.unwrap();
    assert_eq!(listed.items().len(), 1);
    assert_eq!(listed.items()[0].domain_name(), Some("api.example.com"));
    assert!(
        listed.next_token().is_none(),
        "the EDGE domain is no page of v2's"
    );

    // The v2 view of the domain; EDGE domains are v1's alone.
    let d = v2
        .get_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(d.api_mapping_selection_expression(), Some("$request.basepath"));
    let config = &d.domain_name_configurations()[0];
    assert_eq!(config.certificate_arn(), Some(regional_cert().as_str()));
    assert!(config.api_gateway_domain_name().unwrap().starts_with("d-"));
    let edge = v2
        .create_domain_name()
        .domain_name("edge.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(regional_cert())
                .endpoint_type(aws_sdk_apigatewayv2::types::EndpointType::Edge)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::message(edge.as_service_error().unwrap())
            .unwrap()
            .starts_with("Only REGIONAL domain names")
    );
    let again = v2
        .create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(regional_cert())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(again.as_service_error().unwrap()),
        Some("ConflictException")
    );
    // Deleting the domain deletes its mappings.
    v2.delete_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let gone = v2
        .get_api_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(gone.as_service_error().unwrap()),
        Some("NotFoundException")
    );
}

/// A client that sends every request to `worker`, whatever host its URL names.
fn to_worker(worker: &gatehouse::server::Worker, hosts: &[&str]) -> reqwest::Client {
    let mut b = reqwest::Client::builder().no_proxy();
    for h in hosts {
        b = b.resolve(h, worker.addr);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn workers_route_a_custom_domain_by_its_longest_base_path() {
    let app = spawn_app().await;
    let c = app.client();
    let v2 = app.v2_client();
    let worker = app.start_worker(None, None).await;
    let backend = crate::backends::echo_backend().await;
    let api = TestApi::create(&c, "shop").await;
    let context = r#"{"path": "$context.path", "resourcePath": "$context.resourcePath", "stage": "$context.stage", "domainName": "$context.domainName", "domainPrefix": "$context.domainPrefix", "basePath": "$context.customDomain.basePathMatched"}"#;
    api.mock("/pets", "GET", context).await;
    api.mock("/", "GET", context).await;
    api.deploy("prod").await;
    let http = v2
        .create_api()
        .name("orders")
        .protocol_type(ProtocolType::Http)
        .target(format!("http://{backend}"))
        .send()
        .await
        .unwrap();
    let http_id = http.api_id().unwrap().to_owned();
    c.create_domain_name()
        .domain_name("api.example.com")
        .regional_certificate_arn(regional_cert())
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap();
    for (path, stage) in [("v1", Some("prod")), ("shop", None)] {
        c.create_base_path_mapping()
            .domain_name("api.example.com")
            .base_path(path)
            .rest_api_id(&api.id)
            .set_stage(stage.map(str::to_owned))
            .send()
            .await
            .unwrap();
    }
    v2.create_api_mapping()
        .domain_name("api.example.com")
        .api_id(&http_id)
        .stage("$default")
        .api_mapping_key("v1/orders")
        .send()
        .await
        .unwrap();
    assert!(serving(&worker, &api.id, "prod").await);
    assert!(serving(&worker, &http_id, "$default").await);
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .domain("api.example.com")
                .is_some_and(|(_, d)| d.mappings.len() == 3)
        })
        .await
    );
    let client = to_worker(&worker, &["api.example.com"]);
    let port = worker.addr.port();
    let get = |path: &str| client.get(format!("http://api.example.com:{port}{path}")).send();

    let res = get("/v1/pets").await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["resourcePath"], "/pets");
    assert_eq!(
        body["path"], "/v1/pets",
        "$context.path keeps the base path, as AWS's"
    );
    assert_eq!(body["stage"], "prod");
    assert_eq!(body["domainName"], "api.example.com");
    assert_eq!(body["domainPrefix"], "api");
    assert_eq!(body["basePath"], "v1");
    let root: Value = get("/v1").await.unwrap().json().await.unwrap();
    assert_eq!(root["resourcePath"], "/");

    // A longer base path wins: `v1/orders` goes to the HTTP API.
    let res = get("/v1/orders/42").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-backend"], "echo");

    // A mapping without a stage leaves it to the next segment.
    let by_stage: Value = get("/shop/prod/pets").await.unwrap().json().await.unwrap();
    assert_eq!(by_stage["resourcePath"], "/pets");
    assert_eq!(get("/shop/nostage/pets").await.unwrap().status(), 403);

    // No mapping takes the path: AWS's 403 Forbidden; a path the API lacks is its own 403.
    let res = get("/v2/pets").await.unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["message"], "Forbidden");
    let res = get("/v1pets").await.unwrap();
    assert_eq!(res.status(), 403, "base paths match whole segments");
    let res = get("/v1/cats").await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["message"], "Missing Authentication Token");

    // The execute-api host still serves; a domain's mapping removed stops at once.
    c.delete_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .send()
        .await
        .unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            get("/v1/pets").await.unwrap().status() == 403
        })
        .await
    );
    let direct = invoker(&api.id, &worker)
        .get(invoke_url(&api.id, &worker, "prod", "/pets"))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
}

/// A certificate authority that issues server and client certificates.
struct Ca {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let issuer =
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (a client's when `client`), and its key, PEM.
    fn issue(&self, names: &[&str], client: bool) -> (String, String) {
        self.issue_until(names, client, None)
    }

    /// [`Self::issue`], the certificate valid until `not_after` when given.
    fn issue_until(
        &self,
        names: &[&str],
        client: bool,
        not_after: Option<time::OffsetDateTime>,
    ) -> (String, String) {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        if let Some(at) = not_after {
            params.not_after = at;
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Runs `gatehouse certificates ARGS` on the test app's database; its standard output.
async fn gatehouse_certificates(app: &TestApp, args: &[&str]) -> String {
    let url = crate::helpers::db::with_database(crate::helpers::db::admin_url().await, &app.db);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("certificates")
        .args(args)
        .env("DATABASE_URL", url)
        .env("GATEHOUSE_CERTIFICATE_KEY", CERTIFICATE_KEY)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Files for `gatehouse certificates` to read, in a directory of the test's own (removed
/// when dropped).
struct Files(std::path::PathBuf);

impl Files {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("gatehouse-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// `text` written to the file `name`; its path.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `gatehouse certificates import` of `cert` and `key` (PEM); the certificate's ARN.
async fn import_certificate(app: &TestApp, files: &Files, cert: &str, key: &str) -> String {
    let (cert, key) = (files.write("cert.pem", cert), files.write("key.pem", key));
    gatehouse_certificates(
        app,
        &[
            "import",
            "--account-id",
            ACCOUNT,
            "--region",
            REGION,
            "--cert",
            &cert,
            "--key",
            &key,
        ],
    )
    .await
}

/// `gatehouse certificates import-truststore` of the CA bundle `pem` as `s3://trust/{name}`.
async fn import_truststore(app: &TestApp, files: &Files, name: &str, pem: &str) {
    let (uri, path) = (format!("s3://trust/{name}"), files.write(name, pem));
    gatehouse_certificates(
        app,
        &[
            "import-truststore",
            "--account-id",
            ACCOUNT,
            "--region",
            REGION,
            "--uri",
            &uri,
            "--pem",
            &path,
        ],
    )
    .await;
}

/// Whether the domain `name` comes (within 5 s) to answer `client` 200 over TLS at `addr`.
async fn comes_to_serve(
    addr: std::net::SocketAddr,
    name: &str,
    path: &str,
    ca: &str,
    client: &(String, String),
) -> bool {
    eventually(std::time::Duration::from_secs(5), || async {
        over_tls(addr, name, name, path, ca, Some(client))
            .await
            .is_ok_and(|(status, _)| status == 200)
    })
    .await
}

/// One request over TLS to `addr`, naming `sni` in the handshake and `host` in the request,
/// trusting `ca`, presenting `client` (certificate and key) when given; the answer's status
/// and body, or the error of the handshake or the exchange.
async fn over_tls(
    addr: std::net::SocketAddr,
    sni: &str,
    host: &str,
    path: &str,
    ca: &str,
    client: Option<&(String, String)>,
) -> Result<(u16, String), String> {
    TlsConn::open(addr, sni, ca, client).await?.get(host, path).await
}

/// A kept-alive TLS connection.
struct TlsConn {
    tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    /// What was read past the last answer.
    read: Vec<u8>,
    /// The last answer's head.
    head: String,
}

impl TlsConn {
    /// A connection to `addr`, naming `sni` in the handshake, trusting `ca`, presenting
    /// `client` (certificate and key) when given.
    async fn open(
        addr: std::net::SocketAddr,
        sni: &str,
        ca: &str,
        client: Option<&(String, String)>,
    ) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
            .unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match client {
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    vec![rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                    rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
        let tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
        Ok(Self {
            tls,
            read: Vec::new(),
            head: String::new(),
        })
    }

    /// `GET {path}` for `host` on the connection; the answer's status and body (of its
    /// Content-Length).
    async fn get(&mut self, host: &str, path: &str) -> Result<(u16, String), String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        self.tls
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&self.read).into_owned();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if rest.len() >= length {
                    let status = head
                        .get(9..12)
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| format!("not an answer: {text:?}"))?;
                    let body = rest[..length].to_owned();
                    self.read.drain(..head.len() + 4 + length);
                    self.head = head.to_owned();
                    return Ok((status, body));
                }
            }
            let n = self.tls.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(format!("not an answer: {text:?}"));
            }
            self.read.extend_from_slice(&chunk[..n]);
        }
    }
}

#[tokio::test]
async fn custom_domains_are_served_over_https_by_sni_with_mutual_tls() {
    let app = spawn_app().await;
    let c = app.client();
    let files = Files::new("tls");
    // The domains' certificate, from a CA of their own; the CA of the clients; a stranger's.
    let server_ca = Ca::new("Server CA");
    let (cert, key) = server_ca.issue(&["api.example.com", "mtls.example.com"], false);
    let client_ca = Ca::new("Client CA");
    let client = client_ca.issue(&["alice.example.com"], true);
    let stranger = Ca::new("Stranger CA").issue(&["mallory.example.com"], true);

    let arn = import_certificate(&app, &files, &cert, &key).await;
    assert!(
        arn.starts_with(&format!("arn:aws:acm:{REGION}:{ACCOUNT}:certificate/")),
        "{arn}"
    );
    import_truststore(&app, &files, "clients.pem", &client_ca.pem()).await;
    // The key is kept sealed: nothing of it is in the database as text.
    let (sealed,): (Vec<u8>,) = sqlx::query_as("SELECT sealed_key FROM certificates WHERE arn = $1")
        .bind(&arn)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(body));

    let api = TestApi::create(&c, "shop").await;
    api.mock("/pets", "GET", r#"{"pets": "$context.domainName"}"#)
        .await;
    api.lambda_proxy("/who", "GET", "echo").await;
    api.deploy("prod").await;
    let lambda = crate::backends::fake_lambda().await;
    let uncovered = c
        .create_domain_name()
        .domain_name("other.example.com")
        .regional_certificate_arn(&arn)
        .endpoint_configuration(regional())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(uncovered).1,
        "The domain name to be created is not covered by the provided certificate."
    );
    let untrusted_store = c
        .create_domain_name()
        .domain_name("mtls.example.com")
        .regional_certificate_arn(&arn)
        .endpoint_configuration(regional())
        .mutual_tls_authentication(
            aws_sdk_apigateway::types::MutualTlsAuthenticationInput::builder()
                .truststore_uri("s3://trust/missing.pem")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(untrusted_store).0, "BadRequestException");
    for (name, truststore) in [
        ("api.example.com", None),
        ("mtls.example.com", Some("s3://trust/clients.pem")),
    ] {
        let created = c
            .create_domain_name()
            .domain_name(name)
            .regional_certificate_arn(&arn)
            .endpoint_configuration(regional())
            .set_mutual_tls_authentication(truststore.map(|uri| {
                aws_sdk_apigateway::types::MutualTlsAuthenticationInput::builder()
                    .truststore_uri(uri)
                    .build()
            }))
            .send()
            .await
            .unwrap();
        if truststore.is_some() {
            assert_eq!(
                created.mutual_tls_authentication().unwrap().truststore_uri(),
                Some("s3://trust/clients.pem")
            );
        }
        c.create_base_path_mapping()
            .domain_name(name)
            .rest_api_id(&api.id)
            .stage("prod")
            .send()
            .await
            .unwrap();
    }
    let worker = WorkerBuilder::new(&app.control_plane_url())
        .tls()
        .lambda(format!("http://{lambda}"))
        .start()
        .await;
    let tls_addr = worker.tls_addr.unwrap();
    assert!(serving(&worker, &api.id, "prod").await);
    let ca = server_ca.pem();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            over_tls(tls_addr, "api.example.com", "api.example.com", "/pets", &ca, None)
                .await
                .is_ok()
        })
        .await,
        "the domain comes to be served over TLS"
    );
    let (status, body) = over_tls(tls_addr, "api.example.com", "api.example.com", "/pets", &ca, None)
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, r#"{"pets": "api.example.com"}"#));

    // A name no domain has fails the handshake.
    assert!(
        over_tls(
            tls_addr,
            "nope.example.com",
            "nope.example.com",
            "/pets",
            &ca,
            None
        )
        .await
        .is_err()
    );

    // Mutual TLS: a client of the truststore's CA is served; one without a certificate is
    // refused 403; a stranger's certificate fails the handshake.
    let (status, _) = over_tls(
        tls_addr,
        "mtls.example.com",
        "mtls.example.com",
        "/pets",
        &ca,
        Some(&client),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    // A function sees the certificate, as AWS shows it.
    let (status, body) = over_tls(
        tls_addr,
        "mtls.example.com",
        "mtls.example.com",
        "/who",
        &ca,
        Some(&client),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let event: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    let cert = &event["requestContext"]["identity"]["clientCert"];
    assert!(
        cert["subjectDN"].as_str().unwrap().contains("alice.example.com"),
        "{cert}"
    );
    assert!(cert["issuerDN"].as_str().unwrap().contains("Client CA"), "{cert}");
    assert!(
        cert["clientCertPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        cert["validity"]["notAfter"].as_str().unwrap().ends_with(" GMT"),
        "{cert}"
    );
    assert!(cert["serialNumber"].as_str().unwrap().contains(':'), "{cert}");
    assert_eq!(event["requestContext"]["domainName"], "mtls.example.com");
    assert_eq!(event["headers"]["X-Forwarded-Proto"], "https");
    let (_, body) = over_tls(tls_addr, "api.example.com", "api.example.com", "/who", &ca, None)
        .await
        .unwrap();
    assert!(
        !body.contains("clientCert"),
        "no certificate where none was asked for: {body}"
    );
    let (status, body) = over_tls(
        tls_addr,
        "mtls.example.com",
        "mtls.example.com",
        "/pets",
        &ca,
        None,
    )
    .await
    .unwrap();
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert!(
        over_tls(
            tls_addr,
            "mtls.example.com",
            "mtls.example.com",
            "/pets",
            &ca,
            Some(&stranger)
        )
        .await
        .is_err_and(|e| !e.starts_with("not an answer")),
        "an untrusted client certificate fails the handshake"
    );
    // A connection made for another name does not carry requests to the mutual-TLS domain,
    // nor does plain HTTP.
    let (status, _) = over_tls(
        tls_addr,
        "api.example.com",
        "mtls.example.com",
        "/pets",
        &ca,
        Some(&client),
    )
    .await
    .unwrap();
    assert_eq!(status, 403);
    // Nor to an execute-api host, nor the other way around: a TLS connection serves the one
    // domain its handshake was for.
    let execute_api = format!("{}.execute-api.localhost", api.id);
    let (status, _) = over_tls(
        tls_addr,
        "mtls.example.com",
        &execute_api,
        "/prod/pets",
        &ca,
        Some(&client),
    )
    .await
    .unwrap();
    assert_eq!(status, 403);
    let (status, _) = over_tls(
        tls_addr,
        "mtls.example.com",
        "api.example.com",
        "/pets",
        &ca,
        Some(&client),
    )
    .await
    .unwrap();
    assert_eq!(status, 403);
    let plain = reqwest::Client::builder()
        .resolve("mtls.example.com", worker.addr)
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://mtls.example.com:{}/pets", worker.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);
    // A domain served over TLS is served over TLS only, as AWS's are.
    let plain = to_worker(&worker, &["api.example.com"])
        .get(format!("http://api.example.com:{}/pets", worker.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);
    // A worker without a TLS listener serves it over plain HTTP.
    let plain_worker = WorkerBuilder::new(&app.control_plane_url()).start().await;
    assert!(serving(&plain_worker, &api.id, "prod").await);
    let plain = to_worker(&plain_worker, &["api.example.com"])
        .get(format!(
            "http://api.example.com:{}/pets",
            plain_worker.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    // Nor does one whose plain HTTP comes from a front proxy it trusts (which terminated TLS).
    let fronted = WorkerBuilder::new(&app.control_plane_url())
        .tls()
        .trusting("127.0.0.1/32")
        .start()
        .await;
    assert!(serving(&fronted, &api.id, "prod").await);
    let plain = to_worker(&fronted, &["api.example.com"])
        .get(format!("http://api.example.com:{}/pets", fronted.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);

    // A new truststore: a connection made before vouches for its client again under it.
    let other_ca = Ca::new("Other CA");
    let other_client = other_ca.issue(&["bob.example.com"], true);
    import_truststore(&app, &files, "others.pem", &other_ca.pem()).await;
    let both = format!("{}{}", client_ca.pem(), other_ca.pem());
    import_truststore(&app, &files, "both.pem", &both).await;
    let set_truststore = |uri: &'static str| {
        c.update_domain_name()
            .domain_name("mtls.example.com")
            .patch_operations(
                aws_sdk_apigateway::types::PatchOperation::builder()
                    .op(aws_sdk_apigateway::types::Op::Replace)
                    .path("/mutualTlsAuthentication/truststoreUri")
                    .value(uri)
                    .build(),
            )
            .send()
    };
    let mut alice = TlsConn::open(tls_addr, "mtls.example.com", &ca, Some(&client))
        .await
        .unwrap();
    assert_eq!(alice.get("mtls.example.com", "/pets").await.unwrap().0, 200);
    set_truststore("s3://trust/others.pem").await.unwrap();
    assert!(
        comes_to_serve(tls_addr, "mtls.example.com", "/pets", &ca, &other_client).await,
        "the new truststore comes to vouch for its clients"
    );
    // The old truststore's client is refused on the connection it already had, which then
    // closes (its certificate cannot change on it).
    assert_eq!(alice.get("mtls.example.com", "/pets").await.unwrap().0, 403);
    assert!(
        alice.head.to_ascii_lowercase().contains("\r\nconnection: close"),
        "{}",
        alice.head
    );
    assert!(alice.get("mtls.example.com", "/pets").await.is_err());
    // A truststore that still vouches for a connection's client keeps it served.
    let mut bob = TlsConn::open(tls_addr, "mtls.example.com", &ca, Some(&other_client))
        .await
        .unwrap();
    assert_eq!(bob.get("mtls.example.com", "/pets").await.unwrap().0, 200);
    set_truststore("s3://trust/both.pem").await.unwrap();
    assert!(
        comes_to_serve(tls_addr, "mtls.example.com", "/pets", &ca, &client).await,
        "the truststore of both comes to vouch for the first client again"
    );
    assert_eq!(bob.get("mtls.example.com", "/pets").await.unwrap().0, 200);

    // The CLI lists what it imported, and refuses to delete a certificate a domain presents.
    let listed = gatehouse_certificates(&app, &["list"]).await;
    assert!(
        listed.contains(&arn) && listed.contains("api.example.com"),
        "{listed}"
    );
    let url = crate::helpers::db::with_database(crate::helpers::db::admin_url().await, &app.db);
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["certificates", "delete", &arn])
        .env("DATABASE_URL", url)
        .env("GATEHOUSE_CERTIFICATE_KEY", CERTIFICATE_KEY)
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
}

#[tokio::test]
async fn private_domains_take_access_associations_and_sdks_are_not_generated() {
    let app = spawn_app().await;
    let c = app.client();
    let private = c
        .create_domain_name()
        .domain_name("private.example.com")
        .certificate_arn(regional_cert())
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = private.domain_name_id().unwrap();
    let arn = private.domain_name_arn().unwrap().to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:apigateway:{REGION}:{ACCOUNT}:/domainnames/private.example.com+{id}")
    );
    let created = c
        .create_domain_name_access_association()
        .domain_name_arn(&arn)
        .access_association_source_type(aws_sdk_apigateway::types::AccessAssociationSourceType::Vpce)
        .access_association_source("vpce-0123456789abcdef0")
        .send()
        .await
        .unwrap();
    let association = created.domain_name_access_association_arn().unwrap().to_owned();
    assert!(
        association.ends_with("/vpcesource/vpce-0123456789abcdef0"),
        "{association}"
    );
    let again = c
        .create_domain_name_access_association()
        .domain_name_arn(&arn)
        .access_association_source_type(aws_sdk_apigateway::types::AccessAssociationSourceType::Vpce)
        .access_association_source("vpce-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(again).0, "ConflictException");
    let unknown = c
        .create_domain_name_access_association()
        .domain_name_arn(arn.replace("+", "+x"))
        .access_association_source_type(aws_sdk_apigateway::types::AccessAssociationSourceType::Vpce)
        .access_association_source("vpce-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(unknown).0, "NotFoundException");
    let listed = c.get_domain_name_access_associations().send().await.unwrap();
    assert_eq!(listed.items().len(), 1);
    let theirs = app
        .other_client()
        .get_domain_name_access_associations()
        .send()
        .await
        .unwrap();
    assert!(theirs.items().is_empty());
    c.reject_domain_name_access_association()
        .domain_name_access_association_arn(&association)
        .domain_name_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = c
        .delete_domain_name_access_association()
        .domain_name_access_association_arn(&association)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(gone).0, "NotFoundException");

    // No SDK types: each asked for is AWS's NotFound.
    assert!(c.get_sdk_types().send().await.unwrap().items().is_empty());
    let sdk_type = c.get_sdk_type().id("javascript").send().await.unwrap_err();
    assert_eq!(err_of(sdk_type).0, "NotFoundException");
    let api = TestApi::create(&c, "shop").await;
    api.mock("/pets", "GET", "{}").await.deploy("prod").await;
    let sdk = c
        .get_sdk()
        .rest_api_id(&api.id)
        .stage_name("prod")
        .sdk_type("javascript")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(sdk).0, "NotFoundException");
}

#[tokio::test]
async fn the_certificate_key_rotates_and_every_private_key_is_sealed_again() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("gatehouse-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = Ca::new("Rotation CA");
    let (cert, key) = ca.issue(&["rotate.example.com"], false);
    let (cert_path, key_path) = (dir.join("c.pem"), dir.join("k.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let arn = gatehouse_certificates(
        &app,
        &[
            "import",
            "--account-id",
            ACCOUNT,
            "--cert",
            cert_path.to_str().unwrap(),
            "--key",
            key_path.to_str().unwrap(),
        ],
    )
    .await;
    let client = app.client().generate_client_certificate().send().await.unwrap();
    let client_id = client.client_certificate_id().unwrap().to_owned();

    let new_key = "0202020202020202020202020202020202020202020202020202020202020202";
    let out = gatehouse_certificates(&app, &["rotate-key", "--new-key", new_key]).await;
    assert!(
        out.contains("1 certificate keys, 1 client certificate keys"),
        "{out}"
    );

    // Both keys now open under the new key alone.
    let new = gatehouse::store::certificates::Sealer::parse(new_key).unwrap();
    let old = test_sealer();
    let mut conn = app.store.pool().acquire().await.unwrap();
    let opened = gatehouse::store::certificates::certified_key(&mut conn, &new, ACCOUNT, &arn)
        .await
        .unwrap()
        .expect("the certificate's key opens under the new key");
    assert_eq!(opened.key_pem, key);
    assert!(
        gatehouse::store::certificates::certified_key(&mut conn, &old, ACCOUNT, &arn)
            .await
            .unwrap()
            .is_none()
    );
    let identity =
        gatehouse::store::client_certificates::identity(&mut conn, &new, ACCOUNT, REGION, &client_id)
            .await
            .unwrap()
            .expect("the client certificate's key opens under the new key");
    assert!(identity.private_key_pem.contains("PRIVATE KEY"));
    assert!(
        gatehouse::store::client_certificates::identity(&mut conn, &old, ACCOUNT, REGION, &client_id)
            .await
            .unwrap()
            .is_none(),
        "under the old key it does not open, and is not presented"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A WebSocket API behind a mutual-TLS domain: a session ends (1008) at its next message once
/// the domain's truststore no longer vouches for its client.
#[tokio::test]
async fn a_websocket_session_ends_when_its_truststore_no_longer_vouches() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let v2 = app.v2_client();
    let files = Files::new("wss");
    let server_ca = Ca::new("Server CA");
    let (cert, key) = server_ca.issue(&["wss.example.com"], false);
    let client_ca = Ca::new("Client CA");
    let client = client_ca.issue(&["alice.example.com"], true);
    let other_ca = Ca::new("Other CA");
    let arn = import_certificate(&app, &files, &cert, &key).await;
    import_truststore(&app, &files, "clients.pem", &client_ca.pem()).await;
    import_truststore(&app, &files, "others.pem", &other_ca.pem()).await;
    let truststore = |uri: &str| {
        aws_sdk_apigatewayv2::types::MutualTlsAuthenticationInput::builder()
            .truststore_uri(uri)
            .build()
    };
    let functions = crate::backends::fake_lambda().await;
    let api = crate::dataplane::websocket::echo_api(&v2, "chat").await;
    v2.create_domain_name()
        .domain_name("wss.example.com")
        .domain_name_configurations(DomainNameConfiguration::builder().certificate_arn(&arn).build())
        .mutual_tls_authentication(truststore("s3://trust/clients.pem"))
        .send()
        .await
        .unwrap();
    v2.create_api_mapping()
        .domain_name("wss.example.com")
        .api_id(&api)
        .stage("prod")
        .api_mapping_key("chat")
        .send()
        .await
        .unwrap();
    let worker = WorkerBuilder::new(&app.control_plane_url())
        .tls()
        .lambda(format!("http://{functions}"))
        .start()
        .await;
    let tls_addr = worker.tls_addr.unwrap();
    assert!(serving(&worker, &api, "prod").await);
    let ca = server_ca.pem();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            TlsConn::open(tls_addr, "wss.example.com", &ca, Some(&client))
                .await
                .is_ok()
        })
        .await
    );
    let conn = TlsConn::open(tls_addr, "wss.example.com", &ca, Some(&client))
        .await
        .unwrap();
    let request = "wss://wss.example.com/chat".into_client_request().unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(request, conn.tls).await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(
        crate::dataplane::websocket::next_text(&mut ws).await["body"],
        "hello"
    );

    v2.update_domain_name()
        .domain_name("wss.example.com")
        .mutual_tls_authentication(truststore("s3://trust/others.pem"))
        .send()
        .await
        .unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            over_tls(
                tls_addr,
                "wss.example.com",
                "wss.example.com",
                "/chat",
                &ca,
                Some(&client),
            )
            .await
            .is_err()
        })
        .await,
        "the new truststore comes to refuse the client's handshakes"
    );
    ws.send(Message::text("again")).await.unwrap();
    let code = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(1008));
}

#[tokio::test]
async fn a_kept_connection_ends_when_its_client_certificate_expires() {
    let app = spawn_app().await;
    let (c, v2) = (app.client(), app.v2_client());
    let files = Files::new("expiry");
    let server_ca = Ca::new("Server CA");
    let (cert, key) = server_ca.issue(&["mtls.example.com"], false);
    let client_ca = Ca::new("Client CA");
    let arn = import_certificate(&app, &files, &cert, &key).await;
    import_truststore(&app, &files, "clients.pem", &client_ca.pem()).await;
    let api = TestApi::create(&c, "pets").await;
    api.mock("/pets", "GET", r#"{"pets": []}"#)
        .await
        .deploy("prod")
        .await;
    v2.create_domain_name()
        .domain_name("mtls.example.com")
        .domain_name_configurations(DomainNameConfiguration::builder().certificate_arn(&arn).build())
        .mutual_tls_authentication(
            aws_sdk_apigatewayv2::types::MutualTlsAuthenticationInput::builder()
                .truststore_uri("s3://trust/clients.pem")
                .build(),
        )
        .send()
        .await
        .unwrap();
    v2.create_api_mapping()
        .domain_name("mtls.example.com")
        .api_id(&api.id)
        .stage("prod")
        .send()
        .await
        .unwrap();
    let worker = WorkerBuilder::new(&app.control_plane_url()).tls().start().await;
    let tls_addr = worker.tls_addr.unwrap();
    let ca = server_ca.pem();
    let lasting = client_ca.issue(&["bob.example.com"], true);
    assert!(comes_to_serve(tls_addr, "mtls.example.com", "/pets", &ca, &lasting).await);

    // Valid for five seconds from now (whole seconds: four at least): the handshake takes it,
    // and the first request, even on a busy machine.
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    let brief = client_ca.issue_until(&["alice.example.com"], true, Some(expiry));
    let mut conn = TlsConn::open(tls_addr, "mtls.example.com", &ca, Some(&brief))
        .await
        .unwrap();
    assert_eq!(conn.get("mtls.example.com", "/pets").await.unwrap().0, 200);
    let left = expiry - time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1100);
    tokio::time::sleep(left.try_into().unwrap()).await;
    // The same connection, its client's certificate expired: refused, and closed.
    let (status, body) = conn.get("mtls.example.com", "/pets").await.unwrap();
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert!(
        conn.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        conn.head
    );
    assert!(conn.get("mtls.example.com", "/pets").await.is_err());
    // A connection of a client whose certificate lasts is served as before.
    assert!(comes_to_serve(tls_addr, "mtls.example.com", "/pets", &ca, &lasting).await);
}
