//! HTTP APIs served by a worker: the walk-through (quick create, call, throttle), route keys
//! most specific first, the `$default` route and stage, payload formats 2.0 and 1.0 against
//! AWS's documented events, HTTP_PROXY, and HTTP APIs' own error answers.

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType, RouteSettings};
use serde_json::Value;

use crate::backends::{echo_backend, fake_aws_json, fake_lambda, fake_sts};
use crate::helpers::*;

fn function(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:000000000000:function:{name}")
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[tokio::test]
async fn quick_create_then_curl_then_a_stage_throttle_of_one_per_second() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let lambda = fake_lambda().await;
    let created = c
        .create_api()
        .name("hello")
        .protocol_type(ProtocolType::Http)
        .target(function("echo"))
        .send()
        .await
        .unwrap();
    let api = created.api_id().unwrap().to_owned();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let base = format!("http://{api}.execute-api.localhost:{}", worker.addr.port());

    // The `$default` stage has no stage segment: the whole path is the API's.
    let res = http
        .post(format!(
            "{base}/my/path?parameter1=value1&parameter1=value2&parameter2=value"
        ))
        .header("cookie", "cookie1=a; cookie2=b")
        .header("header2", "value1")
        .header("header2", "value2")
        .header("content-type", "application/json")
        .body(r#"{"hello":"lambda"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // HTTP APIs answer `apigw-requestid`, the event's request id, and not REST's ids.
    let request_id = res.headers()["apigw-requestid"].to_str().unwrap().to_owned();
    assert!(res.headers().get("x-amzn-requestid").is_none());
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["requestContext"]["requestId"], request_id.as_str());
    // AWS's documented 2.0 event, field by field (those a request without path parameters,
    // stage variables or an authorizer has).
    assert_eq!(
        keys(&event),
        [
            "body",
            "cookies",
            "headers",
            "isBase64Encoded",
            "queryStringParameters",
            "rawPath",
            "rawQueryString",
            "requestContext",
            "routeKey",
            "version"
        ]
    );
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "$default");
    assert_eq!(event["rawPath"], "/my/path");
    assert_eq!(
        event["rawQueryString"],
        "parameter1=value1&parameter1=value2&parameter2=value"
    );
    assert_eq!(event["cookies"], serde_json::json!(["cookie1=a", "cookie2=b"]));
    assert_eq!(event["headers"]["header2"], "value1,value2");
    assert!(event["headers"].get("cookie").is_none(), "cookies are apart");
    assert_eq!(event["headers"]["content-type"], "application/json");
    assert_eq!(
        event["queryStringParameters"],
        serde_json::json!({"parameter1": "value1,value2", "parameter2": "value"})
    );
    assert_eq!(event["body"], r#"{"hello":"lambda"}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(
        keys(rc),
        [
            "accountId",
            "apiId",
            "domainName",
            "domainPrefix",
            "http",
            "requestId",
            "routeKey",
            "stage",
            "time",
            "timeEpoch"
        ]
    );
    assert_eq!(rc["apiId"], api.as_str());
    assert_eq!(rc["accountId"], ACCOUNT);
    assert_eq!(rc["domainPrefix"], api.as_str());
    assert_eq!(rc["stage"], "$default");
    assert_eq!(rc["routeKey"], "$default");
    assert!(rc["timeEpoch"].is_i64());
    assert_eq!(
        keys(&rc["http"]),
        ["method", "path", "protocol", "sourceIp", "userAgent"]
    );
    assert_eq!(rc["http"]["method"], "POST");
    assert_eq!(rc["http"]["path"], "/my/path");
    assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
    assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
    // A body that is not text reaches the function in base64.
    let res = http
        .post(format!("{base}/bin"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 159, 146, 150])
        .send()
        .await
        .unwrap();
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AJ+Slg==");
    // `$default` is no stage segment: it is part of the path.
    let res = http.get(format!("{base}/$default/x")).send().await.unwrap();
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["rawPath"], "/$default/x");

    // Throttle the stage: 1 request a second, bursts of 2.
    c.update_stage()
        .api_id(&api)
        .stage_name("$default")
        .default_route_settings(
            RouteSettings::builder()
                .throttling_rate_limit(1.0)
                .throttling_burst_limit(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(stage_holds(&worker, &api, "$default", |s| !s.stage.method_settings.is_empty()).await);
    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..6 {
        let res = http.get(format!("{base}/hello")).send().await.unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            refused = Some(res.text().await.unwrap());
        }
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!((2..=3).contains(&ok), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 6 - ok);
    assert_eq!(refused.unwrap(), r#"{"message":"Too Many Requests"}"#);
}

#[tokio::test]
async fn routes_match_most_specific_first_on_named_stages() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let lambda = fake_lambda().await;
    let api = c
        .create_api()
        .name("pets")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let integration = |kind: IntegrationType, uri: String, method: &str, format: &str| {
        let c = c.clone();
        let api = api.clone();
        let method = method.to_owned();
        let format = format.to_owned();
        async move {
            let id = c
                .create_integration()
                .api_id(&api)
                .integration_type(kind)
                .integration_uri(uri)
                .integration_method(method)
                .payload_format_version(format)
                .send()
                .await
                .unwrap()
                .integration_id()
                .unwrap()
                .to_owned();
            format!("integrations/{id}")
        }
    };
    let item = integration(
        IntegrationType::HttpProxy,
        format!("http://{backend}/items/{{id}}"),
        "GET",
        "1.0",
    )
    .await;
    let any = integration(
        IntegrationType::HttpProxy,
        format!("http://{backend}/any/{{proxy}}"),
        "ANY",
        "1.0",
    )
    .await;
    let v1 = integration(IntegrationType::AwsProxy, function("echo"), "POST", "1.0").await;
    let bare = integration(IntegrationType::AwsProxy, function("bare"), "POST", "2.0").await;
    let broken = integration(IntegrationType::AwsProxy, function("error"), "POST", "2.0").await;
    for (key, target) in [
        ("GET /pets/{id}", &item),
        ("ANY /pets/{proxy+}", &any),
        ("GET /v1", &v1),
        ("GET /bare", &bare),
        ("GET /broken", &broken),
    ] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(target)
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    // A WebSocket API's deployment (not served yet) keeps no worker from serving the rest.
    let chat = c
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
    let mock = c
        .create_integration()
        .api_id(&chat)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&chat)
        .route_key("$connect")
        .target(format!("integrations/{}", mock.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&chat)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .api_id(&chat)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let url = |path: &str| invoke_url(&api, &worker, "dev", path);

    let res = http.get(url("/pets/42?x=1")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let echoed: Value = res.json().await.unwrap();
    assert_eq!(echoed["path"], "/items/42", "the route's {{id}} fills the URI");
    assert_eq!(echoed["query"], "x=1");
    // POST has no route at /pets/{id}: the greedy route for any verb takes it.
    let res = http.post(url("/pets/42")).body("x").send().await.unwrap();
    let echoed: Value = res.json().await.unwrap();
    assert_eq!(echoed["path"], "/any/42");
    assert_eq!(echoed["method"], "POST");
    let res = http.get(url("/pets/a/b")).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["path"], "/any/a/b");

    // No such stage, and no `$default` stage: HTTP APIs' 404 too.
    let res = http
        .get(invoke_url(&api, &worker, "nostage", "/pets/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), r#"{"message":"Not Found"}"#);
    // No route and no `$default` route: HTTP APIs' 404.
    let res = http.get(url("/nothing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers().get("x-amzn-errortype").is_none());
    assert_eq!(res.text().await.unwrap(), r#"{"message":"Not Found"}"#);

    // Payload 1.0 of HTTP APIs: REST's event with a version and the route key; the stage is
    // part of a named stage's path.
    let res = http.get(url("/v1")).send().await.unwrap();
    let event: Value = res.json().await.unwrap();
    assert_eq!(event["version"], "1.0");
    assert_eq!(event["routeKey"], "GET /v1");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["requestContext"]["stage"], "dev");

    // Payload 2.0 infers a 200 JSON answer from a bare JSON result.
    let res = http.get(url("/bare")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "hi", "n": 1})
    );
    // A function error is HTTP APIs' 500.
    let res = http.get(url("/broken")).send().await.unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Internal Server Error"}"#
    );

    // A `$default` route catches the rest; a new deployment brings it.
    let fallback = integration(
        IntegrationType::HttpProxy,
        format!("http://{backend}/fallback"),
        "ANY",
        "1.0",
    )
    .await;
    c.create_route()
        .api_id(&api)
        .route_key("$default")
        .target(&fallback)
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            http.get(url("/nothing")).send().await.unwrap().status() == 200
        })
        .await
    );
}

