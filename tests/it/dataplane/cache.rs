//! The stage cache on a worker: answers kept per method and cache key for their TTL, asked
//! fresh with `Cache-Control: max-age=0` (by whom a method allows), flushed by FlushStageCache.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_apigateway::types::Op;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

use super::authorize::{Signer, add_caller, iam_only};
use crate::backends::serve;
use gatehouse::dataplane::config::StageRuntime;

use crate::helpers::*;

/// A backend that numbers the requests it answers: `{"n": N, "path": ..., "query": ...}`.
async fn numbering_backend() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let addr = serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let body = json!({"n": n, "path": req.uri().path(), "query": req.uri().query()});
            hyper::Response::builder()
                .header("content-type", "application/json")
                .header("x-backend", "yes")
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap()
        }
    })
    .await;
    (addr, calls)
}

/// Turns the stage's cache cluster on, with `ops` on its method settings.
async fn cache_stage(c: &aws_sdk_apigateway::Client, api: &str, ops: &[(&str, &str)]) {
    let mut update = c
        .update_stage()
        .rest_api_id(api)
        .stage_name("dev")
        .patch_operations(patch_op(Op::Replace, "/cacheClusterEnabled", Some("true")));
    for (path, value) in ops {
        update = update.patch_operations(patch_op(Op::Replace, path, Some(value)));
    }
    update.send().await.unwrap();
}

/// A worker that serves `api`'s `dev` stage with its cache, and a client of it.
async fn cached_worker(app: &TestApp, api: &str) -> (gatehouse::server::Worker, reqwest::Client) {
    let worker = app.start_worker(None, None).await;
    assert!(stage_holds(&worker, api, "dev", |s| s.cache.is_some()).await);
    let http = invoker(api, &worker);
    (worker, http)
}

