//! Lambda (AWS_PROXY) against a fake Invoke API: AWS's 1.0 event, answers validated, binary payloads, remapped framing headers and SigV4.

use std::time::Duration;

use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use serde_json::Value;

use crate::backends::fake_lambda;
use crate::helpers::*;

#[tokio::test]
async fn lambda_proxy_sends_the_1_0_event_and_validates_the_answer() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let (api, root) = create_api(&c, "lambda").await;
    let proxy = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{proxy+}")
        .send()
        .await
        .unwrap();
    let proxy = proxy.id().unwrap();
    c.put_method()
        .rest_api_id(&api)
        .resource_id(proxy)
        .http_method("ANY")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    let function = |name: &str| {
        format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations"
        )
    };
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(proxy)
        .http_method("ANY")
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(function("${stageVariables.fn}"))
        .send()
        .await
        .unwrap();
    let d = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .variables("fn", "echo")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/proxy-value?a=1&a=2&b=x"))
        .header("authorization", "random-value")
        .header("user-agent", "python-requests/testing")
        .header("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-port", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.headers());
    // A Lambda integration's answer carries the request's trace header: a root alone, as
    // the client sent it, gets a parent of the gateway's (AWS's recordings).
    let trace = res.headers()["x-amzn-trace-id"].to_str().unwrap().to_owned();
    assert!(
        trace.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=")
            && trace.ends_with(";Sampled=0"),
        "{trace}"
    );
    let event: Value = res.json().await.unwrap();
    // What the gateway adds to the event's headers, whatever the client sent under the names.
    let port = worker.addr.port().to_string();
    for (name, value) in [
        ("X-Amzn-Trace-Id", trace.as_str()),
        ("X-Forwarded-For", "203.0.113.7, 127.0.0.1"),
        ("X-Forwarded-Port", port.as_str()),
        ("X-Forwarded-Proto", "http"),
    ] {
        assert_eq!(event["headers"][name], value, "{name}");
        assert_eq!(
            event["multiValueHeaders"][name],
            serde_json::json!([value]),
            "{name}"
        );
    }
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["path"], "/proxy-value");
    assert_eq!(event["httpMethod"], "GET");
    // Names as the client spelled them (this client sends them in lowercase).
    assert_eq!(event["headers"]["authorization"], "random-value");
    assert_eq!(
        event["multiValueHeaders"]["user-agent"][0],
        "python-requests/testing"
    );
    assert_eq!(event["queryStringParameters"]["a"], "2");
    assert_eq!(
        event["multiValueQueryStringParameters"]["a"],
        serde_json::json!(["1", "2"])
    );
    assert_eq!(event["pathParameters"]["proxy"], "proxy-value");
    assert_eq!(event["stageVariables"]["fn"], "echo");
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(rc["accountId"], ACCOUNT);
    assert_eq!(rc["apiId"], api);
    assert_eq!(rc["deploymentId"], d.id().unwrap());
    assert_eq!(rc["stage"], "dev");
    assert_eq!(rc["path"], "/dev/proxy-value");
    assert_eq!(rc["resourcePath"], "/{proxy+}");
    assert_eq!(rc["protocol"], "HTTP/1.1");
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["identity"]["userAgent"], "python-requests/testing");
    assert_eq!(rc["identity"]["accessKey"], Value::Null);
    assert_eq!(rc["domainPrefix"], api);
    assert_eq!(rc["domainName"], format!("{api}.execute-api.localhost"));
    // Field for field what AWS sends (the recorded event of test_apigateway_lambda).
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/aws-recorded/test_apigateway_lambda.snapshot.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let recorded = recorded
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with("::test_lambda_aws_proxy_integration"))
        .unwrap()
        .1["recorded-content"]["invocation-payload-without-trailing-slash"]
        .clone();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&event), keys(&recorded));
    for name in [
        "X-Amzn-Trace-Id",
        "X-Forwarded-For",
        "X-Forwarded-Port",
        "X-Forwarded-Proto",
    ] {
        assert!(recorded["headers"].get(name).is_some(), "AWS sends {name}");
    }
    assert_eq!(keys(&event["requestContext"]), keys(&recorded["requestContext"]));
    // AWS passes the client's own spelling of a name (the recorded `tEsT-HEADeR`), and the
    // values of one name together; hop-by-hop fields are the connection's, not the event's.
    assert_eq!(recorded["headers"]["tEsT-HEADeR"], "aValUE");
    let raw = format!(
        "GET /dev/cased HTTP/1.1\r\nHost: {api}.execute-api.localhost\r\ntEsT-HEADeR: aValUE\r\n\
         X-Many: 1\r\nx-many: 2\r\nKeep-Alive: timeout=5\r\nConnection: close\r\n\r\n"
    );
    let event = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(worker.addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str::<Value>(body).unwrap()
    };
    assert_eq!(event["headers"]["tEsT-HEADeR"], "aValUE");
    assert_eq!(event["headers"]["X-Many"], "2");
    assert_eq!(
        event["multiValueHeaders"]["X-Many"],
        serde_json::json!(["1", "2"])
    );
    assert!(event["headers"].get("x-many").is_none());
    for hop in ["Keep-Alive", "Connection"] {
        assert!(event["headers"].get(hop).is_none(), "{hop}");
    }
    assert_eq!(
        keys(&event["requestContext"]["identity"]),
        keys(&recorded["requestContext"]["identity"])
    );

    // A POST body arrives as a string.
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/x"))
        .body("{\"a\":1}")
        .send()
        .await
        .unwrap();
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["body"], "{\"a\":1}");

    // Malformed answers, function errors and unknown functions are AWS's 502.
    for name in ["malformed", "error", "missing"] {
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/variables/fn")
                    .value(name)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let answered = eventually(Duration::from_secs(5), || async {
            let res = http
                .get(invoke_url(&api, &worker, "dev", "/x"))
                .send()
                .await
                .unwrap();
            res.status() == 502 && res.text().await.unwrap() == r#"{"message":"Internal server error"}"#
        })
        .await;
        assert!(answered, "{name} is a 502");
    }

    // What the function answers is validated field by field.
    c.update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/variables/fn")
                .value("custom")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            let res = http
                .post(invoke_url(&api, &worker, "dev", "/x"))
                .body(r#"{"statusCode": 201}"#)
                .send()
                .await
                .unwrap();
            res.status() == 201
        })
        .await
    );
    for (answer, status) in [
        (
            r#"{"statusCode": 204, "headers": {"a": "b"}, "multiValueHeaders": {"m": ["1", "2"]}, "body": ""}"#,
            204,
        ),
        (r#"{"statusCode": "202"}"#, 202),
        (r#"{"headers": {"only": "headers"}}"#, 200),
        (r#"{"statusCode": 200, "unexpected": true}"#, 502),
        (r#"{"statusCode": "abc"}"#, 502),
        (r#"{"multiValueHeaders": {"m": "not a list"}}"#, 502),
    ] {
        let res = http
            .post(invoke_url(&api, &worker, "dev", "/x"))
            .body(answer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{answer}");
    }
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/x"))
        .body(r#"{"headers": {"a": "b"}, "multiValueHeaders": {"m": ["1", "2"]}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["a"], "b");
    assert_eq!(res.headers().get_all("m").iter().count(), 2);
    assert_eq!(res.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn binary_media_types_carry_base64_both_ways_through_lambda() {
    use base64::Engine;
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let api = c
        .create_rest_api()
        .name("binary")
        .binary_media_types("image/png")
        .send()
        .await
        .unwrap();
    let (api, root) = (
        api.id().unwrap().to_owned(),
        api.root_resource_id().unwrap().to_owned(),
    );
    put_lambda_proxy(&c, &api, &root, "POST", "echo").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let png = vec![0x89u8, b'P', b'N', b'G', 0, 1, 2, 255];
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/"))
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(
        event["body"],
        base64::engine::general_purpose::STANDARD.encode(&png)
    );

    // A base64 answer is decoded when the client accepts a binary type, and passed as text otherwise.
    let proxy = serde_json::json!({"isBase64Encoded": true, "body": base64::engine::general_purpose::STANDARD.encode(&png), "headers": {"content-type": "image/png"}});
    let custom = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:custom/invocations";
    c.update_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("POST")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/uri")
                .value(custom)
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let send = |accept: &'static str| {
        let http = http.clone();
        let url = invoke_url(&api, &worker, "dev", "/");
        let body = proxy.to_string();
        async move {
            http.post(url)
                .header("accept", accept)
                .body(body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };
    assert!(
        eventually(Duration::from_secs(5), || async {
            send("image/png").await == png
        })
        .await
    );
    assert_eq!(
        send("application/json").await,
        base64::engine::general_purpose::STANDARD
            .encode(&png)
            .into_bytes()
    );
}

#[tokio::test]
async fn framing_headers_from_lambda_are_remapped_not_obeyed() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let api = TestApi::create(&c, "framing").await;
    api.lambda_proxy("/", "POST", "custom").await.deploy("dev").await;
    let api = api.id;
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/"))
        .body(r#"{"headers": {"Content-Length": "2", "Connection": "close"}, "body": "hello world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-amzn-remapped-content-length"], "2");
    assert_eq!(res.headers()["x-amzn-remapped-connection"], "close");
    assert_eq!(res.text().await.unwrap(), "hello world");
}

#[tokio::test]
async fn lambda_calls_are_sigv4_signed_when_credentials_are_configured() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let (api, root) = create_api(&c, "signed").await;
    put_lambda_proxy(&c, &api, &root, "GET", "echo").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let env: std::collections::HashMap<String, String> = [
        ("AWS_ACCESS_KEY_ID", "AKIALAMBDA"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let aws = gatehouse::dataplane::settings::AwsSettings::from_env(
        [("lambda".to_owned(), format!("http://{lambda}"))].into(),
        &env,
    );
    let worker = WorkerBuilder::new(&app.url()).aws(aws).start().await;
    assert!(serving(&worker, &api, "dev").await);
    let res = invoker(&api, &worker)
        .get(invoke_url(&api, &worker, "dev", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["x-signed"],
        "true",
        "the Invoke call carried an Authorization header"
    );
}
