//! REST APIs' VPC links (`apigateway`): CreateVpcLink (202, AVAILABLE at once), GetVpcLink,
//! GetVpcLinks with paging, UpdateVpcLink, DeleteVpcLink (refused while an integration names
//! the link), AWS's validation and errors.

use aws_sdk_apigateway::types::{ConnectionType, IntegrationType, Op, PatchOperation, VpcLinkStatus};

use crate::helpers::*;

fn nlb() -> String {
    format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/orders/50dc6c495c0c9188")
}

#[tokio::test]
async fn vpc_links_are_managed_as_aws_manages_them() {
    let app = spawn_app().await;
    let c = app.client();
    let created = c
        .create_vpc_link()
        .name("orders")
        .description("the orders service")
        .target_arns(nlb())
        .tags("team", "blue")
        .send()
        .await
        .unwrap();
    let id = created.id().unwrap().to_owned();
    // As AWS answers: PENDING as it is made, AVAILABLE once got.
    assert_eq!(created.status(), Some(&VpcLinkStatus::Pending));
    assert_eq!(created.target_arns(), [nlb()]);
    assert_eq!(created.tags().unwrap()["team"], "blue");
    let got = c.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(got.status(), Some(&VpcLinkStatus::Available));
    assert_eq!(got.status_message(), Some("Your vpc link is ready for use"));
    assert_eq!(got.name(), Some("orders"));
    assert_eq!(got.description(), Some("the orders service"));

    // What AWS refuses.
    let no_target = c.create_vpc_link().name("x").send().await.unwrap_err();
    assert_eq!(err_of(no_target).0, "BadRequestException");
    let alb = c
        .create_vpc_link()
        .name("x")
        .target_arns(nlb().replace("/net/", "/app/"))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(alb);
    assert_eq!(kind, "BadRequestException");
    assert!(message.contains("Network Load Balancer"), "{message}");
    // Only a load balancer of the caller's own account.
    let foreign = c
        .create_vpc_link()
        .name("x")
        .target_arns(nlb().replace(ACCOUNT, "999999999999"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(foreign).0, "BadRequestException");
    let two = c
        .create_vpc_link()
        .name("x")
        .target_arns(nlb())
        .target_arns(nlb())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(two).0, "BadRequestException");
    let missing = c.get_vpc_link().vpc_link_id("nope").send().await.unwrap_err();
    assert_eq!(
        err_of(missing),
        (
            "NotFoundException".into(),
            "Invalid Vpc Link identifier specified".into()
        )
    );
    // AWS's words (recorded): a malformed ARN, an empty name.
    let e = c
        .create_vpc_link()
        .name("x")
        .target_arns("invalid-arn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "BadRequestException".into(),
            "Invalid ARN. ARN is not well formed invalid-arn".into()
        )
    );
    let e = c
        .create_vpc_link()
        .name("")
        .target_arns(nlb())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        ("BadRequestException".into(), "Name cannot be empty".into())
    );

    // Updated by patch; listed a page at a time.
    let patch = |path: &str, value: &str| {
        PatchOperation::builder()
            .op(Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    let updated = c
        .update_vpc_link()
        .vpc_link_id(&id)
        .patch_operations(patch("/name", "orders-v2"))
        .patch_operations(patch("/description", "moved"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.name(), updated.description()),
        (Some("orders-v2"), Some("moved"))
    );
    let bad_path = c
        .update_vpc_link()
        .vpc_link_id(&id)
        .patch_operations(patch("/targetArns", &nlb()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(bad_path).0, "BadRequestException");
    let other = c
        .create_vpc_link()
        .name("payments")
        .target_arns(nlb())
        .send()
        .await
        .unwrap();
    let first = c.get_vpc_links().limit(1).send().await.unwrap();
    assert_eq!(first.items().len(), 1);
    let rest = c
        .get_vpc_links()
        .position(first.position().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = first
        .items()
        .iter()
        .chain(rest.items())
        .filter_map(|l| l.name())
        .collect();
    assert_eq!(names, ["orders-v2", "payments"]);
    // Another account sees none of them.
    assert!(
        app.other_client()
            .get_vpc_links()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );

    // A link an integration names is kept; once it no longer does, it goes.
    let (api, root) = create_api(&c, "private").await;
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
        .uri("http://orders.internal/")
        .connection_type(ConnectionType::VpcLink)
        .connection_id(&id)
        .send()
        .await
        .unwrap();
    let (kind, message) = err_of(c.delete_vpc_link().vpc_link_id(&id).send().await.unwrap_err());
    assert_eq!(kind, "BadRequestException");
    assert!(message.contains(&format!("[GET:{root}:{api}]")), "{message}");
    c.delete_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    c.delete_vpc_link().vpc_link_id(&id).send().await.unwrap();
    c.delete_vpc_link()
        .vpc_link_id(other.id().unwrap())
        .send()
        .await
        .unwrap();
    let gone = c.get_vpc_link().vpc_link_id(&id).send().await.unwrap_err();
    assert_eq!(err_of(gone).0, "NotFoundException");
}

/// Integrations through a VPC link reach the link's target (the URL the worker is given for
/// its load balancer's ARN) with the integration URI's path and query: by the link's id, or by
/// a stage variable holding it; a worker that does not know the target answers 500.
#[tokio::test]
async fn integrations_through_a_vpc_link_reach_its_target() {
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use gatehouse::dataplane::settings::AwsSettings;
    use http_body_util::Full;

    let app = spawn_app().await;
    let c = app.client();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let backend = crate::backends::serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            log.lock()
                .unwrap()
                .push(format!("{} {}", req.method(), req.uri()));
            hyper::Response::new(Full::new(Bytes::from_static(b"{\"private\": true}")))
        }
    })
    .await;
    let link = c
        .create_vpc_link()
        .name("orders")
        .target_arns(nlb())
        .send()
        .await
        .unwrap();
    let link = link.id().unwrap();
    let (api, root) = create_api(&c, "private").await;
    let items = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("items")
        .send()
        .await
        .unwrap();
    let item = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(items.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    for (resource, verb) in [(item.id().unwrap(), "GET"), (items.id().unwrap(), "POST")] {
        c.put_method()
            .rest_api_id(&api)
            .resource_id(resource)
            .http_method(verb)
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
    }
    // By id, proxied; the URI's host is the load balancer's name, never called itself.
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(item.id().unwrap())
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://orders-nlb.elb.us-east-1.amazonaws.com/v1/items/{id}")
        .request_parameters("integration.request.path.id", "method.request.path.id")
        .connection_type(ConnectionType::VpcLink)
        .connection_id(link)
        .send()
        .await
        .unwrap();
    // By a stage variable, not proxied.
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(items.id().unwrap())
        .http_method("POST")
        .r#type(IntegrationType::Http)
        .integration_http_method("PUT")
        .uri("http://orders-nlb.elb.us-east-1.amazonaws.com/v1/items?source=gateway")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("${stageVariables.ordersLink}")
        .send()
        .await
        .unwrap();
    c.put_method_response()
        .rest_api_id(&api)
        .resource_id(items.id().unwrap())
        .http_method("POST")
        .status_code("200")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(items.id().unwrap())
        .http_method("POST")
        .status_code("200")
        .selection_pattern("")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .variables("ordersLink", link)
        .send()
        .await
        .unwrap();

    let aws = AwsSettings {
        endpoints: [(nlb(), format!("http://{backend}"))].into(),
        ..AwsSettings::default()
    };
    let worker = WorkerBuilder::new(&app.url()).aws(aws).start().await;
    assert!(serving(&worker, &api, "prod").await);
    let http = invoker(&api, &worker);
    let res = http
        .get(invoke_url(&api, &worker, "prod", "/items/7?color=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), r#"{"private": true}"#);
    let res = http
        .post(invoke_url(&api, &worker, "prod", "/items"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        *seen.lock().unwrap(),
        ["GET /v1/items/7?color=red", "PUT /v1/items?source=gateway"]
    );

    // A worker not told where the target is cannot reach it.
    let blind = app.start_worker(None, None).await;
    assert!(serving(&blind, &api, "prod").await);
    let res = invoker(&api, &blind)
        .get(invoke_url(&api, &blind, "prod", "/items/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
}
