//! RestApi CRUD through the SDK.

use aws_sdk_apigateway::types::{ApiKeySourceType, EndpointConfiguration, EndpointType, IpAddressType, Op};

use crate::helpers::*;

#[tokio::test]
async fn a_new_api_has_aws_defaults_and_a_root_resource() {
    let app = spawn_app().await;
    let c = app.client();
    let api = c
        .create_rest_api()
        .name("pets")
        .description("my api")
        .send()
        .await
        .unwrap();
    assert_eq!(api.name(), Some("pets"));
    assert_eq!(api.description(), Some("my api"));
    assert_eq!(api.api_key_source(), Some(&ApiKeySourceType::Header));
    assert!(!api.disable_execute_api_endpoint());
    let ec = api.endpoint_configuration().unwrap();
    assert_eq!(ec.types(), &[EndpointType::Edge]);
    assert_eq!(ec.ip_address_type(), Some(&IpAddressType::Ipv4));
    assert!(api.created_date().is_some());
    let id = api.id().unwrap();
    assert_eq!(id.len(), 10);

    let resources = c.get_resources().rest_api_id(id).send().await.unwrap();
    let items = resources.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].path(), Some("/"));
    assert_eq!(items[0].id(), api.root_resource_id());

    let got = c.get_rest_api().rest_api_id(id).send().await.unwrap();
    assert_eq!(got.name(), Some("pets"));
    assert_eq!(got.created_date(), api.created_date());
}

#[tokio::test]
async fn create_validates_like_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let e = err_of(
        c.create_rest_api()
            .name("x")
            .description("")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "BadRequestException".into(),
            "Description cannot be an empty string".into()
        )
    );

    let e = err_of(
        c.create_rest_api()
            .name("x")
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::from("wrong"))
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert_eq!(
        e.1,
        "1 validation error detected: Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed to \
         satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]"
    );

    let e = err_of(
        c.create_rest_api()
            .name("x")
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Edge)
                    .types(EndpointType::Regional)
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Cannot create an api with multiple Endpoint Types.");

    let e = err_of(
        c.create_rest_api()
            .name("x")
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Private)
                    .ip_address_type(IpAddressType::Ipv4)
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Only dualstack ipAddressType is supported for Private APIs.");

    let private = c
        .create_rest_api()
        .name("p")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        private.endpoint_configuration().unwrap().ip_address_type(),
        Some(&IpAddressType::Dualstack)
    );

    // A failed create leaves nothing behind.
    let all = c.get_rest_apis().send().await.unwrap();
    assert_eq!(all.items().len(), 1);
}

#[tokio::test]
async fn update_applies_aws_patch_paths() {
    let app = spawn_app().await;
    let c = app.client();
    let (id, _) = create_api(&c, "api").await;
    let api = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch_op(Op::Add, "/binaryMediaTypes/image~1png", None))
        .patch_operations(patch_op(Op::Add, "/binaryMediaTypes/image~1jpeg", None))
        .patch_operations(patch_op(Op::Replace, "/name", Some("renamed")))
        .patch_operations(patch_op(Op::Replace, "/minimumCompressionSize", Some("10")))
        .patch_operations(patch_op(Op::Replace, "/apiKeySource", Some("AUTHORIZER")))
        .send()
        .await
        .unwrap();
    assert_eq!(api.binary_media_types(), ["image/png", "image/jpeg"]);
    assert_eq!(api.name(), Some("renamed"));
    assert_eq!(api.minimum_compression_size(), Some(10));
    assert_eq!(api.api_key_source(), Some(&ApiKeySourceType::Authorizer));

    let api = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch_op(
            Op::Replace,
            "/binaryMediaTypes/image~1png",
            Some("image/gif"),
        ))
        .patch_operations(patch_op(Op::Replace, "/minimumCompressionSize", Some("")))
        .send()
        .await
        .unwrap();
    // AWS drops the replaced type and appends the new one.
    assert_eq!(api.binary_media_types(), ["image/jpeg", "image/gif"]);
    assert_eq!(api.minimum_compression_size(), None);

    for (op, path, value, message) in [
        (
            Op::Replace,
            "/minimumCompressionSize",
            Some("-1"),
            "Invalid minimum compression size, must be between 0 and 10485760",
        ),
        (
            Op::Add,
            "/minimumCompressionSize",
            Some("1"),
            "Invalid patch operation specified. Must be one of: [replace]",
        ),
        (
            Op::Add,
            "/binaryMediaTypes",
            Some("x"),
            "Invalid patch path /binaryMediaTypes",
        ),
        (
            Op::Replace,
            "/endpointConfiguration/ipAddressType",
            Some("wrong"),
            "ipAddressType must be either ipv4 or dualstack.",
        ),
        (
            Op::Replace,
            "/endpointConfiguration/types/EDGE",
            Some("wrong"),
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
        ),
    ] {
        let e = err_of(
            c.update_rest_api()
                .rest_api_id(&id)
                .patch_operations(patch_op(op, path, value))
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(e, ("BadRequestException".into(), message.into()), "{path}");
    }

    // A failing call changes nothing, even when earlier operations in it were valid.
    let e = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch_op(Op::Replace, "/name", Some("lost")))
        .patch_operations(patch_op(Op::Replace, "/minimumCompressionSize", Some("x")))
        .send()
        .await;
    assert!(e.is_err());
    assert_eq!(
        c.get_rest_api().rest_api_id(&id).send().await.unwrap().name(),
        Some("renamed")
    );

    let e = err_of(
        c.update_rest_api()
            .rest_api_id(&id)
            .patch_operations(patch_op(Op::from("wrong"), "/name", Some("x")))
            .patch_operations(patch_op(Op::from("wrong"), "/name", Some("x")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.starts_with(
        "2 validation errors detected: Value 'wrong' at 'updateRestApiInput.patchOperations.1.member.op'"
    ));

    let api = c
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(patch_op(
            Op::Replace,
            "/endpointConfiguration/types/EDGE",
            Some("PRIVATE"),
        ))
        .patch_operations(patch_op(
            Op::Replace,
            "/endpointConfiguration/ipAddressType",
            Some("dualstack"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.endpoint_configuration().unwrap().types(),
        &[EndpointType::Private]
    );
}

#[tokio::test]
async fn deleted_and_unknown_apis_are_not_found() {
    let app = spawn_app().await;
    let c = app.client();
    let (id, _) = create_api(&c, "api").await;
    c.delete_rest_api().rest_api_id(&id).send().await.unwrap();
    let e = err_of(c.get_rest_api().rest_api_id(&id).send().await.unwrap_err());
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            format!("Invalid API identifier specified {ACCOUNT}:{id}")
        )
    );
    let e = err_of(c.delete_rest_api().rest_api_id(&id).send().await.unwrap_err());
    assert_eq!(e.0, "NotFoundException");
    // Ids are case-sensitive.
    let (id, _) = create_api(&c, "api").await;
    let e = err_of(
        c.get_rest_api()
            .rest_api_id(id.to_uppercase())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");
}

#[tokio::test]
async fn listing_paginates_with_position_and_limit() {
    let app = spawn_app().await;
    let c = app.client();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_api(&c, &format!("api-{i}")).await.0);
    }
    let first = c.get_rest_apis().limit(2).send().await.unwrap();
    assert_eq!(first.items().len(), 2);
    let position = first.position().expect("more pages").to_owned();
    let second = c
        .get_rest_apis()
        .limit(2)
        .position(&position)
        .send()
        .await
        .unwrap();
    let third = c
        .get_rest_apis()
        .limit(2)
        .position(second.position().unwrap())
        .send()
        .await
        .unwrap();
    assert!(third.position().is_none());
    let seen: Vec<String> = [first, second, third]
        .iter()
        .flat_map(|p| p.items().iter().map(|a| a.id().unwrap().to_owned()))
        .collect();
    assert_eq!(seen, created);

    let all: Vec<_> = c
        .get_rest_apis()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 5);

    let e = err_of(c.get_rest_apis().limit(501).send().await.unwrap_err());
    assert_eq!(e.0, "BadRequestException");
}

