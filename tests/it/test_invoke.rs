//! TestInvokeMethod: one method of the API's current definition (not its deployment) run
//! through the data plane's pipeline, with AWS's answer shape (status, body, headers,
//! multiValueHeaders, log, latency), against MOCK and HTTP_PROXY methods.

use std::sync::{Arc, Mutex};

use aws_sdk_apigateway::types::IntegrationType;
use bytes::Bytes;
use http_body_util::Full;

use crate::dataplane::mock_api;
use crate::helpers::*;

#[tokio::test]
async fn test_invoke_runs_the_current_definition_of_a_method() {
    let app = spawn_app().await;
    let c = app.client();
    // Deployed with `{"pets": ["rex"]}`; then changed, not deployed.
    let api = mock_api(&c, "dev").await;
    let resources = c.get_resources().rest_api_id(&api).send().await.unwrap();
    let pets = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/pets"))
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("")
        .response_templates(
            "application/json",
            r#"{"pets": ["rex", "tom"], "color": "$input.params('color')", "stage": "$stageVariables.name"}"#,
        )
        .response_parameters("method.response.header.X-Mock", "'yes'")
        .send()
        .await
        .unwrap();
    let tested = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .path_with_query_string("/pets?color=red")
        .stage_variables("name", "tested")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.status(), 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(tested.body().unwrap()).unwrap(),
        serde_json::json!({"pets": ["rex", "tom"], "color": "red", "stage": "tested"})
    );
    // Header names as AWS shows them (recorded: `Content-Type`).
    assert_eq!(tested.headers().unwrap()["X-Mock"], "yes");
    assert_eq!(tested.headers().unwrap()["Content-Type"], "application/json");
    assert_eq!(
        tested.multi_value_headers().unwrap()["X-Mock"],
        vec!["yes".to_owned()]
    );
    let log = tested.log().unwrap();
    assert!(log.starts_with("Execution log for request "), "{log}");
    assert!(log.contains("Method request query string: {color=red}"), "{log}");
    assert!(log.contains("Method completed with status: 200"), "{log}");
    assert!(log.contains("Method request path: {}"), "{log}");
    // As AWS does (recorded), the method runs whatever the path says.
    let elsewhere = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .path_with_query_string("/random/test")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 200);
    assert!(
        elsewhere
            .log()
            .unwrap()
            .contains("HTTP Method: GET, Resource Path: /random/test"),
        "{:?}",
        elsewhere.log()
    );

    // Unknown methods and resources are AWS's 404s.
    let e = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid Method identifier specified".into()
        )
    );
    let e = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id("nope")
        .http_method("GET")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    // A method the resource lacks is run by its ANY, as AWS runs it (recorded).
    put_mock_method(&c, &api, &pets, "ANY").await;
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("ANY")
        .status_code("200")
        .selection_pattern("")
        .response_templates("application/json", r#"{"by": "any"}"#)
        .send()
        .await
        .unwrap();
    let by_any = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (by_any.status(), by_any.body()),
        (200, Some(r#"{"by": "any"}"#)),
        "{:?}",
        by_any.log()
    );
    assert!(
        by_any
            .log()
            .unwrap()
            .contains("HTTP Method: POST, Resource Path: /pets"),
        "{:?}",
        by_any.log()
    );
}

#[tokio::test]
async fn test_invoke_calls_an_http_proxy_backend() {
    let app = spawn_app().await;
    let c = app.client();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let backend = crate::backends::serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let team = req
                .headers()
                .get("x-team")
                .map(|v| v.to_str().unwrap().to_owned());
            log.lock().unwrap().push((req.uri().to_string(), team));
            hyper::Response::builder()
                .status(201)
                .header("x-backend", "seen")
                .body(Full::new(Bytes::from_static(b"made")))
                .unwrap()
        }
    })
    .await;
    let (api, root) = create_api(&c, "proxied").await;
    let items = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("items")
        .send()
        .await
        .unwrap();
    let items = items.id().unwrap();
    // The authorizer is not asked for in a test: AWS_IAM here would refuse an unsigned call.
    c.put_method()
        .rest_api_id(&api)
        .resource_id(items)
        .http_method("POST")
        .authorization_type("AWS_IAM")
        .api_key_required(true)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(items)
        .http_method("POST")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("POST")
        .uri(format!("http://{backend}/v1/items"))
        .send()
        .await
        .unwrap();
    let tested = c
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(items)
        .http_method("POST")
        .path_with_query_string("/items?size=2")
        .headers("X-Team", "blue")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.status(), 201, "{:?}", tested.log());
    assert_eq!(tested.body(), Some("made"));
    assert_eq!(tested.headers().unwrap()["X-Backend"], "seen");
    assert!(tested.latency() >= 0);
    assert_eq!(
        *seen.lock().unwrap(),
        [("/v1/items?size=2".to_owned(), Some("blue".to_owned()))]
    );
}

/// The path of a test is a path and query string, nothing more: a request line cannot be
/// smuggled through it.
#[tokio::test]
async fn a_test_path_cannot_carry_a_request_line() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    let resources = c.get_resources().rest_api_id(&api).send().await.unwrap();
    let pets = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/pets"))
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for path in ["/pets HTTP/1.1\r\nHost: evil\r\n\r\n", "/pets#x", "/pe ts"] {
        let e = c
            .test_invoke_method()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .path_with_query_string(path)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).0, "BadRequestException", "{path:?}");
    }
}
