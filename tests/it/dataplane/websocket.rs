//! WebSocket APIs served by a worker, with a real WebSocket client: `$connect` deciding,
//! messages routed by the selection expression (then `$default`), route responses, AWS's
//! Lambda event, `$disconnect`, the @connections API through `aws-sdk-apigatewaymanagement`,
//! and the message size limit.

use std::sync::{Arc, Mutex};

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::authorize::add_caller;
use crate::backends::{fake_lambda, serve};
use crate::helpers::*;

/// A backend that keeps every request's path and body, answering the status its path ends
/// with (`/status/403`), else 200.
async fn recorder() -> (std::net::SocketAddr, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let path = req.uri().path().to_owned();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            log.lock()
                .unwrap()
                .push((path.clone(), String::from_utf8_lossy(&body).into_owned()));
            let status = path
                .rsplit_once("/status/")
                .and_then(|(_, s)| s.parse().ok())
                .unwrap_or(200);
            hyper::Response::builder()
                .status(status)
                .body(Full::new(Bytes::from_static(b"{\"from\": \"recorder\"}")))
                .unwrap()
        }
    })
    .await;
    (addr, seen)
}

fn lambda(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
}

pub(crate) async fn next_text(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("a message in time")
        .expect("an open connection")
        .expect("a frame");
    serde_json::from_str(msg.to_text().unwrap()).unwrap()
}

