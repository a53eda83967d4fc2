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
                .is_some_and(|d| d.mappings.len() == 3)
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
