//! Integrations and integration responses.

use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};

use crate::helpers::*;

fn op(op: Op, path: &str, value: Option<&str>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value.map(str::to_owned))
        .build()
}

#[tokio::test]
async fn put_integration_fills_aws_defaults() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let i = c
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(i.r#type(), Some(&IntegrationType::Mock));
    assert_eq!(i.passthrough_behavior(), Some("WHEN_NO_MATCH"));
    assert_eq!(i.timeout_in_millis(), 29000);
    assert_eq!(i.cache_namespace(), Some(root.as_str()));
    assert!(i.cache_key_parameters().is_empty());

    let http = c
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://backend.example/{proxy}")
        .request_parameters("integration.request.header.X-From", "method.request.header.X-To")
        .timeout_in_millis(5000)
        .passthrough_behavior("NEVER")
        .send()
        .await
        .unwrap();
    assert_eq!(http.uri(), Some("http://backend.example/{proxy}"));
    assert_eq!(http.timeout_in_millis(), 5000);
    assert_eq!(http.passthrough_behavior(), Some("NEVER"));
}

#[tokio::test]
async fn put_integration_validates_like_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let put = |t: IntegrationType| {
        c.put_integration()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .r#type(t)
    };
    let e = err_of(put(IntegrationType::Mock).send().await.unwrap_err());
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Method identifier specified".into()
        )
    );
    put_mock_method(&c, &api, &root, "GET").await;

    let e = err_of(
        put(IntegrationType::from("HTTPS_PROXY"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "ValidationException");
    assert!(e.1.contains("Value 'HTTPS_PROXY' at 'putIntegrationInput.type'"));
    let e = err_of(
        put(IntegrationType::Http)
            .integration_http_method("GET")
            .uri("ftp://x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid HTTP endpoint specified for URI");
    let e = err_of(
        put(IntegrationType::HttpProxy)
            .uri("http://x.example")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Enumeration value for HttpMethod must be non-empty");
    let e = err_of(
        put(IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri("arn:aws:apigateway:us-east-1:s3:path/bucket/key")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
    );
    let e = err_of(
        put(IntegrationType::Aws)
            .integration_http_method("POST")
            .uri("arn:aws:apigateway:us-east-1:sqs:x")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "AWS ARN for integration must contain path or action");
    let e = err_of(
        put(IntegrationType::Mock)
            .timeout_in_millis(30_000)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Timeout should be between 50 ms and 29000 ms");
    put(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn integration_responses_lifecycle() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let e = err_of(
        c.get_integration_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .status_code("200")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid Method identifier specified");
    put_mock_method(&c, &api, &root, "GET").await;
    let r = c
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("")
        .response_templates("application/json", "\"created\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.selection_pattern(), Some(""));
    let r = c
        .update_integration_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .patch_operations(op(Op::Replace, "/selectionPattern", Some("updated-pattern")))
        .patch_operations(op(
            Op::Add,
            "/responseParameters/method.response.header.X",
            Some("'static'"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.selection_pattern(), Some("updated-pattern"));
    assert_eq!(
        r.response_parameters().unwrap()["method.response.header.X"],
        "'static'"
    );
    let method = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    let responses = method
        .method_integration()
        .unwrap()
        .integration_responses()
        .unwrap();
    assert_eq!(responses["200"].selection_pattern(), Some("updated-pattern"));

    c.delete_integration_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.delete_integration_response()
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

    let i = c
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .patch_operations(op(Op::Replace, "/timeoutInMillis", Some("1000")))
        .patch_operations(op(Op::Add, "/cacheKeyParameters/method.request.path.id", None))
        .patch_operations(op(Op::Add, "/requestTemplates/text~1plain", Some("hello")))
        .send()
        .await
        .unwrap();
    assert_eq!(i.timeout_in_millis(), 1000);
    assert_eq!(i.cache_key_parameters(), ["method.request.path.id"]);
    assert_eq!(i.request_templates().unwrap()["text/plain"], "hello");
    c.delete_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.get_integration()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Integration identifier specified".into()
        )
    );
}