#[tokio::test]
async fn websocket_connections_route_messages_and_take_connections_api_calls() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let (backend, seen) = recorder().await;
    let api = c
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let integration = |kind: IntegrationType, uri: String| {
        let c = c.clone();
        let api = api.clone();
        async move {
            c.create_integration()
                .api_id(api)
                .integration_type(kind)
                .integration_uri(uri)
                .send()
                .await
                .unwrap()
                .integration_id()
                .unwrap()
                .to_owned()
        }
    };
    let echo = integration(IntegrationType::AwsProxy, lambda("echo")).await;
    let connect = integration(
        IntegrationType::HttpProxy,
        format!("http://{backend}/connect/status/${{stageVariables.connect}}"),
    )
    .await;
    let disconnect = integration(IntegrationType::HttpProxy, format!("http://{backend}/disconnect")).await;
    for (key, target, responds) in [
        ("$connect", &connect, false),
        ("$disconnect", &disconnect, false),
        ("sendmessage", &echo, true),
        ("$default", &echo, true),
    ] {
        let mut route = c
            .create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{target}"));
        if responds {
            route = route.route_response_selection_expression("$default");
        }
        let route = route.send().await.unwrap();
        if responds {
            c.create_route_response()
                .api_id(&api)
                .route_id(route.route_id().unwrap())
                .route_response_key("$default")
                .send()
                .await
                .unwrap();
        }
    }
    for (stage, status) in [("prod", "200"), ("closed", "403")] {
        c.create_stage()
            .api_id(&api)
            .stage_name(stage)
            .auto_deploy(true)
            .stage_variables("connect", status)
            .send()
            .await
            .unwrap();
    }
    let manage = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:ManageConnections",
         "Resource": format!("arn:aws:execute-api:*:*:{api}/prod/*")}]})
    .to_string();
    let user = |name: &str| format!("arn:aws:iam::{ACCOUNT}:user/{name}");
    add_caller(&app, "MANAGER", ACCOUNT, &user("m"), None, &[manage]).await;
    add_caller(&app, "NOBODY", ACCOUNT, &user("n"), None, &[]).await;
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&worker, &api, "prod").await);
    assert!(serving(&worker, &api, "closed").await);
    let port = worker.addr.port();
    let url = |stage: &str| format!("ws://127.0.0.1:{port}/restapis/{api}/{stage}/_user_request_/");

    // $connect's non-2xx answer refuses the handshake with its status.
    match tokio_tungstenite::connect_async(url("closed")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("the connection should be refused: {other:?}"),
    }
    let (mut ws, res) = tokio_tungstenite::connect_async(format!("{}?room=7", url("prod")))
        .await
        .unwrap();
    assert_eq!(res.status(), 101);
    let connects: Vec<_> = seen.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(connects, ["/connect/status/403", "/connect/status/200"]);

    // A message goes to the route its action names, and the route answers with the function's.
    ws.send(Message::text(
        json!({"action": "sendmessage", "data": "hi"}).to_string(),
    ))
    .await
    .unwrap();
    // The echo function answers the event it got as its body.
    let event = next_text(&mut ws).await;
    let context = &event["requestContext"];
    assert_eq!(context["routeKey"], "sendmessage", "{event}");
    assert_eq!(context["eventType"], "MESSAGE");
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["apiId"], api.as_str());
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert!(context["messageId"].is_string() && context["connectedAt"].is_u64());
    assert_eq!(
        event["body"],
        json!({"action": "sendmessage", "data": "hi"}).to_string()
    );
    assert_eq!(event["isBase64Encoded"], false);
    let connection_id = context["connectionId"].as_str().unwrap().to_owned();
    assert_eq!(connection_id.len(), 16);
    // Anything else goes to `$default`.
    ws.send(Message::text("not json at all")).await.unwrap();
    let event = next_text(&mut ws).await;
    assert_eq!(event["requestContext"]["routeKey"], "$default");

    // The @connections API, signed by a caller of the API's account.
    let management = |key: &str, secret: &str| {
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .region(aws_sdk_apigatewaymanagement::config::Region::new(REGION))
            .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new(
                key, secret, None, None, "tests",
            ))
            .endpoint_url(format!(
                "http://127.0.0.1:{port}/restapis/{api}/prod/_user_request_"
            ))
            .http_client(http_client())
            .build();
        aws_sdk_apigatewaymanagement::Client::from_conf(config)
    };
    let m = management("MANAGER", "MANAGER-secret");
    m.post_to_connection()
        .connection_id(&connection_id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            json!({"pushed": true}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"pushed": true}));
    let got = m
        .get_connection()
        .connection_id(&connection_id)
        .send()
        .await
        .unwrap();
    assert!(got.connected_at().is_some() && got.last_active_at().is_some());
    assert_eq!(got.identity().unwrap().source_ip(), Some("127.0.0.1"));
    let e = management("MANAGER", "wrong")
        .post_to_connection()
        .connection_id(&connection_id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("ForbiddenException"));
    // A caller whose policies do not allow execute-api:ManageConnections is refused too.
    let e = management("NOBODY", "NOBODY-secret")
        .get_connection()
        .connection_id(&connection_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("ForbiddenException"));

    // DELETE closes the connection; `$disconnect` runs; the connection is gone after.
    m.delete_connection()
        .connection_id(&connection_id)
        .send()
        .await
        .unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                return true;
            }
        }
        true
    })
    .await
    .unwrap();
    assert!(closed);
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            seen.lock().unwrap().iter().any(|(p, _)| p == "/disconnect")
        })
        .await
    );
    // Gone here at once; gone fleet-wide once the control plane has heard of the close.
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            m.post_to_connection()
                .connection_id(&connection_id)
                .data(aws_sdk_apigatewaymanagement::primitives::Blob::new("late"))
                .send()
                .await
                .is_err_and(|e| e.into_service_error().is_gone_exception())
        })
        .await
    );

    // A client's close runs `$disconnect` too; a message over 128 KB closes with 1009.
    let before = seen.lock().unwrap().len();
    let (mut ws, _) = tokio_tungstenite::connect_async(url("prod")).await.unwrap();
    ws.send(Message::text("x".repeat(129 << 10))).await.unwrap();
    let mut code = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
        if let Message::Close(Some(frame)) = msg {
            code = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(code, Some(1009), "message too big");
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            seen.lock().unwrap()[before..]
                .iter()
                .filter(|(p, _)| p == "/disconnect")
                .count()
                == 1
        })
        .await
    );
    // A plain request to the stage is told to upgrade.
    let res = reqwest::get(format!(
        "http://127.0.0.1:{port}/restapis/{api}/prod/_user_request_/"
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), 426);

    // AWS's WebSocket metrics, per API and stage.
    let metrics = reqwest::get(format!("http://{}/metrics", worker.metrics_addr.unwrap()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |name: &str, stage: &str| -> u64 {
        let series = format!("gatehouse_websocket_{name}_total{{api=\"{api}\",stage=\"{stage}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(count("connect_count", "prod"), 2, "{metrics}");
    assert_eq!(count("client_error", "closed"), 1, "the refused connection");
    assert!(
        count("message_count", "prod") >= 3,
        "two in, one pushed: {metrics}"
    );

    // A draining worker closes its sockets (1001) and runs `$disconnect` for each.
    let before = seen.lock().unwrap().len();
    let (mut ws, _) = tokio_tungstenite::connect_async(url("prod")).await.unwrap();
    // As `gatehouse worker` stops on SIGTERM.
    let draining = tokio::spawn(worker.drain());
    let mut code = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
        if let Message::Close(Some(frame)) = msg {
            code = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(code, Some(1001), "going away");
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            seen.lock().unwrap()[before..]
                .iter()
                .any(|(p, _)| p == "/disconnect")
        })
        .await
    );
    tokio::time::timeout(std::time::Duration::from_secs(15), draining)
        .await
        .expect("the worker drains within its bounds")
        .unwrap();
}

/// A WebSocket API whose `$default` route answers with the echo function's answer (the event
/// it got), deployed to an autoDeploy stage `prod`.
pub(crate) async fn echo_api(c: &aws_sdk_apigatewayv2::Client, name: &str) -> String {
    let api = c
        .create_api()
        .name(name)
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let echo = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(lambda("echo"))
        .send()
        .await
        .unwrap();
    let route = c
        .create_route()
        .api_id(&api)
        .route_key("$default")
        .target(format!("integrations/{}", echo.integration_id().unwrap()))
        .route_response_selection_expression("$default")
        .send()
        .await
        .unwrap();
    c.create_route_response()
        .api_id(&api)
        .route_id(route.route_id().unwrap())
        .route_response_key("$default")
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    api
}

/// A masked client text frame (RFC 6455 §5.2), for payloads under 126 bytes.
fn client_frame(text: &str) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | text.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The upgrade on the raw wire: the handshake's accept key, bytes sent behind the upgrade
/// request read as frames (never as another HTTP request), and requests that only look like
/// upgrades (with a body, over HTTP/1.0, to a REST stage) served as plain HTTP.
#[tokio::test]
async fn the_upgrade_on_the_wire_hands_the_connection_to_the_session_and_nothing_else() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let api = echo_api(&c, "wire").await;
    let rest = super::mock_api(&app.client(), "prod").await;
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&worker, &api, "prod").await);
    assert!(serving(&worker, &rest, "prod").await);
    let exchange = |request: Vec<u8>| async move {
        let mut s = tokio::net::TcpStream::connect(worker.addr).await.unwrap();
        s.write_all(&request).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the server has said enough (or closed).
        while let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(700), s.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    };
    let upgrade = |host: &str, extra: &str, version: &str| {
        format!(
            "GET /prod HTTP/{version}\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    };
    let host = format!("{api}.execute-api.localhost");

    // The handshake, and a frame sent right behind the request: a message, not a request.
    let mut request = upgrade(&host, "", "1.1").into_bytes();
    request.extend(client_frame(r#"{"action":"hello"}"#));
    let got = exchange(request).await;
    assert!(got.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{got}");
    assert!(
        got.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{got}"
    );
    assert!(
        got.contains(r#""routeKey":"$default""#),
        "the frame was a message: {got}"
    );

    // A body makes it a plain request (which a WebSocket stage answers 426), whose body is
    // not taken for frames; HTTP/1.0 cannot upgrade.
    let got = exchange(
        upgrade(&host, "Content-Length: 5\r\n", "1.1")
            .into_bytes()
            .into_iter()
            .chain(*b"hello")
            .collect(),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 426"), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("connection: close"),
        "a refused upgrade closes: {got}"
    );
    // A key that is no 16-byte nonce is no upgrade either.
    let got = exchange(
        upgrade(&host, "", "1.1")
            .replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")
            .into_bytes(),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 426"), "{got}");
    let got = exchange(upgrade(&host, "", "1.0").into_bytes()).await;
    assert!(
        got.starts_with("HTTP/1.1 426") || got.starts_with("HTTP/1.0 426"),
        "{got}"
    );
    // An upgrade to a REST stage is a plain request to it.
    let rest_host = format!("{rest}.execute-api.localhost");
    let got = exchange(
        upgrade(&rest_host, "", "1.1")
            .replace("GET /prod ", "GET /prod/pets ")
            .into_bytes(),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains(r#"{"pets": ["rex"]}"#), "{got}");
}

/// A backend replying through @connections to a socket a *different* worker holds: the call
/// goes through the control plane's registry to the worker holding the connection.
#[tokio::test]
async fn connections_api_calls_reach_a_socket_held_by_another_worker() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let api = echo_api(&c, "fleet").await;
    let manage = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}]})
    .to_string();
    add_caller(
        &app,
        "BACKEND",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/b"),
        None,
        &[manage],
    )
    .await;
    // The holder tells the control plane of its connections' activity every 200 ms at most.
    let timeouts = gatehouse::dataplane::settings::ClientTimeouts {
        websocket_activity: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let holder = WorkerBuilder::new(&app.url())
        .lambda(format!("http://{functions}"))
        .timeouts(timeouts)
        .start()
        .await;
    let other = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&holder, &api, "prod").await && serving(&other, &api, "prod").await);

    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        holder.addr.port()
    ))
    .await
    .unwrap();
    ws.send(Message::text("who am i")).await.unwrap();
    let id = next_text(&mut ws).await["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = {
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
            .region(aws_sdk_apigatewaymanagement::config::Region::new(REGION))
            .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new(
                "BACKEND",
                "BACKEND-secret",
                None,
                None,
                "tests",
            ))
            .endpoint_url(format!(
                "http://127.0.0.1:{}/restapis/{api}/prod/_user_request_",
                other.addr.port()
            ))
            .http_client(http_client())
            .build();
        aws_sdk_apigatewaymanagement::Client::from_conf(config)
    };
    // The holder tells the control plane of the connection as it opens: soon known fleet-wide.
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            m.get_connection().connection_id(&id).send().await.is_ok()
        })
        .await
    );
    let got = m.get_connection().connection_id(&id).send().await.unwrap();
    assert_eq!(got.identity().unwrap().source_ip(), Some("127.0.0.1"));
    // A message after a while: the other worker's answer tells of it, not of the connect.
    let connected_at = got.connected_at().unwrap().to_millis().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    ws.send(Message::text("still here")).await.unwrap();
    next_text(&mut ws).await;
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            let got = m.get_connection().connection_id(&id).send().await.unwrap();
            got.last_active_at().unwrap().to_millis().unwrap() >= connected_at + 400
        })
        .await,
        "lastActiveAt follows the client's messages"
    );
    m.post_to_connection()
        .connection_id(&id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            r#"{"via": "other"}"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"via": "other"}));
    // The holder acknowledges what it delivered: the control plane forgets it (else it would
    // send it again on the holder's next stream).
    let waiting = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM websocket_commands")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        n
    };
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            waiting().await == 0
        })
        .await
    );
    m.delete_connection().connection_id(&id).send().await.unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the holder closed the connection");
    // Once the holder has said it closed, the connection is gone everywhere.
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            m.post_to_connection()
                .connection_id(&id)
                .data(aws_sdk_apigatewaymanagement::primitives::Blob::new("late"))
                .send()
                .await
                .is_err_and(|e| e.into_service_error().is_gone_exception())
        })
        .await
    );
}

