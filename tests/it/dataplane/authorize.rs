//! Authorization in the data plane: Lambda TOKEN and REQUEST authorizers against a fake Invoke
//! API (outcomes, the result cache and its TTL, policies evaluated per method, context passed
//! on), resource policies and required API keys. The management side is driven by the SDK.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{AuthorizerType, Op, PatchOperation};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use crate::backends::serve;
use crate::helpers::*;

/// A fake Lambda Invoke API serving authorizer functions: it counts calls and keeps the last
/// event. The token (TOKEN) or the `x-user` header (REQUEST) says what to answer:
/// `allow`/`deny` (the method ARN), `allow-a` (only `GET /a`), `unauthorized` (the function
/// says so), `fail` (another function error), `bad` (an answer without a policy); anything
/// else is allowed everywhere. Its principal is `user-{token}`, its context
/// `{"tier": "gold", "n": 3, "ok": true}`.
struct FakeAuthorizer {
    addr: std::net::SocketAddr,
    calls: Arc<AtomicUsize>,
    last: Arc<Mutex<Value>>,
}

impl FakeAuthorizer {
    async fn start() -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(Value::Null));
        let (c, l) = (calls.clone(), last.clone());
        let addr = serve(move |req: hyper::Request<hyper::body::Incoming>| {
            let (calls, last) = (c.clone(), l.clone());
            async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                calls.fetch_add(1, Ordering::SeqCst);
                *last.lock().unwrap() = event.clone();
                let token = match event["type"].as_str() {
                    Some("TOKEN") => event["authorizationToken"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    _ => event["headers"]["x-user"].as_str().unwrap_or_default().to_owned(),
                };
                let arn = event["methodArn"].as_str().unwrap_or_default();
                let (api_prefix, _) = arn.split_once('/').unwrap_or_default();
                let policy = |effect: &str, resource: &str| {
                    json!({"principalId": format!("user-{token}"),
                           "policyDocument": {"Version": "2012-10-17", "Statement": [
                               {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}]},
                           "context": {"tier": "gold", "n": 3, "ok": true}})
                };
                let (function_error, answer) = match token.as_str() {
                    "allow" => (false, policy("Allow", arn)),
                    "deny" => (false, policy("Deny", arn)),
                    "allow-a" => (false, policy("Allow", &format!("{api_prefix}/*/GET/a"))),
                    "unauthorized" => (
                        true,
                        json!({"errorMessage": "Unauthorized", "errorType": "Error"}),
                    ),
                    "fail" => (
                        true,
                        json!({"errorMessage": "database down", "errorType": "Error"}),
                    ),
                    "bad" => (false, json!({"principalId": "x"})),
                    _ => (false, policy("Allow", &format!("{api_prefix}/*"))),
                };
                let mut res = hyper::Response::new(Full::new(Bytes::from(answer.to_string())));
                if function_error {
                    res.headers_mut()
                        .insert("x-amz-function-error", "Unhandled".parse().unwrap());
                }
                res
            }
        })
        .await;
        Self { addr, calls, last }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

const AUTHORIZER_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations";

/// A worker serving `api`'s `dev` stage (calling Lambda at `lambda`), and a client of it.
async fn served(
    app: &TestApp,
    api: &str,
    lambda: Option<std::net::SocketAddr>,
) -> (gatehouse::server::Worker, reqwest::Client) {
    let worker = app
        .start_worker(None, lambda.map(|a| format!("http://{a}")))
        .await;
    assert!(serving(&worker, api, "dev").await);
    let http = invoker(api, &worker);
    (worker, http)
}

/// Creates an authorizer; its id.
async fn authorizer(c: &Client, api: &str, kind: AuthorizerType, source: &str, ttl: i32) -> String {
    c.create_authorizer()
        .rest_api_id(api)
        .name("auth")
        .r#type(kind)
        .authorizer_uri(AUTHORIZER_URI)
        .identity_source(source)
        .authorizer_result_ttl_in_seconds(ttl)
        .send()
        .await
        .unwrap()
        .id
        .unwrap()
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

/// Gives the API the resource policy `policy` and deploys it to `dev`.
async fn set_policy(api: &TestApi<'_>, policy: &str) {
    api.c
        .update_rest_api()
        .rest_api_id(&api.id)
        .patch_operations(replace("/policy", policy))
        .send()
        .await
        .unwrap();
    api.deploy("dev").await;
}

/// Applies `ops` to `verb` of `resource`.
async fn update_method(c: &Client, api: &str, resource: &str, verb: &str, ops: Vec<PatchOperation>) {
    c.update_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .set_patch_operations(Some(ops))
        .send()
        .await
        .unwrap();
}

/// Puts `authorizer` on `verb` of `resource`.
async fn protect(c: &Client, api: &str, resource: &str, verb: &str, authorizer: &str) {
    let ops = vec![
        replace("/authorizationType", "CUSTOM"),
        replace("/authorizerId", authorizer),
    ];
    update_method(c, api, resource, verb, ops).await;
}

async fn call(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Option<String>, String) {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let res = req.send().await.unwrap();
    let error_type = res
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), error_type, res.text().await.unwrap())
}

