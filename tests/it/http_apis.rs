//! `apigatewayv2` APIs through the AWS SDK for Rust: v2's shapes, paging and errors, kept apart
//! from REST APIs and between tenants.

use aws_sdk_apigatewayv2::types::{Cors, ProtocolType};

use crate::helpers::*;

#[tokio::test]
async fn http_apis_are_created_read_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let created = c
        .create_api()
        .name("hello")
        .protocol_type(ProtocolType::Http)
        .description("first")
        .tags("team", "edge")
        .cors_configuration(Cors::builder().allow_origins("*").max_age(60).build())
        .send()
        .await
        .unwrap();
    let id = created.api_id().unwrap().to_owned();
    assert_eq!(created.protocol_type(), Some(&ProtocolType::Http));
    assert_eq!(
        created.route_selection_expression(),
        Some("$request.method $request.path")
    );
    assert_eq!(
        created.api_key_selection_expression(),
        Some("$request.header.x-api-key")
    );
    assert_eq!(
        created.api_endpoint(),
        Some(format!("https://{id}.execute-api.us-east-1.amazonaws.com").as_str())
    );
    assert!(created.created_date().is_some(), "an ISO 8601 date the SDK reads");
    assert_eq!(created.tags().unwrap()["team"], "edge");
    assert_eq!(created.cors_configuration().unwrap().max_age(), Some(60));

    let got = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("hello"));
    assert_eq!(got.description(), Some("first"));

    let updated = c
        .update_api()
        .api_id(&id)
        .name("hello-2")
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("hello-2"));
    assert_eq!(updated.disable_execute_api_endpoint(), Some(true));
    assert_eq!(updated.description(), Some("first"), "fields not given are kept");

    // A WebSocket API needs a route selection expression.
    let e = c
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let chat = c
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap();
    assert!(chat.api_endpoint().unwrap().starts_with("wss://"));

    // Pages of one, then the rest; REST APIs are not v2's, nor another account's APIs.
    crate::helpers::api::create_api(&app.client(), "rest").await;
    app.v2_client_as("other", "other-secret", "us-east-1")
        .create_api()
        .name("theirs")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let first = c.get_apis().max_results("1").send().await.unwrap();
    assert_eq!(first.items().len(), 1);
    let rest = c
        .get_apis()
        .set_next_token(first.next_token().map(str::to_owned))
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = first
        .items()
        .iter()
        .chain(rest.items())
        .filter_map(|a| a.name())
        .collect();
    names.sort();
    assert_eq!(names, ["chat", "hello-2"]);
    assert!(rest.next_token().is_none());
    let rest_apis = app.client().get_rest_apis().send().await.unwrap();
    assert_eq!(rest_apis.items().len(), 1, "v2 APIs are not REST APIs");

    c.delete_api().api_id(&id).send().await.unwrap();
    let e = c.get_api().api_id(&id).send().await.unwrap_err();
    let (code, message) = err_of(e);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Invalid API identifier specified {ACCOUNT}:{id}")
    );
    let e = c.delete_api().api_id(&id).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}