/// `$connect` authorizers: a Lambda REQUEST authorizer (identity missing: 401; its policy
/// denying: 403; allowing: connected, its principal and context in every event), and IAM (a
/// presigned handshake URL by a caller whose policies allow it).
#[tokio::test]
async fn connect_authorizers_admit_and_refuse_clients() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    use super::authorize::Signer;
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let make_api = |name: &'static str| {
        let c = c.clone();
        async move {
            c.create_api()
                .name(name)
                .protocol_type(ProtocolType::Websocket)
                .route_selection_expression("$request.body.action")
                .send()
                .await
                .unwrap()
                .api_id()
                .unwrap()
                .to_owned()
        }
    };
    let (lambda_api, iam_api) = (make_api("lambda-auth").await, make_api("iam-auth").await);
    let local_api = make_api("deny-local").await;
    let deny_local = c
        .create_authorizer()
        .api_id(&local_api)
        .name("deny-local")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri(lambda("deny_local"))
        .send()
        .await
        .unwrap()
        .authorizer_id()
        .unwrap()
        .to_owned();
    // A Lambda authorizer's identity sources are WebSocket's: `route.request.*`.
    let e = c
        .create_authorizer()
        .api_id(&lambda_api)
        .name("bad")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri(lambda("policy_auth"))
        .identity_source("$request.header.Authorization")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let authorizer = c
        .create_authorizer()
        .api_id(&lambda_api)
        .name("policy")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri(lambda("policy_auth"))
        .identity_source("route.request.header.Authorization")
        .send()
        .await
        .unwrap()
        .authorizer_id()
        .unwrap()
        .to_owned();
    for (api, auth) in [
        (&lambda_api, "CUSTOM"),
        (&iam_api, "AWS_IAM"),
        (&local_api, "CUSTOM"),
    ] {
        let echo = c
            .create_integration()
            .api_id(api)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(lambda("echo"))
            .send()
            .await
            .unwrap()
            .integration_id()
            .unwrap()
            .to_owned();
        let mock = c
            .create_integration()
            .api_id(api)
            .integration_type(IntegrationType::Mock)
            .send()
            .await
            .unwrap()
            .integration_id()
            .unwrap()
            .to_owned();
        let mut connect = c
            .create_route()
            .api_id(api)
            .route_key("$connect")
            .target(format!("integrations/{mock}"))
            .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::from(auth));
        if auth == "CUSTOM" {
            let id = if api == &local_api {
                &deny_local
            } else {
                &authorizer
            };
            connect = connect.authorizer_id(id);
        }
        connect.send().await.unwrap();
        // Authorization is `$connect`'s alone.
        let e = c
            .create_route()
            .api_id(api)
            .route_key("other")
            .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::AwsIam)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).0, "BadRequestException");
        let route = c
            .create_route()
            .api_id(api)
            .route_key("$default")
            .target(format!("integrations/{echo}"))
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
        c.create_stage()
            .api_id(api)
            .stage_name("prod")
            .auto_deploy(true)
            .send()
            .await
            .unwrap();
    }
    let allow = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke",
         "Resource": format!("arn:aws:execute-api:*:*:{iam_api}/prod/$connect")}]})
    .to_string();
    add_caller(
        &app,
        "CLIENT",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/c"),
        None,
        &[allow],
    )
    .await;
    add_caller(
        &app,
        "STRANGER",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/s"),
        None,
        &[],
    )
    .await;
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&worker, &lambda_api, "prod").await && serving(&worker, &iam_api, "prod").await);
    let port = worker.addr.port();
    let status = |res: Result<_, tokio_tungstenite::tungstenite::Error>| match res {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
        Err(e) => panic!("{e}"),
    };

    let url = format!("ws://127.0.0.1:{port}/restapis/{lambda_api}/prod/_user_request_/");
    let with = |token: Option<&str>| {
        let mut req = url.as_str().into_client_request().unwrap();
        if let Some(t) = token {
            req.headers_mut().insert("authorization", t.parse().unwrap());
        }
        req
    };
    assert_eq!(
        status(tokio_tungstenite::connect_async(with(None)).await.map(|_| ())),
        401
    );
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(with(Some("deny")))
                .await
                .map(|_| ())
        ),
        403
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(with(Some("allow")))
        .await
        .unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    let event = next_text(&mut ws).await;
    assert_eq!(
        event["requestContext"]["authorizer"]["principalId"], "p1",
        "{event}"
    );

    // The policy's conditions see the client: a Deny on loopback addresses applies.
    assert!(serving(&worker, &local_api, "prod").await);
    let local = format!("ws://127.0.0.1:{port}/restapis/{local_api}/prod/_user_request_/");
    assert_eq!(
        status(tokio_tungstenite::connect_async(local).await.map(|_| ())),
        403
    );

    // IAM: a presigned handshake URL.
    let signed = |key: &'static str| {
        let req = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/restapis/{iam_api}/prod/_user_request_/"
            ))
            .build()
            .unwrap();
        Signer::new(key)
            .presigned()
            .sign(req)
            .url()
            .to_string()
            .replacen("http://", "ws://", 1)
    };
    let unsigned = format!("ws://127.0.0.1:{port}/restapis/{iam_api}/prod/_user_request_/");
    assert_eq!(
        status(tokio_tungstenite::connect_async(unsigned).await.map(|_| ())),
        403
    );
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(signed("STRANGER"))
                .await
                .map(|_| ())
        ),
        403
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(signed("CLIENT")).await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    let event = next_text(&mut ws).await;
    assert_eq!(
        event["requestContext"]["authorizer"]["principalId"],
        format!("arn:aws:iam::{ACCOUNT}:user/c")
    );
}

