//! Control plane → workers: propagation, canaries, replicas, static stability, refusals.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use serde_json::Value;

use crate::backends::echo_backend;
use crate::helpers::*;

/// `GET /` (MOCK) answering `answer`; returns the API id.
async fn answering_api(c: &Client, answer: &str) -> (String, String) {
    let (api, root) = create_api(c, "answers").await;
    put_mock_method(c, &api, &root, "GET").await;
    set_answer(c, &api, &root, answer).await;
    (api, root)
}

async fn set_answer(c: &Client, api: &str, root: &str, answer: &str) {
    c.put_integration_response()
        .rest_api_id(api)
        .resource_id(root)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", answer)
        .send()
        .await
        .unwrap();
}

async fn answer(http: &reqwest::Client, url: &str) -> Option<String> {
    let res = http.get(url).send().await.ok()?;
    if res.status() != 200 {
        return None;
    }
    res.text().await.ok()
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

#[tokio::test]
async fn a_stage_variable_change_reaches_two_workers_within_a_second() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "vars").await;
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
        .request_parameters("integration.request.header.X-V", "stageVariables.v")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .variables("v", "one")
        .send()
        .await
        .unwrap();
    let workers = [
        app.start_worker(None, None).await,
        app.start_worker(None, None).await,
    ];
    let seen = |w: usize, expected: &'static str| {
        let http = invoker(&api, &workers[w]);
        let url = invoke_url(&api, &workers[w], "dev", "/");
        async move {
            let Ok(res) = http.get(&url).send().await else {
                return false;
            };
            res.json::<Value>()
                .await
                .is_ok_and(|v| v["headers"]["x-v"] == expected)
        }
    };
    for w in 0..2 {
        assert!(eventually(Duration::from_secs(5), || seen(w, "one")).await);
    }

    c.update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/variables/v", "two"))
        .send()
        .await
        .unwrap();
    let changed = Instant::now();
    for w in 0..2 {
        assert!(
            eventually(Duration::from_secs(1), || seen(w, "two")).await,
            "worker {w} within 1 s"
        );
    }
    println!(
        "stage variable change served by both workers {:?} after UpdateStage returned",
        changed.elapsed()
    );

    // Both acked the revision: the fleet view shows them current.
    let fleet: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/_gatehouse/v1/fleet", app.url()))
        .bearer_auth(CLUSTER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = workers.iter().map(|w| w.worker_id.as_str()).collect();
    for id in ids {
        let w = fleet
            .iter()
            .find(|w| w["workerId"] == id)
            .expect("worker in the fleet view");
        assert_eq!(w["applied"], true);
    }
    // Without the token, the internal endpoints answer 401.
    let res = reqwest::get(format!("{}/_gatehouse/v1/fleet", app.url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_canary_gets_its_share_and_promotion_moves_everything() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = answering_api(&c, "base").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    set_answer(&c, &api, &root, "canary").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .canary_settings(
            aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                .percent_traffic(10.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api, &worker);
    let url = invoke_url(&api, &worker, "prod", "/");
    assert!(
        eventually(Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api, "prod")
                .is_some_and(|s| s.canary.is_some())
        })
        .await
    );
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..2000 {
        *counts.entry(answer(&http, &url).await.unwrap()).or_default() += 1;
    }
    let canary = counts.get("canary").copied().unwrap_or(0);
    println!("canary at 10%: {canary} of 2000 requests");
    assert!(
        (140..=260).contains(&canary),
        "10% ± 3% of 2000 is 140..=260, got {canary}"
    );
    assert_eq!(counts.get("base").copied().unwrap_or(0) + canary, 2000);

    c.update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Copy)
                .from("/canarySettings/deploymentId")
                .path("/deploymentId")
                .build(),
        )
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Remove)
                .path("/canarySettings")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api, "prod")
                .is_some_and(|s| s.canary.is_none())
        })
        .await
    );
    for _ in 0..200 {
        assert_eq!(answer(&http, &url).await.as_deref(), Some("canary"));
    }
}