async fn json_of(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn metric(worker: &gatehouse::server::Worker, name: &str) -> u64 {
    let text = reqwest::get(format!("http://{}/metrics", worker.metrics_addr.unwrap()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn cached_answers_stop_reaching_the_backend_until_their_ttl_ends() {
    let app = spawn_app().await;
    let c = app.client();
    let (backend, calls) = numbering_backend().await;
    let api = TestApi::create(&c, "events").await;
    api.http_proxy("/events/{proxy+}", &format!("http://{backend}/events/{{proxy}}"))
        .await;
    let events = api.resource("/events/{proxy+}").await;
    c.update_integration()
        .rest_api_id(&api.id)
        .resource_id(&events)
        .http_method("ANY")
        .patch_operations(patch_op(
            Op::Add,
            "/cacheKeyParameters/method.request.path.proxy",
            None,
        ))
        .send()
        .await
        .unwrap();
    api.deploy("dev").await;
    cache_stage(
        &c,
        &api.id,
        &[
            ("/*/*/caching/enabled", "true"),
            ("/*/*/caching/ttlInSeconds", "2"),
        ],
    )
    .await;
    let (worker, http) = cached_worker(&app, &api.id).await;
    let url = |path: &str| invoke_url(&api.id, &worker, "dev", path);

    let first = http.get(url("/events/1")).send().await.unwrap();
    assert_eq!(first.headers()["x-backend"], "yes");
    let first = json_of(first).await;
    assert_eq!(first["n"], 1);
    // The same answer again, headers and all, without the backend.
    let again = http.get(url("/events/1")).send().await.unwrap();
    assert_eq!(again.headers()["x-backend"], "yes");
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(json_of(again).await, first);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The path parameter keys the cache; the query string, which no parameter names, does not.
    assert_eq!(
        json_of(http.get(url("/events/2")).send().await.unwrap()).await["n"],
        2
    );
    assert_eq!(
        json_of(http.get(url("/events/1?page=3")).send().await.unwrap()).await,
        first
    );
    // `*/*` caches GET methods only: a POST always reaches the backend.
    for n in [3, 4] {
        let posted = json_of(http.post(url("/events/1")).send().await.unwrap()).await;
        assert_eq!(posted["n"], n);
    }
    assert_eq!(metric(&worker, "gatehouse_cache_hits_total").await, 2);
    assert_eq!(metric(&worker, "gatehouse_cache_misses_total").await, 2);
    // Once the TTL (2 s) is over, the backend answers again.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        json_of(http.get(url("/events/1")).send().await.unwrap()).await["n"],
        5
    );
    assert_eq!(
        json_of(http.get(url("/events/1")).send().await.unwrap()).await["n"],
        5
    );
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

/// `GET {path}` as a MOCK whose every answer is new: `{"id": "<request id>"}`.
async fn fresh_mock(api: &TestApi<'_>, path: &str) {
    api.mock(path, "GET", r#"{"id": "$context.requestId"}"#).await;
}

async fn id_of(res: reqwest::Response) -> String {
    json_of(res).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn cache_control_max_age_0_refreshes_an_answer_for_those_the_method_allows() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "fresh").await;
    for path in ["/open", "/warned", "/quiet", "/refused", "/iam"] {
        fresh_mock(&api, path).await;
    }
    iam_only(&api, "/iam").await;
    api.deploy("dev").await;
    cache_stage(
        &c,
        &api.id,
        &[
            ("/*/*/caching/enabled", "true"),
            ("/~1open/GET/caching/enabled", "true"),
            ("/~1open/GET/caching/requireAuthorizationForCacheControl", "false"),
            ("/~1quiet/GET/caching/enabled", "true"),
            (
                "/~1quiet/GET/caching/unauthorizedCacheControlHeaderStrategy",
                "SUCCEED_WITHOUT_RESPONSE_HEADER",
            ),
            ("/~1refused/GET/caching/enabled", "true"),
            (
                "/~1refused/GET/caching/unauthorizedCacheControlHeaderStrategy",
                "FAIL_WITH_403",
            ),
        ],
    )
    .await;
    let allow = |actions: Value| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
        .to_string()
    };
    add_caller(
        &app,
        "ALICE",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        None,
        &[allow(json!([
            "execute-api:Invoke",
            "execute-api:InvalidateCache"
        ]))],
    )
    .await;
    add_caller(
        &app,
        "BOB",
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:user/bob"),
        None,
        &[allow(json!("execute-api:Invoke"))],
    )
    .await;
    let (worker, http) = cached_worker(&app, &api.id).await;
    let url = |path: &str| invoke_url(&api.id, &worker, "dev", path);
    let get = |path: &str| http.get(url(path));
    let fresh = |path: &str| http.get(url(path)).header("cache-control", "max-age=0");

    // Anyone may refresh /open: the new answer replaces the cached one.
    let first = id_of(get("/open").send().await.unwrap()).await;
    assert_eq!(id_of(get("/open").send().await.unwrap()).await, first);
    let refreshed = id_of(fresh("/open").send().await.unwrap()).await;
    assert_ne!(refreshed, first);
    assert_eq!(id_of(get("/open").send().await.unwrap()).await, refreshed);

    // By default a caller who may not invalidate gets the cached answer, and a warning.
    let first = id_of(get("/warned").send().await.unwrap()).await;
    let res = fresh("/warned").send().await.unwrap();
    let warning = res.headers()["warning"].to_str().unwrap().to_owned();
    assert!(warning.starts_with("199 "), "{warning}");
    assert_eq!(id_of(res).await, first);

    let first = id_of(get("/quiet").send().await.unwrap()).await;
    let res = fresh("/quiet").send().await.unwrap();
    assert!(res.headers().get("warning").is_none());
    assert_eq!(id_of(res).await, first);

    let _ = id_of(get("/refused").send().await.unwrap()).await;
    let res = fresh("/refused").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["x-amzn-errortype"], "AccessDeniedException");

    // An IAM caller whose policies allow execute-api:InvalidateCache refreshes; one whose
    // policies do not gets the cached answer.
    let send = |req: reqwest::RequestBuilder, who: &'static str| {
        let http = http.clone();
        async move {
            http.execute(Signer::new(who).sign(req.build().unwrap()))
                .await
                .unwrap()
        }
    };
    let first = id_of(send(get("/iam"), "BOB").await).await;
    assert_eq!(id_of(send(fresh("/iam"), "BOB").await).await, first);
    let refreshed = id_of(send(fresh("/iam"), "ALICE").await).await;
    assert_ne!(refreshed, first);
    assert_eq!(id_of(send(get("/iam"), "BOB").await).await, refreshed);
}

#[tokio::test]
async fn flush_stage_cache_empties_the_stage_cache_of_every_worker() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "flush").await;
    fresh_mock(&api, "/a").await;
    api.deploy("dev").await;
    cache_stage(&c, &api.id, &[("/*/*/caching/enabled", "true")]).await;
    let (one, http_one) = cached_worker(&app, &api.id).await;
    let (two, http_two) = cached_worker(&app, &api.id).await;
    let url = |w: &gatehouse::server::Worker| invoke_url(&api.id, w, "dev", "/a");
    // Each worker keeps its own answers.
    let on_one = id_of(http_one.get(url(&one)).send().await.unwrap()).await;
    let on_two = id_of(http_two.get(url(&two)).send().await.unwrap()).await;
    assert_ne!(on_one, on_two);
    assert_eq!(id_of(http_one.get(url(&one)).send().await.unwrap()).await, on_one);

    c.flush_stage_cache()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    for (worker, http, before) in [(&one, &http_one, &on_one), (&two, &http_two, &on_two)] {
        let emptied = |s: &StageRuntime| s.cache.as_ref().is_some_and(|c| c.is_empty());
        assert!(stage_holds(worker, &api.id, "dev", emptied).await);
        let after = id_of(http.get(url(worker)).send().await.unwrap()).await;
        assert_ne!(&after, before);
    }

    let e = c
        .flush_stage_cache()
        .rest_api_id(&api.id)
        .stage_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    // Turning the cluster off drops the stage's cache: every request reaches the integration.
    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(patch_op(Op::Replace, "/cacheClusterEnabled", Some("false")))
        .send()
        .await
        .unwrap();
    assert!(stage_holds(&one, &api.id, "dev", |s| s.cache.is_none()).await);
    let a = id_of(http_one.get(url(&one)).send().await.unwrap()).await;
    let b = id_of(http_one.get(url(&one)).send().await.unwrap()).await;
    assert_ne!(a, b);
}

