//! Rate limits on a worker: a usage plan's for each key (and per method), a stage's
//! `methodSettings`, with AWS's 429 and `Retry-After`.

use std::time::Duration;

use aws_sdk_apigateway::types::{ApiStage, Op, ThrottleSettings};

use crate::helpers::*;

/// Sends `n` requests at once (well within a second); the statuses, and the last 429.
async fn burst(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    n: usize,
) -> (Vec<u16>, Option<reqwest::Response>) {
    let sends = (0..n).map(|_| {
        let mut req = http.post(url);
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        req.send()
    });
    let mut statuses = vec![];
    let mut throttled = None;
    for res in futures_util::future::join_all(sends).await {
        let res = res.unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            throttled = Some(res);
        }
    }
    (statuses, throttled)
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// An API whose `POST /events` (MOCK) requires an API key, deployed to `dev`.
async fn keyed_events<'c>(c: &'c aws_sdk_apigateway::Client, name: &str) -> TestApi<'c> {
    let api = TestApi::create(c, name).await;
    api.mock("/events", "POST", r#"{"ok": true}"#).await;
    let events = api.resource("/events").await;
    c.update_method()
        .rest_api_id(&api.id)
        .resource_id(&events)
        .http_method("POST")
        .patch_operations(patch_op(Op::Replace, "/apiKeyRequired", Some("true")))
        .send()
        .await
        .unwrap();
    api.deploy("dev").await;
    api
}

/// A new enabled key in `plan`: its id and value.
async fn plan_key(c: &aws_sdk_apigateway::Client, plan: &str, name: &str) -> (String, String) {
    let key = c.create_api_key().name(name).enabled(true).send().await.unwrap();
    c.create_usage_plan_key()
        .usage_plan_id(plan)
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    (key.id().unwrap().to_owned(), key.value().unwrap().to_owned())
}