#[tokio::test]
async fn cors_preflights_are_answered_and_every_answer_carries_the_configuration() {
    use aws_sdk_apigatewayv2::types::Cors;
    let app = spawn_app().await;
    let c = app.v2_client();
    // A backend that sets CORS headers of its own, which the API's configuration replaces.
    let backend = crate::backends::serve(|_req| async {
        hyper::Response::builder()
            .header("access-control-allow-origin", "*")
            .header("x-backend", "1")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"ok")))
            .unwrap()
    })
    .await;
    let api = c
        .create_api()
        .name("cors")
        .protocol_type(ProtocolType::Http)
        .target(format!("http://{backend}/items"))
        .route_key("GET /items")
        .cors_configuration(
            Cors::builder()
                .allow_origins("https://app.example.com")
                .allow_methods("GET")
                .allow_methods("POST")
                .allow_headers("content-type")
                .allow_headers("x-custom")
                .expose_headers("x-backend")
                .max_age(300)
                .allow_credentials(true)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let url = |path: &str| format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());
    let origin = "https://app.example.com";

    // The preflight is the gateway's, though no route has OPTIONS.
    let res = http
        .request(reqwest::Method::OPTIONS, url("/items"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(h["access-control-allow-methods"], "GET,POST");
    assert_eq!(h["access-control-allow-headers"], "content-type,x-custom");
    assert_eq!(h["access-control-max-age"], "300");
    assert_eq!(h["access-control-allow-credentials"], "true");
    let res = http
        .request(reqwest::Method::OPTIONS, url("/items"))
        .header("origin", "https://evil.example.net")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // A real answer: the configured headers in place of the backend's.
    let res = http
        .get(url("/items"))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(h.get_all("access-control-allow-origin").iter().count(), 1);
    assert_eq!(h["access-control-expose-headers"], "x-backend");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["x-backend"], "1");
    assert_eq!(res.text().await.unwrap(), "ok");
    // And the gateway's errors carry them too.
    let res = http
        .get(url("/missing"))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    // A disallowed origin gets none, and not the backend's either.
    let res = http
        .get(url("/items"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // `*` with credentials is refused when configured.
    let e = c
        .update_api()
        .api_id(&api)
        .cors_configuration(Cors::builder().allow_origins("*").allow_credentials(true).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    // Without a configuration, the backend's own headers pass.
    c.delete_cors_configuration().api_id(&api).send().await.unwrap();
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            let res = http
                .get(url("/items"))
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            res.headers()
                .get("access-control-allow-origin")
                .is_some_and(|v| v == "*")
        })
        .await
    );
}

