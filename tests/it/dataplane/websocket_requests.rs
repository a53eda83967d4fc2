//! What WebSocket routes ask of their requests, through a real client: API keys (a
//! `$connect` route with `apiKeyRequired` admits only keys of the stage's usage plans, 403
//! otherwise; the key's plan quota counts the connect and the messages of routes requiring a
//! key: 429 `Limit Exceeded` for a handshake, an error frame for a message; routes without the
//! flag are not metered), and request validation (`$connect`'s required parameters, messages
//! against the request model their route's selection expression picks).

use aws_sdk_apigateway::types::{ApiStage, QuotaPeriodType, QuotaSettings};
use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::websocket::next_text;
use crate::helpers::*;

#[tokio::test]
async fn api_keys_admit_connections_and_meter_their_messages() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = c
        .create_api()
        .name("keyed")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.api_key_selection_expression(),
        Some("$request.header.x-api-key")
    );
    let api = api.api_id().unwrap().to_owned();
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .request_templates("$default", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    let mock = mock.integration_id().unwrap();
    c.create_integration_response()
        .api_id(&api)
        .integration_id(mock)
        .integration_response_key("$default")
        .response_templates("$default", r#"{"route": "$context.routeKey"}"#)
        .send()
        .await
        .unwrap();
    for (key, keyed) in [("$connect", true), ("metered", true), ("$default", false)] {
        let route = c
            .create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{mock}"))
            .api_key_required(keyed)
            .route_response_selection_expression("$default")
            .send()
            .await
            .unwrap();
        assert_eq!(route.api_key_required(), Some(keyed));
        c.create_route_response()
            .api_id(&api)
            .route_id(route.route_id().unwrap())
            .route_response_key("$default")
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();

    // The plan is v1's, naming the WebSocket API's stage; an HTTP API's stage is refused.
    let v1 = app.client();
    let http_api = c
        .create_api()
        .name("plain")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let refused = v1
        .create_usage_plan()
        .name("http")
        .api_stages(
            ApiStage::builder()
                .api_id(http_api.api_id().unwrap())
                .stage("$default")
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    let missing = v1
        .create_usage_plan()
        .name("missing")
        .api_stages(ApiStage::builder().api_id(&api).stage("nope").build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_not_found_exception(), "{missing:?}");
    let plan = v1
        .create_usage_plan()
        .name("sockets")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .quota(
            QuotaSettings::builder()
                .limit(4)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let key = v1
        .create_api_key()
        .name("socket-key")
        .enabled(true)
        .send()
        .await
        .unwrap();
    v1.create_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    let value = key.value().unwrap().to_owned();

    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "prod").await);
    let url = format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        worker.addr.port()
    );
    let connect = |key: Option<&str>| {
        let mut request = url.as_str().into_client_request().unwrap();
        if let Some(k) = key {
            request.headers_mut().insert("x-api-key", k.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    let status_of = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            let body = String::from_utf8(res.body().clone().unwrap_or_default()).unwrap();
            (res.status().as_u16(), body)
        }
        Ok(_) => (101, String::new()),
        Err(e) => panic!("{e}"),
    };

    // No key, or one no plan of the stage holds: 403.
    let (status, body) = status_of(connect(None).await.map(drop));
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert_eq!(status_of(connect(Some("not-a-key")).await.map(drop)).0, 403);

    // The key connects (1 of the quota's 4); each keyed message counts, others do not.
    let (mut ws, _) = connect(Some(&value)).await.unwrap();
    for _ in 0..3 {
        ws.send(Message::text(json!({"action": "metered"}).to_string()))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, json!({"route": "metered"}));
    }
    ws.send(Message::text(json!({"action": "free"}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"route": "$default"}));
    ws.send(Message::text(json!({"action": "metered"}).to_string()))
        .await
        .unwrap();
    let spent = next_text(&mut ws).await;
    assert_eq!(spent["message"], "Limit Exceeded", "{spent}");
    // Unmetered routes still answer; a new connection is refused with the quota's 429.
    ws.send(Message::text(json!({"action": "free"}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"route": "$default"}));
    let (status, body) = status_of(connect(Some(&value)).await.map(drop));
    assert_eq!((status, body.as_str()), (429, r#"{"message":"Limit Exceeded"}"#));

    // The usage is the plan's, by key, as GetUsage reports it.
    let today = chrono::Utc::now().date_naive().to_string();
    let usage = || async {
        v1.get_usage()
            .usage_plan_id(plan.id().unwrap())
            .start_date(&today)
            .end_date(&today)
            .send()
            .await
            .unwrap()
    };
    let counted = eventually(std::time::Duration::from_secs(10), || async {
        usage()
            .await
            .items()
            .and_then(|i| i.get(key.id().unwrap()))
            .cloned()
            == Some(vec![vec![4, 0]])
    })
    .await;
    assert!(counted, "{:?}", usage().await);
}

#[tokio::test]
async fn routes_validate_handshakes_and_messages() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let api = c
        .create_api()
        .name("validated")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    c.create_model()
        .api_id(&api)
        .name("Text")
        .content_type("application/json")
        .schema(
            json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                   "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 10}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let mock = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::Mock)
        .request_templates("$default", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    let mock = mock.integration_id().unwrap();
    c.create_integration_response()
        .api_id(&api)
        .integration_id(mock)
        .integration_response_key("$default")
        .response_templates("$default", r#"{"ok": "$context.routeKey"}"#)
        .send()
        .await
        .unwrap();
    let required = aws_sdk_apigatewayv2::types::ParameterConstraints::builder()
        .required(true)
        .build();
    c.create_route()
        .api_id(&api)
        .route_key("$connect")
        .target(format!("integrations/{mock}"))
        .request_parameters("route.request.querystring.room", required.clone())
        .request_parameters("route.request.header.x-team", required.clone())
        .request_parameters(
            "route.request.header.x-optional",
            aws_sdk_apigatewayv2::types::ParameterConstraints::builder()
                .required(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let send = c
        .create_route()
        .api_id(&api)
        .route_key("send")
        .target(format!("integrations/{mock}"))
        .model_selection_expression("${request.body.kind}")
        .request_models("text", "Text")
        .route_response_selection_expression("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(send.request_models().unwrap()["text"], "Text");
    c.create_route_response()
        .api_id(&api)
        .route_id(send.route_id().unwrap())
        .route_response_key("$default")
        .send()
        .await
        .unwrap();

    // What AWS refuses of a route's validation.
    let bad_request = |e: aws_sdk_apigatewayv2::error::SdkError<
        aws_sdk_apigatewayv2::operation::create_route::CreateRouteError,
    >| {
        let e = e.into_service_error();
        assert!(e.is_bad_request_exception(), "{e:?}");
        e.to_string()
    };
    let base = || c.create_route().api_id(&api);
    let e = base()
        .route_key("a")
        .request_models("$default", "Nope")
        .send()
        .await
        .unwrap_err();
    assert!(bad_request(e).contains("Nope"));
    let e = base()
        .route_key("b")
        .request_parameters("route.request.path.x", required.clone())
        .send()
        .await
        .unwrap_err();
    assert!(bad_request(e).contains("route.request.path.x"));
    let e = base()
        .route_key("c")
        .model_selection_expression("${request.header.x}")
        .send()
        .await
        .unwrap_err();
    assert!(bad_request(e).contains("request.header.x"));

    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "prod").await);
    let url = format!(
        "ws://127.0.0.1:{}/restapis/{api}/prod/_user_request_/",
        worker.addr.port()
    );
    let connect = |query: &str, team: Option<&str>| {
        let mut request = format!("{url}{query}").into_client_request().unwrap();
        if let Some(t) = team {
            request.headers_mut().insert("x-team", t.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    match connect("", None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 400);
            let body = String::from_utf8(res.body().clone().unwrap_or_default()).unwrap();
            assert_eq!(
                body,
                r#"{"message":"Missing required request parameters: [x-team, room]"}"#
            );
        }
        other => panic!("the handshake should be refused: {other:?}"),
    }
    assert!(connect("?room=1", None).await.is_err());
    let (mut ws, _) = connect("?room=1", Some("blue")).await.unwrap();

    // A message matching the model its kind picks is served; others get the error frame.
    let send = |message: serde_json::Value| Message::text(message.to_string());
    ws.send(send(json!({"action": "send", "kind": "text", "text": "hi"})))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"ok": "send"}));
    for invalid in [
        json!({"action": "send", "kind": "text"}),
        json!({"action": "send", "kind": "text", "text": "far too long a text"}),
        // No model for this kind, and no `$default` one.
        json!({"action": "send", "kind": "image", "text": "hi"}),
    ] {
        ws.send(send(invalid.clone())).await.unwrap();
        let refused = next_text(&mut ws).await;
        assert_eq!(refused["message"], "Invalid request body", "{invalid}: {refused}");
        assert!(refused["connectionId"].is_string());
    }
}
