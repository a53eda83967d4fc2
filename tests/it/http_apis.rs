//! `apigatewayv2` APIs through the AWS SDK for Rust: v2's shapes, paging and errors, kept apart
//! from REST APIs and between tenants.

use aws_sdk_apigatewayv2::types::{Cors, ProtocolType};
use serde_json::{Value, json};

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

async fn http_api(c: &aws_sdk_apigatewayv2::Client, name: &str) -> String {
    c.create_api()
        .name(name)
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn routes_and_integrations_are_managed_with_aws_shapes_and_errors() {
    use aws_sdk_apigatewayv2::types::IntegrationType;
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = http_api(&c, "pets").await;

    // An HTTP_PROXY integration needs a method; AWS_PROXY a payload format version.
    let e = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_uri("http://backend/pets")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let e = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:000000000000:function:f")
        .send()
        .await
        .unwrap_err();
    let (code, message) = err_of(e);
    assert_eq!(code, "BadRequestException");
    assert!(message.contains("payloadFormatVersion"), "{message}");
    let e = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException", "MOCK is WebSocket APIs' only");

    let http = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_uri("http://backend/pets/{id}")
        .integration_method("GET")
        .send()
        .await
        .unwrap();
    let http_id = http.integration_id().unwrap().to_owned();
    assert_eq!(http.payload_format_version(), Some("1.0"));
    assert_eq!(http.timeout_in_millis(), Some(30000));
    assert_eq!(http.connection_type().map(|c| c.as_str()), Some("INTERNET"));
    let lambda = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:000000000000:function:f")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    let lambda_id = lambda.integration_id().unwrap().to_owned();

    // Route keys: checked, unique, targets that exist.
    for bad in ["GET", "GET pets", "FETCH /pets", "GET /{a+}/b"] {
        let e = c
            .create_route()
            .api_id(&api)
            .route_key(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).0, "BadRequestException", "{bad}");
    }
    let e = c
        .create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .target("integrations/nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    let route = c
        .create_route()
        .api_id(&api)
        .route_key("GET /pets/{id}")
        .target(format!("integrations/{http_id}"))
        .send()
        .await
        .unwrap();
    let route_id = route.route_id().unwrap().to_owned();
    assert_eq!(route.authorization_type().map(|a| a.as_str()), Some("NONE"));
    assert_eq!(route.api_key_required(), Some(false));
    let e = c
        .create_route()
        .api_id(&api)
        .route_key("GET /pets/{id}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    c.create_route()
        .api_id(&api)
        .route_key("$default")
        .target(format!("integrations/{lambda_id}"))
        .send()
        .await
        .unwrap();
    // A JWT route needs an authorizer of the API.
    let e = c
        .create_route()
        .api_id(&api)
        .route_key("GET /secret")
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id("abc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");

    // Variables of different names at one place of two routes' paths cannot be told apart.
    let e = c
        .create_route()
        .api_id(&api)
        .route_key("POST /pets/{name}")
        .send()
        .await
        .unwrap_err();
    let (code, message) = err_of(e);
    assert_eq!(code, "ConflictException");
    assert!(message.contains("POST /pets/{name}"), "{message}");
    let updated = c
        .update_route()
        .api_id(&api)
        .route_id(&route_id)
        .route_key("GET /pets/{petId}")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.route_key(), Some("GET /pets/{petId}"));
    assert_eq!(updated.target(), Some(format!("integrations/{http_id}").as_str()));
    let routes = c.get_routes().api_id(&api).send().await.unwrap();
    let mut keys: Vec<&str> = routes.items().iter().filter_map(|r| r.route_key()).collect();
    keys.sort();
    assert_eq!(keys, ["$default", "GET /pets/{petId}"]);
    let page = c
        .get_integrations()
        .api_id(&api)
        .max_results("1")
        .send()
        .await
        .unwrap();
    assert_eq!(page.items().len(), 1);
    assert!(page.next_token().is_some());

    // An integration a route targets stays until the route lets go of it.
    let e = c
        .delete_integration()
        .api_id(&api)
        .integration_id(&http_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    let changed = c
        .update_integration()
        .api_id(&api)
        .integration_id(&http_id)
        .timeout_in_millis(5000)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.timeout_in_millis(), Some(5000));
    assert_eq!(changed.integration_uri(), Some("http://backend/pets/{id}"));
    c.delete_route()
        .api_id(&api)
        .route_id(&route_id)
        .send()
        .await
        .unwrap();
    let e = c
        .get_route()
        .api_id(&api)
        .route_id(&route_id)
        .send()
        .await
        .unwrap_err();
    let (code, message) = err_of(e);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Invalid Route identifier specified {route_id}"));
    c.delete_integration()
        .api_id(&api)
        .integration_id(&http_id)
        .send()
        .await
        .unwrap();
    let e = c
        .get_integration()
        .api_id(&api)
        .integration_id(&http_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    // Another account sees none of it.
    let e = app
        .v2_client_as("other", "other-secret", "us-east-1")
        .get_routes()
        .api_id(&api)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

#[tokio::test]
async fn stages_and_deployments_follow_the_definition() {
    use aws_sdk_apigatewayv2::types::{IntegrationType, RouteSettings};
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = http_api(&c, "stages").await;

    // Nothing to deploy yet.
    let e = c.create_deployment().api_id(&api).send().await.unwrap_err();
    let (code, message) = err_of(e);
    assert_eq!(code, "BadRequestException");
    assert!(message.contains("no routes"), "{message}");
    let auto = c
        .create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        auto.deployment_id(),
        None,
        "an auto stage of an API without routes"
    );
    let e = c
        .create_stage()
        .api_id(&api)
        .stage_name("bad name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");

    let integration = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_uri("http://backend")
        .integration_method("ANY")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("ANY /{proxy+}")
        .target(format!("integrations/{}", integration.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    // The route was deployed to the auto stage at once.
    let auto = c
        .get_stage()
        .api_id(&api)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    let first = auto.deployment_id().unwrap().to_owned();
    // A change that leaves the definition as it was deploys nothing.
    c.update_integration()
        .api_id(&api)
        .integration_id(integration.integration_id().unwrap())
        .integration_method("ANY")
        .send()
        .await
        .unwrap();
    let again = c
        .get_stage()
        .api_id(&api)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(again.deployment_id(), Some(first.as_str()));
    let deployment = c
        .get_deployment()
        .api_id(&api)
        .deployment_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(deployment.auto_deployed(), Some(true));
    assert_eq!(
        deployment.deployment_status().map(|s| s.as_str()),
        Some("DEPLOYED")
    );
    assert!(auto.last_deployment_status_message().unwrap().contains(&first));

    // A manual stage takes a deployment made for it; an auto stage refuses one.
    let dev = c
        .create_stage()
        .api_id(&api)
        .stage_name("dev")
        .stage_variables("color", "blue")
        .default_route_settings(
            RouteSettings::builder()
                .throttling_rate_limit(10.0)
                .throttling_burst_limit(5)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(dev.deployment_id(), None);
    assert_eq!(dev.stage_variables().unwrap()["color"], "blue");
    let manual = c
        .create_deployment()
        .api_id(&api)
        .stage_name("dev")
        .description("by hand")
        .send()
        .await
        .unwrap();
    assert_eq!(manual.auto_deployed(), Some(false));
    let dev = c.get_stage().api_id(&api).stage_name("dev").send().await.unwrap();
    assert_eq!(dev.deployment_id(), manual.deployment_id());
    let e = c
        .create_deployment()
        .api_id(&api)
        .stage_name("$default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let e = c
        .create_deployment()
        .api_id(&api)
        .stage_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");

    // Route settings merge; DeleteRouteSettings and DeleteAccessLogSettings remove them.
    let updated = c
        .update_stage()
        .api_id(&api)
        .stage_name("dev")
        .route_settings(
            "ANY /{proxy+}",
            RouteSettings::builder().throttling_rate_limit(1.0).build(),
        )
        .access_log_settings(
            aws_sdk_apigatewayv2::types::AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:000000000000:log-group:g")
                .format("$context.requestId")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.default_route_settings().unwrap().throttling_burst_limit(),
        Some(5)
    );
    assert_eq!(
        updated.route_settings().unwrap()["ANY /{proxy+}"].throttling_rate_limit(),
        Some(1.0)
    );
    c.delete_route_settings()
        .api_id(&api)
        .stage_name("dev")
        .route_key("ANY /{proxy+}")
        .send()
        .await
        .unwrap();
    c.delete_access_log_settings()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let dev = c.get_stage().api_id(&api).stage_name("dev").send().await.unwrap();
    assert!(dev.route_settings().is_none_or(|r| r.is_empty()));
    assert!(dev.access_log_settings().is_none());

    // A deployment in use stays; one no stage uses goes.
    let e = c
        .delete_deployment()
        .api_id(&api)
        .deployment_id(manual.deployment_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let spare = c.create_deployment().api_id(&api).send().await.unwrap();
    let listed = c.get_deployments().api_id(&api).send().await.unwrap();
    assert_eq!(listed.items().len(), 3);
    c.delete_deployment()
        .api_id(&api)
        .deployment_id(spare.deployment_id().unwrap())
        .send()
        .await
        .unwrap();
    let stages = c.get_stages().api_id(&api).send().await.unwrap();
    assert_eq!(stages.items().len(), 2);
    // ResetAuthorizersCache starts a new generation of the stage's cached authorizer answers.
    let generation = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT authorizers_flushed FROM stages WHERE api_id = $1 AND name = 'dev'")
                .bind(&api)
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        n
    };
    let before = generation().await;
    c.reset_authorizers_cache()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(generation().await, before + 1);
    let e = c
        .reset_authorizers_cache()
        .api_id(&api)
        .stage_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    c.delete_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let e = c
        .get_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

#[tokio::test]
async fn quick_create_makes_a_managed_integration_route_and_auto_stage() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let created = c
        .create_api()
        .name("hello")
        .protocol_type(ProtocolType::Http)
        .target("arn:aws:lambda:us-east-1:000000000000:function:hello")
        .send()
        .await
        .unwrap();
    let api = created.api_id().unwrap();
    let routes = c.get_routes().api_id(api).send().await.unwrap();
    let route = &routes.items()[0];
    assert_eq!(route.route_key(), Some("$default"));
    assert_eq!(route.api_gateway_managed(), Some(true));
    let integrations = c.get_integrations().api_id(api).send().await.unwrap();
    let integration = &integrations.items()[0];
    assert_eq!(
        integration.integration_type().map(|t| t.as_str()),
        Some("AWS_PROXY")
    );
    assert_eq!(integration.payload_format_version(), Some("2.0"));
    let stage = c
        .get_stage()
        .api_id(api)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.auto_deploy(), Some(true));
    assert_eq!(stage.api_gateway_managed(), Some(true));
    assert!(stage.deployment_id().is_some());
    // What quick create made is changed through the API, not by hand.
    let e = c
        .delete_route()
        .api_id(api)
        .route_id(route.route_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    c.update_api()
        .api_id(api)
        .target("http://example.com/hello")
        .route_key("GET /hello")
        .send()
        .await
        .unwrap();
    let integration = c
        .get_integration()
        .api_id(api)
        .integration_id(integration.integration_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        integration.integration_type().map(|t| t.as_str()),
        Some("HTTP_PROXY")
    );
    let routes = c.get_routes().api_id(api).send().await.unwrap();
    assert_eq!(routes.items()[0].route_key(), Some("GET /hello"));
    // Quick create is HTTP APIs'.
    let e = c
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .target("arn:aws:lambda:us-east-1:000000000000:function:hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
}

#[tokio::test]
async fn apis_and_their_stages_are_tagged_through_v2() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = http_api(&c, "tagged").await;
    c.create_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    for arn in [
        format!("arn:aws:apigateway:us-east-1::/apis/{api}"),
        format!("arn:aws:apigateway:us-east-1::/apis/{api}/stages/dev"),
    ] {
        c.tag_resource()
            .resource_arn(&arn)
            .tags("team", "edge")
            .tags("env", "test")
            .send()
            .await
            .unwrap();
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("env")
            .send()
            .await
            .unwrap();
        let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
        assert_eq!(tags.tags().unwrap().len(), 1, "{arn}");
        assert_eq!(tags.tags().unwrap()["team"], "edge");
    }
    let got = c.get_api().api_id(&api).send().await.unwrap();
    assert_eq!(got.tags().unwrap()["team"], "edge");
    let stage = c.get_stage().api_id(&api).stage_name("dev").send().await.unwrap();
    assert_eq!(stage.tags().unwrap()["team"], "edge");
    // Unknown resources, other regions and another account's APIs are not found or refused.
    let e = c
        .get_tags()
        .resource_arn("arn:aws:apigateway:us-east-1::/apis/nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    let e = app
        .v2_client_as("other", "other-secret", "us-east-1")
        .tag_resource()
        .resource_arn(format!("arn:aws:apigateway:us-east-1::/apis/{api}"))
        .tags("x", "y")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    let e = c
        .get_tags()
        .resource_arn(format!("arn:aws:apigateway:eu-west-1::/apis/{api}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
}

#[tokio::test]
async fn models_are_managed_with_their_templates() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = http_api(&c, "models").await;
    let schema = r#"{"type":"object","properties":{"name":{"type":"string"}}}"#;
    let model = c
        .create_model()
        .api_id(&api)
        .name("Pet")
        .content_type("application/json")
        .schema(schema)
        .send()
        .await
        .unwrap();
    let id = model.model_id().unwrap().to_owned();
    assert_eq!(model.schema(), Some(schema));
    let e = c
        .create_model()
        .api_id(&api)
        .name("Pet")
        .schema(schema)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    let e = c
        .create_model()
        .api_id(&api)
        .name("Empty")
        .schema("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let template = c
        .get_model_template()
        .api_id(&api)
        .model_id(&id)
        .send()
        .await
        .unwrap();
    assert!(
        template.value().unwrap().contains("$inputRoot.name"),
        "{template:?}"
    );
    let updated = c
        .update_model()
        .api_id(&api)
        .model_id(&id)
        .description("a pet")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("a pet"));
    assert_eq!(updated.name(), Some("Pet"));
    assert_eq!(c.get_models().api_id(&api).send().await.unwrap().items().len(), 1);
    c.delete_model().api_id(&api).model_id(&id).send().await.unwrap();
    let e = c.get_model().api_id(&api).model_id(&id).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

#[tokio::test]
async fn websocket_route_and_integration_responses_are_managed() {
    use aws_sdk_apigatewayv2::types::{IntegrationType, ParameterConstraints};
    let app = spawn_app().await;
    let c = app.v2_client();
    let ws = c
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let integration = c
        .create_integration()
        .api_id(&ws)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_owned();
    let route = c
        .create_route()
        .api_id(&ws)
        .route_key("sendmessage")
        .target(format!("integrations/{integration}"))
        .route_response_selection_expression("$default")
        .send()
        .await
        .unwrap()
        .route_id()
        .unwrap()
        .to_owned();

    // Route responses: `$default` only, unique per route.
    let rr = c
        .create_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_key("$default")
        .response_parameters(
            "route.response.header.x",
            ParameterConstraints::builder().required(true).build(),
        )
        .send()
        .await
        .unwrap();
    let rr_id = rr.route_response_id().unwrap().to_owned();
    assert_eq!(rr.route_response_key(), Some("$default"));
    let e = c
        .create_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_key("$default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    let e = c
        .create_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_key("ok")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let e = c
        .get_route_response()
        .api_id(&ws)
        .route_id("nope")
        .route_response_id(&rr_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid Route identifier specified nope".into()
        )
    );
    let updated = c
        .update_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_id(&rr_id)
        .model_selection_expression("$request.body.kind")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.model_selection_expression(), Some("$request.body.kind"));
    assert_eq!(updated.route_response_key(), Some("$default"));
    let got = c
        .get_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_id(&rr_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.model_selection_expression(), Some("$request.body.kind"));
    assert_eq!(
        got.response_parameters().unwrap()["route.response.header.x"].required(),
        Some(true)
    );
    let listed = c
        .get_route_responses()
        .api_id(&ws)
        .route_id(&route)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 1);

    // Integration responses: `$default` or a /regex/ over the status.
    let ir = c
        .create_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_key("/4\\d\\d/")
        .response_templates("$default", "{\"error\": true}")
        .template_selection_expression("\\$default")
        .send()
        .await
        .unwrap();
    let ir_id = ir.integration_response_id().unwrap().to_owned();
    for bad in ["4xx", "/(/", ""] {
        let e = c
            .create_integration_response()
            .api_id(&ws)
            .integration_id(&integration)
            .integration_response_key(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).0, "BadRequestException", "{bad}");
    }
    let e = c
        .update_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_id(&ir_id)
        .content_handling_strategy(aws_sdk_apigatewayv2::types::ContentHandlingStrategy::from(
            "SOMETIMES",
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    c.create_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_key("$default")
        .send()
        .await
        .unwrap();
    let listed = c
        .get_integration_responses()
        .api_id(&ws)
        .integration_id(&integration)
        .max_results("1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 1);
    assert!(listed.next_token().is_some());
    let got = c
        .get_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_id(&ir_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.response_templates().unwrap()["$default"], "{\"error\": true}");
    c.delete_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_id(&ir_id)
        .send()
        .await
        .unwrap();
    let e = c
        .get_integration_response()
        .api_id(&ws)
        .integration_id(&integration)
        .integration_response_id(&ir_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");

    // Deleting the route takes its responses with it.
    c.delete_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_id(&rr_id)
        .send()
        .await
        .unwrap();
    c.create_route_response()
        .api_id(&ws)
        .route_id(&route)
        .route_response_key("$default")
        .send()
        .await
        .unwrap();
    c.delete_route()
        .api_id(&ws)
        .route_id(&route)
        .send()
        .await
        .unwrap();

    // HTTP APIs have neither.
    let http = http_api(&c, "plain").await;
    let i = c
        .create_integration()
        .api_id(&http)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("GET")
        .integration_uri("http://example.com")
        .payload_format_version("1.0")
        .send()
        .await
        .unwrap();
    let e = c
        .create_integration_response()
        .api_id(&http)
        .integration_id(i.integration_id().unwrap())
        .integration_response_key("$default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "BadRequestException".into(),
            "Integration responses are supported only for WebSocket APIs".into()
        )
    );
}

/// A PetStore-like document as SAM or the console would write it: shared and inline
/// integrations, a JWT and an IAM scheme, CORS, tags, and one integration HTTP APIs cannot have.
const PETSTORE: &str = include_str!("../fixtures/petstore-http-api.yaml");

#[tokio::test]
async fn openapi_documents_import_reimport_and_export_round_trip() {
    let app = spawn_app().await;
    let c = app.v2_client();

    // With failOnWarnings, the AWS integration fails the import, which makes nothing.
    let e = c
        .import_api()
        .body(PETSTORE)
        .fail_on_warnings(true)
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(e);
    assert_eq!(kind, "BadRequestException");
    assert!(message.starts_with("Warnings found during import:"), "{message}");
    assert!(message.contains("'DELETE /pets/{petId}'"), "{message}");
    assert!(c.get_apis().send().await.unwrap().items().is_empty());
    for bad in [
        "{ not json",
        "swagger: '2.0'\ninfo: {title: t}\n",
        "openapi: 3.0.1\ninfo: {}\n",
    ] {
        let e = c.import_api().body(bad).send().await.unwrap_err();
        let (kind, message) = err_of(e);
        assert_eq!(kind, "BadRequestException");
        assert!(message.starts_with("Invalid OpenAPI input"), "{message}");
    }

    let imported = c.import_api().body(PETSTORE).send().await.unwrap();
    let api = imported.api_id().unwrap().to_owned();
    assert_eq!(imported.name(), Some("Example Pet Store"));
    assert_eq!(imported.version(), Some("1.0"));
    assert_eq!(imported.description(), Some("A Pet Store API."));
    assert_eq!(imported.cors_configuration().unwrap().max_age(), Some(300));
    assert_eq!(imported.tags().unwrap()["team"], "pets");
    assert_eq!(imported.warnings().len(), 1, "{:?}", imported.warnings());
    assert!(imported.import_info().iter().any(|i| i.contains("[schemas]")));
    let routes = c.get_routes().api_id(&api).send().await.unwrap();
    let mut keys: Vec<&str> = routes.items().iter().filter_map(|r| r.route_key()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "$default",
            "DELETE /pets/{petId}",
            "GET /pets",
            "GET /pets/{petId}",
            "POST /pets"
        ]
    );
    let route = |key: &str| {
        routes
            .items()
            .iter()
            .find(|r| r.route_key() == Some(key))
            .unwrap()
    };
    assert_eq!(
        route("POST /pets").authorization_type().map(|t| t.as_str()),
        Some("JWT")
    );
    assert_eq!(route("POST /pets").authorization_scopes(), ["pets/write"]);
    assert_eq!(
        route("GET /pets/{petId}")
            .authorization_type()
            .map(|t| t.as_str()),
        Some("AWS_IAM")
    );
    assert_eq!(route("GET /pets").operation_name(), Some("ListPets"));
    assert!(route("DELETE /pets/{petId}").target().is_none());
    assert_eq!(
        route("GET /pets").target(),
        route("$default").target(),
        "one shared integration"
    );
    let authorizers = c.get_authorizers().api_id(&api).send().await.unwrap();
    assert_eq!(authorizers.items()[0].name(), Some("jwt"));
    assert_eq!(
        c.get_integrations()
            .api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        3
    );

    // Export, then import the export: the same API.
    let export = |api: String, output: &'static str| {
        let c = c.clone();
        async move {
            let out = c
                .export_api()
                .api_id(api)
                .specification("OAS30")
                .output_type(output)
                .send()
                .await
                .unwrap();
            String::from_utf8(out.body().unwrap().as_ref().to_vec()).unwrap()
        }
    };
    let first = export(api.clone(), "JSON").await;
    let doc: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(doc["openapi"], "3.0.1");
    assert_eq!(doc["x-amazon-apigateway-importexport-version"], "1.0");
    assert_eq!(
        doc["paths"]["/pets"]["post"]["security"],
        json!([{"jwt": ["pets/write"]}])
    );
    assert_eq!(
        doc["paths"]["/pets/{petId}"]["get"]["security"],
        json!([{"sigv4": []}])
    );
    assert_eq!(doc["paths"]["/pets/{petId}"]["parameters"][0]["name"], "petId");
    assert_eq!(
        doc["paths"]["/$default"]["x-amazon-apigateway-any-method"]["isDefaultRoute"],
        true
    );
    assert_eq!(
        doc["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"]["requestParameters"],
        json!({"append:header.x-pet": "$request.path.petId"})
    );
    let again = c.import_api().body(&first).send().await.unwrap();
    assert!(again.warnings().is_empty(), "{:?}", again.warnings());
    let second = export(again.api_id().unwrap().to_owned(), "JSON").await;
    let normal = |text: &str| {
        let mut v: Value = serde_json::from_str(text).unwrap();
        v["servers"] = Value::Null;
        v
    };
    assert_eq!(normal(&first), normal(&second), "export → import → export");
    let yaml = export(api.clone(), "YAML").await;
    assert_eq!(
        normal(&serde_json::to_string(&gatehouse::openapi::parse(&yaml).unwrap()).unwrap()),
        normal(&first)
    );
    let bare = c
        .export_api()
        .api_id(&api)
        .specification("OAS30")
        .output_type("JSON")
        .include_extensions(false)
        .send()
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(bare.body().unwrap().as_ref()).contains("x-amazon-apigateway"));
    let e = c
        .export_api()
        .api_id(&api)
        .specification("SWAGGER")
        .output_type("JSON")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");

    // A stage exports its deployment; reimport replaces the definition and redeploys.
    c.create_stage()
        .api_id(&api)
        .stage_name("live")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let small = "openapi: 3.0.1\ninfo: {title: Smaller, version: '2'}\npaths:\n  /only:\n    get:\n      x-amazon-apigateway-integration: {type: http_proxy, httpMethod: GET, uri: 'https://example.com/only', payloadFormatVersion: '1.0'}\n";
    let reimported = c.reimport_api().api_id(&api).body(small).send().await.unwrap();
    assert_eq!(reimported.name(), Some("Smaller"));
    assert!(reimported.cors_configuration().is_none());
    let routes = c.get_routes().api_id(&api).send().await.unwrap();
    assert_eq!(routes.items().len(), 1);
    assert!(
        c.get_authorizers()
            .api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    let staged = c
        .export_api()
        .api_id(&api)
        .specification("OAS30")
        .output_type("JSON")
        .stage_name("live")
        .send()
        .await
        .unwrap();
    let staged: Value = serde_json::from_slice(staged.body().unwrap().as_ref()).unwrap();
    assert_eq!(staged["servers"][0]["variables"]["basePath"]["default"], "live");
    assert_eq!(
        staged["info"]["title"], "Smaller",
        "the autoDeploy stage has the reimport"
    );
}
