//! The only module that speaks SQL. `Store` owns the pool; each repo module takes a
//! `&mut PgConnection` so the handler that calls it owns the transaction.

pub mod accounts;
pub mod api_documents;
pub mod apis;
pub mod certificates;
pub mod client_certificates;
pub mod credentials;
pub mod deployments;
pub mod domain_names;
pub mod embedded;
pub mod error;
pub mod http_apis;
pub mod live;
pub mod methods;
pub mod resources;
pub mod rest_apis;
pub mod revision;
pub mod stages;
pub mod usage;
pub mod usage_plans;
pub mod vpc_links;
pub mod websockets;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

pub use error::StoreError;

pub type Tx = Transaction<'static, Postgres>;

/// Migrations embedded in the binary (`migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How a read locks the row it returns, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    None,
    /// Held by writers of an API's methods: many at once, but never during a deployment's read.
    Share,
    /// Held by tree changes and by `CreateDeployment` while it freezes the definition.
    Update,
}

impl RowLock {
    pub fn sql(self) -> &'static str {
        match self {
            RowLock::None => "",
            RowLock::Share => " FOR SHARE",
            RowLock::Update => " FOR UPDATE",
        }
    }
}

/// Who owns a row: every top-level resource is scoped by account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub account_id: String,
    pub region: String,
}

#[derive(Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A read-only transaction that sees one snapshot of the database throughout.
    pub async fn begin_snapshot_read(&self) -> Result<Tx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// A page of a listing: AWS's `position` cursor is the `seq` of the last row returned.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after_seq: i64,
    pub limit: i64,
}

pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor to pass back for the next page, when there is one.
    pub next: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `LIMIT limit + 1`.
    pub fn from_rows(mut rows: Vec<(i64, T)>, limit: i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(|(seq, _)| *seq)
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(|(_, t)| t).collect(),
            next,
        }
    }
}
