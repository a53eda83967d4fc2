//! Methods and method responses.

use aws_sdk_apigateway::types::Op;

use crate::helpers::*;

#[tokio::test]
async fn put_get_update_delete_a_method() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let m = c
        .put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_parameters("method.request.querystring.q", true)
        .request_models("application/json", "Empty")
        .operation_name("Op")
        .send()
        .await
        .unwrap();
    assert_eq!(m.http_method(), Some("ANY"));
    assert!(!m.api_key_required().unwrap());
    assert!(m.request_parameters().unwrap()["method.request.querystring.q"]);

    let m = c
        .update_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .patch_operations(patch_op(Op::Replace, "/apiKeyRequired", Some("true")))
        .patch_operations(patch_op(Op::Replace, "/authorizationType", Some("AWS_IAM")))
        .patch_operations(patch_op(
            Op::Replace,
            "/requestParameters/method.request.querystring.q",
            Some("false"),
        ))
        .patch_operations(patch_op(
            Op::Add,
            "/requestParameters/method.request.header.h",
            None,
        ))
        .patch_operations(patch_op(Op::Remove, "/requestModels/application~1json", None))
        .send()
        .await
        .unwrap();
    assert!(m.api_key_required().unwrap());
    assert_eq!(m.authorization_type(), Some("AWS_IAM"));
    assert!(!m.request_parameters().unwrap()["method.request.querystring.q"]);
    assert!(
        m.request_parameters()
            .unwrap()
            .contains_key("method.request.header.h")
    );
    assert!(m.request_models().is_none());

    let got = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(got.operation_name(), Some("Op"));
    c.delete_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.get_method()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("ANY")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Method identifier specified".into()
        )
    );
}

#[tokio::test]
async fn put_method_validates_like_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let put = |verb: &'static str, auth: &'static str| {
        c.put_method()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method(verb)
            .authorization_type(auth)
    };
    let e = err_of(put("WRONG", "NONE").send().await.unwrap_err());
    assert_eq!(
        e.1,
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
    );
    let e = err_of(put("GET", "CUSTOM").send().await.unwrap_err());
    assert_eq!(
        e.1,
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer."
    );
    let e = err_of(
        put("GET", "NONE")
            .request_validator_id("nope")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid Request Validator identifier specified");
    let e = err_of(
        put("GET", "NONE")
            .request_models("application/json", "petModel")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid model identifier specified: petModel");
    let e = err_of(
        put("GET", "NONE")
            .request_parameters("method.request.querystring.a", true)
            .request_parameters("method.request.header.a", true)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Parameter names must be unique across querystring, header and path"
    );
    let e = err_of(
        c.put_method()
            .rest_api_id(&api)
            .resource_id("nope00")
            .http_method("GET")
            .authorization_type("NONE")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid Resource identifier specified");
    let e = err_of(
        c.update_method()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .patch_operations(patch_op(Op::Replace, "/apiKeyRequired", Some("true")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid Method identifier specified");
}

#[tokio::test]
async fn update_method_rejects_unknown_paths() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    for (o, path, message) in [
        (Op::Replace, "/httpMethod", "Invalid patch path /httpMethod"),
        (
            Op::Add,
            "/requestParameters",
            "Invalid patch path /requestParameters",
        ),
        (
            Op::Add,
            "/requestModels/application/json",
            "Invalid patch path /requestModels/application/json",
        ),
        (
            Op::Move,
            "/operationName",
            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
        ),
    ] {
        let e = err_of(
            c.update_method()
                .rest_api_id(&api)
                .resource_id(&root)
                .http_method("GET")
                .patch_operations(patch_op(o, path, Some("x")))
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(e, ("BadRequestException".into(), message.into()), "{path}");
    }
}

#[tokio::test]
async fn method_responses_lifecycle() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let r = c
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Id", false)
        .response_models("application/json", "Empty")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status_code(), Some("200"));
    let r = c
        .update_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .patch_operations(patch_op(
            Op::Add,
            "/responseParameters/method.response.header.X-New",
            Some("true"),
        ))
        .patch_operations(patch_op(
            Op::Remove,
            "/responseParameters/method.response.header.X-Id",
            None,
        ))
        .send()
        .await
        .unwrap();
    let params = r.response_parameters().unwrap();
    assert_eq!(params.len(), 1);
    assert!(params["method.response.header.X-New"]);
    let method = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert!(method.method_responses().unwrap().contains_key("200"));

    let e = err_of(
        c.put_method_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .status_code("wrong")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert_eq!(
        e.1,
        "1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
    );
    c.delete_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.get_method_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .status_code("200")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Response status code specified".into()
        )
    );
}
