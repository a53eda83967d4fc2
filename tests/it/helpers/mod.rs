//! The fixtures every test uses: `spawn_app()` (a management API on port 0 over a fresh
//! database, [`db`]), the SDK signed as one of two accounts, APIs built through it ([`api`]),
//! and workers that serve them ([`worker`]).

pub mod api;
pub mod db;
pub mod worker;

use std::net::SocketAddr;
use std::sync::OnceLock;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::{BehaviorVersion, Credentials, Region};
use gatehouse::config::Config;
use gatehouse::server::ControlPlane;
use gatehouse::store::{Store, credentials};
use tokio::net::TcpListener;

pub use api::*;
pub use worker::*;

pub const ACCOUNT: &str = "000000000000";
pub const OTHER_ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";

pub const CLUSTER_TOKEN: &str = "test-cluster-token";
/// A sealer under [`CERTIFICATE_KEY`].
pub fn test_sealer() -> gatehouse::store::certificates::Sealer {
    gatehouse::store::certificates::Sealer::parse(CERTIFICATE_KEY).unwrap()
}

/// What the test control planes seal imported certificates' keys under.
pub const CERTIFICATE_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// The test's database, for starting more control-plane replicas on it.
    pub db: String,
    pub control_plane: Option<ControlPlane>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A control plane configured by the environment variables `env` (e.g. its Lambda endpoint,
/// which TestInvoke calls use).
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let (db, url) = db::fresh_database("gh_it").await;
    let store = Store::connect(&url, 8).await.unwrap();
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
    let mut env: std::collections::HashMap<String, String> =
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.entry("GATEHOUSE_CERTIFICATE_KEY".into())
        .or_insert_with(|| CERTIFICATE_KEY.into());
    let config = Config::from_env(&env).unwrap();
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

pub fn http_client() -> aws_sdk_apigateway::config::SharedHttpClient {
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

    /// The `apigatewayv2` SDK, signed as `key` in `region`.
    pub fn v2_client_as(&self, key: &str, secret: &str, region: &str) -> aws_sdk_apigatewayv2::Client {
        let config = aws_sdk_apigatewayv2::Config::builder()
            .behavior_version(aws_sdk_apigatewayv2::config::BehaviorVersion::latest())
            .region(aws_sdk_apigatewayv2::config::Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(key, secret, None, None, "gatehouse-tests"))
            .endpoint_url(self.url())
            .http_client(http_client())
            .build();
        aws_sdk_apigatewayv2::Client::from_conf(config)
    }

    /// The `apigatewayv2` SDK signed as account 000000000000 in us-east-1.
    pub fn v2_client(&self) -> aws_sdk_apigatewayv2::Client {
        self.v2_client_as("test", "test", REGION)
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

impl TestApp {
    pub fn control_plane_url(&self) -> String {
        self.control_plane
            .as_ref()
            .map(ControlPlane::url)
            .unwrap_or_else(|| self.url())
    }

    /// A worker on an ephemeral port following this app's control plane, with a config cache
    /// in `cache_dir` and Lambda at `lambda_endpoint` when given ([`WorkerBuilder`] for more).
    pub async fn start_worker(
        &self,
        cache_dir: Option<std::path::PathBuf>,
        lambda_endpoint: Option<String>,
    ) -> gatehouse::server::Worker {
        let mut worker = WorkerBuilder::new(&self.control_plane_url());
        if let Some(dir) = cache_dir {
            worker = worker.cache_dir(dir);
        }
        if let Some(url) = lambda_endpoint {
            worker = worker.lambda(url);
        }
        worker.start().await
    }

    /// Another control-plane replica on the same database.
    pub async fn start_replica(&self) -> ControlPlane {
        let env = [("GATEHOUSE_CERTIFICATE_KEY".to_owned(), CERTIFICATE_KEY.to_owned())].into();
        let config = Config::from_env(&env).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let store = Store::connect(&db::with_database(db::admin_url().await, &self.db), 4)
            .await
            .unwrap();
        ControlPlane::start(listener, store, &config, CLUSTER_TOKEN.into())
            .await
            .unwrap()
    }
}