#[tokio::test]
async fn jwt_authorizers_admit_tokens_of_their_issuer_and_audience_with_the_routes_scopes() {
    use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType, JwtConfiguration};
    use serde_json::json;

    use crate::backends::{OidcIssuer, epoch_now};
    let app = spawn_app().await;
    let c = app.v2_client();
    let lambda = fake_lambda().await;
    let issuer = OidcIssuer::start().await;
    let api = c
        .create_api()
        .name("secure")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let authorizer = c
        .create_authorizer()
        .api_id(&api)
        .name("jwt")
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            JwtConfiguration::builder()
                .issuer(&issuer.url)
                .audience("my-app")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let authorizer_id = authorizer.authorizer_id().unwrap().to_owned();
    // A JWT authorizer needs an issuer and an audience.
    let e = c
        .create_authorizer()
        .api_id(&api)
        .name("bad")
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(JwtConfiguration::builder().issuer(&issuer.url).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let target = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(function("echo"))
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_owned();
    for (key, scopes) in [("GET /me", vec![]), ("GET /admin", vec!["admin".to_owned()])] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{target}"))
            .authorization_type(AuthorizationType::Jwt)
            .authorizer_id(&authorizer_id)
            .set_authorization_scopes(Some(scopes))
            .send()
            .await
            .unwrap();
    }
    // An authorizer in use stays.
    let e = c
        .delete_authorizer()
        .api_id(&api)
        .authorizer_id(&authorizer_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let url = |path: &str| format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());
    let call = |path: &'static str, token: Option<String>| {
        let http = http.clone();
        let url = url(path);
        async move {
            let mut req = http.get(url);
            if let Some(t) = token {
                req = req.header("authorization", t);
            }
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let claims = |extra: Value| {
        let mut c = json!({"sub": "user-1", "aud": "my-app", "exp": epoch_now() + 600});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let unauthorized = (401, r#"{"message":"Unauthorized"}"#.to_owned());
    assert_eq!(call("/me", None).await, unauthorized);
    assert_eq!(
        call(
            "/me",
            Some(format!(
                "Bearer {}",
                issuer.forged("k1", claims(json!({"iss": issuer.url})))
            ))
        )
        .await,
        unauthorized
    );
    assert_eq!(
        call(
            "/me",
            Some(issuer.token("k1", claims(json!({"aud": "another-app"}))))
        )
        .await,
        unauthorized
    );
    assert_eq!(
        call(
            "/me",
            Some(issuer.token("k1", claims(json!({"exp": epoch_now() - 10}))))
        )
        .await,
        unauthorized
    );
    let (status, body) = call(
        "/me",
        Some(format!("Bearer {}", issuer.token("k1", claims(json!({}))))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    let jwt = &event["requestContext"]["authorizer"]["jwt"];
    assert_eq!(jwt["claims"]["sub"], "user-1");
    assert_eq!(jwt["claims"]["aud"], "my-app");
    assert_eq!(jwt["scopes"], Value::Null);
    // The admin route needs the admin scope.
    assert_eq!(
        call(
            "/admin",
            Some(issuer.token("k1", claims(json!({"scope": "read"}))))
        )
        .await,
        (403, r#"{"message":"Forbidden"}"#.to_owned())
    );
    let (status, body) = call(
        "/admin",
        Some(issuer.token("k1", claims(json!({"scope": "read admin"})))),
    )
    .await;
    assert_eq!(status, 200);
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["scopes"],
        json!(["read", "admin"])
    );
}

#[tokio::test]
async fn access_logs_and_metrics_name_each_route() {
    use aws_sdk_apigatewayv2::types::AccessLogSettings;
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let api = c
        .create_api()
        .name("logged")
        .protocol_type(ProtocolType::Http)
        .target(format!("http://{backend}/items/{{id}}"))
        .route_key("GET /items/{id}")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let group = format!("gh-test-{}", uuid::Uuid::new_v4());
    c.update_stage()
        .api_id(&api)
        .stage_name("$default")
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn(format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}"))
                .format(
                    r#"{"routeKey":"$context.routeKey","status":"$context.status","path":"$context.path"}"#,
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(stage_holds(&worker, &api, "$default", |s| s.access_log.is_some()).await);
    let http = invoker(&api, &worker);
    let url = |path: &str| format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());
    assert_eq!(http.get(url("/items/7")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(url("/other")).send().await.unwrap().status(), 404);

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("access-logs")
        .join(format!("{group}.log"));
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 2)
        })
        .await
    );
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["routeKey"], "GET /items/{id}");
    assert_eq!(lines[0]["status"], "200");
    assert_eq!(lines[0]["path"], "/items/7");
    assert_eq!(lines[1]["status"], "404");
    let metrics_at = worker.metrics_addr.unwrap();
    let metrics = reqwest::get(format!("http://{metrics_at}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            r#"gatehouse_requests_total{{api="{api}",stage="$default",resource="/items/{{id}}",method="GET",canary="false"}} 1"#
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn parameter_mapping_changes_requests_and_answers() {
    use std::collections::HashMap;
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let api = c
        .create_api()
        .name("mapped")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    // Mappings are checked as they are written.
    let e = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("ANY")
        .integration_uri(format!("http://{backend}/base"))
        .request_parameters("replace:header.x", "1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let request: HashMap<String, String> = [
        ("overwrite:header.x-tenant", "$request.querystring.tenant"),
        ("append:header.x-multi", "added"),
        ("remove:header.x-secret", "''"),
        ("overwrite:querystring.page", "1"),
        (
            "overwrite:header.x-bearer",
            "Bearer ${request.querystring.tenant}!",
        ),
        ("remove:querystring.drop", "''"),
        ("append:querystring.id", "$request.path.id"),
        ("overwrite:path", "$request.path"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let answer: HashMap<String, String> = [
        ("append:header.x-backend-was", "$response.header.x-backend"),
        ("overwrite:header.x-mapped", "yes"),
        ("overwrite:header.x-echo-path", "$response.body.path"),
        ("remove:header.x-backend", "''"),
        ("overwrite:statuscode", "202"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let integration = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("ANY")
        .integration_uri(format!("http://{backend}/base"))
        .set_request_parameters(Some(request))
        .response_parameters("200", answer)
        .send()
        .await
        .unwrap();
    assert_eq!(integration.request_parameters().unwrap().len(), 8);
    c.create_route()
        .api_id(&api)
        .route_key("GET /items/{id}")
        .target(format!("integrations/{}", integration.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    // A path mapped alone: the request's query string goes on once.
    let plain = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("ANY")
        .integration_uri(format!("http://{backend}/base"))
        .request_parameters("overwrite:path", "/fixed path")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("GET /plain")
        .target(format!("integrations/{}", plain.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let echoed: Value = http
        .get(format!(
            "http://{api}.execute-api.localhost:{}/plain?a=1",
            worker.addr.port()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echoed["path"], "/fixed%20path");
    assert_eq!(echoed["query"], "a=1");
    let res = http
        .get(format!(
            "http://{api}.execute-api.localhost:{}/items/7?tenant=acme&page=9&drop=1&keep=2",
            worker.addr.port()
        ))
        .header("x-secret", "s3cret")
        .header("x-multi", "client")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "overwrite:statuscode");
    assert_eq!(res.headers()["x-backend-was"], "echo");
    assert_eq!(res.headers()["x-mapped"], "yes");
    assert_eq!(res.headers()["x-echo-path"], "/items/7", "$response.body");
    assert!(res.headers().get("x-backend").is_none());
    let echoed: Value = res.json().await.unwrap();
    assert_eq!(echoed["path"], "/items/7", "overwrite:path");
    let query = echoed["query"].as_str().unwrap();
    let pairs: Vec<&str> = query.split('&').collect();
    assert!(
        pairs.contains(&"tenant=acme") && pairs.contains(&"keep=2"),
        "{query}"
    );
    assert!(pairs.contains(&"page=1") && !pairs.contains(&"page=9"), "{query}");
    assert!(!query.contains("drop"), "{query}");
    assert!(pairs.contains(&"id=7"), "{query}");
    assert_eq!(echoed["headers"]["x-tenant"], "acme");
    assert_eq!(
        echoed["headers"]["x-bearer"], "Bearer acme!",
        "text and selections"
    );
    assert!(echoed["headers"].get("x-secret").is_none(), "remove:header");
    assert_eq!(
        echoed["headers"]["x-multi"], "added",
        "the appended value is the last"
    );
}

#[tokio::test]
async fn lambda_authorizers_answer_simply_or_with_policies() {
    use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType};
    let app = spawn_app().await;
    let c = app.v2_client();
    let lambda = fake_lambda().await;
    let api = c
        .create_api()
        .name("lambda-auth")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    // Simple responses need payload format 2.0.
    let e = c
        .create_authorizer()
        .api_id(&api)
        .name("bad")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(function("simple_auth"))
        .authorizer_payload_format_version("1.0")
        .enable_simple_responses(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let mut ids = Vec::new();
    for (name, version, simple) in [("simple_auth", "2.0", true), ("policy_auth", "1.0", false)] {
        let a = c
            .create_authorizer()
            .api_id(&api)
            .name(name)
            .authorizer_type(AuthorizerType::Request)
            .authorizer_uri(function(name))
            .authorizer_payload_format_version(version)
            .enable_simple_responses(simple)
            .identity_source("$request.header.Authorization")
            .authorizer_result_ttl_in_seconds(300)
            .send()
            .await
            .unwrap();
        ids.push(a.authorizer_id().unwrap().to_owned());
    }
    let target = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(function("echo"))
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_owned();
    for (key, id) in [("GET /simple", &ids[0]), ("GET /policy", &ids[1])] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{target}"))
            .authorization_type(AuthorizationType::Custom)
            .authorizer_id(id)
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let call = |path: &'static str, token: Option<&'static str>| {
        let http = http.clone();
        let url = format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());
        async move {
            let mut req = http.get(url);
            if let Some(t) = token {
                req = req.header("authorization", t);
            }
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    for path in ["/simple", "/policy"] {
        assert_eq!(call(path, None).await.0, 401, "{path}: no identity source");
        assert_eq!(
            call(path, Some("deny")).await,
            (403, r#"{"message":"Forbidden"}"#.to_owned()),
            "{path}"
        );
        assert_eq!(call(path, Some("allow")).await.0, 200, "{path}");
    }
    let (_, body) = call("/simple", Some("allow")).await;
    let event: Value = serde_json::from_str(&body).unwrap();
    let seen = &event["requestContext"]["authorizer"]["lambda"];
    assert_eq!(seen["type"], "REQUEST");
    assert_eq!(seen["version"], "2.0");
    assert_eq!(seen["identity"], serde_json::json!(["allow"]));
    assert!(
        seen["routeArn"].as_str().unwrap().starts_with(&format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{api}/$default/GET/simple"
        )),
        "{seen}"
    );
}

#[tokio::test]
async fn iam_routes_need_a_signed_caller_whose_policies_allow_the_route() {
    use aws_sdk_apigatewayv2::types::AuthorizationType;

    use super::authorize::{Signer, add_caller};
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let api = c
        .create_api()
        .name("iam")
        .protocol_type(ProtocolType::Http)
        .target(format!("http://{backend}/base"))
        .route_key("POST /orders")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let route = c.get_routes().api_id(&api).send().await.unwrap().items()[0]
        .route_id()
        .unwrap()
        .to_owned();
    // Quick create's route is changed through the API; another route is made for IAM.
    let integration = c.get_integrations().api_id(&api).send().await.unwrap().items()[0]
        .integration_id()
        .unwrap()
        .to_owned();
    assert!(!route.is_empty());
    c.create_route()
        .api_id(&api)
        .route_key("POST /secure")
        .target(format!("integrations/{integration}"))
        .authorization_type(AuthorizationType::AwsIam)
        .send()
        .await
        .unwrap();
    let allow = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke",
         "Resource": format!("arn:aws:execute-api:*:*:{api}/*/POST/secure")}]})
    .to_string();
    add_caller(
        &app,
        "ALICE",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        None,
        &[allow],
    )
    .await;
    add_caller(
        &app,
        "BOB",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/bob"),
        None,
        &[],
    )
    .await;
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let url = format!("http://{api}.execute-api.localhost:{}/secure", worker.addr.port());
    let post = || http.post(&url).body(r#"{"n":1}"#).build().unwrap();
    // Wait for the IAM route to be deployed.
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            http.execute(post()).await.unwrap().status() == 403
        })
        .await
    );
    let res = http.execute(post()).await.unwrap();
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Forbidden"}"#,
        "unsigned"
    );
    let res = http.execute(Signer::new("BOB").sign(post())).await.unwrap();
    assert_eq!(res.status(), 403, "no policy allows bob");
    let res = http.execute(Signer::new("ALICE").sign(post())).await.unwrap();
    assert_eq!(res.status(), 200);
    let echoed: Value = res.json().await.unwrap();
    assert_eq!(
        echoed["body"], r#"{"n":1}"#,
        "the signed body reaches the backend"
    );
}

#[tokio::test]
async fn aws_service_integrations_call_their_action_with_mapped_parameters() {
    use gatehouse::dataplane::settings::AwsSettings;
    let app = spawn_app().await;
    let c = app.v2_client();
    let (aws, calls) = fake_aws_json().await;
    let api = c
        .create_api()
        .name("events")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let role = "arn:aws:iam::000000000000:role/apigw-sqs";
    let create = |subtype: &str, params: &[(&str, &str)]| {
        c.create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::AwsProxy)
            .integration_subtype(subtype)
            .payload_format_version("1.0")
            .credentials_arn(role)
            .set_request_parameters(Some(
                params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
    };
    // Parameters are the subtype's, the required ones given.
    for (subtype, params, message) in [
        (
            "SQS-SendMessage",
            &[("QueueUrl", "$request.header.queue")][..],
            "Parameter: MessageBody is required for Operation: SQS-SendMessage.",
        ),
        (
            "StepFunctions-StartExecution",
            &[(
                "stateMachineArn",
                "arn:aws:states:us-east-1:000000000000:stateMachine:m",
            )][..],
            "Parameter: stateMachineArn does not fit schema for Operation: StepFunctions-StartExecution.",
        ),
    ] {
        let e = create(subtype, params).send().await.unwrap_err();
        assert_eq!(err_of(e), ("BadRequestException".into(), message.into()));
    }
    let e = create("SQS-Teleport", &[]).send().await.unwrap_err();
    assert!(
        err_of(e)
            .1
            .starts_with("Operation: SQS-Teleport is not supported.")
    );
    // The service is called as a role of the API's own account, never as the gateway.
    let queue = [("QueueUrl", "q"), ("MessageBody", "m")];
    let e = create("SQS-SendMessage", &queue)
        .set_credentials_arn(None)
        .send()
        .await
        .unwrap_err();
    assert!(err_of(e).1.starts_with("credentialsArn is required"));
    let e = create("SQS-SendMessage", &queue)
        .credentials_arn("arn:aws:iam::111111111111:role/theirs")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let e = c
        .create_authorizer()
        .api_id(&api)
        .name("theirs")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri(function("auth"))
        .authorizer_payload_format_version("2.0")
        .authorizer_credentials_arn("arn:aws:iam::111111111111:role/theirs")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException", "another account's role");

    let sqs = create(
        "SQS-SendMessage",
        &[
            ("QueueUrl", "http://sqs/000000000000/${request.path.queue}"),
            ("MessageBody", "$request.body"),
            ("DelaySeconds", "$request.querystring.delay"),
            (
                "MessageAttributes",
                "{\"from\": {\"DataType\": \"String\", \"StringValue\": \"${request.header.x-from}\"}}",
            ),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(sqs.integration_subtype(), Some("SQS-SendMessage"));
    assert_eq!(sqs.payload_format_version(), Some("1.0"));
    let events = create(
        "EventBridge-PutEvents",
        &[
            ("Detail", "$request.body.detail"),
            ("DetailType", "order"),
            ("Source", "$request.header.x-source"),
            ("EventBusName", "$stageVariables.bus"),
        ],
    )
    .send()
    .await
    .unwrap();
    let kinesis = create(
        "Kinesis-PutRecord",
        &[
            ("StreamName", "clicks"),
            ("Data", "$request.body"),
            ("PartitionKey", "$context.requestId"),
            ("Region", "$request.header.x-region"),
        ],
    )
    .send()
    .await
    .unwrap();
    for (key, integration) in [
        ("POST /queues/{queue}", &sqs),
        ("POST /events", &events),
        ("POST /clicks", &kinesis),
    ] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{}", integration.integration_id().unwrap()))
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .stage_variables("bus", "orders")
        .send()
        .await
        .unwrap();
    let (sts, _) = fake_sts().await;
    let endpoints = ["sqs", "events", "kinesis"]
        .into_iter()
        .map(|s| (s.to_owned(), format!("http://{aws}")))
        .chain([("sts".to_owned(), format!("http://{sts}"))])
        .collect();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIATEST"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The integration's role is assumed through STS; calls are signed with its credentials.
    let settings = AwsSettings::from_env(endpoints, &env);
    let worker = WorkerBuilder::new(&app.url()).aws(settings).start().await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let url = |path: &str| format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());

    let res = http
        .post(url("/queues/orders?delay=5"))
        .header("x-from", "shop")
        .body("an order")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["MessageId"], "5fea7756-0ea4-451a-a703-a558b933e274");
    let call = calls.lock().unwrap().pop().unwrap();
    assert_eq!(call.target, "AmazonSQS.SendMessage");
    assert_eq!(call.path, "/");
    assert_eq!(call.content_type, "application/x-amz-json-1.0");
    assert_eq!(call.signed_as, Some("sqs"));
    assert_eq!(
        call.body,
        serde_json::json!({
            "QueueUrl": "http://sqs/000000000000/orders",
            "MessageBody": "an order",
            "DelaySeconds": 5,
            "MessageAttributes": {"from": {"DataType": "String", "StringValue": "shop"}},
        })
    );
    // A parameter that is not of its kind is the client's 400; a service's refusal a 500.
    let res = http
        .post(url("/queues/orders?delay=soon"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.text().await.unwrap(), r#"{"message":"Bad Request"}"#);
    let res = http.post(url("/queues/missing")).body("x").send().await.unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"message":"Internal Server Error"}"#
    );
    // A required parameter the request does not supply: 400.
    let res = http.post(url("/queues/orders")).send().await.unwrap();
    assert_eq!(res.status(), 400);

    let res = http
        .post(url("/events"))
        .header("x-source", "shop.orders")
        .json(&serde_json::json!({"detail": {"id": 7}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let call = calls.lock().unwrap().pop().unwrap();
    assert_eq!(call.target, "AWSEvents.PutEvents");
    assert_eq!(call.signed_as, Some("events"));
    assert_eq!(
        call.body,
        serde_json::json!({"Entries": [{
            "Detail": "{\"id\":7}",
            "DetailType": "order",
            "Source": "shop.orders",
            "EventBusName": "orders",
        }]})
    );

    // A region from the request must be a region's name: it names the host called.
    let res = http
        .post(url("/clicks"))
        .header("x-region", "evil.example/")
        .body("click!")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = http
        .post(url("/clicks"))
        .header("x-region", "eu-west-1")
        .body("click!")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["apigw-requestid"].to_str().unwrap().to_owned();
    assert_eq!(
        res.json::<Value>().await.unwrap()["ShardId"],
        "shardId-000000000000"
    );
    let call = calls.lock().unwrap().pop().unwrap();
    assert_eq!(call.target, "Kinesis_20131202.PutRecord");
    assert_eq!(call.body["Data"], "Y2xpY2sh", "the blob is base64 on the wire");
    assert_eq!(call.body["PartitionKey"], id.as_str());
    assert_eq!(call.signed_as, Some("kinesis"));
}

#[tokio::test]
async fn private_integrations_reach_their_target_through_a_vpc_link() {
    use gatehouse::dataplane::settings::AwsSettings;
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let listener = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/orders/50dc6c495c0c9188/0467ef3c8400ae65";

    // The link: the tenant's, AVAILABLE at once, tagged, renamed; only a name changes.
    let e = c.create_vpc_link().name("no-subnets").send().await.unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let link = c
        .create_vpc_link()
        .name("orders")
        .subnet_ids("subnet-1")
        .subnet_ids("subnet-2")
        .security_group_ids("sg-1")
        .tags("team", "orders")
        .send()
        .await
        .unwrap();
    let link_id = link.vpc_link_id().unwrap().to_owned();
    assert_eq!(link.vpc_link_status().map(|s| s.as_str()), Some("AVAILABLE"));
    assert_eq!(link.vpc_link_version().map(|s| s.as_str()), Some("V2"));
    assert_eq!(link.subnet_ids(), ["subnet-1", "subnet-2"]);
    let renamed = c
        .update_vpc_link()
        .vpc_link_id(&link_id)
        .name("orders-v2")
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.name(), Some("orders-v2"));
    assert_eq!(renamed.security_group_ids(), ["sg-1"]);
    let arn = format!("arn:aws:apigateway:us-east-1::/vpclinks/{link_id}");
    c.tag_resource()
        .resource_arn(&arn)
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 2);
    let listed = c.get_vpc_links().send().await.unwrap();
    assert_eq!(listed.items().len(), 1);
    let e = c.get_vpc_link().vpc_link_id("nope").send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid VpcLink identifier specified nope".into()
        )
    );

    let api = c
        .create_api()
        .name("private")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    let private = |uri: &str, link: &str| {
        c.create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::HttpProxy)
            .integration_method("ANY")
            .connection_type(aws_sdk_apigatewayv2::types::ConnectionType::VpcLink)
            .connection_id(link)
            .integration_uri(uri)
            .payload_format_version("1.0")
    };
    let e = private(listener, "nope").send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "BadRequestException".into(),
            "Invalid VpcLink identifier specified nope".into()
        )
    );
    let e = private("arn:aws:sqs:us-east-1:000000000000:q", &link_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    // Another account's listener is not this tenant's to reach.
    let theirs = listener.replace("000000000000", "111111111111");
    let e = private(&theirs, &link_id).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let whole = private(listener, &link_id).send().await.unwrap();
    assert_eq!(whole.connection_id(), Some(link_id.as_str()));
    let stripped = private(listener, &link_id)
        .request_parameters("overwrite:path", "$request.path")
        .send()
        .await
        .unwrap();
    for (key, integration) in [("ANY /orders/{id}", &whole), ("GET /plain/{id}", &stripped)] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{}", integration.integration_id().unwrap()))
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
    // A link its integrations use cannot go.
    let e = c
        .delete_vpc_link()
        .vpc_link_id(&link_id)
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(e);
    assert_eq!(kind, "BadRequestException");
    assert!(message.contains(whole.integration_id().unwrap()), "{message}");

    // The worker knows where the listener is.
    let endpoints = [(listener.to_owned(), format!("http://{backend}"))].into();
    let worker = WorkerBuilder::new(&app.url())
        .aws(AwsSettings::from_env(endpoints, &Default::default()))
        .start()
        .await;
    assert!(serving(&worker, &api, "prod").await);
    let http = invoker(&api, &worker);
    let url = |path: &str| format!("http://{api}.execute-api.localhost:{}{path}", worker.addr.port());
    let echoed: Value = http
        .post(url("/prod/orders/7?x=1"))
        .body("hello")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(
        echoed["path"], "/prod/orders/7",
        "the stage's segment goes too, as AWS sends it"
    );
    assert_eq!(echoed["query"], "x=1");
    assert_eq!(echoed["body"], "hello");
    let echoed: Value = http
        .get(url("/prod/plain/8"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echoed["path"], "/plain/8", "overwrite:path with $request.path");

    // A worker that does not know the target answers 500.
    let unknown = WorkerBuilder::new(&app.url()).start().await;
    assert!(serving(&unknown, &api, "prod").await);
    let res = invoker(&api, &unknown)
        .get(format!(
            "http://{api}.execute-api.localhost:{}/prod/orders/7",
            unknown.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);

    // Once no integration uses it, the link goes (202).
    c.delete_api().api_id(&api).send().await.unwrap();
    c.delete_vpc_link().vpc_link_id(&link_id).send().await.unwrap();
    let e = c.get_vpc_link().vpc_link_id(&link_id).send().await.unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

#[tokio::test]
async fn an_imported_openapi_document_is_served() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let backend = echo_backend().await;
    let doc = format!(
        r#"{{
  "openapi": "3.0.1",
  "info": {{"title": "imported", "version": "1"}},
  "paths": {{
    "/orders/{{id}}": {{
      "get": {{
        "x-amazon-apigateway-integration": {{
          "type": "http_proxy", "httpMethod": "GET", "payloadFormatVersion": "1.0",
          "uri": "http://{backend}/backend/{{id}}",
          "requestParameters": {{"overwrite:header.x-imported": "yes"}}
        }}
      }}
    }}
  }}
}}"#
    );
    let api = c
        .import_api()
        .body(doc)
        .fail_on_warnings(true)
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "$default").await);
    let echoed: Value = invoker(&api, &worker)
        .get(format!(
            "http://{api}.execute-api.localhost:{}/orders/42",
            worker.addr.port()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echoed["path"], "/backend/42");
    assert_eq!(echoed["headers"]["x-imported"], "yes");
}

/// A TLS server that records the name each client asks for (SNI), then drops the handshake.
async fn sni_recorder() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let recorded = recorded.clone();
            tokio::spawn(async move {
                let hello =
                    tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
                if let Ok(start) = hello.await {
                    let name = start.client_hello().server_name().map(str::to_owned);
                    recorded.lock().unwrap().push(name);
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn an_integration_verifies_the_server_name_it_is_told_to() {
    let app = spawn_app().await;
    let c = app.v2_client();
    let (backend, seen) = sni_recorder().await;
    let api = c
        .create_api()
        .name("named")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let api = api.api_id().unwrap().to_owned();
    for (route, name) in [("GET /named", Some("backend.internal")), ("GET /plain", None)] {
        let integration = c
            .create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::HttpProxy)
            .integration_method("GET")
            .integration_uri(format!("https://{backend}/"))
            .payload_format_version("1.0")
            .set_tls_config(name.map(|n| {
                aws_sdk_apigatewayv2::types::TlsConfigInput::builder()
                    .server_name_to_verify(n)
                    .build()
            }))
            .send()
            .await
            .unwrap();
        c.create_route()
            .api_id(&api)
            .route_key(route)
            .target(format!("integrations/{}", integration.integration_id().unwrap()))
            .send()
            .await
            .unwrap();
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "$default").await);
    let http = invoker(&api, &worker);
    let base = format!("http://{api}.execute-api.localhost:{}", worker.addr.port());
    // The handshake names the server it was told to (and fails: nothing answers it).
    let res = http.get(format!("{base}/named")).send().await.unwrap();
    assert!(res.status().is_server_error(), "{}", res.status());
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [Some("backend.internal".to_owned())]
    );
    // Without one, the URI's host (an address: no name at all).
    let res = http.get(format!("{base}/plain")).send().await.unwrap();
    assert!(res.status().is_server_error());
    assert_eq!(seen.lock().unwrap().last(), Some(&None));
}