#[tokio::test]
async fn workers_keep_serving_when_the_control_plane_is_gone() {
    let mut app = spawn_app().await;
    let c = app.client();
    let (api, _) = answering_api(&c, "still here").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let workers = [
        app.start_worker(None, None).await,
        app.start_worker(None, None).await,
    ];
    for w in &workers {
        let http = invoker(&api, w);
        let url = invoke_url(&api, w, "dev", "/");
        assert!(
            eventually(Duration::from_secs(5), || async {
                answer(&http, &url).await.is_some()
            })
            .await
        );
    }
    app.control_plane.take().unwrap().stop().await;
    // Give the workers time to notice and start reconnecting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for w in &workers {
        let http = invoker(&api, w);
        for _ in 0..20 {
            assert_eq!(
                answer(&http, &invoke_url(&api, w, "dev", "/")).await.as_deref(),
                Some("still here")
            );
        }
    }
}

#[tokio::test]
async fn a_worker_with_a_config_cache_starts_while_the_control_plane_is_down() {
    let mut app = spawn_app().await;
    let c = app.client();
    let (api, _) = answering_api(&c, "cached").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let cache =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{}", uuid::Uuid::new_v4()));
    {
        let first = app.start_worker(Some(cache.clone()), None).await;
        assert!(
            eventually(Duration::from_secs(5), || async {
                first.runtime.load().stage(&api, "dev").is_some()
            })
            .await
        );
    }
    let dead_control_plane = app.url();
    app.control_plane.take().unwrap().stop().await;
    let worker = WorkerBuilder::new(&dead_control_plane)
        .cache_dir(cache.clone())
        .start()
        .await;
    let http = invoker(&api, &worker);
    assert_eq!(
        answer(&http, &invoke_url(&api, &worker, "dev", "/"))
            .await
            .as_deref(),
        Some("cached")
    );
    let _ = std::fs::remove_dir_all(cache);
}

#[tokio::test]
async fn a_change_through_one_replica_reaches_a_worker_on_another() {
    let app = spawn_app().await;
    let replica = app.start_replica().await;
    let worker = WorkerBuilder::new(&replica.url()).start().await;
    let c = app.client();
    let (api, _) = answering_api(&c, "via replica A").await;
    let started = Instant::now();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let http = invoker(&api, &worker);
    let url = invoke_url(&api, &worker, "dev", "/");
    assert!(
        eventually(Duration::from_secs(2), || async {
            answer(&http, &url).await.as_deref() == Some("via replica A")
        })
        .await,
        "a deployment made through one replica is served by a worker of the other"
    );
    println!("cross-replica propagation: {:?}", started.elapsed());
    assert_ne!(replica.url(), app.control_plane_url());
}

#[tokio::test]
async fn a_bad_snapshot_is_refused_and_the_last_good_configuration_keeps_serving() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = answering_api(&c, "good").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    let http = invoker(&api, &worker);
    let url = invoke_url(&api, &worker, "dev", "/");
    assert!(
        eventually(Duration::from_secs(5), || async {
            answer(&http, &url).await.as_deref() == Some("good")
        })
        .await
    );

    // A second deployment whose stored snapshot is damaged before any worker sees it.
    set_answer(&c, &api, &root, "bad").await;
    let d2 = c.create_deployment().rest_api_id(&api).send().await.unwrap();
    sqlx::query(
        "UPDATE snapshots SET body = convert_to('{\"damaged\": true}', 'UTF8')
         WHERE hash = (SELECT snapshot_hash FROM deployments WHERE id = $1)",
    )
    .bind(d2.id().unwrap())
    .execute(app.store.pool())
    .await
    .unwrap();
    c.update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(replace("/deploymentId", d2.id().unwrap()))
        .send()
        .await
        .unwrap();
    let refused = eventually(Duration::from_secs(5), || async {
        let fleet: Vec<Value> = reqwest::Client::new()
            .get(format!("{}/_gatehouse/v1/fleet", app.url()))
            .bearer_auth(CLUSTER_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        fleet
            .iter()
            .any(|w| w["workerId"] == worker.worker_id.as_str() && w["applied"] == false)
    })
    .await;
    assert!(refused, "the worker nacked the revision");
    for _ in 0..10 {
        assert_eq!(answer(&http, &url).await.as_deref(), Some("good"));
    }
}