#[tokio::test]
async fn token_authorizers_allow_deny_and_refuse_as_aws_answers() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let api = TestApi::create(&c, "token").await;
    api.mock("/a", "GET", r#"{"ok": true}"#).await;
    let a = api.resource("/a").await;
    let auth = authorizer(
        &c,
        &api.id,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        0,
    )
    .await;
    protect(&c, &api.id, &a, "GET", &auth).await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, Some(fake.addr)).await;
    let url = invoke_url(&api.id, &worker, "dev", "/a");

    let (status, kind, body) = call(&http, &url, None).await;
    assert_eq!((status, body.as_str()), (401, r#"{"message":"Unauthorized"}"#));
    assert_eq!(kind.as_deref(), Some("UnauthorizedException"));
    assert_eq!(fake.calls(), 0, "no identity: the function is not called");

    assert_eq!(call(&http, &url, Some("allow")).await.0, 200);
    let event = fake.last.lock().unwrap().clone();
    assert_eq!(
        event,
        json!({"type": "TOKEN", "authorizationToken": "allow",
               "methodArn": format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/dev/GET/a", api.id)})
    );

    let (status, kind, body) = call(&http, &url, Some("deny")).await;
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        )
    );
    assert_eq!(kind.as_deref(), Some("AccessDeniedException"));

    let (status, _, body) = call(&http, &url, Some("unauthorized")).await;
    assert_eq!((status, body.as_str()), (401, r#"{"message":"Unauthorized"}"#));

    for broken in ["fail", "bad"] {
        let (status, kind, body) = call(&http, &url, Some(broken)).await;
        assert_eq!((status, body.as_str()), (500, r#"{"message":null}"#), "{broken}");
        assert_eq!(kind.as_deref(), Some("AuthorizerConfigurationException"));
    }
    // TTL 0: every call asked the function.
    assert_eq!(fake.calls(), 5);
}

#[tokio::test]
async fn a_token_failing_the_validation_expression_is_refused_without_a_call() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let api = TestApi::create(&c, "validated").await;
    api.mock("/a", "GET", r#"{"ok": true}"#).await;
    let a = api.resource("/a").await;
    let auth = c
        .create_authorizer()
        .rest_api_id(&api.id)
        .name("auth")
        .r#type(AuthorizerType::Token)
        .authorizer_uri(AUTHORIZER_URI)
        .identity_source("method.request.header.Authorization")
        .identity_validation_expression("allow.*")
        .authorizer_result_ttl_in_seconds(0)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    protect(&c, &api.id, &a, "GET", &auth).await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, Some(fake.addr)).await;
    let url = invoke_url(&api.id, &worker, "dev", "/a");
    assert_eq!(call(&http, &url, Some("deny")).await.0, 401);
    assert_eq!(
        call(&http, &url, Some("xallow")).await.0,
        401,
        "the whole token must match"
    );
    assert_eq!(fake.calls(), 0);
    assert_eq!(call(&http, &url, Some("allow")).await.0, 200);
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn cached_verdicts_answer_without_a_call_until_the_ttl_and_only_for_what_they_cover() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let api = TestApi::create(&c, "cached").await;
    api.mock("/a", "GET", r#"{"at": "a"}"#).await;
    api.mock("/b", "GET", r#"{"at": "b"}"#).await;
    let auth = authorizer(
        &c,
        &api.id,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        1,
    )
    .await;
    for path in ["/a", "/b"] {
        let r = api.resource(path).await;
        protect(&c, &api.id, &r, "GET", &auth).await;
    }
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, Some(fake.addr)).await;
    let a = invoke_url(&api.id, &worker, "dev", "/a");
    let b = invoke_url(&api.id, &worker, "dev", "/b");

    assert_eq!(call(&http, &a, Some("allow-a")).await.0, 200);
    assert_eq!(call(&http, &a, Some("allow-a")).await.0, 200);
    assert_eq!(fake.calls(), 1, "the second call is answered from the cache");
    // The cached policy allows only GET /a: it is evaluated again for /b, and does not open it.
    let (status, _, body) = call(&http, &b, Some("allow-a")).await;
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            r#"{"message":"User is not authorized to access this resource"}"#
        )
    );
    assert_eq!(fake.calls(), 1);
    // Another identity is asked about.
    assert_eq!(call(&http, &b, Some("allow-all")).await.0, 200);
    assert_eq!(fake.calls(), 2);
    // Past the TTL, the function is asked again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(call(&http, &a, Some("allow-a")).await.0, 200);
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn the_authorizers_principal_and_context_reach_lambda_events_and_templates() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let lambda = crate::backends::fake_lambda().await;
    let api = TestApi::create(&c, "context").await;
    api.lambda_proxy("/fn", "GET", "echo").await;
    api.mock(
        "/vtl",
        "GET",
        r#"{"principal": "$context.authorizer.principalId", "tier": "$context.authorizer.tier", "n": $context.authorizer.n}"#,
    )
    .await;
    let auth = authorizer(
        &c,
        &api.id,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        300,
    )
    .await;
    // context.authorizer.* in an HTTP integration's parameter mappings.
    let echo = crate::backends::echo_backend().await;
    let mapped = api.resource("/mapped").await;
    c.put_method()
        .rest_api_id(&api.id)
        .resource_id(&mapped)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api.id)
        .resource_id(&mapped)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://{echo}/seen"))
        .request_parameters("integration.request.header.x-tier", "context.authorizer.tier")
        .request_parameters(
            "integration.request.header.x-principal",
            "context.authorizer.principalId",
        )
        .send()
        .await
        .unwrap();
    for path in ["/fn", "/vtl", "/mapped"] {
        let r = api.resource(path).await;
        protect(&c, &api.id, &r, "GET", &auth).await;
    }
    api.deploy("dev").await;
    // $context.authorizer.* in access logs.
    let group = format!("gh-test-{}", uuid::Uuid::new_v4());
    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(replace(
            "/accessLogSettings/destinationArn",
            &format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}"),
        ))
        .patch_operations(replace(
            "/accessLogSettings/format",
            r#"{"path":"$context.resourcePath","principal":"$context.authorizer.principalId","tier":"$context.authorizer.tier"}"#,
        ))
        .send()
        .await
        .unwrap();
    // The fake authorizer and the fake integration function share one Invoke API address.
    let invoke = serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let (fake, lambda) = (fake.addr, lambda);
        async move {
            let to = if req.uri().path().ends_with("auth/invocations") {
                fake
            } else {
                lambda
            };
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let res = reqwest::Client::new()
                .post(format!("http://{to}{}", parts.uri.path()))
                .body(body)
                .send()
                .await
                .unwrap();
            let mut out = hyper::Response::new(Full::new(Bytes::new()));
            if let Some(e) = res.headers().get("x-amz-function-error") {
                out.headers_mut().insert("x-amz-function-error", e.clone());
            }
            *out.body_mut() = Full::new(res.bytes().await.unwrap());
            out
        }
    })
    .await;
    let worker = app.start_worker(None, Some(format!("http://{invoke}"))).await;
    assert!(serving(&worker, &api.id, "dev").await);
    let http = invoker(&api.id, &worker);

    let (status, _, body) = call(&http, &invoke_url(&api.id, &worker, "dev", "/fn"), Some("t1")).await;
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "user-t1");
    assert_eq!(authorizer["tier"], "gold");
    assert_eq!(authorizer["n"], "3", "REST APIs pass context values as text");
    assert_eq!(authorizer["ok"], "true");
    assert!(authorizer["integrationLatency"].is_u64());

    let (status, _, body) = call(&http, &invoke_url(&api.id, &worker, "dev", "/vtl"), Some("t1")).await;
    assert_eq!(status, 200, "{body}");
    let rendered: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rendered, json!({"principal": "user-t1", "tier": "gold", "n": 3}));

    let (status, _, body) = call(&http, &invoke_url(&api.id, &worker, "dev", "/mapped"), Some("t1")).await;
    assert_eq!(status, 200, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["headers"]["x-tier"], "gold");
    assert_eq!(seen["headers"]["x-principal"], "user-t1");

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("access-logs")
        .join(format!("{group}.log"));
    assert!(
        eventually(Duration::from_secs(5), || async {
            std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 3)
        })
        .await,
        "three access log lines in {}",
        file.display()
    );
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["principal"] == "user-t1" && l["tier"] == "gold"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn request_authorizers_need_every_identity_source_and_get_the_request() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let api = TestApi::create(&c, "request").await;
    api.mock("/r/{id}", "GET", r#"{"ok": true}"#).await;
    let r = api.resource("/r/{id}").await;
    let auth = authorizer(
        &c,
        &api.id,
        AuthorizerType::Request,
        "method.request.header.X-User, method.request.querystring.q",
        300,
    )
    .await;
    protect(&c, &api.id, &r, "GET", &auth).await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, Some(fake.addr)).await;
    let url = invoke_url(&api.id, &worker, "dev", "/r/7");

    let res = http.get(&url).header("x-user", "allow").send().await.unwrap();
    assert_eq!(res.status(), 401, "the query string is an identity source too");
    assert_eq!(fake.calls(), 0);
    let res = http
        .get(format!("{url}?q=1"))
        .header("x-user", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let event = fake.last.lock().unwrap().clone();
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(
        event["methodArn"],
        format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/dev/GET/r/7", api.id)
    );
    assert_eq!(event["resource"], "/r/{id}");
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    assert_eq!(event["queryStringParameters"], json!({"q": "1"}));
    assert_eq!(event["headers"]["x-user"], "allow");
    assert!(event.get("body").is_none());
    // Cached by both values: another query value is another identity.
    let res = http
        .get(format!("{url}?q=1"))
        .header("x-user", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(fake.calls(), 1);
    let res = http
        .get(format!("{url}?q=2"))
        .header("x-user", "deny")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn resource_policies_are_stored_as_aws_returns_them_and_enforced() {
    let app = spawn_app().await;
    let c = app.client();
    let policy = r#"{
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/closed"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/files/secret*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/office",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        ]
    }"#;
    let created = c
        .create_rest_api()
        .name("guarded")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let stored = created.policy().unwrap();
    assert!(
        stored.starts_with(r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\""#),
        "{stored}"
    );
    assert!(stored.contains(r#"\"10.0.0.0\/8\""#), "slashes escaped: {stored}");

    let e = c
        .update_rest_api()
        .rest_api_id(created.id().unwrap())
        .patch_operations(replace("/policy", "{not a policy"))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(e);
    assert_eq!(kind, "BadRequestException");
    assert!(message.starts_with("Invalid policy document"), "{message}");

    let api = TestApi {
        c: &c,
        id: created.id().unwrap().to_owned(),
        root: created.root_resource_id().unwrap().to_owned(),
    };
    for path in ["/open", "/closed", "/office", "/files/{proxy+}"] {
        api.mock(path, "GET", r#"{"ok": true}"#).await;
    }
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, None).await;
    let arn = |path: &str| {
        format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/dev/GET/{path}",
            api.id
        )
    };

    let (status, _, _) = call(&http, &invoke_url(&api.id, &worker, "dev", "/open"), None).await;
    assert_eq!(status, 200);
    let (status, kind, body) = call(&http, &invoke_url(&api.id, &worker, "dev", "/closed"), None).await;
    assert_eq!(status, 403);
    assert_eq!(kind.as_deref(), Some("AccessDeniedException"));
    let message = format!(
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: {} with an explicit deny",
        arn("closed")
    );
    assert_eq!(body, json!({ "message": message }).to_string());
    // However the path is spelled, the policy sees what the backend would.
    for spelling in ["/files/secret.txt", "/files/%73ecret.txt", "/files//secret.txt"] {
        let (status, _, body) = call(&http, &invoke_url(&api.id, &worker, "dev", spelling), None).await;
        assert_eq!(status, 403, "{spelling}: {body}");
    }
    assert_eq!(
        call(
            &http,
            &invoke_url(&api.id, &worker, "dev", "/files/public.txt"),
            None
        )
        .await
        .0,
        200
    );
    // The test client is at 127.0.0.1, outside the office's network.
    let (status, _, _) = call(&http, &invoke_url(&api.id, &worker, "dev", "/office"), None).await;
    assert_eq!(status, 403);

    // Without the Allow statement, nothing is let in: no statement allows the caller.
    let only_deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/closed"}]})
    .to_string();
    set_policy(&api, &only_deny).await;
    let url = invoke_url(&api.id, &worker, "dev", "/open");
    let refused = eventually(Duration::from_secs(5), || async {
        call(&http, &url, None).await.0 == 403
    })
    .await;
    assert!(refused);
    let (_, _, body) = call(&http, &url, None).await;
    let message = format!(
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: {}",
        arn("open")
    );
    assert_eq!(body, json!({ "message": message }).to_string());
}

#[tokio::test]
async fn a_method_that_requires_an_api_key_refuses_calls_without_a_known_one() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "keyed").await;
    api.mock("/k", "GET", r#"{"keyId": "$context.identity.apiKeyId"}"#)
        .await;
    let k = api.resource("/k").await;
    update_method(&c, &api.id, &k, "GET", vec![replace("/apiKeyRequired", "true")]).await;
    api.mock("/free", "GET", r#"{"ok": true}"#).await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, None).await;
    let url = invoke_url(&api.id, &worker, "dev", "/k");
    let (status, kind, body) = call(&http, &url, None).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert_eq!(kind.as_deref(), Some("ForbiddenException"));
    let res = http
        .get(&url)
        .header("x-api-key", "no-such-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a key in no usage plan of the stage");
    assert_eq!(
        call(&http, &invoke_url(&api.id, &worker, "dev", "/free"), None)
            .await
            .0,
        200
    );

    // A key of a usage plan of the stage opens the method once enabled; the workers learn of
    // every change without a deployment.
    let key = c.create_api_key().name("client").send().await.unwrap();
    let value = key.value().unwrap().to_owned();
    let plan = c
        .create_usage_plan()
        .name("plan")
        .api_stages(
            aws_sdk_apigateway::types::ApiStage::builder()
                .api_id(&api.id)
                .stage("dev")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.create_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    let with_key = || async {
        http.get(&url)
            .header("x-api-key", &value)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // Disabled keys open nothing; wait for the plan to arrive, then enable the key.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(with_key().await, 403, "a disabled key");
    c.update_api_key()
        .api_key(key.id().unwrap())
        .patch_operations(replace("/enabled", "true"))
        .send()
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || async { with_key().await == 200 }).await);
    // The key's id reaches templates.
    let res = http.get(&url).header("x-api-key", &value).send().await.unwrap();
    assert_eq!(
        res.text().await.unwrap(),
        format!(r#"{{"keyId": "{}"}}"#, key.id().unwrap())
    );

    c.update_api_key()
        .api_key(key.id().unwrap())
        .patch_operations(replace("/enabled", "false"))
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async { with_key().await == 403 }).await,
        "a key disabled again"
    );
    c.update_api_key()
        .api_key(key.id().unwrap())
        .patch_operations(replace("/enabled", "true"))
        .send()
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || async { with_key().await == 200 }).await);
    c.delete_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async { with_key().await == 403 }).await,
        "a key out of the plan"
    );
}

