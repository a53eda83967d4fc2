//! WebSocket routes with non-proxy integrations (MOCK, HTTP, AWS) through a real WebSocket
//! client: request templates picked by the template selection expression, passthrough
//! behaviors, request parameters from the handshake and the context, and integration
//! responses picked by status or Lambda error, mapped by their own templates and sent back
//! as the route response.

use std::sync::{Arc, Mutex};

use aws_sdk_apigatewayv2::types::{IntegrationType, PassthroughBehavior, ProtocolType};
use bytes::Bytes;
use futures_util::SinkExt;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::websocket::next_text;
use crate::backends::{fake_lambda, serve};
use crate::helpers::*;

/// What a backend was sent: method, path and query, headers, body.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: http::HeaderMap,
    body: String,
}

/// A backend that keeps every request, answering the status its path ends with
/// (`/status/404`), else 200, with `{"from": "backend", "path": ...}`.
async fn backend() -> (std::net::SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let path = parts.uri.path().to_owned();
            log.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                target: parts.uri.to_string(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let status = path
                .rsplit_once("/status/")
                .and_then(|(_, s)| s.parse().ok())
                .unwrap_or(200);
            hyper::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(
                    json!({"from": "backend", "path": path}).to_string(),
                )))
                .unwrap()
        }
    })
    .await;
    (addr, seen)
}

/// Creates a route for `key` targeting `integration` that sends its answer back.
async fn responding_route(c: &aws_sdk_apigatewayv2::Client, api: &str, key: &str, integration: &str) {
    let route = c
        .create_route()
        .api_id(api)
        .route_key(key)
        .target(format!("integrations/{integration}"))
        .route_response_selection_expression("$default")
        .send()
        .await
        .unwrap();
    c.create_route_response()
        .api_id(api)
        .route_id(route.route_id().unwrap())
        .route_response_key("$default")
        .send()
        .await
        .unwrap();
}

/// Adds an integration response for `key` mapped by `template` (none: the answer as it is).
async fn integration_response(
    c: &aws_sdk_apigatewayv2::Client,
    api: &str,
    integration: &str,
    key: &str,
    template: Option<&str>,
) {
    let mut r = c
        .create_integration_response()
        .api_id(api)
        .integration_id(integration)
        .integration_response_key(key);
    if let Some(t) = template {
        r = r.response_templates("$default", t);
    }
    r.send().await.unwrap();
}

