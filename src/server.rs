//! Start-up and the roles: the database (given or embedded), migrations, bootstrap credentials,
//! and the management API's listener with graceful shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{
    BootstrapCredentials, Config, LOOPBACK_ACCESS_KEY_ID, LOOPBACK_ACCOUNT_ID, LOOPBACK_SECRET_ACCESS_KEY,
};
use crate::dataplane::observe::{AccessLogSink, Metrics};
use crate::dataplane::{self, config::RuntimeConfig, settings::AwsSettings, state::DataPlane};
use crate::distribution::publisher::Publisher;
use crate::distribution::subscriber::{Subscriber, SubscriberConfig};
use crate::domain::ids;
use crate::management::{self, AppState};
use crate::store::embedded::EmbeddedPostgres;
use crate::store::{Store, credentials};

/// The database a role runs on, and the embedded cluster to stop afterwards, if any.
pub struct Database {
    pub store: Store,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or (when `allow_embedded`) starts the embedded cluster, and
    /// applies migrations. `reuse_running` adopts an embedded cluster another process started.
    pub async fn open(config: &Config, allow_embedded: bool, reuse_running: bool) -> anyhow::Result<Self> {
        let (url, embedded) = match &config.database_url {
            Some(url) => (url.clone(), None),
            None if allow_embedded => {
                let pg = EmbeddedPostgres::start(&config.data_dir, reuse_running).await?;
                ensure_database(&pg, "gatehouse").await?;
                (pg.url("gatehouse"), Some(pg))
            }
            None => anyhow::bail!("DATABASE_URL is required for this role (only `serve` embeds PostgreSQL)"),
        };
        let store = Store::connect(&url, config.max_db_connections)
            .await
            .context("connecting to PostgreSQL")?;
        store.migrate().await.context("applying migrations")?;
        Ok(Self { store, embedded })
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.store.pool().close().await;
        if let Some(pg) = self.embedded {
            pg.stop().await?;
        }
        Ok(())
    }
}

/// Creates database `name` in the embedded cluster unless it exists.
async fn ensure_database(pg: &EmbeddedPostgres, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&pg.url("postgres"))
        .await
        .context("connecting to embedded PostgreSQL")?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// Makes sure the configured credentials exist. Without explicit ones, a loopback-only server
/// gets `test`/`test` for account `000000000000`, printed for the user.
pub async fn bootstrap_credentials(store: &Store, config: &Config) -> anyhow::Result<BootstrapCredentials> {
    config.check_exposure()?;
    let creds = config
        .bootstrap_credentials
        .clone()
        .unwrap_or_else(|| BootstrapCredentials {
            access_key_id: LOOPBACK_ACCESS_KEY_ID.into(),
            secret_access_key: LOOPBACK_SECRET_ACCESS_KEY.into(),
            account_id: LOOPBACK_ACCOUNT_ID.into(),
        });
    let mut conn = store.pool().acquire().await?;
    credentials::create_if_absent(
        &mut conn,
        &credentials::Credential {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            account_id: creds.account_id.clone(),
        },
    )
    .await?;
    Ok(creds)
}

/// A running control plane: the management API and the internal endpoints workers follow, on
/// one port. Dropping it (or [`ControlPlane::stop`]) ends streams and shuts the server down.
pub struct ControlPlane {
    pub addr: SocketAddr,
    closing: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl ControlPlane {
    pub async fn start(
        listener: TcpListener,
        store: Store,
        config: &Config,
        token: Arc<str>,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let (closing, closed) = watch::channel(false);
        let replica: Arc<str> = format!("control-plane@{addr}").into();
        let sealer = Arc::new(certificate_sealer(config, true)?);
        let publisher =
            Publisher::start(store.clone(), token, sealer.clone(), replica, closed.clone()).await?;
        let app = publisher
            .clone()
            .metrics_router()
            .merge(publisher.router())
            .merge(management::router(AppState {
                store,
                sealer,
                max_body_bytes: config.max_body_bytes,
                tester: Arc::new(dataplane::state::DataPlane::new(
                    Default::default(),
                    AwsSettings::from_env(config.aws_endpoints.clone(), &config.env),
                    Default::default(),
                    dataplane::observe::AccessLogSink::start(None),
                    Default::default(),
                    Default::default(),
                )),
            }));
        let mut until_closed = closed;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = until_closed.wait_for(|c| *c).await;
                })
                .await
        });
        Ok(Self { addr, closing, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Ends every worker stream and waits (a bounded time) for the server to finish.
    pub async fn stop(self) {
        let _ = self.closing.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.task).await;
    }
}