/// The stage's throttles: a connect and a message each take a token of their route's limit
/// (`defaultRouteSettings`, or the route's own); past it, a connect is 429 and a message gets
/// AWS's error frame.
#[tokio::test]
async fn connects_and_messages_are_throttled_by_the_stage() {
    use aws_sdk_apigatewayv2::types::RouteSettings;
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = c
        .create_api()
        .name("throttled")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_owned();
    for key in ["$connect", "$default"] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{mock}"))
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .default_route_settings(
            RouteSettings::builder()
                .throttling_rate_limit(0.01)
                .throttling_burst_limit(1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "prod").await);
    let url = format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        worker.addr.port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("the second connect should be throttled: {other:?}"),
    }
    // The first message takes `$default`'s one token (MOCK: no answer); the second is refused.
    ws.send(Message::text("one")).await.unwrap();
    ws.send(Message::text("two")).await.unwrap();
    let refused = next_text(&mut ws).await;
    assert_eq!(refused["message"], "Too Many Requests", "{refused}");
}

/// With Redis, a WebSocket stage's limit is the fleet's, however connects spread over its
/// workers (each worker's share alone would admit half of the burst here).
#[tokio::test]
async fn with_redis_connects_share_the_stage_limit_across_workers() {
    use aws_sdk_apigatewayv2::types::RouteSettings;
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = c
        .create_api()
        .name("fleet-throttled")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .default_route_settings(
            RouteSettings::builder()
                .throttling_rate_limit(0.01)
                .throttling_burst_limit(4)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // A route, so that the stage is deployed.
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("$default")
        .target(format!("integrations/{}", mock.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    let redis = std::env::var("GATEHOUSE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut workers = Vec::new();
    for _ in 0..2 {
        let worker = WorkerBuilder::new(&app.control_plane_url())
            .redis(&redis)
            .start()
            .await;
        assert!(stage_holds(&worker, &api, "prod", |s| !s.stage.method_settings.is_empty()).await);
        workers.push(worker);
    }
    let url = |w: &gatehouse::server::Worker| {
        format!(
            "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
            w.addr.port()
        )
    };
    let mut open = Vec::new();
    for _ in 0..4 {
        let (ws, _) = tokio_tungstenite::connect_async(url(&workers[0])).await.unwrap();
        open.push(ws);
    }
    for w in &workers {
        match tokio_tungstenite::connect_async(url(w)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
            other => panic!("the fleet's burst is spent: {other:?}"),
        }
    }
}

/// The subprotocol `$connect`'s function chooses (among those the client offered) is the
/// handshake's.
#[tokio::test]
async fn connect_chooses_the_subprotocol() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let api = echo_api(&c, "protocols").await;
    let chooser = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(lambda("subprotocol"))
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("$connect")
        .target(format!("integrations/{}", chooser.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api, "prod")
                .is_some_and(|s| match &*s.api {
                    gatehouse::compiler::CompiledApi::WebSocket(w) => w.route("$connect").is_some(),
                    _ => false,
                })
        })
        .await
    );
    let mut req = format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        worker.addr.port()
    )
    .into_client_request()
    .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "chat.v1, chat.v2".parse().unwrap());
    let (_, res) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(res.headers()["sec-websocket-protocol"], "chat.v2");
}