#[tokio::test]
async fn clone_from_copies_resources_and_methods() {
    let app = spawn_app().await;
    let c = app.client();
    let (src, root) = create_api(&c, "src").await;
    let pets = c
        .create_resource()
        .rest_api_id(&src)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    put_mock_method(&c, &src, pets.id().unwrap(), "GET").await;
    let clone = c
        .create_rest_api()
        .name("clone")
        .clone_from(&src)
        .send()
        .await
        .unwrap();
    let resources = c
        .get_resources()
        .rest_api_id(clone.id().unwrap())
        .embed("methods")
        .send()
        .await
        .unwrap();
    let pets = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/pets"))
        .expect("cloned resource");
    let get = &pets.resource_methods().unwrap()["GET"];
    assert_eq!(
        get.method_integration().unwrap().r#type(),
        Some(&aws_sdk_apigateway::types::IntegrationType::Mock)
    );
}

#[tokio::test]
async fn rest_api_operations_see_only_rest_apis_and_the_live_configuration_names_each_stages_protocol() {
    use gatehouse::domain::enums::ApiProtocol;
    let app = spawn_app().await;
    let c = app.client();
    let built = TestApi::create(&c, "kinds").await;
    built
        .mock("/", "GET", r#"{"kind": "rest"}"#)
        .await
        .deploy("dev")
        .await;
    let api = built.id.clone();
    let protocols = || async {
        let mut conn = app.store.pool().acquire().await.unwrap();
        let full = gatehouse::store::live::full(&mut conn, &Default::default(), &test_sealer())
            .await
            .unwrap();
        full.stages
            .into_iter()
            .filter(|s| s.api_id == api)
            .map(|s| s.protocol)
            .collect::<Vec<_>>()
    };
    assert_eq!(protocols().await, [ApiProtocol::Rest]);
    // An HTTP API (apigatewayv2's) beside it: the REST operations do not see it, and the live
    // configuration tells workers its stage's protocol.
    let http = app
        .v2_client()
        .create_api()
        .name("kinds")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .target("http://example.com")
        .send()
        .await
        .unwrap();
    let http_id = http.api_id().unwrap().to_owned();
    let (code, _) = err_of(c.get_rest_api().rest_api_id(&http_id).send().await.unwrap_err());
    assert_eq!(code, "NotFoundException");
    let listed = c.get_rest_apis().send().await.unwrap();
    assert!(listed.items().iter().all(|a| a.id() != Some(http_id.as_str())));
    let (code, _) = err_of(
        c.delete_rest_api()
            .rest_api_id(&http_id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "NotFoundException");
    let mut conn = app.store.pool().acquire().await.unwrap();
    let full = gatehouse::store::live::full(&mut conn, &Default::default(), &test_sealer())
        .await
        .unwrap();
    let http_stage = full.stages.iter().find(|s| s.api_id == http_id).unwrap();
    assert_eq!(http_stage.protocol, ApiProtocol::Http);
    assert_eq!(http_stage.stage.stage_name, "$default");
    let (code, _) = err_of(app.v2_client().get_api().api_id(&api).send().await.unwrap_err());
    assert_eq!(code, "NotFoundException", "nor do v2's operations see REST APIs");
}