/// What a worker needs to know.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub control_plane: String,
    pub token: String,
    pub worker_id: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub aws: AwsSettings,
    /// Access log lines go to files here (one per log group); stdout when unset.
    pub access_log_dir: Option<PathBuf>,
    /// How long clients get to send requests and read answers.
    pub client_timeouts: dataplane::settings::ClientTimeouts,
    /// Where the worker's Prometheus metrics are served: apart from the data plane, which
    /// anyone who calls an API can reach (the metrics name every API, stage and resource).
    pub metrics_addr: Option<SocketAddr>,
    /// Front proxies whose `X-Forwarded-For` the data plane believes (resource policies'
    /// `aws:SourceIp`).
    pub trusted_proxies: Vec<crate::iam::Cidr>,
    /// The most one stage's cache may hold, in bytes.
    pub cache_stage_limit: u64,
    /// The Redis server that keeps rate limits for the fleet; none: each worker its share.
    pub rate_limit_redis: Option<String>,
    /// Where custom domains are served over TLS (port 0 picks one); none: not at all.
    pub tls_addr: Option<SocketAddr>,
}

/// A running worker: the data plane on one current-thread runtime per core (each with its own
/// `SO_REUSEPORT` listener and connection pool, no work stealing on the hot path), fed by a
/// subscriber on the caller's runtime.
pub struct Worker {
    pub addr: SocketAddr,
    /// Where it serves custom domains over TLS, if anywhere.
    pub tls_addr: Option<SocketAddr>,
    /// Where its metrics are served, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub worker_id: String,
    pub runtime: Arc<ArcSwap<RuntimeConfig>>,
    /// Its rate-limit buckets, and the fleet size it was last told.
    pub limiters: Arc<dataplane::throttle::Limiters>,
    closing: watch::Sender<bool>,
    follow: JoinHandle<()>,
    /// The data-plane threads, and the task that tells the control plane of WebSocket
    /// connections: a draining worker waits for them.
    threads: Vec<std::thread::JoinHandle<()>>,
    reporting: Option<JoinHandle<()>>,
}

