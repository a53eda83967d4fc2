//! Models, request validators, authorizers, gateway responses and the account.

use aws_sdk_apigateway::types::{AuthorizerType, GatewayResponseType, Op, PatchOperation};

use crate::helpers::*;

fn op(op: Op, path: &str, value: Option<&str>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value.map(str::to_owned))
        .build()
}

const SCHEMA: &str = r#"{"title": "Pet", "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}"#;

#[tokio::test]
async fn models_lifecycle_and_aws_errors() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    // Every API starts with AWS's Empty and Error models.
    let names: Vec<String> = c
        .get_models()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|m| m.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Empty", "Error"]);

    let m = c
        .create_model()
        .rest_api_id(&api)
        .name("Pet")
        .content_type("application/json")
        .schema(SCHEMA)
        .send()
        .await
        .unwrap();
    assert_eq!(m.name(), Some("Pet"));
    let e = err_of(
        c.create_model()
            .rest_api_id(&api)
            .name("Pet")
            .content_type("application/json")
            .schema(SCHEMA)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ConflictException".into(),
            "Model name already exists for this REST API".into()
        )
    );
    let e = err_of(
        c.create_model()
            .rest_api_id(&api)
            .name("")
            .content_type("application/json")
            .schema(SCHEMA)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Model name must be non-empty");
    let e = err_of(
        c.create_model()
            .rest_api_id(&api)
            .name("NoSchema")
            .content_type("application/json")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Model schema must have at least 1 property or array items defined"
    );
    let e = err_of(
        c.get_model()
            .rest_api_id(&api)
            .model_name("MySchema")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid model name specified: MySchema".into()
        )
    );

    let u = c
        .update_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .patch_operations(op(Op::Replace, "/description", Some("a pet")))
        .send()
        .await
        .unwrap();
    assert_eq!(u.description(), Some("a pet"));
    let e = err_of(
        c.update_model()
            .rest_api_id(&api)
            .model_name("Pet")
            .patch_operations(op(Op::Replace, "/name", Some("x")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]"
    );
    let e = err_of(
        c.update_model()
            .rest_api_id(&api)
            .model_name("Pet")
            .patch_operations(op(Op::Add, "/wrong-path", Some("x")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid patch path  '/wrong-path' specified for op 'add'. Please choose supported operations"
    );

    let t = c
        .get_model_template()
        .rest_api_id(&api)
        .model_name("Pet")
        .send()
        .await
        .unwrap();
    assert!(t.value().unwrap().contains("\"name\" : \"$inputRoot.name\""));

    // A model used by a method cannot be deleted.
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_models("application/json", "Pet")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.delete_model()
            .rest_api_id(&api)
            .model_name("Pet")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "ConflictException".into(),
            "Cannot delete model 'Pet', is referenced in method request: //ANY".into()
        )
    );
    c.delete_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    c.delete_model()
        .rest_api_id(&api)
        .model_name("Pet")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn request_validators_lifecycle() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let v = c
        .create_request_validator()
        .rest_api_id(&api)
        .name("body")
        .validate_request_body(true)
        .send()
        .await
        .unwrap();
    assert!(v.validate_request_body());
    assert!(!v.validate_request_parameters());
    let id = v.id().unwrap();
    let u = c
        .update_request_validator()
        .rest_api_id(&api)
        .request_validator_id(id)
        .patch_operations(op(Op::Replace, "/validateRequestBody", None))
        .patch_operations(op(Op::Replace, "/validateRequestParameters", Some("true")))
        .send()
        .await
        .unwrap();
    assert!(!u.validate_request_body());
    assert!(u.validate_request_parameters());
    for (o, path, value, message) in [
        (
            Op::Add,
            "/validateRequestBody",
            Some("true"),
            "Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose supported operations",
        ),
        (
            Op::Replace,
            "/invalidPath",
            Some("x"),
            "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]",
        ),
        (
            Op::Replace,
            "/name",
            Some(""),
            "Request Validator name cannot be blank",
        ),
    ] {
        let e = err_of(
            c.update_request_validator()
                .rest_api_id(&api)
                .request_validator_id(id)
                .patch_operations(op(o, path, value))
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(e.1, message);
    }
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .request_validator_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_request_validators()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
    c.delete_request_validator()
        .rest_api_id(&api)
        .request_validator_id(id)
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.get_request_validator()
            .rest_api_id(&api)
            .request_validator_id(id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Request Validator identifier specified".into()
        )
    );
    let m = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert!(m.request_validator_id().is_none());
    // AWS's answers for an unknown API differ by call.
    let e = err_of(
        c.create_request_validator()
            .rest_api_id("abcde0")
            .name("x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "BadRequestException".into(),
            "Invalid REST API identifier specified".into()
        )
    );
    let e = err_of(
        c.get_request_validator()
            .rest_api_id("abcde0")
            .request_validator_id("x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Request Validator identifier specified".into()
        )
    );
    let e = err_of(
        c.get_request_validators()
            .rest_api_id("abcde0")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            format!("Invalid API identifier specified {ACCOUNT}:abcde0")
        )
    );
}

const LAMBDA_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations";