#[tokio::test]
async fn a_canary_uses_the_stage_cache_only_when_its_settings_say_so() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "canary-cache").await;
    fresh_mock(&api, "/a").await;
    api.deploy("dev").await;
    cache_stage(&c, &api.id, &[("/*/*/caching/enabled", "true")]).await;
    // Every request goes to the canary, which does not use the stage cache.
    c.create_deployment()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .canary_settings(
            aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                .percent_traffic(100.0)
                .use_stage_cache(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (worker, http) = cached_worker(&app, &api.id).await;
    let get = || http.get(invoke_url(&api.id, &worker, "dev", "/a")).send();
    let a = id_of(get().await.unwrap()).await;
    assert_ne!(id_of(get().await.unwrap()).await, a);

    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(patch_op(
            Op::Replace,
            "/canarySettings/useStageCache",
            Some("true"),
        ))
        .send()
        .await
        .unwrap();
    let uses_cache = |s: &StageRuntime| {
        s.stage
            .canary_settings
            .as_ref()
            .is_some_and(|c| c.use_stage_cache)
    };
    assert!(stage_holds(&worker, &api.id, "dev", uses_cache).await);
    let a = id_of(get().await.unwrap()).await;
    assert_eq!(id_of(get().await.unwrap()).await, a);
}

#[tokio::test]
async fn a_cache_key_read_from_the_body_keeps_answers_apart() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "body-key").await;
    api.mock("/lookup", "POST", r#"{"id": "$context.requestId"}"#)
        .await;
    let lookup = api.resource("/lookup").await;
    c.update_integration()
        .rest_api_id(&api.id)
        .resource_id(&lookup)
        .http_method("POST")
        .patch_operations(patch_op(
            Op::Add,
            "/cacheKeyParameters/method.request.body.item",
            None,
        ))
        .send()
        .await
        .unwrap();
    api.deploy("dev").await;
    cache_stage(&c, &api.id, &[("/~1lookup/POST/caching/enabled", "true")]).await;
    let (worker, http) = cached_worker(&app, &api.id).await;
    let post = |item: &str| {
        http.post(invoke_url(&api.id, &worker, "dev", "/lookup"))
            .header("content-type", "application/json")
            .body(format!(r#"{{"item": "{item}"}}"#))
            .send()
    };
    let a = id_of(post("a").await.unwrap()).await;
    assert_eq!(
        id_of(post("a").await.unwrap()).await,
        a,
        "a method's own settings cache a POST"
    );
    assert_ne!(id_of(post("b").await.unwrap()).await, a);
}
