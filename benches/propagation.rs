//! Propagation: from CreateDeployment returning to 4 workers serving the new deployment
//! (goal: p99 <= 200 ms). Control plane and workers run in this process, on loopback.
//!
//! `cargo bench --bench propagation`, on the PostgreSQL of `DATABASE_URL` or an embedded one, as
//! the tests run.

#[path = "../tests/it/helpers/db.rs"]
mod db;

use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigateway::types::IntegrationType;
use gatehouse::config::Config;
use gatehouse::server::{ControlPlane, Worker, WorkerOptions};
use gatehouse::store::{Store, credentials};

const WORKERS: usize = 4;
const ROUNDS: usize = 100;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // A fresh database as the tests get one (`DATABASE_URL`'s server, else the embedded one).
    let (_, url) = db::fresh_database("gh_bench").await;
    let store = Store::connect(&url, 16).await.unwrap();
    credentials::create_if_absent(
        &mut store.pool().acquire().await.unwrap(),
        &credentials::Credential {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            account_id: "000000000000".into(),
        },
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config::from_env(&Default::default()).unwrap();
    config.certificate_key = Some("07".repeat(32));
    let cp = ControlPlane::start(listener, store.clone(), &config, "bench".into())
        .await
        .unwrap();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let opts = WorkerOptions {
            control_plane: cp.url(),
            token: "bench".into(),
            worker_id: None,
            cache_dir: None,
            aws: Default::default(),
            access_log_dir: None,
            client_timeouts: Default::default(),
            metrics_addr: None,
            trusted_proxies: vec![],
            cache_stage_limit: gatehouse::dataplane::cache::DEFAULT_STAGE_LIMIT,
            rate_limit_redis: None,
            tls_addr: None,
        };
        workers.push(
            Worker::start("127.0.0.1:0".parse().unwrap(), Some(1), opts)
                .await
                .unwrap(),
        );
    }
    let c = Client::from_conf(
        aws_sdk_apigateway::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
            .endpoint_url(cp.url())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let api = c.create_rest_api().name("propagation").send().await.unwrap();
    let (api, root) = (api.id.unwrap(), api.root_resource_id.unwrap());
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
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();

    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        // A different definition each round, so each deployment is a new snapshot to fetch.
        c.put_integration_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .status_code("200")
            .response_templates("application/json", format!("round {round}"))
            .send()
            .await
            .unwrap();
        let d = c
            .create_deployment()
            .rest_api_id(&api)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        let id = d.id.unwrap();
        loop {
            let all = workers.iter().all(|w| {
                w.runtime
                    .load()
                    .stage(&api, "prod")
                    .is_some_and(|s| s.stage.deployment_id == id)
            });
            if all {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "round {round} did not propagate"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        times.push(started.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "propagation to {WORKERS} workers, {ROUNDS} deployments: p50={:.1?} p90={:.1?} p99={:.1?} max={:.1?}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1]
    );
    drop(workers);
    cp.stop().await;
    store.pool().close().await;
    // The database is dropped by the next run of a bench.
}
