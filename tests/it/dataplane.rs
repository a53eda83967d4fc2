//! The data plane through the whole stack: control plane, workers, real clients and backends.

use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use serde_json::Value;

use crate::backends::{counting_backend, echo_backend, fake_lambda};
use crate::helpers::*;

/// `verb` on `resource` as an AWS_PROXY integration to Lambda function `function`.
async fn put_lambda_proxy(c: &Client, api: &str, resource: &str, verb: &str, function: &str) {
    c.put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations"
        ))
        .send()
        .await
        .unwrap();
}

/// An API with `GET /pets` (MOCK, answering a fixed body) deployed to `stage`.
async fn mock_api(c: &Client, stage: &str) -> String {
    let (api, root) = create_api(c, "mock").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let pets = pets.id().unwrap();
    put_mock_method(c, &api, pets, "GET").await;
    c.put_method_response()
        .rest_api_id(&api)
        .resource_id(pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("")
        .response_templates("application/json", r#"{"pets": ["rex"]}"#)
        .response_parameters("method.response.header.X-Mock", "'yes'")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
    api
}

#[tokio::test]
async fn a_mock_api_answers_on_both_url_forms_and_unknown_routes_are_403() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    let worker = app.start_worker(None, None).await;
    assert!(
        serving(&worker, &api, "dev").await,
        "the worker got the deployment"
    );
    let http = invoker(&api, &worker);

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-mock"], "yes");
    assert!(res.headers().contains_key("x-amzn-requestid"));
    assert!(res.headers().contains_key("x-amz-apigw-id"));
    // AWS traces what integrations answer, not what a MOCK does (its recordings).
    assert!(res.headers().get("x-amzn-trace-id").is_none());
    assert_eq!(res.text().await.unwrap(), r#"{"pets": ["rex"]}"#);

    let path_form = format!("{}/restapis/{api}/dev/_user_request_/pets", worker.url());
    let res = reqwest::get(&path_form).await.unwrap();
    assert_eq!(res.status(), 200);

    for url in [
        invoke_url(&api, &worker, "dev", "/nope"),
        invoke_url(&api, &worker, "prod", "/pets"),
        format!("{}/restapis/unknown/dev/_user_request_/pets", worker.url()),
    ] {
        let res = http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 403, "{url}");
        assert_eq!(
            res.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert!(
            res.headers().get("x-amzn-trace-id").is_none(),
            "a gateway response"
        );
        assert_eq!(
            res.text().await.unwrap(),
            r#"{"message":"Missing Authentication Token"}"#
        );
    }
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no POST method");
}

#[tokio::test]
async fn routing_prefers_literals_then_params_then_greedy_paths() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "routes").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let id = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    let mine = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("mine")
        .send()
        .await
        .unwrap();
    let proxy = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{proxy+}")
        .send()
        .await
        .unwrap();
    for (resource, answer) in [
        (id.id().unwrap(), "param"),
        (mine.id().unwrap(), "literal"),
        (proxy.id().unwrap(), "greedy"),
    ] {
        put_mock_method(&c, &api, resource, "ANY").await;
        c.put_integration_response()
            .rest_api_id(&api)
            .resource_id(resource)
            .http_method("ANY")
            .status_code("200")
            .response_templates("application/json", answer)
            .send()
            .await
            .unwrap();
    }
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    for (path, answer) in [
        ("/pets/mine", "literal"),
        ("/pets/7", "param"),
        ("/pets/7/toys", "greedy"),
        ("/a/b/c", "greedy"),
    ] {
        let res = http
            .delete(invoke_url(&api, &worker, "dev", path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.text().await.unwrap(), answer, "{path}");
    }
}

#[tokio::test]
async fn http_proxy_passes_requests_and_answers_through() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "proxy").await;
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
        .request_parameters("method.request.path.proxy", true)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(proxy)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri("http://${stageVariables.backend}/items/{proxy}")
        .request_parameters("integration.request.path.proxy", "method.request.path.proxy")
        .request_parameters("integration.request.header.X-Static", "'fixed'")
        .request_parameters("integration.request.header.X-Stage", "stageVariables.name")
        .request_parameters("integration.request.header.X-Request-Id", "context.requestId")
        .send()
        .await
        .unwrap();
    // A mapping of the request's framing is AWS's 500 (its recordings).
    let framed = crate::templates::add_resource(&c, &api, &root, "framed").await;
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&framed)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&framed)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://${stageVariables.backend}/framed")
        .request_parameters("integration.request.header.Content-Length", "'5'")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .variables("backend", backend.to_string())
        .variables("name", "dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/a/b%20c?x=1&y=2"))
        .header("x-client", "hello")
        .header("content-type", "text/plain")
        // Hop-by-hop: the fixed ones and whatever `Connection` names stop at the gateway.
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "1")
        .header("proxy-connection", "keep-alive")
        .header("x-forwarded-for", "203.0.113.7")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-backend"], "echo");
    // The backend's own `Connection: keep-alive` is its hop, not the client's.
    assert!(res.headers().get("connection").is_none());
    let request_id = res.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    // As AWS answers for an HTTP_PROXY integration (its recordings): the backend's own Date
    // and framing renamed, the gateway's in their place, and no trace id of the gateway's.
    assert!(res.headers().get("x-amzn-trace-id").is_none());
    assert!(res.headers().contains_key("x-amzn-remapped-date"));
    assert!(res.headers().contains_key("x-amzn-remapped-content-length"));
    assert!(res.headers().contains_key("date"));
    let echo: Value = res.json().await.unwrap();
    // The backend gets the API's id and the request's trace id.
    assert_eq!(echo["headers"]["x-amzn-apigateway-api-id"], api.as_str());
    let trace = echo["headers"]["x-amzn-trace-id"].as_str().unwrap().to_owned();
    let fields: Vec<&str> = trace.split(';').collect();
    let root: Vec<&str> = fields[0].split('-').collect();
    assert!(
        fields.len() == 3
            && root.len() == 3
            && root[0] == "Root=1"
            && root[1].len() == 8
            && root[2].len() == 24
            && root[1..].iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
            && fields[1].starts_with("Parent=")
            && fields[2] == "Sampled=0",
        "an X-Ray trace header: {trace}"
    );
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/items/a/b%20c");
    assert_eq!(echo["query"], "x=1&y=2");
    assert_eq!(echo["body"], "payload");
    assert_eq!(echo["headers"]["x-client"], "hello");
    assert_eq!(echo["headers"]["x-static"], "fixed");
    assert_eq!(echo["headers"]["x-stage"], "dev");
    assert_eq!(echo["headers"]["x-request-id"], request_id);
    assert_eq!(echo["headers"]["content-type"], "text/plain");
    for hop in ["connection", "x-hop", "proxy-connection", "keep-alive"] {
        assert!(echo["headers"].get(hop).is_none(), "{hop} was forwarded: {echo}");
    }
    assert_eq!(echo["headers"]["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    // The backend is called by its own name, not the API's.
    assert_eq!(echo["headers"]["host"], backend.to_string());

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/framed"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["x-amzn-errortype"], "InternalServerErrorException");
    assert!(res.headers().get("x-amzn-trace-id").is_none());
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Internal server error"}"#
    );

    // A client's trace header is the request's; an API id it sends is not the gateway's.
    let full = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=7fa8c0f79203be72;Sampled=1";
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/traced"))
        .header("x-amzn-trace-id", full)
        .header("x-amzn-apigateway-api-id", "forged")
        .send()
        .await
        .unwrap();
    let echo: Value = res.json().await.unwrap();
    assert_eq!(echo["headers"]["x-amzn-trace-id"], full);
    assert_eq!(echo["headers"]["x-amzn-apigateway-api-id"], api.as_str());

    // A body too large to go out with its head streams to the backend.
    let big = "x".repeat(300 << 10);
    let res = http
        .put(invoke_url(&api, &worker, "dev", "/big"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let echo: Value = res.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["body"].as_str().map(str::len), Some(big.len()));

    // Backend status codes pass through untouched.
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/x/status/404"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["path"], "/items/x/status/404");
}

#[tokio::test]
async fn backend_connections_are_pooled_and_a_closed_one_is_replaced() {
    use std::sync::atomic::Ordering;
    let app = spawn_app().await;
    let c = app.client();
    let (backend, accepted) = counting_backend().await;
    let (api, root) = create_api(&c, "pooled").await;
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
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(proxy)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://{backend}/{{proxy}}"))
        .request_parameters("integration.request.path.proxy", "method.request.path.proxy")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let get = |path: &'static str| {
        let req = http.get(invoke_url(&api, &worker, "dev", path));
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };

    // One client connection, one data-plane thread: its requests share one backend connection
    // (or none new, when the readiness check above already left one in this thread's pool).
    let before = accepted.load(Ordering::SeqCst);
    for path in ["/a", "/b", "/c", "/d", "/e"] {
        assert_eq!(get(path).await, (200, path.to_owned()));
    }
    let pooled = accepted.load(Ordering::SeqCst);
    assert!(
        pooled - before <= 1,
        "five requests, {} backend connections",
        pooled - before
    );

    // The backend hangs up after answering: the next request goes out on a new connection
    // instead of failing on the dead one, and that connection is reused in turn.
    assert_eq!(get("/close-now").await, (200, "/close-now".to_owned()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get("/after").await, (200, "/after".to_owned()));
    assert_eq!(get("/again").await, (200, "/again".to_owned()));
    assert_eq!(accepted.load(Ordering::SeqCst), pooled + 1);

    // A chunked answer is decoded and its connection reused; an answer delimited by the end of
    // its connection is read to that end, and the next request dials again.
    assert_eq!(get("/chunked-answer").await, (200, "/chunked-answer".to_owned()));
    assert_eq!(get("/again").await, (200, "/again".to_owned()));
    assert_eq!(accepted.load(Ordering::SeqCst), pooled + 1);
    assert_eq!(get("/until-close").await, (200, "/until-close".to_owned()));
    assert_eq!(get("/again").await, (200, "/again".to_owned()));
    assert_eq!(accepted.load(Ordering::SeqCst), pooled + 2);
}

#[tokio::test]
async fn integration_timeouts_unreachable_backends_and_oversized_bodies_get_aws_answers() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "failures").await;
    let mk = |part: &'static str, uri: String, timeout: i32| {
        let c = c.clone();
        let api = api.clone();
        let root = root.clone();
        async move {
            let r = c
                .create_resource()
                .rest_api_id(&api)
                .parent_id(&root)
                .path_part(part)
                .send()
                .await
                .unwrap();
            let r = r.id().unwrap().to_owned();
            c.put_method()
                .rest_api_id(&api)
                .resource_id(&r)
                .http_method("ANY")
                .authorization_type("NONE")
                .send()
                .await
                .unwrap();
            c.put_integration()
                .rest_api_id(&api)
                .resource_id(&r)
                .http_method("ANY")
                .r#type(IntegrationType::HttpProxy)
                .integration_http_method("ANY")
                .uri(uri)
                .timeout_in_millis(timeout)
                .send()
                .await
                .unwrap();
        }
    };
    mk("slow", format!("http://{backend}/slow"), 200).await;
    mk("down", "http://127.0.0.1:9/nothing".to_owned(), 1000).await;
    mk("echo", format!("http://{backend}/echo"), 29000).await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 504);
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Endpoint request timed out"}"#
    );
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/down"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Internal server error"}"#
    );
    // A body declared over 10 MB is refused before it is read: a raw client sends only the head.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(worker.addr).await.unwrap();
    let head = format!(
        "POST /dev/echo HTTP/1.1\r\nHost: {api}.execute-api.localhost\r\nContent-Length: {}\r\n\r\n",
        (10 << 20) + 1
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tcp.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

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
async fn customised_gateway_responses_are_applied() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    c.put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_templates(
            "application/json",
            r#"{"error": $context.error.messageString, "type": "$context.error.responseType"}"#,
        )
        .response_parameters("gatewayresponse.header.X-Custom", "'custom'")
        .response_parameters(
            "gatewayresponse.header.Access-Control-Allow-Origin",
            "method.request.header.Origin",
        )
        .response_parameters("gatewayresponse.header.X-Stage", "context.stage")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api, &worker);
    assert!(
        eventually(Duration::from_secs(5), || async {
            http.get(invoke_url(&api, &worker, "dev", "/nope"))
                .send()
                .await
                .unwrap()
                .status()
                == 404
        })
        .await
    );
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/nope"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-custom"], "custom");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(res.headers()["x-stage"], "dev");
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}"#
    );
}