impl Worker {
    /// Stops the worker cleanly: its data-plane threads finish their connections (WebSocket
    /// sessions close with 1001 and run `$disconnect`), then the connections they closed are
    /// told to the control plane. Bounded: a few seconds at most.
    pub async fn drain(mut self) {
        let _ = self.closing.send(true);
        let threads = std::mem::take(&mut self.threads);
        let joined = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        });
        let _ = tokio::time::timeout(std::time::Duration::from_secs(8), joined).await;
        if let Some(reporting) = self.reporting.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), reporting).await;
        }
    }

    /// Starts a worker on `addr` (port 0 picks one) with `threads` data-plane threads
    /// (default: one per core).
    pub async fn start(
        addr: SocketAddr,
        threads: Option<usize>,
        opts: WorkerOptions,
    ) -> anyhow::Result<Self> {
        let threads = threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        // SO_REUSEPORT would let a second worker silently share a port already in use: a plain
        // bind first fails loudly instead.
        if addr.port() != 0 {
            drop(std::net::TcpListener::bind(addr)?);
        }
        let first = dataplane::server::reuseport_listener(addr)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..threads {
            listeners.push(dataplane::server::reuseport_listener(addr)?);
        }
        // The TLS listeners, one per thread as the plain ones.
        let mut tls_listeners = Vec::new();
        let mut tls_addr = None;
        if let Some(at) = opts.tls_addr {
            if at.port() != 0 {
                drop(std::net::TcpListener::bind(at)?);
            }
            let first = dataplane::server::reuseport_listener(at)?;
            let bound = first.local_addr()?;
            tls_listeners.push(first);
            for _ in 1..threads {
                tls_listeners.push(dataplane::server::reuseport_listener(bound)?);
            }
            tls_addr = Some(bound);
        }
        let tls_domains = Arc::new(ArcSwap::from_pointee(crate::tls::TlsDomains::default()));
        let runtime = Arc::new(ArcSwap::from_pointee(RuntimeConfig::default()));
        let key_hasher = crate::domain::usage_plan::KeyHasher::from_secret(&opts.token);
        let limiters = Arc::new(match &opts.rate_limit_redis {
            Some(url) => dataplane::throttle::Limiters::with_redis(
                dataplane::throttle::redis::RedisLimits::connect(url)
                    .map_err(|e| anyhow::anyhow!("the rate-limit backend: {e}"))?,
            ),
            None => dataplane::throttle::Limiters::default(),
        });
        if let Some(remote) = limiters.remote() {
            remote.warm_up().await;
        }
        let usage = Arc::new(dataplane::usage::UsageCounter::default());
        let caches = Arc::new(dataplane::cache::ResponseCaches::with_stage_limit(
            opts.cache_stage_limit,
        ));
        let control_plane = opts.control_plane.trim_end_matches('/').to_owned();
        let token = opts.token.clone();
        let websockets = Arc::new(dataplane::websocket::Registry::default());
        let (reporter_control_plane, reporter_token) = (control_plane.clone(), token.clone());
        let worker_id = opts
            .worker_id
            .unwrap_or_else(|| format!("worker-{}-{}", addr.port(), ids::random_id(6)));
        let mut subscriber = Subscriber::new(
            SubscriberConfig {
                control_plane: opts.control_plane.trim_end_matches('/').to_owned(),
                token: opts.token,
                worker_id: worker_id.clone(),
                address: addr.to_string(),
                cache_dir: opts.cache_dir,
            },
            runtime.clone(),
        )
        .with_limiters(limiters.clone())
        .with_caches(caches)
        .with_websockets(websockets.clone())
        .with_tls(tls_domains.clone());
        if let Err(e) = subscriber.load_cache() {
            tracing::warn!(error = %e, "the config cache cannot be used; waiting for the control plane");
        }
        let follow = tokio::spawn(subscriber.run());
        let metrics = Arc::new(Metrics::default());
        let access_logs = AccessLogSink::start(opts.access_log_dir);
        let (closing, closed) = watch::channel(false);
        let reporter = crate::distribution::reporter::Reporter {
            client: dataplane::client::verifying(),
            control_plane,
            token,
            worker_id: worker_id.clone(),
            usage: usage.clone(),
        };
        tokio::spawn(reporter.run(closed.clone()));
        // The WebSocket connections the worker holds, told to the control plane's registry.
        let relay = dataplane::websocket::fleet::Relay {
            client: dataplane::client::verifying(),
            control_plane: reporter_control_plane,
            token: reporter_token,
            worker_id: worker_id.clone(),
        };
        let (changes, changed) = tokio::sync::mpsc::unbounded_channel();
        websockets.report_to(changes, relay.clone());
        let reporting = tokio::spawn(dataplane::websocket::fleet::report(
            relay,
            changed,
            closed.clone(),
        ));
        let mut threads = Vec::new();
        let metrics_addr = match opts.metrics_addr {
            Some(at) => {
                let listener = TcpListener::bind(at)
                    .await
                    .with_context(|| format!("binding the worker's metrics to {at}"))?;
                let bound = listener.local_addr()?;
                tokio::spawn(serve_metrics(
                    listener,
                    metrics.clone(),
                    runtime.clone(),
                    closed.clone(),
                ));
                Some(bound)
            }
            None => None,
        };
        // One authorizer cache and one set of issuers' keys for all the threads: a TTL means
        // one call per identity per worker.
        let shared = Arc::new(dataplane::state::Shared {
            trusted_proxies: opts.trusted_proxies.clone(),
            key_hasher,
            limiters,
            usage,
            websockets,
            draining: Some(closed.clone()),
            tls: tls_addr.map(|_| tls_domains.clone()),
            ..Default::default()
        });
        let mut tls_listeners = tls_listeners.into_iter();
        for (i, listener) in listeners.into_iter().enumerate() {
            let tls = tls_listeners.next().map(|l| (l, tls_domains.clone()));
            let (runtime, aws, metrics, access_logs, shared) = (
                runtime.clone(),
                opts.aws.clone(),
                metrics.clone(),
                access_logs.clone(),
                shared.clone(),
            );
            let timeouts = opts.client_timeouts;
            let mut closed = closed.clone();
            let thread = std::thread::Builder::new()
                .name(format!("gatehouse-dp-{i}"))
                .spawn(move || {
                    // Sockets and timers only: the signal and process drivers would look for
                    // signals and reap child processes every time the thread parks.
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .enable_time()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => return tracing::error!(error = %e, "cannot start a data-plane thread"),
                    };
                    rt.block_on(async move {
                        let listener = match TcpListener::from_std(listener) {
                            Ok(l) => l,
                            Err(e) => return tracing::error!(error = %e, "cannot listen"),
                        };
                        let dp = Arc::new(DataPlane::new(
                            runtime,
                            aws,
                            metrics,
                            access_logs,
                            timeouts,
                            shared,
                        ));
                        let mut tls_closed = closed.clone();
                        let stop = async move {
                            let _ = closed.wait_for(|c| *c).await;
                        };
                        let plain = dataplane::server::serve(listener, dp.clone(), stop);
                        let tls = async move {
                            let Some((listener, domains)) = tls else {
                                return Ok(());
                            };
                            let listener = TcpListener::from_std(listener)?;
                            let stop = async move {
                                let _ = tls_closed.wait_for(|c| *c).await;
                            };
                            dataplane::server::serve_tls(listener, dp, domains, stop).await
                        };
                        let (plain, tls) = tokio::join!(plain, tls);
                        if let Err(e) = plain.and(tls) {
                            tracing::error!(error = %e, "data plane stopped");
                        }
                    });
                })?;
            threads.push(thread);
        }
        Ok(Self {
            addr,
            tls_addr,
            metrics_addr,
            worker_id,
            runtime,
            limiters: shared.limiters.clone(),
            closing,
            follow,
            threads,
            reporting: Some(reporting),
        })
    }

    /// The configuration revision this worker serves.
    pub fn revision(&self) -> i64 {
        self.runtime.load().revision
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.closing.send(true);
        self.follow.abort();
    }
}