#[tokio::test]
async fn a_deployment_that_does_not_compile_keeps_its_stage_on_the_last_good_one_and_the_rest_is_served() {
    use sha2::Digest;
    let app = spawn_app().await;
    let c = app.client();
    let v2 = app.v2_client();
    let worker = app.start_worker(None, None).await;
    // An HTTP API whose served deployment is replaced by one no worker can compile (written
    // behind the control plane's back: its own checks refuse such a definition).
    let http_api = v2
        .create_api()
        .name("broken")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .target("http://127.0.0.1:9/")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_owned();
    assert!(serving(&worker, &http_api, "$default").await);
    let pool = app.store.pool();
    let (body,): (Vec<u8>,) = sqlx::query_as(
        "SELECT s.body FROM snapshots s JOIN deployments d ON d.snapshot_hash = s.hash WHERE d.api_id = $1",
    )
    .bind(&http_api)
    .fetch_one(pool)
    .await
    .unwrap();
    let mut snapshot: Value = serde_json::from_slice(&body).unwrap();
    snapshot["routes"][0]["routeKey"] = Value::from("NOT A ROUTE KEY");
    let bytes = serde_json::to_vec(&snapshot).unwrap();
    let hash = hex::encode(sha2::Sha256::digest(&bytes));
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO snapshots (hash, body) VALUES ($1, $2)")
        .bind(&hash)
        .bind(&bytes)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO deployments (api_id, id, snapshot_hash, doc) VALUES ($1, 'broken', $2, '{\"deploymentId\": \"broken\", \"createdDate\": \"2026-01-01T00:00:00Z\", \"deploymentStatus\": \"DEPLOYED\"}')",
    )
    .bind(&http_api)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE stages SET deployment_id = 'broken', doc = jsonb_set(doc, '{deploymentId}', '\"broken\"') WHERE api_id = $1")
        .bind(&http_api)
        .execute(&mut *tx)
        .await
        .unwrap();
    gatehouse::store::revision::bump(&mut tx, "stage", &http_api, "$default")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Another API deployed afterwards is served all the same; the broken stage keeps its last
    // good deployment.
    let (api, _) = answering_api(&c, "fine").await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let http = invoker(&api, &worker);
    let url = invoke_url(&api, &worker, "dev", "/");
    assert!(
        eventually(Duration::from_secs(5), || async {
            answer(&http, &url).await.as_deref() == Some("fine")
        })
        .await,
        "a later revision is applied"
    );
    let kept = worker
        .runtime
        .load()
        .stage(&http_api, "$default")
        .cloned()
        .unwrap();
    let gatehouse::compiler::CompiledApi::Http(compiled) = &*kept.api else {
        panic!("an HTTP API")
    };
    assert_ne!(compiled.snapshot_hash, hash, "the last good deployment");
    let fleet: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/_gatehouse/v1/fleet", app.url()))
        .bearer_auth(CLUSTER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = fleet
        .iter()
        .find(|w| w["workerId"] == worker.worker_id.as_str())
        .unwrap();
    assert_eq!(me["applied"], true);
}

#[tokio::test]
async fn a_worker_too_far_behind_gets_the_full_configuration_and_old_changes_are_pruned() {
    use gatehouse::store::{live, revision};
    let app = spawn_app().await;
    let mut conn = app.store.pool().acquire().await.unwrap();
    for r in [1_i64, 15_000] {
        sqlx::query(
            "INSERT INTO config_changes (revision, kind, api_id, key) VALUES ($1, 'stage', 'a', 's')",
        )
        .bind(r)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE config_revision SET revision = 15000")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(
        live::since(&mut conn, &Default::default(), &test_sealer(), 10)
            .await
            .unwrap()
            .is_none(),
        "10 is older than the kept changes"
    );
    let delta = live::since(&mut conn, &Default::default(), &test_sealer(), 14_999)
        .await
        .unwrap()
        .expect("a delta");
    assert_eq!(delta.revision, 15_000);
    assert_eq!(delta.removed, vec![("a".to_owned(), "s".to_owned())]);
    assert_eq!(revision::prune(&mut conn).await.unwrap(), 1);
}
