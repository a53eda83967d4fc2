//! Management API benchmarks, run against a real server and PostgreSQL:
//!
//! - CreateDeployment of an API with 300 and with 3,000 resources, each with a method and a MOCK
//!   integration (goal: 300 resources in <= 100 ms);
//! - PutMethod throughput with 16 concurrent SDK clients (goal: >= 1,000 writes/s).
//!
//! `cargo bench --bench management`, on a fresh database of the PostgreSQL of `DATABASE_URL` or
//! an embedded one, as each test gets one.

#[path = "../tests/it/helpers/db.rs"]
mod db;

use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::{BehaviorVersion, Credentials, Region};
use gatehouse::config::Config;
use gatehouse::domain::enums::{AuthorizationType, HttpMethod, IntegrationType as Kind, PassthroughBehavior};
use gatehouse::domain::ids;
use gatehouse::domain::rest_api::{Integration, Method};
use gatehouse::store::resources::Node;
use gatehouse::store::{Store, credentials, methods, resources};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // A fresh database as the tests get one (`DATABASE_URL`'s server, else the embedded one).
    let (_, url) = db::fresh_database("gh_bench").await;
    let store = Store::connect(&url, 32).await.unwrap();
    let mut c = store.pool().acquire().await.unwrap();
    credentials::create_if_absent(
        &mut c,
        &credentials::Credential {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            account_id: "000000000000".into(),
        },
    )
    .await
    .unwrap();
    drop(c);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::from_env(&Default::default()).unwrap();
    config.certificate_key = Some("07".repeat(32));
    let _control_plane =
        gatehouse::server::ControlPlane::start(listener, store.clone(), &config, "bench".into())
            .await
            .unwrap();
    let client = Client::from_conf(
        aws_sdk_apigateway::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
            .endpoint_url(format!("http://{addr}"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );

    for size in [300, 3000] {
        let api = seeded_api(&client, &store, size).await;
        let mut times = Vec::new();
        for _ in 0..if size == 300 { 20 } else { 5 } {
            let t = Instant::now();
            client.create_deployment().rest_api_id(&api).send().await.unwrap();
            times.push(t.elapsed());
        }
        report(&format!("CreateDeployment, {size} resources"), &mut times);
    }

    put_method_throughput(&client, 16, Duration::from_secs(10)).await;

    store.pool().close().await;
    // The database is dropped by the next run of a bench.
}

/// An API with `n` resources under the root, each with a GET and a MOCK integration. Seeded
/// through the store (setup, not what is measured).
async fn seeded_api(client: &Client, store: &Store, n: usize) -> String {
    let api = client
        .create_rest_api()
        .name(format!("bench-{n}"))
        .send()
        .await
        .unwrap();
    let (id, root) = (api.id.unwrap(), api.root_resource_id.unwrap());
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        let node = Node {
            id: ids::resource_id(false),
            parent_id: Some(root.clone()),
            path_part: Some(format!("r{i}")),
        };
        resources::insert(&mut tx, &id, &node).await.unwrap();
        let method = Method {
            http_method: HttpMethod::Get,
            authorization_type: AuthorizationType::None,
            authorizer_id: None,
            api_key_required: false,
            request_validator_id: None,
            operation_name: None,
            request_parameters: Default::default(),
            request_models: Default::default(),
            method_responses: Default::default(),
            method_integration: Some(Integration {
                kind: Kind::Mock,
                http_method: None,
                uri: None,
                connection_type: None,
                connection_id: None,
                credentials: None,
                request_parameters: Default::default(),
                request_templates: [("application/json".to_owned(), r#"{"statusCode": 200}"#.to_owned())]
                    .into(),
                passthrough_behavior: Some(PassthroughBehavior::WhenNoMatch),
                content_handling: None,
                timeout_in_millis: 29_000,
                cache_namespace: Some(node.id.clone()),
                cache_key_parameters: vec![],
                integration_responses: Default::default(),
                tls_config: None,
            }),
            authorization_scopes: vec![],
        };
        methods::put(&mut tx, &id, &node.id, &method).await.unwrap();
    }
    tx.commit().await.unwrap();
    id
}

/// `clients` tasks each PutMethod (+ the integration it replaces) on their own resource for `d`.
async fn put_method_throughput(client: &Client, clients: usize, d: Duration) {
    let api = client
        .create_rest_api()
        .name("bench-writes")
        .send()
        .await
        .unwrap();
    let (id, root) = (api.id.unwrap(), api.root_resource_id.unwrap());
    let mut resources = Vec::new();
    for i in 0..clients {
        let r = client
            .create_resource()
            .rest_api_id(&id)
            .parent_id(&root)
            .path_part(format!("w{i}"))
            .send()
            .await
            .unwrap();
        resources.push(r.id.unwrap());
    }
    let deadline = Instant::now() + d;
    let mut tasks = Vec::new();
    for rid in resources {
        let (client, id) = (client.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let verbs = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];
            let mut i = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                client
                    .put_method()
                    .rest_api_id(&id)
                    .resource_id(&rid)
                    .http_method(verbs[i % verbs.len()])
                    .authorization_type("NONE")
                    .send()
                    .await
                    .unwrap();
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / d.as_secs_f64();
    report(
        &format!("PutMethod, {clients} concurrent clients: {rate:.0} writes/s;"),
        &mut all,
    );
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{what} n={} p50={:.1?} p90={:.1?} p99={:.1?} max={:.1?}",
        times.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1]
    );
}
