//! AWS (non-proxy) integrations: Lambda through mapping templates and selection patterns (the
//! test_apigateway_lambda recordings), and AWS services called with SigV4 at a configured
//! endpoint.

use std::collections::HashMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::IntegrationType;
use gatehouse::dataplane::settings::AwsSettings;
use serde_json::{Value, json};

use crate::backends::{fake_lambda, fake_sqs, fake_sts};
use crate::helpers::*;
use crate::templates::deploy_with;

fn lambda_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations"
    )
}

/// Credentials whose secret the fake services verify signatures with.
fn signing_env() -> HashMap<String, String> {
    [
        ("AWS_ACCESS_KEY_ID", "AKIATEST"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn put_method(c: &Client, api: &str, resource: &str, verb: &str, statuses: &[&str]) {
    c.put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    for status in statuses {
        c.put_method_response()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(verb)
            .status_code(*status)
            .send()
            .await
            .unwrap();
    }
}

async fn put_response(
    c: &Client,
    api: &str,
    resource: &str,
    verb: &str,
    status: &str,
    pattern: &str,
    template: Option<&str>,
) {
    let mut put = c
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .status_code(status)
        .selection_pattern(pattern);
    if let Some(t) = template {
        put = put.response_templates("application/json", t);
    }
    put.send().await.unwrap();
}

#[tokio::test]
async fn lambda_non_proxy_integrations_match_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let (api, root) = create_api(&c, "lambda-aws").await;
    let put_integration =
        |resource: String, verb: &'static str, function: &'static str, template: Option<&'static str>| {
            let c = c.clone();
            let api = api.clone();
            async move {
                let mut put = c
                    .put_integration()
                    .rest_api_id(&api)
                    .resource_id(&resource)
                    .http_method(verb)
                    .r#type(IntegrationType::Aws)
                    .integration_http_method("POST")
                    .uri(lambda_uri(function))
                    .credentials("arn:aws:iam::000000000000:role/apigw");
                if let Some(t) = template {
                    put = put.request_templates("application/json", t);
                }
                put.send().await.unwrap();
            }
        };

    // test_lambda_aws_integration: no templates; the body goes to the function and back.
    let test = add_resource(&c, &api, &root, "test").await;
    put_method(&c, &api, &test, "POST", &["200"]).await;
    put_integration(test.clone(), "POST", "identity", None).await;
    put_response(&c, &api, &test, "POST", "200", "", None).await;

    // test_lambda_aws_integration_with_request_template
    put_method(&c, &api, &test, "GET", &["200"]).await;
    put_integration(
        test.clone(),
        "GET",
        "identity",
        Some(r#"{"param1": "$input.params('param1')"}"#),
    )
    .await;
    put_response(&c, &api, &test, "GET", "200", "", None).await;

    // test_lambda_selection_patterns
    let code = add_resource(&c, &api, &root, "{statusCode}").await;
    put_method(&c, &api, &code, "GET", &["200", "405", "502"]).await;
    put_integration(
        code.clone(),
        "GET",
        "select_pattern",
        Some(r#"{"statusCode": "$input.params('statusCode')"}"#),
    )
    .await;
    put_response(&c, &api, &code, "GET", "200", "", None).await;
    put_response(&c, &api, &code, "GET", "405", ".*four hundred.*", None).await;
    put_response(&c, &api, &code, "GET", "502", ".+", None).await;
    put_response(&c, &api, &code, "GET", "504", "200", None).await;

    // test_lambda_aws_integration_response_with_mapping_templates
    let request_vm = "#set($allParams = $input.params())\n#set($jsonBody = $input.json('$'))\n#set($path = $allParams.get('path'))\n#set($querystring = $allParams.get('querystring'))\n#set($header = $allParams.get('header'))\n#set($stage = $context.stage)\n{\n\"apiContext\": {\n\"apiId\": \"$context.apiId\",\n\"method\": \"$context.httpMethod\",\n\"sourceIp\": \"$context.identity.sourceIp\",\n\"userAgent\": \"$context.identity.userAgent\",\n\"path\": \"$context.path\",\n\"protocol\": \"$context.protocol\",\n\"requestId\": \"$context.requestId\",\n\"stage\": \"$stage\"\n},\n\"path\": {\n\"parameterMap\": {\n#foreach($paramName in $path.keySet())\n\"$paramName\": \"$util.escapeJavaScript($path.get($paramName))\"#if($foreach.hasNext),#end\n#end\n}\n},\n\"querystring\": {\n\"parameterMap\":{\n#foreach($paramName in $querystring.keySet())\n\"$paramName\": \"$util.escapeJavaScript($querystring.get($paramName))\"#if($foreach.hasNext),#end\n#end\n}\n},\n\"header\": {\n\"parameterMap\": {\n#foreach($paramName in $header.keySet())\n\"$paramName\": \"$util.escapeJavaScript($header.get($paramName))\"#if($foreach.hasNext),#end\n#end\n}\n},\n\"body\": $jsonBody\n}\n";
    let response_vm = "#set($inputRoot = $input.path('$'))\n$input.json(\"$\")\n#if($inputRoot.toString().contains(\"customerror\"))\n    #set($context.responseOverride.status = 400)\n#else\n    #set($context.responseOverride.status = 202)\n#end\n";
    let mapping = add_resource(&c, &api, &root, "mapping").await;
    put_method(&c, &api, &mapping, "POST", &["200", "400"]).await;
    put_integration(mapping.clone(), "POST", "mapping_responses", Some(request_vm)).await;
    put_response(&c, &api, &mapping, "POST", "200", "", Some(response_vm)).await;

    let aws = AwsSettings {
        endpoints: [("lambda".to_owned(), format!("http://{lambda}"))].into(),
        ..AwsSettings::default()
    };
    let (worker, http) = deploy_with(&app, &api, "api", aws).await;
    let url = |path: &str| invoke_url(&api, &worker, "api", path);

    let res = http
        .post(url("/test"))
        .body(r#"{"message": "hello world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"message": "hello world"})
    );
    for query in ["?param1=foobar", "?param1=foobar&Signature=1"] {
        let res = http.get(url(&format!("/test{query}"))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"param1": "foobar"}));
    }

    let res = http.get(url("/200")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!("Pass"));
    for (code, status, message) in [
        (
            "400",
            405,
            "Error: Raising four hundred from within the Lambda function",
        ),
        (
            "500",
            502,
            "Error: Raising five hundred from within the Lambda function",
        ),
    ] {
        let res = http.get(url(&format!("/{code}"))).send().await.unwrap();
        assert_eq!(res.status(), status, "/{code}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errorMessage"], message);
        assert_eq!(body["errorType"], "Exception");
    }

    for (sent, status, answer) in [
        (json!({"httpStatus": "200"}), 202, "noerror"),
        (
            json!({"httpStatus": "400", "errorMessage": "Test Bad request"}),
            400,
            "customerror",
        ),
    ] {
        let res = http.post(url("/mapping")).json(&sent).send().await.unwrap();
        assert_eq!(res.status(), status);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"statusCode": 200, "body": answer})
        );
    }
}