#[tokio::test]
async fn access_logs_and_metrics_describe_each_request() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    let group = format!("gh-test-{}", uuid::Uuid::new_v4());
    c.update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/accessLogSettings/destinationArn")
                .value(format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}"))
                .build(),
        )
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/accessLogSettings/format")
                .value(r#"{"requestId":"$context.requestId","status":"$context.status","path":"$context.resourcePath","ip":"$context.identity.sourceIp"}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api, "dev")
                .is_some_and(|s| s.access_log.is_some())
        })
        .await
    );
    let http = invoker(&api, &worker);
    let ok = http
        .get(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    let request_id = ok.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    assert_eq!(
        http.get(invoke_url(&api, &worker, "dev", "/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("access-logs")
        .join(format!("{group}.log"));
    assert!(
        eventually(Duration::from_secs(5), || async {
            std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 2)
        })
        .await,
        "two access log lines in {}",
        file.display()
    );
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["requestId"], request_id.as_str());
    assert_eq!(lines[0]["status"], "200");
    assert_eq!(lines[0]["path"], "/pets");
    assert_eq!(lines[0]["ip"], "127.0.0.1");
    assert_eq!(lines[1]["status"], "403");

    let metrics_at = worker.metrics_addr.expect("the tests' workers serve metrics");
    assert_ne!(metrics_at.port(), worker.addr.port(), "apart from API traffic");
    let metrics = reqwest::get(format!("http://{metrics_at}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!(
        r#"gatehouse_requests_total{{api="{api}",stage="dev",resource="/pets",method="GET",canary="false"}} 1"#
    );
    assert!(metrics.contains(&series), "{metrics}");
    assert!(metrics.contains(&format!(
        r#"gatehouse_4xx_errors_total{{api="{api}",stage="dev",resource="-",method="-",canary="false"}} 1"#
    )));
    assert!(metrics.contains("gatehouse_latency_ms_bucket"));
    // The data-plane port lists nothing: `/metrics` there is a path like any other.
    let leaked = reqwest::get(format!("{}/metrics", worker.url())).await.unwrap();
    assert_eq!(leaked.status(), 403);
    let cp_metrics = reqwest::get(format!("{}/metrics", app.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cp_metrics.contains("gatehouse_config_revision "), "{cp_metrics}");
    assert!(cp_metrics.contains(&format!(
        "gatehouse_worker_revision_lag{{worker=\"{}\"}}",
        worker.worker_id
    )));
}

#[tokio::test]
async fn http_integrations_map_status_codes_through_selection_patterns() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "http").await;
    let item = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{code}")
        .send()
        .await
        .unwrap();
    let item = item.id().unwrap();
    c.put_method()
        .rest_api_id(&api)
        .resource_id(item)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.path.code", true)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(item)
        .http_method("GET")
        .r#type(IntegrationType::Http)
        .integration_http_method("GET")
        .uri(format!("http://{backend}/status/{{code}}"))
        .request_parameters("integration.request.path.code", "method.request.path.code")
        .request_parameters("integration.request.querystring.q", "'static'")
        .send()
        .await
        .unwrap();
    for (status, pattern, template) in [
        ("200", "", None),
        ("404", "4\\d\\d", Some("not found")),
        ("502", "5\\d\\d", Some("backend failed")),
    ] {
        let mut put = c
            .put_integration_response()
            .rest_api_id(&api)
            .resource_id(item)
            .http_method("GET")
            .status_code(status)
            .selection_pattern(pattern)
            .response_parameters(
                "method.response.header.X-Backend",
                "integration.response.header.x-backend",
            )
            // Fields AWS keeps for itself are renamed, as it renames them.
            .response_parameters("method.response.header.Server", "'mapped-server'")
            .response_parameters("method.response.header.Transfer-Encoding", "'gzip'");
        if let Some(t) = template {
            put = put.response_templates("application/json", t);
        }
        put.send().await.unwrap();
    }
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/200"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-backend"], "echo");
    assert_eq!(res.headers()["x-amzn-remapped-server"], "mapped-server");
    assert!(res.headers().get("server").is_none());
    assert!(res.headers().get("transfer-encoding").is_none());
    assert!(res.headers().get("x-amzn-remapped-transfer-encoding").is_none());
    let trace = res.headers()["x-amzn-trace-id"].to_str().unwrap().to_owned();
    let echo: Value = res.json().await.unwrap();
    assert_eq!(echo["path"], "/status/200");
    assert_eq!(echo["query"], "q=static");
    // What AWS sends an HTTP backend besides the mapped headers (its recordings).
    assert_eq!(echo["headers"]["accept"], "application/json");
    assert_eq!(echo["headers"]["user-agent"], format!("AmazonAPIGateway_{api}"));
    assert_eq!(echo["headers"]["x-amzn-apigateway-api-id"], api.as_str());
    assert_eq!(echo["headers"]["x-amzn-trace-id"], trace.as_str());
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/404"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), "not found");
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/503"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(res.text().await.unwrap(), "backend failed");
}