/// Messages relayed to a connection whose worker is not taking them are bounded: past 4 MB
/// waiting, more are refused (the @connections caller gets 429), so one tenant cannot fill the
/// database with them.
#[tokio::test]
async fn relayed_messages_waiting_for_a_connection_are_bounded() {
    use gatehouse::store::websockets::{QUEUED_BYTES, delivered, enqueue, pending};
    let app = spawn_app().await;
    let mut conn = app.store.pool().acquire().await.unwrap();
    let message = vec![b'x'; 128 << 10];
    let fits = (QUEUED_BYTES as usize) / message.len();
    for _ in 0..fits {
        assert!(
            enqueue(&mut conn, "absent-worker", "conn-1", false, &message)
                .await
                .unwrap()
        );
    }
    assert!(
        !enqueue(&mut conn, "absent-worker", "conn-1", false, &message)
            .await
            .unwrap()
    );
    // Another connection has its own budget; a close always fits.
    assert!(
        enqueue(&mut conn, "absent-worker", "conn-2", false, &message)
            .await
            .unwrap()
    );
    assert!(
        enqueue(&mut conn, "absent-worker", "conn-1", true, &[])
            .await
            .unwrap()
    );
    // A stream hands them over in order, once; the worker's next stream again, until the
    // worker says it delivered them. Then the budget is free again.
    let sent = pending(&mut conn, "absent-worker", "stream-1").await.unwrap();
    assert_eq!(sent.len(), fits + 2);
    assert!(sent.last().unwrap().2, "the close comes last");
    assert!(sent.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(
        pending(&mut conn, "absent-worker", "stream-1")
            .await
            .unwrap()
            .is_empty()
    );
    let again = pending(&mut conn, "absent-worker", "stream-2").await.unwrap();
    assert_eq!(again.len(), fits + 2);
    let seqs: Vec<i64> = again.iter().map(|c| c.0).collect();
    delivered(&mut conn, "other-worker", &seqs).await.unwrap();
    assert_eq!(
        pending(&mut conn, "absent-worker", "stream-3")
            .await
            .unwrap()
            .len(),
        fits + 2,
        "another worker's acknowledgement forgets nothing"
    );
    delivered(&mut conn, "absent-worker", &seqs).await.unwrap();
    assert!(
        pending(&mut conn, "absent-worker", "stream-4")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        enqueue(&mut conn, "absent-worker", "conn-1", false, &message)
            .await
            .unwrap()
    );
}

/// The fleet's registry tells a closed connection (410 at once) from one it has not heard of
/// (perhaps one whose handshake its worker is still telling of), and a closed connection is
/// never reopened by a late report of its activity.
#[tokio::test]
async fn the_registry_tells_closed_connections_from_unknown_ones() {
    use gatehouse::store::websockets::{ConnectionRecord, Found, find, register, unregister};
    let app = spawn_app().await;
    let mut conn = app.store.pool().acquire().await.unwrap();
    let record = |id: &str, last_active: u64| ConnectionRecord {
        connection_id: id.into(),
        api_id: "api".into(),
        stage: "prod".into(),
        connected_at: 1,
        source_ip: "10.0.0.1".into(),
        user_agent: None,
        last_active_at: Some(last_active),
    };
    // One report may tell of a connection twice (opened, then active): the latest counts.
    register(&mut conn, "w1", &[record("a", 1), record("b", 1), record("a", 5)])
        .await
        .unwrap();
    match find(&mut conn, "a", "api", "prod").await.unwrap() {
        Found::Open(worker, r) => assert_eq!((worker.as_str(), r.last_active_at), ("w1", Some(5))),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        find(&mut conn, "a", "api", "other").await.unwrap(),
        Found::Unknown
    ));
    assert!(matches!(
        find(&mut conn, "zz", "api", "prod").await.unwrap(),
        Found::Unknown
    ));
    unregister(&mut conn, "w1", &["a".into()]).await.unwrap();
    assert!(matches!(
        find(&mut conn, "a", "api", "prod").await.unwrap(),
        Found::Gone
    ));
    register(&mut conn, "w1", &[record("a", 9)]).await.unwrap();
    assert!(matches!(
        find(&mut conn, "a", "api", "prod").await.unwrap(),
        Found::Gone
    ));
    assert!(matches!(
        find(&mut conn, "b", "api", "prod").await.unwrap(),
        Found::Open(..)
    ));
}

