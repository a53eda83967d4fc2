//! Deployments and the content-addressed snapshots they point at.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, StoreError};

/// A deployment document (REST's or v2's): its id is the table's key.
pub trait DeploymentDoc: Serialize + DeserializeOwned + Sync {
    fn id(&self) -> &str;
}

impl DeploymentDoc for crate::domain::rest_api::Deployment {
    fn id(&self) -> &str {
        &self.id
    }
}

impl DeploymentDoc for crate::domain::http_api::Deployment {
    fn id(&self) -> &str {
        &self.deployment_id
    }
}

/// Stores a snapshot's canonical bytes under their hash, once: an identical definition deployed
/// again shares the stored snapshot. Reusing one refreshes `created_at` (and locks the row), so the
/// collector below never deletes a snapshot a deployment is about to reference.
pub async fn put_snapshot(conn: &mut PgConnection, hash: &str, body: &[u8]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO snapshots (hash, body) VALUES ($1, $2)
         ON CONFLICT (hash) DO UPDATE SET created_at = now()",
    )
    .bind(hash)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes snapshots no deployment references any more, once they are older than `grace`.
pub async fn collect_garbage(conn: &mut PgConnection, grace: std::time::Duration) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM snapshots s
         WHERE s.created_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.snapshot_hash = s.hash)",
    )
    .bind(grace.as_secs_f64())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn get_snapshot(conn: &mut PgConnection, hash: &str) -> Result<Vec<u8>, StoreError> {
    let (body,): (Vec<u8>,) = sqlx::query_as("SELECT body FROM snapshots WHERE hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(body)
}

pub async fn insert<D: DeploymentDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    d: &D,
    snapshot_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO deployments (api_id, id, snapshot_hash, doc) VALUES ($1, $2, $3, $4)")
        .bind(api_id)
        .bind(d.id())
        .bind(snapshot_hash)
        .bind(Json(d))
        .execute(conn)
        .await?;
    Ok(())
}

/// A deployment and the hash of its snapshot.
pub async fn get<D: DeploymentDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
    lock: bool,
) -> Result<(D, String), StoreError> {
    let sql = if lock {
        "SELECT doc, snapshot_hash FROM deployments WHERE api_id = $1 AND id = $2 FOR UPDATE"
    } else {
        "SELECT doc, snapshot_hash FROM deployments WHERE api_id = $1 AND id = $2"
    };
    let (doc, hash): (serde_json::Value, String) = sqlx::query_as(sql)
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((decode(doc)?, hash))
}

pub async fn exists(conn: &mut PgConnection, api_id: &str, id: &str) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM deployments WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub async fn list<D: DeploymentDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    page: PageRequest,
) -> Result<Page<D>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM deployments WHERE api_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(api_id)
    .bind(page.after_seq)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, doc)| Ok((seq, decode(doc)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Only the description of a deployment may change; its snapshot never does.
pub async fn update<D: DeploymentDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    d: &D,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE deployments SET doc = $3 WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(d.id())
        .bind(Json(d))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a deployment; a stage (or canary) still using it makes this a `ForeignKey` error.
pub async fn delete(conn: &mut PgConnection, api_id: &str, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM deployments WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