#[tokio::test]
async fn a_usage_plan_limits_each_key_to_its_rate_and_burst() {
    let app = spawn_app().await;
    let c = app.client();
    let api = keyed_events(&c, "events").await;
    let plan = c
        .create_usage_plan()
        .name("walk-through")
        .api_stages(ApiStage::builder().api_id(&api.id).stage("dev").build())
        .throttle(
            ThrottleSettings::builder()
                .rate_limit(5.0)
                .burst_limit(10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut values = vec![];
    for name in ["a", "b"] {
        values.push(plan_key(&c, plan.id().unwrap(), name).await.1);
    }
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api.id, &worker);
    let url = invoke_url(&api.id, &worker, "dev", "/events");
    let ready = eventually(Duration::from_secs(5), || async {
        let res = http
            .post(&url)
            .header("x-api-key", &values[1])
            .send()
            .await
            .unwrap();
        res.status() == 200
    })
    .await;
    assert!(ready);

    let (statuses, throttled) = burst(&http, &url, Some(&values[0]), 20).await;
    let admitted = count(&statuses, 200);
    // The burst of 10, and what the rate refilled meanwhile.
    assert!((10..=11).contains(&admitted), "{statuses:?}");
    assert_eq!(count(&statuses, 429), 20 - admitted);
    let throttled = throttled.unwrap();
    assert_eq!(throttled.headers()["retry-after"], "1");
    assert_eq!(
        throttled.headers()["x-amzn-errortype"],
        "TooManyRequestsException"
    );
    assert_eq!(
        throttled.text().await.unwrap(),
        r#"{"message":"Too Many Requests"}"#
    );

    // Each key has a bucket of its own (b spent one token above).
    let (statuses, _) = burst(&http, &url, Some(&values[1]), 9).await;
    assert_eq!(count(&statuses, 200), 9, "{statuses:?}");

    // At 5 a second, a token is back in 200 ms.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (statuses, _) = burst(&http, &url, Some(&values[0]), 5).await;
    assert!((2..=3).contains(&count(&statuses, 200)), "{statuses:?}");

    // A per-method limit of the plan applies on top of the plan's.
    c.update_usage_plan()
        .usage_plan_id(plan.id().unwrap())
        .patch_operations(patch_op(
            Op::Replace,
            &format!("/apiStages/{}:dev/throttle/~1events/POST/burstLimit", api.id),
            Some("1"),
        ))
        .patch_operations(patch_op(
            Op::Replace,
            &format!("/apiStages/{}:dev/throttle/~1events/POST/rateLimit", api.id),
            Some("0.1"),
        ))
        .send()
        .await
        .unwrap();
    let updated = eventually(Duration::from_secs(5), || async {
        worker.runtime.load().stage(&api.id, "dev").is_some_and(|s| {
            s.api_keys
                .values()
                .any(|g| g.plan.method_throttles.contains_key("/events/POST"))
        })
    })
    .await;
    assert!(updated, "the plan's method limit reaches the worker");
    let (statuses, _) = burst(&http, &url, Some(&values[1]), 5).await;
    assert_eq!(count(&statuses, 200), 1, "{statuses:?}");
}

#[tokio::test]
async fn stage_method_settings_throttle_every_caller() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "stage-limits").await;
    api.mock("/a", "POST", r#"{"ok": true}"#).await;
    api.mock("/b", "POST", r#"{"ok": true}"#).await;
    api.deploy("dev").await;
    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/rateLimit", Some("1")))
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/burstLimit", Some("2")))
        .patch_operations(patch_op(
            Op::Replace,
            "/~1b/POST/throttling/burstLimit",
            Some("4"),
        ))
        .patch_operations(patch_op(Op::Replace, "/~1b/POST/throttling/rateLimit", Some("1")))
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(stage_holds(&worker, &api.id, "dev", |s| !s.stage.method_settings.is_empty()).await);
    let http = invoker(&api.id, &worker);
    let (statuses, _) = burst(&http, &invoke_url(&api.id, &worker, "dev", "/a"), None, 6).await;
    assert!((2..=3).contains(&count(&statuses, 200)), "{statuses:?}");
    // Every method has a bucket of its own; /b's own setting replaces the stage's.
    let (statuses, _) = burst(&http, &invoke_url(&api.id, &worker, "dev", "/b"), None, 8).await;
    assert!((4..=5).contains(&count(&statuses, 200)), "{statuses:?}");
}

#[tokio::test]
async fn a_quota_ends_a_keys_calls_for_the_period_and_usage_is_counted_durably() {
    let app = spawn_app().await;
    let c = app.client();
    let api = keyed_events(&c, "quota").await;
    let plan = c
        .create_usage_plan()
        .name("small")
        .api_stages(ApiStage::builder().api_id(&api.id).stage("dev").build())
        .quota(
            aws_sdk_apigateway::types::QuotaSettings::builder()
                .limit(5)
                .period(aws_sdk_apigateway::types::QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan_id = plan.id().unwrap().to_owned();
    let (key_id, value) = plan_key(&c, &plan_id, "k").await;
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api.id, &worker);
    let url = invoke_url(&api.id, &worker, "dev", "/events");
    assert!(stage_holds(&worker, &api.id, "dev", |s| !s.api_keys.is_empty()).await);

    let (statuses, throttled) = burst(&http, &url, Some(&value), 7).await;
    assert_eq!(count(&statuses, 200), 5, "{statuses:?}");
    let refused = throttled.unwrap();
    assert_eq!(refused.headers()["x-amzn-errortype"], "TooManyRequestsException");
    assert_eq!(refused.text().await.unwrap(), r#"{"message":"Limit Exceeded"}"#);

    // The worker reports what was used; GetUsage reads it.
    let today = chrono::Utc::now().date_naive().to_string();
    let usage = || async {
        c.get_usage()
            .usage_plan_id(&plan_id)
            .start_date(&today)
            .end_date(&today)
            .send()
            .await
            .unwrap()
    };
    let reported = eventually(Duration::from_secs(5), || async {
        usage().await.items().and_then(|i| i.get(&key_id)).cloned() == Some(vec![vec![5, 0]])
    })
    .await;
    assert!(reported, "{:?}", usage().await);
    // The counts are the database's: a control plane started afresh on it answers the same.
    let replica = app.start_replica().await;
    let fresh = aws_sdk_apigateway::Client::from_conf(
        app.config_builder("test", "test", "us-east-1")
            .endpoint_url(replica.url())
            .build(),
    );
    let counted = fresh
        .get_usage()
        .usage_plan_id(&plan_id)
        .start_date(&today)
        .end_date(&today)
        .send()
        .await
        .unwrap();
    assert_eq!(counted.items().unwrap()[&key_id], vec![vec![5, 0]]);

    // A new worker starts from what the control plane counted.
    drop(worker);
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api.id, &worker);
    let url = invoke_url(&api.id, &worker, "dev", "/events");
    assert!(stage_holds(&worker, &api.id, "dev", |s| !s.api_keys.is_empty()).await);
    let status = http
        .post(&url)
        .header("x-api-key", &value)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 429, "still spent on a new worker");

    // UpdateUsage gives the key three more.
    let updated = c
        .update_usage()
        .usage_plan_id(&plan_id)
        .key_id(&key_id)
        .patch_operations(patch_op(Op::Replace, "/remaining", Some("3")))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.items().unwrap()[&key_id], vec![vec![5, 3]]);
    let reopened = eventually(Duration::from_secs(5), || async {
        http.post(&url)
            .header("x-api-key", &value)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
    assert!(reopened);
    let (statuses, _) = burst(&http, &url, Some(&value), 4).await;
    assert_eq!(count(&statuses, 200), 2, "{statuses:?}");
    let settled = eventually(Duration::from_secs(5), || async {
        usage().await.items().and_then(|i| i.get(&key_id)).cloned() == Some(vec![vec![8, 0]])
    })
    .await;
    assert!(settled, "{:?}", usage().await);
}

#[tokio::test]
async fn two_workers_hold_a_fleet_limit_together() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "fleet").await;
    api.mock("/events", "POST", r#"{"ok": true}"#).await;
    api.deploy("dev").await;
    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/rateLimit", Some("1")))
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/burstLimit", Some("20")))
        .send()
        .await
        .unwrap();
    let workers = [
        app.start_worker(None, None).await,
        app.start_worker(None, None).await,
    ];
    // Each learns the fleet's size with the control plane's next heartbeat (every 10 s).
    let both = eventually(Duration::from_secs(25), || async {
        workers.iter().all(|w| w.limiters.fleet() == 2)
    })
    .await;
    assert!(
        both,
        "{:?}",
        workers.iter().map(|w| w.limiters.fleet()).collect::<Vec<_>>()
    );
    let mut admitted = 0;
    for w in &workers {
        assert!(serving(w, &api.id, "dev").await);
        let http = invoker(&api.id, w);
        let (statuses, _) = burst(&http, &invoke_url(&api.id, w, "dev", "/events"), None, 20).await;
        let here = count(&statuses, 200);
        assert!((10..=11).contains(&here), "each worker takes half: {statuses:?}");
        admitted += here;
    }
    // The fleet's burst of 20, within 10%.
    assert!((20..=22).contains(&admitted), "{admitted}");
}

#[tokio::test]
async fn lambda_proxy_events_name_the_api_key_a_method_required() {
    let app = spawn_app().await;
    let c = app.client();
    let lambda = crate::backends::fake_lambda().await;
    let api = TestApi::create(&c, "keyed-lambda").await;
    api.lambda_proxy("/events", "POST", "echo").await;
    let events = api.resource("/events").await;
    c.update_method()
        .rest_api_id(&api.id)
        .resource_id(&events)
        .http_method("POST")
        .patch_operations(patch_op(Op::Replace, "/apiKeyRequired", Some("true")))
        .send()
        .await
        .unwrap();
    api.deploy("dev").await;
    let plan = c
        .create_usage_plan()
        .name("events")
        .api_stages(ApiStage::builder().api_id(&api.id).stage("dev").build())
        .send()
        .await
        .unwrap();
    let (key_id, key) = plan_key(&c, plan.id().unwrap(), "client").await;
    let worker = app.start_worker(None, Some(format!("http://{lambda}"))).await;
    assert!(stage_holds(&worker, &api.id, "dev", |s| !s.api_keys.is_empty()).await);
    let res = invoker(&api.id, &worker)
        .post(invoke_url(&api.id, &worker, "dev", "/events"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let event: serde_json::Value = res.json().await.unwrap();
    let identity = &event["requestContext"]["identity"];
    assert_eq!(identity["apiKey"], key.as_str());
    assert_eq!(identity["apiKeyId"], key_id.as_str());
}

/// The Redis server the tests keep fleet-wide limits at (`.ci/run` makes sure it is up).
fn redis_url() -> String {
    std::env::var("GATEHOUSE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// An API whose `POST /a` (MOCK) is limited by the stage to `rate` a second, `burst` at once.
async fn stage_limited<'c>(c: &'c aws_sdk_apigateway::Client, rate: &str, burst: &str) -> TestApi<'c> {
    let api = TestApi::create(c, "fleet-limits").await;
    api.mock("/a", "POST", r#"{"ok": true}"#).await;
    api.deploy("dev").await;
    c.update_stage()
        .rest_api_id(&api.id)
        .stage_name("dev")
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/rateLimit", Some(rate)))
        .patch_operations(patch_op(Op::Replace, "/*/*/throttling/burstLimit", Some(burst)))
        .send()
        .await
        .unwrap();
    api
}

async fn limited_worker(app: &TestApp, api: &str, redis: &str) -> gatehouse::server::Worker {
    let worker = WorkerBuilder::new(&app.control_plane_url())
        .redis(redis)
        .start()
        .await;
    assert!(stage_holds(&worker, api, "dev", |s| !s.stage.method_settings.is_empty()).await);
    worker
}

#[tokio::test]
async fn with_redis_a_limit_is_exact_across_workers_however_traffic_spreads() {
    let app = spawn_app().await;
    let c = app.client();
    let api = stage_limited(&c, "1", "100").await;
    let (one, two) = (
        limited_worker(&app, &api.id, &redis_url()).await,
        limited_worker(&app, &api.id, &redis_url()).await,
    );
    let url = |w: &gatehouse::server::Worker| invoke_url(&api.id, w, "dev", "/a");
    // Most of the traffic reaches one worker: with local shares, each would admit its own 100.
    let (http_one, http_two) = (invoker(&api.id, &one), invoker(&api.id, &two));
    let (url_one, url_two) = (url(&one), url(&two));
    let (on_one, on_two) = tokio::join!(
        burst(&http_one, &url_one, None, 120),
        burst(&http_two, &url_two, None, 30),
    );
    let admitted = count(&on_one.0, 200) + count(&on_two.0, 200);
    // The fleet's burst of 100 within 2% (a rate of 1/s refills a token or two meanwhile).
    assert!(
        (100..=102).contains(&admitted),
        "{admitted}: {on_one:?} {on_two:?}"
    );
    assert!(count(&on_one.0, 200) >= 70, "{on_one:?}");
    let throttled = on_one.1.or(on_two.1).expect("a 429");
    assert!(throttled.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn when_redis_is_away_each_worker_enforces_its_share() {
    let app = spawn_app().await;
    let c = app.client();
    let api = stage_limited(&c, "1", "5").await;
    // Nothing listens on port 1.
    let worker = limited_worker(&app, &api.id, "redis://127.0.0.1:1").await;
    let started = std::time::Instant::now();
    let (statuses, _) = burst(
        &invoker(&api.id, &worker),
        &invoke_url(&api.id, &worker, "dev", "/a"),
        None,
        8,
    )
    .await;
    assert_eq!(count(&statuses, 200), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 3, "{statuses:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_account_limit_set_by_update_account_holds_across_its_apis() {
    let app = spawn_app().await;
    let c = app.client();
    let mut apis = vec![];
    for name in ["one", "two"] {
        let api = TestApi::create(&c, name).await;
        api.mock("/a", "POST", r#"{"ok": true}"#).await;
        api.deploy("dev").await;
        apis.push(api.id.clone());
    }
    // AWS's fixed limit is shown, not enforced, until the account sets its own.
    let account = c.get_account().send().await.unwrap();
    assert_eq!(account.throttle_settings().unwrap().rate_limit(), 10000.0);
    let e = c
        .update_account()
        .patch_operations(patch_op(Op::Replace, "/throttle/rateLimit", Some("fast")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let account = c
        .update_account()
        .patch_operations(patch_op(Op::Replace, "/throttle/rateLimit", Some("1")))
        .patch_operations(patch_op(Op::Replace, "/throttle/burstLimit", Some("3")))
        .send()
        .await
        .unwrap();
    let throttle = account.throttle_settings().unwrap();
    assert_eq!((throttle.rate_limit(), throttle.burst_limit()), (1.0, 3));
    let worker = app.start_worker(None, None).await;
    let limited = |on: bool| {
        let (worker, apis) = (&worker, &apis);
        async move {
            for api in apis {
                if !stage_holds(worker, api, "dev", |s| s.account_throttle.is_some() == on).await {
                    return false;
                }
            }
            true
        }
    };
    assert!(limited(true).await);
    // One bucket for the account: 2 calls to one API and 3 to the other share its burst of 3.
    let mut statuses = vec![];
    for (api, n) in [(&apis[0], 2), (&apis[1], 3)] {
        let http = invoker(api, &worker);
        for _ in 0..n {
            let url = invoke_url(api, &worker, "dev", "/a");
            statuses.push(http.post(url).send().await.unwrap().status().as_u16());
        }
    }
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 2, "{statuses:?}");

    let account = c
        .update_account()
        .patch_operations(patch_op(Op::Remove, "/throttle", None))
        .send()
        .await
        .unwrap();
    assert_eq!(account.throttle_settings().unwrap().burst_limit(), 5000);
    assert!(limited(false).await);
    let http = invoker(&apis[0], &worker);
    let (statuses, _) = burst(&http, &invoke_url(&apis[0], &worker, "dev", "/a"), None, 6).await;
    assert_eq!(count(&statuses, 200), 6, "{statuses:?}");
}