/// A connection whose client sends nothing for the idle timeout (AWS's 10 minutes; shortened
/// here) is closed with 1001; one that keeps talking stays.
#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let api = echo_api(&c, "idle").await;
    let timeouts = gatehouse::dataplane::settings::ClientTimeouts {
        websocket_idle: std::time::Duration::from_millis(800),
        ..Default::default()
    };
    let worker = WorkerBuilder::new(&app.url())
        .lambda(format!("http://{functions}"))
        .timeouts(timeouts)
        .start()
        .await;
    assert!(serving(&worker, &api, "prod").await);
    let url = format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        worker.addr.port()
    );
    let (mut idle, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut talking, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let started = std::time::Instant::now();
    // The talking one sends every 300 ms, past the idle one's timeout.
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        talking.send(Message::text("still here")).await.unwrap();
        next_text(&mut talking).await;
    }
    let mut code = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(std::time::Duration::from_secs(5), idle.next()).await {
        if let Message::Close(Some(frame)) = msg {
            code = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(code, Some(1001), "the idle connection is closed");
    assert!(started.elapsed() >= std::time::Duration::from_millis(800));
    talking.send(Message::text("and now")).await.unwrap();
    assert!(next_text(&mut talking).await["requestContext"]["routeKey"] == "$default");
}

/// A WebSocket API reached through a custom domain's API mapping: the handshake's Host and
/// path name the domain and the mapping's key.
#[tokio::test]
async fn a_custom_domain_maps_a_websocket_api() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let c = app.v2_client();
    let functions = fake_lambda().await;
    let api = echo_api(&c, "chat").await;
    c.create_domain_name()
        .domain_name("ws.example.com")
        .domain_name_configurations(
            aws_sdk_apigatewayv2::types::DomainNameConfiguration::builder()
                .certificate_arn(format!("arn:aws:acm:{REGION}:{ACCOUNT}:certificate/ws"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.create_api_mapping()
        .domain_name("ws.example.com")
        .api_id(&api)
        .stage("prod")
        .api_mapping_key("chat")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{functions}"))).await;
    assert!(serving(&worker, &api, "prod").await);
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            worker.runtime.load().domain("ws.example.com").is_some()
        })
        .await
    );
    let open = |path: &'static str| {
        let addr = worker.addr;
        async move {
            let req = format!("ws://ws.example.com:{}{path}", addr.port())
                .into_client_request()
                .unwrap();
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio_tungstenite::client_async(req, tcp).await
        }
    };
    let (mut ws, _) = open("/chat").await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    let event = next_text(&mut ws).await;
    assert_eq!(event["body"], "hello");
    assert_eq!(event["requestContext"]["stage"], "prod");
    // A path no mapping takes is refused the upgrade.
    match open("/elsewhere").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected a 403, got {:?}", other.map(|(_, r)| r.status())),
    }
}