#[tokio::test]
async fn sqs_send_message_without_a_lambda_is_signed_and_mapped() {
    let app = spawn_app().await;
    let c = app.client();
    let (sqs, received) = fake_sqs().await;
    let (api, root) = create_api(&c, "sqs").await;

    // The path form, as the SQS tutorials set it up: the queue in the path, a form body.
    let orders = add_resource(&c, &api, &root, "orders").await;
    put_method(&c, &api, &orders, "POST", &["200", "400"]).await;
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&orders)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:eu-west-1:sqs:path/000000000000/orders")
        .credentials("arn:aws:iam::000000000000:role/apigw-sqs")
        .request_parameters(
            "integration.request.header.Content-Type",
            "'application/x-www-form-urlencoded'",
        )
        .request_templates(
            "application/json",
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)",
        )
        .passthrough_behavior("NEVER")
        .send()
        .await
        .unwrap();
    put_response(&c, &api, &orders, "POST", "200", "", Some(r#"{"queued": true}"#)).await;
    put_response(&c, &api, &orders, "POST", "400", r"4\d{2}", None).await;

    // The action form: `?Action=SendMessage` on the service endpoint, the rest mapped.
    let events = add_resource(&c, &api, &root, "events").await;
    put_method(&c, &api, &events, "POST", &["200"]).await;
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&events)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:eu-west-1:sqs:action/SendMessage")
        .request_parameters(
            "integration.request.querystring.QueueUrl",
            "'https://sqs.eu-west-1.amazonaws.com/000000000000/events'",
        )
        .request_parameters(
            "integration.request.querystring.MessageGroupId",
            "method.request.header.x-group",
        )
        .request_parameters(
            "integration.request.header.Content-Type",
            "'application/x-www-form-urlencoded'",
        )
        .request_templates(
            "application/json",
            "MessageBody=$util.urlEncode($input.json('$.event'))",
        )
        .send()
        .await
        .unwrap();
    put_response(&c, &api, &events, "POST", "200", "", None).await;

    let (sts, sts_calls) = fake_sts().await;
    let endpoints = [
        ("sqs".to_owned(), format!("http://{sqs}")),
        ("sts".to_owned(), format!("http://{sts}")),
    ];
    let aws = AwsSettings::from_env(endpoints.into(), &signing_env());
    let (worker, http) = deploy_with(&app, &api, "prod", aws).await;
    let url = |path: &str| invoke_url(&api, &worker, "prod", path);

    let res = http
        .post(url("/orders"))
        .json(&json!({"order": 7, "note": "a&b c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // An AWS integration's answer carries the request's trace header (AWS's recordings).
    assert!(
        res.headers()["x-amzn-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"queued": true}));
    {
        let got = received.lock().unwrap();
        let first = &got[0];
        assert_eq!(first.path, "/000000000000/orders");
        assert!(
            first.signed_by_role && first.session_token.as_deref() == Some("role-token"),
            "signed for sqs with the credentials of the integration's role"
        );
        assert_eq!(
            first.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert!(first.params.contains(&("Action".into(), "SendMessage".into())));
        let body = &first.params.iter().find(|(k, _)| k == "MessageBody").unwrap().1;
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"order": 7, "note": "a&b c"})
        );
    }

    // NEVER passes nothing through: a text body has no template and is refused before SQS.
    let res = http
        .post(url("/orders"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);

    let res = http
        .post(url("/events"))
        .header("x-group", "g1")
        .json(&json!({"event": {"kind": "signup"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Asked for JSON (as AWS asks its services by default), SQS's answer passes through.
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        answer["SendMessageResponse"]["SendMessageResult"]["MessageId"], "msg-2",
        "{answer}"
    );
    {
        let got = received.lock().unwrap();
        let second = &got[1];
        assert_eq!(second.path, "/");
        let param = |k: &str| {
            second
                .params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("Action"), Some("SendMessage"));
        assert_eq!(
            param("QueueUrl"),
            Some("https://sqs.eu-west-1.amazonaws.com/000000000000/events")
        );
        assert_eq!(param("MessageGroupId"), Some("g1"));
        assert_eq!(param("MessageBody"), Some(r#"{"kind":"signup"}"#));
        assert!(
            second.signed && second.session_token.is_none(),
            "no role: the worker's own credentials"
        );
    }
    let res = http
        .post(url("/orders"))
        .json(&json!({"again": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(received.lock().unwrap()[2].signed_by_role);
    assert_eq!(
        sts_calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the role is assumed once and its credentials reused"
    );
}

#[tokio::test]
async fn an_aws_service_error_status_selects_its_integration_response() {
    let app = spawn_app().await;
    let c = app.client();
    let (sqs, _) = fake_sqs().await;
    let (api, root) = create_api(&c, "sqs-errors").await;
    put_method(&c, &api, &root, "POST", &["200", "400"]).await;
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:eu-west-1:sqs:path/000000000000/orders")
        .request_templates("application/json", "Action=SendMessage")
        .send()
        .await
        .unwrap();
    put_response(&c, &api, &root, "POST", "200", "", None).await;
    put_response(
        &c,
        &api,
        &root,
        "POST",
        "400",
        r"4\d{2}",
        Some(r#"{"error": "the queue refused the message"}"#),
    )
    .await;
    let aws = AwsSettings {
        endpoints: [("sqs".to_owned(), format!("http://{sqs}"))].into(),
        ..AwsSettings::default()
    };
    let (worker, http) = deploy_with(&app, &api, "prod", aws).await;
    let res = http
        .post(invoke_url(&api, &worker, "prod", "/"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "the queue refused the message"})
    );
}

#[tokio::test]
async fn a_lambda_integration_maps_headers_onto_the_invoke_call() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let (api, root) = create_api(&c, "lambda-headers").await;
    // `X-Amz-Invocation-Type: 'Event'` mapped: the function is invoked asynchronously (202, no
    // answer), the way AWS users call Lambda fire-and-forget; unmapped, synchronously.
    for (part, mapped) in [("async", true), ("sync", false)] {
        let resource = add_resource(&c, &api, &root, part).await;
        put_method(&c, &api, &resource, "POST", &["200"]).await;
        let mut put = c
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&resource)
            .http_method("POST")
            .r#type(IntegrationType::Aws)
            .integration_http_method("POST")
            .uri(lambda_uri("invocation_type"));
        if mapped {
            put = put.request_parameters("integration.request.header.X-Amz-Invocation-Type", "'Event'");
        }
        put.send().await.unwrap();
        let template = r#"{"status": "queued", "got": $input.json('$')}"#;
        put_response(&c, &api, &resource, "POST", "200", "", Some(template)).await;
    }
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = WorkerBuilder::new(&app.control_plane_url())
        .lambda(format!("http://{lambda}"))
        .start()
        .await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let call = |path: &'static str| {
        let http = http.clone();
        let url = invoke_url(&api, &worker, "dev", path);
        async move {
            let res = http.post(url).json(&json!({"a": 1})).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        call("/sync").await["got"],
        json!({"invocationType": "RequestResponse"})
    );
    let queued = call("/async").await;
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(
        queued["got"],
        json!({}),
        "Lambda answers an asynchronous call with nothing"
    );
}