#[tokio::test]
async fn non_proxy_integrations_map_messages_both_ways() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let (addr, seen) = backend().await;
    let api = c
        .create_api()
        .name("mapped")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();

    // MOCK: the request template gives the status; the `$default` integration response's
    // template makes the answer from the context and the message.
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    let mock = mock.integration_id().unwrap();
    assert_eq!(
        c.get_integration()
            .api_id(&api)
            .integration_id(mock)
            .send()
            .await
            .unwrap()
            .integration_response_selection_expression(),
        Some("${integration.response.statuscode}")
    );
    integration_response(
        &c,
        &api,
        mock,
        "$default",
        Some(
            r#"{"pong": "$context.connectionId", "route": "$context.routeKey", "team": "$input.params('team')"}"#,
        ),
    )
    .await;
    responding_route(&c, &api, "ping", mock).await;

    // HTTP: a template per `kind` (no other passes), request parameters from the handshake
    // and the context, integration responses by status.
    let http = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Http)
        .integration_method("PUT")
        .integration_uri(format!("http://{addr}/rooms/{{room}}"))
        .template_selection_expression("${request.body.kind}")
        .request_templates(
            "text",
            r#"{"text": $input.json('$.text'), "from": "$context.connectionId", "env": "$stageVariables.env"}"#,
        )
        .passthrough_behavior(PassthroughBehavior::Never)
        .request_parameters("integration.request.path.room", "route.request.querystring.room")
        .request_parameters("integration.request.header.x-connection", "context.connectionId")
        .request_parameters("integration.request.querystring.team", "route.request.header.x-team")
        .send()
        .await
        .unwrap();
    let http = http.integration_id().unwrap();
    integration_response(
        &c,
        &api,
        http,
        "/2\\d\\d/",
        Some(r#"{"sent": $input.json('$.path'), "status": "ok"}"#),
    )
    .await;
    responding_route(&c, &api, "send", http).await;

    // HTTP with no template: the message passes through; a 404 picks the 4xx response.
    let missing = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Http)
        .integration_method("POST")
        .integration_uri(format!("http://{addr}/missing/status/404"))
        .send()
        .await
        .unwrap();
    let missing = missing.integration_id().unwrap();
    integration_response(&c, &api, missing, "/2\\d\\d/", Some(r#"{"found": true}"#)).await;
    integration_response(
        &c,
        &api,
        missing,
        "/4\\d\\d/",
        Some(r#"{"error": "no such thing", "asked": $input.json('$.path')}"#),
    )
    .await;
    responding_route(&c, &api, "find", missing).await;

    // AWS (Lambda, not proxied): the template is the function's event; a function error is
    // picked by its errorMessage.
    let identity = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Aws)
        .integration_uri(format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:identity"))
        .request_templates(
            "$default",
            r#"{"who": "$context.connectionId", "said": $input.json('$.text')}"#,
        )
        .send()
        .await
        .unwrap();
    let identity = identity.integration_id().unwrap();
    assert_eq!(
        c.get_integration()
            .api_id(&api)
            .integration_id(identity)
            .send()
            .await
            .unwrap()
            .integration_response_selection_expression(),
        Some("${integration.response.body.errorMessage}")
    );
    responding_route(&c, &api, "tell", identity).await;
    let failing = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Aws)
        .integration_uri(format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:error"))
        .send()
        .await
        .unwrap();
    let failing = failing.integration_id().unwrap();
    integration_response(&c, &api, failing, "$default", Some(r#"{"fine": true}"#)).await;
    integration_response(
        &c,
        &api,
        failing,
        "/bo+m/",
        Some(r#"{"failed": "$input.path('$.errorMessage')"}"#),
    )
    .await;
    responding_route(&c, &api, "explode", failing).await;

    let group = format!("ws-test-{}", uuid::Uuid::new_v4());
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .stage_variables("env", "test")
        .access_log_settings(
            aws_sdk_apigatewayv2::types::AccessLogSettings::builder()
                .destination_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"))
                .format(
                    r#"{"id":"$context.connectionId","event":"$context.eventType","route":"$context.routeKey","status":"$context.status","error":"$context.error.message","message":"$context.messageId","latency":"$context.integrationLatency","ip":"$context.identity.sourceIp","requestId":"$context.requestId"}"#,
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&worker, &api, "prod").await);
    let port = worker.addr.port();
    let mut request = http::Request::builder()
        .uri(format!(
            "ws://127.0.0.1:{port}/restapis/{api}/prod/_user_request_/?room=r%207&team=blue"
        ))
        .header("x-team", "red")
        .header("host", format!("127.0.0.1:{port}"))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header(
            "sec-websocket-key",
            tokio_tungstenite::tungstenite::handshake::client::generate_key(),
        );
    request = request.header("user-agent", "mapping-test");
    let (mut ws, _) = tokio_tungstenite::connect_async(request.body(()).unwrap())
        .await
        .unwrap();

    // MOCK: the answer is made of the context and the handshake's query string.
    ws.send(Message::text(json!({"action": "ping"}).to_string()))
        .await
        .unwrap();
    let pong = next_text(&mut ws).await;
    let connection_id = pong["pong"].as_str().unwrap().to_owned();
    assert_eq!(connection_id.len(), 16, "{pong}");
    assert_eq!(
        pong,
        json!({"pong": connection_id, "route": "ping", "team": "blue"})
    );

    // HTTP: the `text` template, the mapped path, query string and header.
    ws.send(Message::text(
        json!({"action": "send", "kind": "text", "text": "hello"}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_text(&mut ws).await,
        json!({"sent": "/rooms/r%207", "status": "ok"})
    );
    let sent = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent.method, "PUT");
    assert_eq!(sent.target, "/rooms/r%207?team=red");
    assert_eq!(sent.headers["x-connection"], connection_id.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(&sent.body).unwrap(),
        json!({"text": "hello", "from": connection_id, "env": "test"})
    );
    // A kind no template is for, with passthrough NEVER: AWS's error frame, no call.
    let calls = seen.lock().unwrap().len();
    ws.send(Message::text(
        json!({"action": "send", "kind": "image"}).to_string(),
    ))
    .await
    .unwrap();
    let refused = next_text(&mut ws).await;
    assert_eq!(refused["message"], "Unsupported Media Type", "{refused}");
    assert_eq!(refused["connectionId"], connection_id.as_str());
    assert!(refused["requestId"].is_string());
    assert_eq!(seen.lock().unwrap().len(), calls);

    // No template: the message as it came; the 404 answer through the 4xx response.
    let message = json!({"action": "find", "what": "keys"}).to_string();
    ws.send(Message::text(message.clone())).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await,
        json!({"error": "no such thing", "asked": "/missing/status/404"})
    );
    let sent = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!((sent.method.as_str(), sent.body), ("POST", message));
    assert_eq!(sent.headers["content-type"], "application/json");

    // AWS Lambda: the template is the event; the function's answer comes back as it is.
    ws.send(Message::text(
        json!({"action": "tell", "text": "psst"}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_text(&mut ws).await,
        json!({"who": connection_id, "said": "psst"})
    );
    // A function error: the response whose key matches its errorMessage.
    ws.send(Message::text(json!({"action": "explode"}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"failed": "boom"}));

    // Each event is a line of the stage's access log: connect, the messages, disconnect.
    ws.close(None).await.unwrap();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("access-logs")
        .join(format!("{group}.log"));
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 8)
        })
        .await
    );
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["id"], connection_id.as_str(), "{l}");
            assert_eq!(l["ip"], "127.0.0.1");
            // The API has no `$connect` or `$disconnect` route: no integration ran.
            let integrated = l["event"] == "MESSAGE";
            assert_eq!(
                l["latency"].as_str().unwrap().parse::<u64>().is_ok(),
                integrated,
                "{l}"
            );
            (
                l["event"].as_str().unwrap(),
                l["route"].as_str().unwrap(),
                l["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("CONNECT", "$connect", "200"),
            ("MESSAGE", "ping", "200"),
            ("MESSAGE", "send", "200"),
            ("MESSAGE", "send", "415"),
            ("MESSAGE", "find", "200"),
            ("MESSAGE", "tell", "200"),
            ("MESSAGE", "explode", "200"),
            ("DISCONNECT", "$disconnect", "200"),
        ]
    );
    assert_eq!(lines[3]["error"], "Unsupported Media Type");
    assert_eq!(lines[3]["requestId"], refused["requestId"]);
    assert_eq!(lines[0]["message"], "-", "no message id on connect");
    assert_ne!(lines[1]["message"], "-");
}

#[tokio::test]
async fn websocket_integrations_are_checked_as_aws_checks_them() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = c
        .create_api()
        .name("checked")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let refused = |r: Result<_, aws_sdk_apigatewayv2::error::SdkError<_>>| {
        let e: aws_sdk_apigatewayv2::operation::create_integration::CreateIntegrationError = r
            .map(|_: aws_sdk_apigatewayv2::operation::create_integration::CreateIntegrationOutput| ())
            .unwrap_err()
            .into_service_error();
        assert!(e.is_bad_request_exception(), "{e:?}");
        e.to_string()
    };
    let base = || c.create_integration().api_id(&api);
    let message = refused(
        base()
            .integration_type(IntegrationType::Mock)
            .template_selection_expression("${request.nowhere}")
            .send()
            .await,
    );
    assert!(message.contains("request.nowhere"), "{message}");
    let message = refused(
        base()
            .integration_type(IntegrationType::Aws)
            .integration_uri("arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue")
            .send()
            .await,
    );
    assert!(message.contains("credentialsArn"), "{message}");
    let message = refused(
        base()
            .integration_type(IntegrationType::HttpProxy)
            .integration_uri("http://example.com/")
            .request_templates("$default", "{}")
            .send()
            .await,
    );
    assert!(message.contains("requestTemplates"), "{message}");
    let message = refused(
        base()
            .integration_type(IntegrationType::Http)
            .integration_uri("http://example.com/")
            .request_parameters("integration.request.header.x", "route.request.nowhere.y")
            .send()
            .await,
    );
    assert!(message.contains("route.request.nowhere.y"), "{message}");
    refused(
        base()
            .integration_type(IntegrationType::Mock)
            .payload_format_version("2.0")
            .send()
            .await,
    );
    // Nothing was created by the refused calls.
    let listed = c.get_integrations().api_id(&api).send().await.unwrap();
    assert!(listed.items().is_empty());
    // A bad template selection expression on an integration response is refused too.
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let e = c
        .create_integration_response()
        .api_id(&api)
        .integration_id(mock.integration_id().unwrap())
        .integration_response_key("$default")
        .template_selection_expression("${integration.nothing}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_bad_request_exception(), "{e:?}");
}