const POOL: &str = "us-east-1_Pool1";

#[tokio::test]
async fn user_pool_authorizers_verify_tokens_against_the_pools_keys() {
    use crate::backends::{OidcIssuer, epoch_now};
    let app = spawn_app().await;
    let c = app.client();
    let issuer = OidcIssuer::start().await;
    let api = TestApi::create(&c, "cognito").await;
    api.mock(
        "/p",
        "GET",
        r#"{"sub": "$context.authorizer.claims.sub", "email": "$context.authorizer.claims.email"}"#,
    )
    .await;
    api.mock("/s", "GET", r#"{"scoped": true}"#).await;
    let auth = c
        .create_authorizer()
        .rest_api_id(&api.id)
        .name("pool")
        .r#type(AuthorizerType::CognitoUserPools)
        .provider_arns(format!("arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{POOL}"))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    for (path, scopes) in [("/p", None), ("/s", Some("pets/read"))] {
        let r = api.resource(path).await;
        let mut ops = vec![
            replace("/authorizationType", "COGNITO_USER_POOLS"),
            replace("/authorizerId", &auth),
        ];
        if let Some(scope) = scopes {
            ops.push(
                PatchOperation::builder()
                    .op(Op::Add)
                    .path("/authorizationScopes")
                    .value(scope)
                    .build(),
            );
        }
        update_method(&c, &api.id, &r, "GET", ops).await;
    }
    api.deploy("dev").await;
    let mut aws = gatehouse::dataplane::settings::AwsSettings::default();
    aws.endpoints
        .insert(format!("cognito-idp/{POOL}"), issuer.url.clone());
    let worker = WorkerBuilder::new(&app.control_plane_url())
        .aws(aws)
        .start()
        .await;
    assert!(serving(&worker, &api.id, "dev").await);
    let http = invoker(&api.id, &worker);
    let p = invoke_url(&api.id, &worker, "dev", "/p");
    let s = invoke_url(&api.id, &worker, "dev", "/s");
    let id_token = |extra: Value| {
        let mut claims = json!({"sub": "u-1", "email": "a@example.com", "token_use": "id",
                                "aud": "client", "exp": epoch_now() + 300});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };

    assert_eq!(call(&http, &p, None).await.0, 401);
    let (status, _, body) = call(&http, &p, Some(&issuer.token("k1", id_token(json!({}))))).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"sub": "u-1", "email": "a@example.com"}"#)
    );
    let bearer = format!("Bearer {}", issuer.token("k1", id_token(json!({}))));
    assert_eq!(call(&http, &p, Some(&bearer)).await.0, 200);

    let refused = [
        (
            "expired",
            issuer.token("k1", id_token(json!({"exp": epoch_now() - 10}))),
        ),
        (
            "not yet valid",
            issuer.token("k1", id_token(json!({"nbf": epoch_now() + 600}))),
        ),
        (
            "another issuer",
            issuer.token("k1", id_token(json!({"iss": "https://elsewhere.example"}))),
        ),
        (
            "forged signature",
            issuer.forged("k1", id_token(json!({"iss": issuer.url}))),
        ),
        (
            "an access token without scopes",
            issuer.token("k1", id_token(json!({"token_use": "access"}))),
        ),
        ("not a JWT", "abc.def".to_owned()),
    ];
    for (what, token) in refused {
        let (status, _, body) = call(&http, &p, Some(&token)).await;
        assert_eq!(
            (status, body.as_str()),
            (401, r#"{"message":"Unauthorized"}"#),
            "{what}"
        );
    }

    // A verified token is cached, but never past its expiry.
    let short = issuer.token("k1", id_token(json!({"exp": epoch_now() + 2})));
    assert_eq!(call(&http, &p, Some(&short)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(call(&http, &p, Some(&short)).await.0, 401, "expired while cached");

    // Scoped methods take access tokens with one of their scopes.
    let access = |scope: &str| issuer.token("k1", id_token(json!({"token_use": "access", "scope": scope})));
    assert_eq!(call(&http, &s, Some(&access("openid pets/read"))).await.0, 200);
    assert_eq!(call(&http, &s, Some(&access("pets/write"))).await.0, 401);
    assert_eq!(
        call(&http, &s, Some(&issuer.token("k1", id_token(json!({})))))
            .await
            .0,
        401
    );

    // A key the worker has not seen: the JWKS is fetched again, once.
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1);
    issuer.rotate("k2");
    assert_eq!(
        call(&http, &p, Some(&issuer.token("k2", id_token(json!({})))))
            .await
            .0,
        200
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 2);
    // Unknown kids do not make the gateway fetch again within 30 s.
    let unknown = issuer.forged("k9", id_token(json!({"iss": issuer.url})));
    for _ in 0..3 {
        assert_eq!(call(&http, &p, Some(&unknown)).await.0, 401);
    }
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn flushing_the_stages_authorizer_cache_makes_workers_ask_again() {
    let app = spawn_app().await;
    let c = app.client();
    let fake = FakeAuthorizer::start().await;
    let api = TestApi::create(&c, "flushed").await;
    api.mock("/a", "GET", r#"{"ok": true}"#).await;
    let a = api.resource("/a").await;
    let auth = authorizer(
        &c,
        &api.id,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        3600,
    )
    .await;
    protect(&c, &api.id, &a, "GET", &auth).await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, Some(fake.addr)).await;
    let url = invoke_url(&api.id, &worker, "dev", "/a");
    assert_eq!(call(&http, &url, Some("allow")).await.0, 200);
    assert_eq!(call(&http, &url, Some("allow")).await.0, 200);
    assert_eq!(fake.calls(), 1);

    c.flush_stage_authorizers_cache()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let asked_again = eventually(Duration::from_secs(5), || async {
        call(&http, &url, Some("allow")).await.0 == 200 && fake.calls() == 2
    })
    .await;
    assert!(asked_again, "calls: {}", fake.calls());
    let e = c
        .flush_stage_authorizers_cache()
        .rest_api_id(&api.id)
        .stage_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

/// A caller of AWS_IAM methods in the identity store, with identity policies `policies`.
pub(super) async fn add_caller(
    app: &TestApp,
    key: &str,
    account: &str,
    principal: &str,
    token: Option<&str>,
    policies: &[String],
) {
    let mut conn = app.store.pool().acquire().await.unwrap();
    let caller = gatehouse::domain::caller::CallerConfig {
        access_key_id: key.into(),
        secret_access_key: format!("{key}-secret"),
        account_id: account.into(),
        principal_arn: principal.into(),
        session_token: token.map(str::to_owned),
        policies: policies.to_vec(),
    };
    assert!(
        gatehouse::store::credentials::create_caller(&mut conn, &caller)
            .await
            .unwrap()
    );
}

/// Makes `GET {path}` an AWS_IAM method.
pub(super) async fn iam_only(api: &TestApi<'_>, path: &str) {
    let r = api.resource(path).await;
    let ops = vec![replace("/authorizationType", "AWS_IAM")];
    update_method(api.c, &api.id, &r, "GET", ops).await;
}

/// How a test signs a request: with whose key, when, and where the signature goes.
pub(super) struct Signer<'a> {
    key: &'a str,
    secret: String,
    token: Option<&'a str>,
    at: std::time::SystemTime,
    presigned: bool,
}

impl<'a> Signer<'a> {
    pub(super) fn new(key: &'a str) -> Self {
        Self {
            key,
            secret: format!("{key}-secret"),
            token: None,
            at: std::time::SystemTime::now(),
            presigned: false,
        }
    }

    /// Signs in the query string (a presigned URL) rather than in headers.
    pub(super) fn presigned(mut self) -> Self {
        self.presigned = true;
        self
    }

    /// `req` signed for execute-api in us-east-1 (headers `extra` signed with it).
    pub(super) fn sign(&self, mut req: reqwest::Request) -> reqwest::Request {
        use aws_sigv4::http_request::{
            SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
        };
        let creds = aws_credential_types::Credentials::new(
            self.key,
            &self.secret,
            self.token.map(str::to_owned),
            None,
            "test",
        );
        let identity: aws_smithy_runtime_api::client::identity::Identity = creds.into();
        let mut settings = SigningSettings::default();
        if self.presigned {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(300));
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("execute-api")
            .time(self.at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = req.url().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let body = req.body().and_then(|b| b.as_bytes()).unwrap_or_default().to_vec();
        let signable = SignableRequest::new(
            req.method().as_str(),
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        for (name, value) in instructions.headers() {
            req.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        for (name, value) in instructions.params() {
            req.url_mut().query_pairs_mut().append_pair(name, value);
        }
        req
    }
}

#[tokio::test]
async fn iam_methods_verify_the_callers_signature_then_identity_and_resource_policies() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "iam").await;
    api.mock(
        "/i",
        "GET",
        r#"{"arn": "$context.identity.userArn", "key": "$context.identity.accessKey"}"#,
    )
    .await;
    iam_only(&api, "/i").await;
    api.mock("/j", "GET", r#"{"ok": true}"#).await;
    iam_only(&api, "/j").await;
    api.deploy("dev").await;
    let allow = |resource: &str| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}]})
        .to_string()
    };
    let only_i = allow(&format!("arn:aws:execute-api:*:*:{}/*/GET/i", api.id));
    add_caller(
        &app,
        "ALICE",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        None,
        &[only_i],
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
    add_caller(
        &app,
        "CAROL",
        OTHER_ACCOUNT,
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:user/carol"),
        None,
        &[allow("*")],
    )
    .await;
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1");
    add_caller(
        &app,
        "DAVE",
        ACCOUNT,
        &session,
        Some("session-token-1"),
        &[allow("*")],
    )
    .await;
    let (worker, http) = served(&app, &api.id, None).await;
    let url = |path: &str| invoke_url(&api.id, &worker, "dev", path);
    let arn = |path: &str| {
        format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/dev/GET/{path}",
            api.id
        )
    };
    let send = |req: reqwest::Request| {
        let http = http.clone();
        async move {
            let res = http.execute(req).await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let get = |path: &str| http.get(url(path)).build().unwrap();

    let (status, body) = send(get("/i")).await;
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );

    let (status, body) = send(Signer::new("ALICE").sign(get("/i"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"arn": format!("arn:aws:iam::{ACCOUNT}:user/alice"), "key": "ALICE"})
    );
    let presigned = Signer {
        presigned: true,
        ..Signer::new("ALICE")
    };
    assert_eq!(send(presigned.sign(get("/i"))).await.0, 200, "a presigned URL");

    // Her identity policy covers only GET /i.
    let (status, body) = send(Signer::new("ALICE").sign(get("/j"))).await;
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: execute-api:Invoke on resource: {}",
        arn("j")
    );
    assert_eq!((status, body), (403, json!({ "message": message }).to_string()));
    assert_eq!(
        send(Signer::new("BOB").sign(get("/i"))).await.0,
        403,
        "no policy allows bob"
    );
    assert_eq!(
        send(Signer::new("CAROL").sign(get("/i"))).await.0,
        403,
        "another account needs the resource policy too"
    );

    // A caller's key signs calls to deployed APIs, not to the management API.
    let e = app
        .client_as("ALICE", "ALICE-secret", REGION)
        .get_rest_apis()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "UnrecognizedClientException");

    // Forgeries.
    let wrong_secret = Signer {
        secret: "guess".into(),
        ..Signer::new("ALICE")
    };
    let (status, body) = send(wrong_secret.sign(get("/i"))).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("The request signature we calculated does not match"),
        "{body}"
    );
    let mut tampered = Signer::new("ALICE").sign(http.get(url("/i")).header("x-extra", "a").build().unwrap());
    tampered.headers_mut().insert("x-extra", "b".parse().unwrap());
    assert_eq!(
        send(tampered).await.0,
        403,
        "a signed header changed after signing"
    );
    let replayed = Signer {
        at: std::time::SystemTime::now() - Duration::from_secs(20 * 60),
        ..Signer::new("ALICE")
    };
    let (status, body) = send(replayed.sign(get("/i"))).await;
    assert_eq!(status, 403);
    assert!(body.contains("Signature expired"), "{body}");
    let (status, body) = send(Signer::new("NOBODY").sign(get("/i"))).await;
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            r#"{"message":"The security token included in the request is invalid."}"#
        )
    );

    // A role session must send its session token.
    assert_eq!(send(Signer::new("DAVE").sign(get("/i"))).await.0, 403);
    let with_token = Signer {
        token: Some("session-token-1"),
        ..Signer::new("DAVE")
    };
    assert_eq!(send(with_token.sign(get("/i"))).await.0, 200);

    // A resource policy lets the other account in, and keeps bob out explicitly.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    .to_string();
    set_policy(&api, &policy).await;
    let carol_in = eventually(Duration::from_secs(5), || async {
        send(Signer::new("CAROL").sign(get("/i"))).await.0 == 200
    })
    .await;
    assert!(carol_in);
    let (status, body) = send(Signer::new("BOB").sign(get("/i"))).await;
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: execute-api:Invoke on resource: {} with an explicit deny",
        arn("i")
    );
    assert_eq!((status, body), (403, json!({ "message": message }).to_string()));

    // An allow to the API's own account delegates to its callers' identity policies: it lets
    // in no one they do not allow; an allow naming bob lets him in by itself.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/j"}]})
    .to_string();
    set_policy(&api, &policy).await;
    let bob_in = eventually(Duration::from_secs(5), || async {
        send(Signer::new("BOB").sign(get("/j"))).await.0 == 200
    })
    .await;
    assert!(bob_in, "a resource policy naming bob admits him");
    assert_eq!(
        send(Signer::new("BOB").sign(get("/i"))).await.0,
        403,
        "an allow to the account is not an allow to bob"
    );
    assert_eq!(send(Signer::new("ALICE").sign(get("/i"))).await.0, 200);
    assert_eq!(
        send(Signer::new("ALICE").sign(get("/j"))).await.0,
        403,
        "nor to alice beyond her own policy"
    );
}