#[tokio::test]
async fn authorizers_lifecycle_and_use_by_methods() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let a = c
        .create_authorizer()
        .rest_api_id(&api)
        .name("token")
        .r#type(AuthorizerType::Token)
        .authorizer_uri(LAMBDA_URI)
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap();
    // As AWS: no TTL shown unless one was given (300 applies), and a Lambda authorizer's
    // authType is `custom`.
    assert_eq!(a.authorizer_result_ttl_in_seconds(), None);
    assert_eq!(a.auth_type(), Some("custom"));
    let id = a.id().unwrap();
    let e = err_of(
        c.create_authorizer()
            .rest_api_id(&api)
            .name("bad")
            .r#type(AuthorizerType::Token)
            .authorizer_uri("nope")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "BadRequestException");
    let cognito = c
        .create_authorizer()
        .rest_api_id(&api)
        .name("pool")
        .r#type(AuthorizerType::CognitoUserPools)
        .provider_arns("arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_abc")
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(cognito.provider_arns().len(), 1);

    let u = c
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(id)
        .patch_operations(op(Op::Replace, "/authorizerResultTtlInSeconds", Some("60")))
        .patch_operations(op(Op::Replace, "/name", Some("renamed")))
        .send()
        .await
        .unwrap();
    assert_eq!(u.authorizer_result_ttl_in_seconds(), Some(60));
    assert_eq!(u.name(), Some("renamed"));

    c.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("CUSTOM")
        .authorizer_id(id)
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.delete_authorizer()
            .rest_api_id(&api)
            .authorizer_id(id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ConflictException");
    c.delete_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    c.delete_authorizer()
        .rest_api_id(&api)
        .authorizer_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_authorizers()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
    let e = err_of(
        c.get_authorizers()
            .rest_api_id("abcde0")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");
}

#[tokio::test]
async fn gateway_responses_default_customise_and_inherit() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, _) = create_api(&c, "api").await;
    let all = c.get_gateway_responses().rest_api_id(&api).send().await.unwrap();
    assert_eq!(all.items().len(), 21);
    let mat = c
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(mat.status_code(), Some("403"));
    assert!(mat.default_response());
    assert_eq!(
        mat.response_templates().unwrap()["application/json"],
        "{\"message\":$context.error.messageString}"
    );

    let put = c
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .status_code("599")
        .response_parameters(
            "gatewayresponse.header.x-request-header",
            "method.request.header.Accept",
        )
        .send()
        .await
        .unwrap();
    assert!(!put.default_response());
    // Uncustomised 5XX types inherit DEFAULT_5XX; 4XX ones do not.
    let timeout = c
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::IntegrationTimeout)
        .send()
        .await
        .unwrap();
    assert_eq!(timeout.status_code(), Some("599"));
    assert!(timeout.default_response());
    assert!(
        timeout
            .response_parameters()
            .unwrap()
            .contains_key("gatewayresponse.header.x-request-header")
    );
    let denied = c
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::AccessDenied)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status_code(), Some("403"));

    let u = c
        .update_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default4Xx)
        .patch_operations(op(Op::Replace, "/statusCode", Some("444")))
        .send()
        .await
        .unwrap();
    assert_eq!(u.status_code(), Some("444"));
    assert!(!u.default_response());
    let e = err_of(
        c.update_gateway_response()
            .rest_api_id(&api)
            .response_type(GatewayResponseType::Default4Xx)
            .patch_operations(op(Op::Add, "/statusCode", Some("400")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid patch path /statusCode");
    let e = err_of(
        c.update_gateway_response()
            .rest_api_id(&api)
            .response_type(GatewayResponseType::Default4Xx)
            .patch_operations(op(
                Op::Replace,
                "/responseParameters/gatewayresponse.header.nope",
                Some("'x'"),
            ))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid parameter name specified".into()
        )
    );

    c.delete_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.delete_gateway_response()
            .rest_api_id(&api)
            .response_type(GatewayResponseType::Default5Xx)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Gateway response type not defined on api".into()
        )
    );
    let e = err_of(
        c.get_gateway_response()
            .rest_api_id(&api)
            .response_type(GatewayResponseType::from("FAKE_RESPONSE_TYPE"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.ends_with("INTEGRATION_FAILURE, EXPIRED_TOKEN]"));
}

#[tokio::test]
async fn account_settings_are_per_tenant() {
    let app = spawn_app().await;
    let c = app.client();
    let a = c.get_account().send().await.unwrap();
    assert_eq!(a.throttle_settings().unwrap().burst_limit(), 5000);
    assert_eq!(a.api_key_version(), Some("4"));
    let arn = "arn:aws:iam::000000000000:role/apigw-logs";
    let u = c
        .update_account()
        .patch_operations(op(Op::Replace, "/cloudwatchRoleArn", Some(arn)))
        .send()
        .await
        .unwrap();
    assert_eq!(u.cloudwatch_role_arn(), Some(arn));
    assert_eq!(
        c.get_account().send().await.unwrap().cloudwatch_role_arn(),
        Some(arn)
    );
    assert!(
        app.other_client()
            .get_account()
            .send()
            .await
            .unwrap()
            .cloudwatch_role_arn()
            .is_none()
    );
}
