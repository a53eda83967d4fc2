//! Request validation through deployed APIs, against the answers AWS recorded in
//! test_apigateway_common (`test_api_gateway_request_validator*`).

use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{Op, PatchOperation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::templates::{Route, deploy};

const TEST_SCHEMA: &str = r#"{"$schema": "http://json-schema.org/draft-04/schema#", "title": "testSchema", "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}"#;

fn op(op: Op, path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(op).path(path).value(value).build()
}

async fn create_validator(c: &Client, api: &str) -> String {
    c.create_request_validator()
        .rest_api_id(api)
        .name("test-validator")
        .validate_request_body(true)
        .validate_request_parameters(true)
        .send()
        .await
        .unwrap()
        .id
        .unwrap()
}

async fn create_model(c: &Client, api: &str, name: &str, schema: &str) {
    c.create_model()
        .rest_api_id(api)
        .name(name)
        .content_type("application/json")
        .schema(schema)
        .send()
        .await
        .unwrap();
}

/// A MOCK route answering `{"data": "ok"}`, validated by `validator` against `model`.
async fn validated_route(
    c: &Client,
    api: &str,
    resource: &str,
    verb: &str,
    validator: &str,
    model: &str,
    params: &[&str],
) {
    Route {
        verb,
        request_templates: vec![("application/json", r#"{"statusCode": 200}"#)],
        selection_pattern: Some(""),
        response_templates: vec![("application/json", r#"{"data": "ok"}"#)],
        ..Route::default()
    }
    .put(c, api, resource)
    .await;
    let mut update = c
        .update_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .patch_operations(op(Op::Replace, "/requestValidatorId", validator))
        .patch_operations(op(Op::Add, "/requestModels/application~1json", model));
    for p in params {
        update = update.patch_operations(op(Op::Add, &format!("/requestParameters/{p}"), "true"));
    }
    update.send().await.unwrap();
}

/// Redeploys `stage` and waits until `check` sees the new deployment's behaviour.
async fn redeploy_until<F, Fut>(c: &Client, api: &str, stage: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    c.create_deployment()
        .rest_api_id(api)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), check).await,
        "the new deployment is served"
    );
}

#[tokio::test]
async fn required_parameters_and_bodies_are_validated_as_aws_does() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "aws lambda api").await;
    let nested = add_resource(&c, &api, &root, "nested").await;
    let test = add_resource(&c, &api, &nested, "{test}").await;
    let validator = create_validator(&c, &api).await;
    create_model(&c, &api, "testSchema", TEST_SCHEMA).await;
    let params = [
        "method.request.path.test",
        "method.request.querystring.qs1",
        "method.request.header.x-header-param",
    ];
    for verb in ["GET", "POST"] {
        validated_route(&c, &api, &test, verb, &validator, "testSchema", &params).await;
    }
    let (worker, http) = deploy(&app, &api, "local").await;
    let url = |query: &str| invoke_url(&api, &worker, "local", &format!("/nested/value{query}"));
    let send = |verb: reqwest::Method, query: &str, header: bool, body: Option<Value>| {
        let mut req = http.request(verb, url(query));
        if header {
            req = req.header("x-header-param", "test");
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let answer = |res: reqwest::Response| async move {
        let status = res.status();
        (status, res.json::<Value>().await.unwrap())
    };
    use reqwest::Method as M;

    let res = send(M::POST, "?qs1=test", true, Some(json!({"a": 1, "b": 2})))
        .await
        .unwrap();
    assert_eq!(answer(res).await, (StatusCode::OK, json!({"data": "ok"})));
    // No body: validated as `{}`, which lacks the required properties.
    let res = send(M::GET, "?qs1=test", true, None).await.unwrap();
    assert_eq!(
        answer(res).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Invalid request body"})
        )
    );

    // The method now requires a path parameter its resource does not have.
    c.update_method()
        .rest_api_id(&api)
        .resource_id(&test)
        .http_method("POST")
        .patch_operations(op(
            Op::Add,
            "/requestParameters/method.request.path.issuer",
            "true",
        ))
        .patch_operations(op(
            Op::Remove,
            "/requestParameters/method.request.path.test",
            "true",
        ))
        .send()
        .await
        .unwrap();
    redeploy_until(&c, &api, "local", || async {
        let res = send(M::POST, "?qs1=test", true, Some(json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        res.status() == 400
    })
    .await;
    let res = send(M::POST, "", false, Some(json!({"test": "test"})))
        .await
        .unwrap();
    assert_eq!(
        answer(res).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Missing required request parameters: [x-header-param, issuer, qs1]"})
        )
    );
    let res = send(M::GET, "?qs1=test", false, None).await.unwrap();
    assert_eq!(
        answer(res).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Missing required request parameters: [x-header-param]"})
        )
    );
    let res = send(M::GET, "", true, None).await.unwrap();
    assert_eq!(
        answer(res).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Missing required request parameters: [qs1]"})
        )
    );

    c.update_method()
        .rest_api_id(&api)
        .resource_id(&test)
        .http_method("POST")
        .patch_operations(op(Op::Add, "/requestParameters/method.request.path.test", "true"))
        .patch_operations(op(
            Op::Remove,
            "/requestParameters/method.request.path.issuer",
            "true",
        ))
        .send()
        .await
        .unwrap();
    redeploy_until(&c, &api, "local", || async {
        let res = send(M::POST, "?qs1=test", true, Some(json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        res.status() == 200
    })
    .await;
    let res = send(M::POST, "?qs1=test", true, Some(json!({"test": "test"})))
        .await
        .unwrap();
    assert_eq!(
        answer(res).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "Invalid request body"})
        )
    );
    let res = send(M::GET, "?qs1=test", true, None).await.unwrap();
    assert_eq!(answer(res).await.1, json!({"message": "Invalid request body"}));

    c.update_request_validator()
        .rest_api_id(&api)
        .request_validator_id(&validator)
        .patch_operations(op(Op::Replace, "/validateRequestBody", "false"))
        .patch_operations(op(Op::Replace, "/validateRequestParameters", "false"))
        .send()
        .await
        .unwrap();
    redeploy_until(&c, &api, "local", || async {
        let res = send(M::POST, "", false, Some(json!({"test": "test"})))
            .await
            .unwrap();
        res.status() == 200
    })
    .await;
    let res = send(M::GET, "", false, None).await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn models_refer_to_each_other_by_url() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "test ref models").await;
    let validator = create_validator(&c, &api).await;
    let model_url = |name: &str| format!("https://apigateway.amazonaws.com/restapis/{api}/models/{name}");

    // test_api_gateway_request_validator_with_ref_models
    create_model(&c, &api, "testSchema", TEST_SCHEMA).await;
    let list = json!({"type": "array", "items": {"$ref": model_url("testSchema")}}).to_string();
    create_model(&c, &api, "testSchemaList", &list).await;
    let path = add_resource(&c, &api, &root, "path").await;
    validated_route(&c, &api, &path, "POST", &validator, "testSchemaList", &[]).await;

    // test_api_gateway_request_validator_with_ref_one_ofmodels
    let status = r#"{"type": "object", "properties": {"Status": {"type": "string"}, "Order": {"type": "integer"}}, "required": ["Status", "Order"]}"#;
    create_model(&c, &api, "StatusModel", status).await;
    let test_model = json!({
        "type": "object",
        "properties": {"status": {"oneOf": [{"type": "null"}, {"$ref": model_url("StatusModel")}]}},
        "required": ["status"]
    })
    .to_string();
    create_model(&c, &api, "TestModel", &test_model).await;
    let one_of = add_resource(&c, &api, &root, "one-of").await;
    validated_route(&c, &api, &one_of, "POST", &validator, "TestModel", &[]).await;

    let (worker, http) = deploy(&app, &api, "local").await;
    let post = |path: &str, body: Option<Value>| {
        let mut req = http.post(invoke_url(&api, &worker, "local", path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let ok = json!({"data": "ok"});
    let invalid = json!({"message": "Invalid request body"});
    for (path, body, status, answer) in [
        ("/path", Some(json!([{"a": 1, "b": 2}])), 200, &ok),
        ("/path", Some(json!([{"a": 1}])), 400, &invalid),
        ("/path", None, 400, &invalid),
        ("/one-of", Some(json!({"status": null})), 200, &ok),
        (
            "/one-of",
            Some(json!({"status": {"Status": "works", "Order": 1}})),
            200,
            &ok,
        ),
        ("/one-of", None, 400, &invalid),
        ("/one-of", Some(json!({"badFormat": "bla"})), 400, &invalid),
    ] {
        let res = post(path, body.clone()).await.unwrap();
        assert_eq!(res.status(), status, "{path} {body:?}");
        assert_eq!(&res.json::<Value>().await.unwrap(), answer, "{path} {body:?}");
    }
    // A body that is not JSON at all is invalid too.
    let res = http
        .post(invoke_url(&api, &worker, "local", "/path"))
        .header("content-type", "application/json")
        .body("[{\"a\": 1,")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_customised_bad_request_body_response_says_what_failed() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "explained").await;
    let validator = create_validator(&c, &api).await;
    create_model(&c, &api, "testSchema", TEST_SCHEMA).await;
    validated_route(&c, &api, &root, "POST", &validator, "testSchema", &[]).await;
    c.put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::BadRequestBody)
        .status_code("422")
        .response_templates(
            "application/json",
            r#"{"error": "$context.error.message", "type": "$context.error.responseType", "why": "$util.escapeJavaScript($context.error.validationErrorString)"}"#,
        )
        .send()
        .await
        .unwrap();
    let (worker, http) = deploy(&app, &api, "local").await;
    let res = http
        .post(invoke_url(&api, &worker, "local", "/"))
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "Invalid request body");
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    assert!(body["why"].as_str().unwrap().contains("\"b\""), "{body}");
}