/// Serves a worker's Prometheus metrics on `listener` (any path but `/metrics` is a 404) until
/// the worker closes.
async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    runtime: Arc<ArcSwap<RuntimeConfig>>,
    mut closed: watch::Receiver<bool>,
) {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let body = metrics.render(runtime.load().revision);
            async move { ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body) }
        }),
    );
    let until_closed = async move {
        let _ = closed.wait_for(|c| *c).await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(until_closed)
        .await
    {
        tracing::warn!(error = %e, "the metrics listener stopped");
    }
}

/// The metrics address a worker started from `config` uses: a default one already taken (a
/// second worker on the machine) is skipped with a warning; a given one must be free.
fn metrics_addr(config: &Config) -> anyhow::Result<Option<SocketAddr>> {
    let Some(addr) = config.metrics_addr else {
        return Ok(None);
    };
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Ok(Some(addr)),
        Err(e) if !config.metrics_addr_given && e.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(metrics.addr = %addr, "the default metrics address is taken: this worker serves no metrics (set --metrics-listen)");
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("binding the worker's metrics to {addr}")),
    }
}

/// The cluster token: configured, else the one kept in the data dir (created when absent, so a
/// worker on the same machine finds it).
pub fn cluster_token(config: &Config, create: bool) -> anyhow::Result<String> {
    if let Some(t) = &config.cluster_token {
        anyhow::ensure!(t.len() >= 16, "the cluster token must be at least 16 characters");
        return Ok(t.clone());
    }
    let path = config.data_dir.join("cluster-token");
    secret_file(
        &path,
        create,
        "no cluster token: pass --cluster-token, set GATEHOUSE_CLUSTER_TOKEN, or run next to the control plane's data dir",
        || ids::secret_access_key().replace(['/', '+'], "x"),
    )
}

