//! `spawn_app()`: a management API on port 0 over a database cloned from a migrated template.

use std::net::SocketAddr;
use std::sync::OnceLock;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::{BehaviorVersion, Credentials, Region};
use gatehouse::config::Config;
use gatehouse::server::ControlPlane;
use gatehouse::store::embedded::EmbeddedPostgres;
use gatehouse::store::{MIGRATOR, Store, credentials};
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;
use tokio::sync::OnceCell;

pub const ACCOUNT: &str = "000000000000";
pub const OTHER_ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";

pub const CLUSTER_TOKEN: &str = "test-cluster-token";

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// The test's database, for starting more control-plane replicas on it.
    pub db: String,
    pub control_plane: Option<ControlPlane>,
}

/// The server's admin URL (database `postgres`): `DATABASE_URL`'s server, or the embedded one.
async fn admin_url() -> &'static str {
    static URL: OnceCell<String> = OnceCell::const_new();
    URL.get_or_init(|| async {
        match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => with_database(&url, "postgres"),
            None => {
                let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded-pg");
                let pg = EmbeddedPostgres::start(&dir, true)
                    .await
                    .expect("embedded PostgreSQL starts");
                let url = pg.url("postgres");
                // Left running for the next test run; `pg_ctl stop -D target/tmp/embedded-pg/pg` ends it.
                std::mem::forget(pg);
                url
            }
        }
    })
    .await
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A template database with every migration applied, made once per migration set and reused.
async fn template() -> &'static str {
    static NAME: OnceCell<String> = OnceCell::const_new();
    NAME.get_or_init(|| async {
        let admin = admin_url().await;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for m in MIGRATOR.iter() {
            std::hash::Hash::hash(&m.checksum, &mut hasher);
        }
        let name = format!("gh_tpl_{:016x}", std::hash::Hasher::finish(&hasher));
        let mut conn = PgConnection::connect(admin).await.expect("connect to PostgreSQL");
        // One process at a time creates templates and sweeps databases of earlier runs.
        sqlx::query("SELECT pg_advisory_lock(815)")
            .execute(&mut conn)
            .await
            .unwrap();
        let stale: Vec<(String,)> = sqlx::query_as(
            "SELECT datname FROM pg_database WHERE datname LIKE 'gh_it_%' AND datname NOT LIKE $1",
        )
        .bind(format!("gh_it_{}_%", std::process::id()))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for (db,) in stale {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        if exists.is_none() {
            let building = format!("{name}_building");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE \"{building}\""))
                .execute(&mut conn)
                .await
                .unwrap();
            let store = Store::connect(&with_database(admin, &building), 2).await.unwrap();
            store.migrate().await.expect("migrations apply");
            store.pool().close().await;
            sqlx::query(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::query("SELECT pg_advisory_unlock(815)")
            .execute(&mut conn)
            .await
            .unwrap();
        name
    })
    .await
}

pub async fn spawn_app() -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let admin = admin_url().await;
    let template = template().await;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let db = format!(
        "gh_it_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut conn = PgConnection::connect(admin).await.unwrap();
    // Cloning a template needs it idle; concurrent clones of one template can collide, so retry.
    let mut attempt = 0;
    loop {
        match sqlx::query(&format!("CREATE DATABASE \"{db}\" TEMPLATE \"{template}\""))
            .execute(&mut conn)
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < 50 => {
                attempt += 1;
                tracing::debug!(error = %e, "template busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => panic!("creating test database: {e}"),
        }
    }
    let store = Store::connect(&with_database(admin, &db), 8).await.unwrap();
    let mut c = store.pool().acquire().await.unwrap();
    for (key, secret, account) in [
        ("test", "test", ACCOUNT),
        ("other", "other-secret", OTHER_ACCOUNT),
    ] {
        credentials::create_if_absent(
            &mut c,
            &credentials::Credential {
                access_key_id: key.into(),
                secret_access_key: secret.into(),
                account_id: account.into(),
            },
        )
        .await
        .unwrap();
    }
    drop(c);
    let config = Config::from_env(&Default::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control_plane = ControlPlane::start(listener, store.clone(), &config, CLUSTER_TOKEN.into())
        .await
        .unwrap();
    TestApp {
        addr: control_plane.addr,
        store,
        db,
        control_plane: Some(control_plane),
    }
}

fn http_client() -> aws_sdk_apigateway::config::SharedHttpClient {
    static CLIENT: OnceLock<aws_sdk_apigateway::config::SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| aws_smithy_http_client::Builder::new().build_http())
        .clone()
}

impl TestApp {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SDK signed as account 000000000000 in us-east-1.
    pub fn client(&self) -> Client {
        self.client_as("test", "test", REGION)
    }

    /// The SDK signed as account 111111111111.
    pub fn other_client(&self) -> Client {
        self.client_as("other", "other-secret", REGION)
    }

    pub fn client_as(&self, key: &str, secret: &str, region: &str) -> Client {
        Client::from_conf(self.config_builder(key, secret, region).build())
    }

    pub fn config_builder(
        &self,
        key: &str,
        secret: &str,
        region: &str,
    ) -> aws_sdk_apigateway::config::Builder {
        aws_sdk_apigateway::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(key, secret, None, None, "gatehouse-tests"))
            .endpoint_url(self.url())
            .http_client(http_client())
    }
}

