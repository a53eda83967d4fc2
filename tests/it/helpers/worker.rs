//! Workers for tests ([`WorkerBuilder`]) and the ways tests call them: a client that resolves an
//! API's execute-api host to the worker, its invoke URLs, and waiting until a stage is served.

use std::path::PathBuf;

use gatehouse::dataplane::settings::{AwsSettings, ClientTimeouts};
use gatehouse::server::{Worker, WorkerOptions};

use super::CLUSTER_TOKEN;

/// A worker following a control plane, on an ephemeral port (and its metrics on another), with
/// the settings a test needs:
/// `WorkerBuilder::new(&app.control_plane_url()).lambda(url).start().await`.
pub struct WorkerBuilder {
    control_plane: String,
    cache_dir: Option<PathBuf>,
    aws: AwsSettings,
    timeouts: ClientTimeouts,
    trusted_proxies: Vec<gatehouse::iam::Cidr>,
    rate_limit_redis: Option<String>,
    tls: bool,
}

impl WorkerBuilder {
    pub fn new(control_plane: &str) -> Self {
        Self {
            control_plane: control_plane.to_owned(),
            cache_dir: None,
            aws: AwsSettings::default(),
            timeouts: ClientTimeouts::default(),
            trusted_proxies: vec![],
            rate_limit_redis: None,
            tls: false,
        }
    }

    /// Serves custom domains over TLS too, on an ephemeral port ([`Worker::tls_addr`]).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Keeps its configuration in `dir` (and starts from it when the control plane is away).
    pub fn cache_dir(mut self, dir: PathBuf) -> Self {
        self.cache_dir = Some(dir);
        self
    }

    /// Calls Lambda's Invoke API at `url`.
    pub fn lambda(mut self, url: impl Into<String>) -> Self {
        self.aws.endpoints.insert("lambda".to_owned(), url.into());
        self
    }

    /// Calls AWS services where `aws` says, signing with its credentials.
    pub fn aws(mut self, aws: AwsSettings) -> Self {
        self.aws = aws;
        self
    }

    /// Gives its clients `timeouts`.
    pub fn timeouts(mut self, timeouts: ClientTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Believes the `X-Forwarded-For` of clients in `cidr`.
    pub fn trusting(mut self, cidr: &str) -> Self {
        self.trusted_proxies
            .push(gatehouse::iam::Cidr::parse(cidr).unwrap());
        self
    }

    /// Keeps rate limits in the Redis server at `url`.
    pub fn redis(mut self, url: &str) -> Self {
        self.rate_limit_redis = Some(url.to_owned());
        self
    }

    pub async fn start(self) -> Worker {
        Worker::start(
            "127.0.0.1:0".parse().unwrap(),
            Some(1),
            WorkerOptions {
                control_plane: self.control_plane,
                token: CLUSTER_TOKEN.into(),
                worker_id: None,
                cache_dir: self.cache_dir,
                aws: self.aws,
                access_log_dir: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("access-logs")),
                client_timeouts: self.timeouts,
                metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
                trusted_proxies: self.trusted_proxies,
                cache_stage_limit: gatehouse::dataplane::cache::DEFAULT_STAGE_LIMIT,
                rate_limit_redis: self.rate_limit_redis,
                tls_addr: self.tls.then(|| "127.0.0.1:0".parse().unwrap()),
            },
        )
        .await
        .unwrap()
    }
}

/// Whether `worker` comes to serve `api`'s `stage` as `check` wants it within 5 s.
pub async fn stage_holds(
    worker: &Worker,
    api: &str,
    stage: &str,
    check: impl Fn(&gatehouse::dataplane::config::StageRuntime) -> bool,
) -> bool {
    eventually(std::time::Duration::from_secs(5), || async {
        worker.runtime.load().stage(api, stage).is_some_and(|s| check(s))
    })
    .await
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