#[tokio::test]
async fn callers_added_and_deleted_reach_running_workers() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "iam-live").await;
    api.mock("/i", "GET", r#"{"ok": true}"#).await;
    iam_only(&api, "/i").await;
    api.deploy("dev").await;
    let (worker, http) = served(&app, &api.id, None).await;
    let signed = || {
        Signer::new("LATE").sign(
            http.get(invoke_url(&api.id, &worker, "dev", "/i"))
                .build()
                .unwrap(),
        )
    };
    assert_eq!(http.execute(signed()).await.unwrap().status(), 403);

    let allow_all =
        json!({"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}]}).to_string();
    add_caller(
        &app,
        "LATE",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/late"),
        None,
        &[allow_all],
    )
    .await;
    let admitted = eventually(Duration::from_secs(5), || async {
        http.execute(signed()).await.unwrap().status() == 200
    })
    .await;
    assert!(admitted, "the new caller reached the worker");

    let mut conn = app.store.pool().acquire().await.unwrap();
    gatehouse::store::credentials::delete(&mut conn, "LATE")
        .await
        .unwrap();
    let refused = eventually(Duration::from_secs(5), || async {
        http.execute(signed()).await.unwrap().status() == 403
    })
    .await;
    assert!(refused, "a deleted caller is refused");
}

#[tokio::test]
async fn test_invoke_authorizer_runs_the_function_and_reports_its_answer() {
    let fake = FakeAuthorizer::start().await;
    let endpoint = format!("http://{}", fake.addr);
    let app = spawn_app_with(&[("GATEHOUSE_LAMBDA_ENDPOINT", &endpoint)]).await;
    let c = app.client();
    let api = TestApi::create(&c, "test-invoke").await;
    let token = authorizer(
        &c,
        &api.id,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        0,
    )
    .await;
    let request = authorizer(
        &c,
        &api.id,
        AuthorizerType::Request,
        "method.request.header.X-User, method.request.querystring.q",
        0,
    )
    .await;

    let out = c
        .test_invoke_authorizer()
        .rest_api_id(&api.id)
        .authorizer_id(&token)
        .headers("Authorization", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(out.client_status(), 200, "{:?}", out.log());
    assert_eq!(out.principal_id(), Some("user-allow"));
    let policy: Value = serde_json::from_str(out.policy().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert_eq!(out.authorization().unwrap()["tier"], vec!["gold".to_owned()]);
    let event = fake.last.lock().unwrap().clone();
    assert_eq!(event["type"], "TOKEN");
    assert_eq!(
        event["methodArn"],
        format!(
            "arn:aws:execute-api:us-east-1:{ACCOUNT}:{}/ESTestInvoke-stage/GET/",
            api.id
        )
    );

    let status = |headers: &[(&str, &str)], authorizer: &str, path: Option<&str>| {
        let mut call = c
            .test_invoke_authorizer()
            .rest_api_id(&api.id)
            .authorizer_id(authorizer);
        for (k, v) in headers {
            call = call.headers(*k, *v);
        }
        if let Some(p) = path {
            call = call.path_with_query_string(p);
        }
        async move { call.send().await.unwrap().client_status() }
    };
    assert_eq!(status(&[], &token, None).await, 401, "no identity");
    assert_eq!(
        status(&[("Authorization", "unauthorized")], &token, None).await,
        401
    );
    assert_eq!(status(&[("Authorization", "fail")], &token, None).await, 500);
    assert_eq!(
        status(&[("X-User", "allow")], &request, None).await,
        401,
        "no query string"
    );
    assert_eq!(
        status(&[("X-User", "allow")], &request, Some("/pets?q=1")).await,
        200
    );
    let event = fake.last.lock().unwrap().clone();
    assert_eq!(event["queryStringParameters"], json!({"q": "1"}));
    assert_eq!(event["headers"]["X-User"], "allow");

    let e = c
        .test_invoke_authorizer()
        .rest_api_id(&api.id)
        .authorizer_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

#[tokio::test]
async fn behind_a_trusted_proxy_policies_see_the_client_it_names() {
    let app = spawn_app().await;
    let c = app.client();
    let policy = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/office",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/private",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]}"#;
    let created = c
        .create_rest_api()
        .name("proxied")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let api = TestApi {
        c: &c,
        id: created.id().unwrap().to_owned(),
        root: created.root_resource_id().unwrap().to_owned(),
    };
    api.mock("/office", "GET", r#"{"ok": true}"#).await;
    api.mock("/private", "GET", r#"{"ok": true}"#).await;
    api.deploy("dev").await;
    let trusting = WorkerBuilder::new(&app.control_plane_url())
        .trusting("127.0.0.1/32")
        .start()
        .await;
    let wary = WorkerBuilder::new(&app.control_plane_url()).start().await;
    for w in [&trusting, &wary] {
        assert!(serving(w, &api.id, "dev").await);
    }
    let status = |worker: &gatehouse::server::Worker, path: &str, headers: &[(&str, &str)]| {
        let http = invoker(&api.id, worker);
        let mut req = http.get(invoke_url(&api.id, worker, "dev", path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        status(&trusting, "/office", &[("x-forwarded-for", "10.1.2.3")]).await,
        200
    );
    assert_eq!(
        status(
            &trusting,
            "/office",
            &[("x-forwarded-for", "10.1.2.3, 203.0.113.9")]
        )
        .await,
        403,
        "the right-most untrusted address is the client"
    );
    assert_eq!(
        status(&wary, "/office", &[("x-forwarded-for", "10.1.2.3")]).await,
        403,
        "a worker that trusts no proxy believes no X-Forwarded-For"
    );
    assert_eq!(
        status(&trusting, "/private", &[("x-gatehouse-source-vpce", "vpce-1")]).await,
        200
    );
    assert_eq!(status(&trusting, "/private", &[]).await, 403);
    assert_eq!(
        status(&wary, "/private", &[("x-gatehouse-source-vpce", "vpce-1")]).await,
        403
    );
}