/// The AWS error code and message of an SDK error.
pub fn err_of<E, R>(e: aws_sdk_apigateway::error::SdkError<E, R>) -> (String, String)
where
    E: aws_sdk_apigateway::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let meta = e
        .as_service_error()
        .map(|s| (s.code().map(str::to_owned), s.message().map(str::to_owned)));
    match meta {
        Some((Some(code), message)) => (code, message.unwrap_or_default()),
        _ => panic!("expected a service error, got {e:?}"),
    }
}

/// Creates an API and returns `(api_id, root_resource_id)`.
pub async fn create_api(client: &Client, name: &str) -> (String, String) {
    let api = client.create_rest_api().name(name).send().await.unwrap();
    (api.id.unwrap(), api.root_resource_id.unwrap())
}

/// Adds a `GET` with a MOCK integration on `resource_id`.
pub async fn put_mock_method(client: &Client, api_id: &str, resource_id: &str, verb: &str) {
    client
        .put_method()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(verb)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(verb)
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
}

impl TestApp {
    pub fn control_plane_url(&self) -> String {
        self.control_plane
            .as_ref()
            .map(ControlPlane::url)
            .unwrap_or_else(|| self.url())
    }

    /// A worker on an ephemeral port following this app's control plane.
    pub async fn start_worker(
        &self,
        cache_dir: Option<std::path::PathBuf>,
        lambda_endpoint: Option<String>,
    ) -> gatehouse::server::Worker {
        start_worker_at(&self.url(), cache_dir, lambda_endpoint).await
    }

    /// Another control-plane replica on the same database.
    pub async fn start_replica(&self) -> ControlPlane {
        let config = Config::from_env(&Default::default()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let store = Store::connect(&with_database(admin_url().await, &self.db), 4)
            .await
            .unwrap();
        ControlPlane::start(listener, store, &config, CLUSTER_TOKEN.into())
            .await
            .unwrap()
    }
}

pub async fn start_worker_at(
    control_plane: &str,
    cache_dir: Option<std::path::PathBuf>,
    lambda_endpoint: Option<String>,
) -> gatehouse::server::Worker {
    let aws = gatehouse::dataplane::settings::AwsSettings {
        endpoints: lambda_endpoint
            .into_iter()
            .map(|url| ("lambda".to_owned(), url))
            .collect(),
        ..Default::default()
    };
    start_worker_full(control_plane, cache_dir, aws).await
}

/// A worker calling AWS services where `aws` says.
pub async fn start_worker_with(
    control_plane: &str,
    aws: gatehouse::dataplane::settings::AwsSettings,
) -> gatehouse::server::Worker {
    start_worker_full(control_plane, None, aws).await
}

async fn start_worker_full(
    control_plane: &str,
    cache_dir: Option<std::path::PathBuf>,
    aws: gatehouse::dataplane::settings::AwsSettings,
) -> gatehouse::server::Worker {
    start_worker_timed(control_plane, cache_dir, aws, Default::default()).await
}

/// A worker giving its clients `timeouts`.
pub async fn start_worker_timed(
    control_plane: &str,
    cache_dir: Option<std::path::PathBuf>,
    aws: gatehouse::dataplane::settings::AwsSettings,
    client_timeouts: gatehouse::dataplane::settings::ClientTimeouts,
) -> gatehouse::server::Worker {
    gatehouse::server::Worker::start(
        "127.0.0.1:0".parse().unwrap(),
        Some(1),
        gatehouse::server::WorkerOptions {
            control_plane: control_plane.to_owned(),
            token: CLUSTER_TOKEN.into(),
            worker_id: None,
            cache_dir,
            aws,
            access_log_dir: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("access-logs")),
            client_timeouts,
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
        },
    )
    .await
    .unwrap()
}

/// Polls `check` every 10 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// An HTTP client that resolves `{api}.execute-api.localhost` to the worker.
pub fn invoker(api_id: &str, worker: &gatehouse::server::Worker) -> reqwest::Client {
    reqwest::Client::builder()
        .resolve(&format!("{api_id}.execute-api.localhost"), worker.addr)
        .no_proxy()
        .build()
        .unwrap()
}

/// The host-based invoke URL of `path` on `stage`.
pub fn invoke_url(api_id: &str, worker: &gatehouse::server::Worker, stage: &str, path: &str) -> String {
    format!(
        "http://{api_id}.execute-api.localhost:{}/{stage}{path}",
        worker.addr.port()
    )
}

/// Whether `worker` serves `stage` of `api` within 5 s.
pub async fn serving(worker: &gatehouse::server::Worker, api: &str, stage: &str) -> bool {
    eventually(std::time::Duration::from_secs(5), || async {
        worker.runtime.load().stage(api, stage).is_some()
    })
    .await
}
