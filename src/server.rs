//! Start-up and the roles: the database (given or embedded), migrations, bootstrap credentials,
//! and the management API's listener with graceful shutdown.

use std::future::Future;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{
    BootstrapCredentials, Config, LOOPBACK_ACCESS_KEY_ID, LOOPBACK_ACCOUNT_ID, LOOPBACK_SECRET_ACCESS_KEY,
};
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

/// Serves the management API on `listener` until `shutdown` resolves.
pub async fn serve_management(
    listener: TcpListener,
    store: Store,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = management::router(AppState {
        store,
        max_body_bytes: config.max_body_bytes,
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
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

/// `gatehouse serve` / `gatehouse control-plane`: the management API on its port.
pub async fn run_control_plane(config: Config, allow_embedded: bool) -> anyhow::Result<()> {
    config.check_exposure()?;
    let db = Database::open(&config, allow_embedded, false).await?;
    let creds = bootstrap_credentials(&db.store, &config).await?;
    let listener = TcpListener::bind(config.management_addr)
        .await
        .with_context(|| format!("binding the management API to {}", config.management_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(management.addr = %addr, "management api listening");
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
    serve_management(listener, db.store.clone(), &config, shutdown_signal()).await?;
    tracing::info!("shutting down");
    db.close().await
}
