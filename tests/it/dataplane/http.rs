//! HTTP and HTTP_PROXY integrations against real backends: passing through, pooling, timeouts, TLS, status mapping and streamed answers.

use std::time::Duration;

use aws_sdk_apigateway::types::IntegrationType;
use serde_json::Value;

use crate::backends::{counting_backend, echo_backend};
use crate::helpers::*;

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
    let framed = add_resource(&c, &api, &root, "framed").await;
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
    // The backend's own `Connection` is its hop, not the client's: the one the client gets is
    // the gateway's, which says, as AWS's does, that the connection is kept.
    assert_eq!(res.headers()["connection"], "keep-alive");
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