#[tokio::test]
async fn https_backends_are_called_over_tls_and_insecure_skip_verification_is_honoured() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = crate::backends::tls_backend().await;
    let (api, root) = create_api(&c, "tls").await;
    for (part, skip) in [("trusting", true), ("verifying", false)] {
        let r = c
            .create_resource()
            .rest_api_id(&api)
            .parent_id(&root)
            .path_part(part)
            .send()
            .await
            .unwrap();
        let r = r.id().unwrap();
        c.put_method()
            .rest_api_id(&api)
            .resource_id(r)
            .http_method("GET")
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        c.put_integration()
            .rest_api_id(&api)
            .resource_id(r)
            .http_method("GET")
            .r#type(IntegrationType::HttpProxy)
            .integration_http_method("GET")
            .uri(format!("https://{backend}/secure"))
            .tls_config(
                aws_sdk_apigateway::types::TlsConfig::builder()
                    .insecure_skip_verification(skip)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/trusting"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"tls": true, "path": "/secure"}));
    // A self-signed certificate is refused when verification is on.
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/verifying"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
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
async fn path_values_cannot_climb_out_of_the_backend_uri() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "traversal").await;
    let users = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("users")
        .send()
        .await
        .unwrap();
    let id = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(users.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    let id = id.id().unwrap();
    c.put_method()
        .rest_api_id(&api)
        .resource_id(id)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(id)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://{backend}/api/users/{{id}}"))
        .request_parameters("integration.request.path.id", "method.request.path.id")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/users/a%2Fb%2Fc"))
        .send()
        .await
        .unwrap();
    let echo: Value = res.json().await.unwrap();
    assert_eq!(
        echo["path"], "/api/users/a%2Fb%2Fc",
        "the value stays one segment"
    );
    // A value that is a climb once decoded is refused, not passed on: a backend that decodes
    // `%2F` (or a server between) would resolve it.
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/users/..%2F..%2Fadmin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Invalid request path"
    );
    // HTTP clients normalise dot segments away; a raw request sends them as they are.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for path in ["/dev/users/%2E%2E", "/dev/users/.."] {
        let mut tcp = tokio::net::TcpStream::connect(worker.addr).await.unwrap();
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: {api}.execute-api.localhost\r\nConnection: close\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "dot segments are refused: {path}: {answer}"
        );
    }
}

#[tokio::test]
async fn framing_headers_from_lambda_are_remapped_not_obeyed() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = fake_lambda().await;
    let (api, root) = create_api(&c, "framing").await;
    put_lambda_proxy(&c, &api, &root, "POST", "custom").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
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
async fn a_streamed_answer_is_cut_at_the_integration_timeout() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = crate::backends::trickling_backend().await;
    let (api, root) = create_api(&c, "trickle").await;
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://{backend}/"))
        .timeout_in_millis(500)
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let started = std::time::Instant::now();
    let res = invoker(&api, &worker)
        .get(invoke_url(&api, &worker, "dev", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the head arrived in time");
    assert!(res.bytes().await.is_err(), "the body is cut, not completed late");
    assert!(started.elapsed() < Duration::from_millis(1500));
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
    let worker = start_worker_with(&app.url(), aws).await;
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