/// What seals imported certificates' private keys: the configured key, else the one kept in
/// the data dir (created when absent and `create`, as the cluster token is).
pub fn certificate_sealer(
    config: &Config,
    create: bool,
) -> anyhow::Result<crate::store::certificates::Sealer> {
    use crate::store::certificates::Sealer;
    if let Some(k) = &config.certificate_key {
        return Sealer::parse(k).map_err(|e| anyhow::anyhow!("GATEHOUSE_CERTIFICATE_KEY: {e}"));
    }
    let path = config.data_dir.join("certificate-key");
    let key = secret_file(
        &path,
        create,
        "no certificate key: set GATEHOUSE_CERTIFICATE_KEY, or run next to the control plane's data dir",
        || {
            let mut key = [0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut key);
            hex::encode(key)
        },
    )?;
    Sealer::parse(&key).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A secret kept in the file `path` (only its owner may read it): read, or made by `make` and
/// written when absent and `create`; `missing` says what to do otherwise.
fn secret_file(
    path: &std::path::Path,
    create: bool,
    missing: &str,
    make: impl FnOnce() -> String,
) -> anyhow::Result<String> {
    if let Ok(t) = std::fs::read_to_string(path) {
        let t = t.trim();
        anyhow::ensure!(
            t.len() >= 16,
            "{} holds no usable secret (at least 16 characters): delete it to make a new one",
            path.display()
        );
        return Ok(t.to_owned());
    }
    anyhow::ensure!(create, "{missing} ({})", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let token = make();
    write_new_secret(path, &token)?;
    Ok(token)
}

/// Writes `secret` to the new file `path`, which only its owner may read (an existing one is
/// not overwritten: two processes making a secret at once do not both win).
pub fn write_new_secret(path: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(secret.as_bytes())?;
    Ok(())
}

/// Imports a certificate chain and its key for `tenant`'s domains (`gatehouse certificates
/// import`), under `arn` or a new ACM ARN of the tenant's: checked (the key must be the
/// certificate's), its names and expiry read, its key sealed.
pub async fn import_certificate(
    conn: &mut sqlx::PgConnection,
    sealer: &crate::store::certificates::Sealer,
    tenant: &crate::store::Tenant,
    arn: Option<String>,
    chain_pem: &str,
    key_pem: &str,
) -> anyhow::Result<crate::store::certificates::Certificate> {
    let facts = crate::tls::describe(chain_pem, key_pem).map_err(anyhow::Error::msg)?;
    let prefix = format!("arn:aws:acm:{}:{}:certificate/", tenant.region, tenant.account_id);
    let arn = arn.unwrap_or_else(|| format!("{prefix}{}", uuid::Uuid::new_v4()));
    anyhow::ensure!(
        arn.strip_prefix(&prefix).is_some_and(|id| !id.is_empty()),
        "the ARN must be an ACM certificate ARN of the account and region: {prefix}..."
    );
    let cert = crate::store::certificates::Certificate {
        arn,
        domain_names: facts.names,
        not_after: facts.not_after,
        imported_at: crate::domain::now(),
    };
    let mut tx = sqlx::Acquire::begin(conn).await?;
    crate::store::certificates::import(&mut tx, tenant, sealer, &cert, chain_pem, key_pem).await?;
    tx.commit().await?;
    Ok(cert)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `gatehouse serve` (with an embedded worker) / `gatehouse control-plane`.
pub async fn run_control_plane(config: Config, embedded_worker: bool) -> anyhow::Result<()> {
    config.check_exposure()?;
    let db = Database::open(&config, embedded_worker, false).await?;
    let creds = bootstrap_credentials(&db.store, &config).await?;
    let token: Arc<str> = cluster_token(&config, true)?.into();
    let listener = TcpListener::bind(config.management_addr)
        .await
        .with_context(|| format!("binding the management API to {}", config.management_addr))?;
    let cp = ControlPlane::start(listener, db.store.clone(), &config, token.clone()).await?;
    tracing::info!(management.addr = %cp.addr, "management api listening");
    let worker = if embedded_worker {
        let aws = AwsSettings::from_env(config.aws_endpoints.clone(), &config.env);
        let opts = WorkerOptions {
            control_plane: cp.url(),
            token: token.to_string(),
            worker_id: Some("embedded".into()),
            cache_dir: None,
            aws,
            access_log_dir: config.access_log_dir.clone(),
            client_timeouts: Default::default(),
            metrics_addr: metrics_addr(&config)?,
            trusted_proxies: config.trusted_proxies.clone(),
            cache_stage_limit: config.cache_max_bytes,
            rate_limit_redis: config.rate_limit_redis.clone(),
            tls_addr: config.data_plane_tls_addr,
        };
        Some(
            Worker::start(config.data_plane_addr, config.data_plane_threads, opts)
                .await
                .with_context(|| format!("starting the data plane on {}", config.data_plane_addr))?,
        )
    } else {
        None
    };
    let addr = cp.addr;
    if config.bootstrap_credentials.is_none() {
        println!(
            "Gatehouse management API on http://{addr}\n  credentials: access key id `{}`, secret `{}` (account {}), any region\n  \
             try: aws --endpoint-url http://{addr} apigateway get-rest-apis",
            creds.access_key_id, creds.secret_access_key, creds.account_id
        );
    } else {
        println!(
            "Gatehouse management API on http://{addr} (access key id `{}`)",
            creds.access_key_id
        );
    }
    if let Some(w) = &worker {
        println!(
            "Gatehouse data plane on http://{} (invoke: http://{{api-id}}.execute-api.localhost:{}/{{stage}}/...)",
            w.addr,
            w.addr.port()
        );
        if let Some(t) = w.tls_addr {
            println!("  custom domains over HTTPS on {t}");
        }
        if let Some(m) = w.metrics_addr {
            println!("  worker metrics on http://{m}/metrics");
        }
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    if let Some(w) = worker {
        w.drain().await;
    }
    cp.stop().await;
    db.close().await
}

/// `gatehouse worker`: a data plane fed by a control plane; holds no database connection.
pub async fn run_worker(config: Config, worker_id: Option<String>) -> anyhow::Result<()> {
    let control_plane = config
        .control_plane_url
        .clone()
        .context("a worker needs --control-plane URL (or GATEHOUSE_CONTROL_PLANE)")?;
    let token = cluster_token(&config, false)?;
    let aws = AwsSettings::from_env(config.aws_endpoints.clone(), &config.env);
    let worker = Worker::start(
        config.data_plane_addr,
        config.data_plane_threads,
        WorkerOptions {
            control_plane,
            token,
            worker_id,
            cache_dir: config.config_cache.clone(),
            aws,
            access_log_dir: config.access_log_dir.clone(),
            client_timeouts: Default::default(),
            metrics_addr: metrics_addr(&config)?,
            trusted_proxies: config.trusted_proxies.clone(),
            cache_stage_limit: config.cache_max_bytes,
            rate_limit_redis: config.rate_limit_redis.clone(),
            tls_addr: config.data_plane_tls_addr,
        },
    )
    .await?;
    println!(
        "Gatehouse worker {} serving on http://{}",
        worker.worker_id, worker.addr
    );
    if let Some(t) = worker.tls_addr {
        println!("  custom domains over HTTPS on {t}");
    }
    shutdown_signal().await;
    worker.drain().await;
    Ok(())
}

/// `gatehouse fleet`: the workers a control plane knows, as a table.
pub async fn print_fleet(config: &Config) -> anyhow::Result<()> {
    use http_body_util::BodyExt;
    let base = config
        .control_plane_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.management_addr));
    let token = cluster_token(config, false)?;
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let req = hyper::Request::get(format!(
        "{}{}",
        base.trim_end_matches('/'),
        crate::distribution::protocol::FLEET_PATH
    ))
    .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
    .body(http_body_util::Full::new(bytes::Bytes::new()))?;
    let res = client
        .request(req)
        .await
        .with_context(|| format!("asking {base} for its fleet"))?;
    anyhow::ensure!(
        res.status().is_success(),
        "the control plane answered {}",
        res.status()
    );
    let body = res.into_body().collect().await?.to_bytes();
    let workers: Vec<crate::store::live::FleetWorker> = serde_json::from_slice(&body)?;
    println!(
        "{:<28} {:<22} {:>9} {:>5} {:>10}  STATUS",
        "WORKER", "ADDRESS", "REVISION", "LAG", "LAST SEEN"
    );
    for w in workers {
        let status = if w.applied {
            "ok".to_owned()
        } else {
            format!("refused: {}", w.last_error.unwrap_or_default())
        };
        println!(
            "{:<28} {:<22} {:>9} {:>5} {:>9.1}s  {}",
            w.worker_id, w.address, w.revision, w.lag, w.last_seen_secs, status
        );
    }
    Ok(())
}
