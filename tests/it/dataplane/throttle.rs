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

#[tokio::test]
async fn a_usage_plan_limits_each_key_to_its_rate_and_burst() {
    let app = spawn_app().await;
    let c = app.client();
    let api = TestApi::create(&c, "events").await;
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
        let key = c.create_api_key().name(name).enabled(true).send().await.unwrap();
        c.create_usage_plan_key()
            .usage_plan_id(plan.id().unwrap())
            .key_id(key.id().unwrap())
            .key_type("API_KEY")
            .send()
            .await
            .unwrap();
        values.push(key.value().unwrap().to_owned());
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
    assert!(
        eventually(Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api.id, "dev")
                .is_some_and(|s| !s.stage.method_settings.is_empty())
        })
        .await
    );
    let http = invoker(&api.id, &worker);
    let (statuses, _) = burst(&http, &invoke_url(&api.id, &worker, "dev", "/a"), None, 6).await;
    assert!((2..=3).contains(&count(&statuses, 200)), "{statuses:?}");
    // Every method has a bucket of its own; /b's own setting replaces the stage's.
    let (statuses, _) = burst(&http, &invoke_url(&api.id, &worker, "dev", "/b"), None, 8).await;
    assert!((4..=5).contains(&count(&statuses, 200)), "{statuses:?}");
}
