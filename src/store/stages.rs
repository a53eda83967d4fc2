//! Stages: live configuration. Every write here bumps the config revision (see `revision`).

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{StoreError, revision};
use crate::domain::stage::Stage;

fn canary_deployment(s: &Stage) -> Option<&str> {
    s.canary_settings
        .as_ref()
        .and_then(|c| c.deployment_id.as_deref())
}

pub async fn insert(conn: &mut PgConnection, api_id: &str, s: &Stage) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO stages (api_id, name, deployment_id, canary_deployment_id, doc) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(api_id)
    .bind(&s.stage_name)
    .bind(&s.deployment_id)
    .bind(canary_deployment(s))
    .bind(Json(s))
    .execute(&mut *conn)
    .await?;
    revision::bump(conn, "stage", api_id, &s.stage_name).await
}

pub async fn get(conn: &mut PgConnection, api_id: &str, name: &str, lock: bool) -> Result<Stage, StoreError> {
    let sql = if lock {
        "SELECT doc FROM stages WHERE api_id = $1 AND name = $2 FOR UPDATE"
    } else {
        "SELECT doc FROM stages WHERE api_id = $1 AND name = $2"
    };
    let (doc,): (serde_json::Value,) = sqlx::query_as(sql)
        .bind(api_id)
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// All stages of an API, optionally only those serving `deployment_id`.
pub async fn list(
    conn: &mut PgConnection,
    api_id: &str,
    deployment_id: Option<&str>,
) -> Result<Vec<Stage>, StoreError> {
    let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
        "SELECT doc FROM stages WHERE api_id = $1 AND ($2::text IS NULL OR deployment_id = $2) ORDER BY seq",
    )
    .bind(api_id)
    .bind(deployment_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(doc,)| decode(doc)).collect()
}

pub async fn update(conn: &mut PgConnection, api_id: &str, s: &Stage) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE stages SET deployment_id = $3, canary_deployment_id = $4, doc = $5 WHERE api_id = $1 AND name = $2",
    )
    .bind(api_id)
    .bind(&s.stage_name)
    .bind(&s.deployment_id)
    .bind(canary_deployment(s))
    .bind(Json(s))
    .execute(&mut *conn)
    .await?;
    revision::bump(conn, "stage", api_id, &s.stage_name).await
}

pub async fn delete(conn: &mut PgConnection, api_id: &str, name: &str) -> Result<i64, StoreError> {
    let done = sqlx::query("DELETE FROM stages WHERE api_id = $1 AND name = $2")
        .bind(api_id)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    revision::bump(conn, "stage", api_id, name).await
}

/// What a stage's flush empties, on every worker.
#[derive(Debug, Clone, Copy)]
pub enum Flushed {
    /// FlushStageAuthorizersCache: the stage's authorizer results.
    Authorizers,
    /// FlushStageCache: the stage's cached answers.
    Cache,
}

/// A new generation of what `what` names for the stage; workers learn it with the stage.
pub async fn flush(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    what: Flushed,
) -> Result<i64, StoreError> {
    let column = match what {
        Flushed::Authorizers => "authorizers_flushed",
        Flushed::Cache => "cache_flushed",
    };
    let done = sqlx::query(&format!(
        "UPDATE stages SET {column} = {column} + 1 WHERE api_id = $1 AND name = $2"
    ))
    .bind(api_id)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    revision::bump(conn, "stage", api_id, name).await
}

/// Whether any stage of the API serves `deployment_id`, as its deployment or its canary's.
pub async fn uses_deployment(
    conn: &mut PgConnection,
    api_id: &str,
    deployment_id: &str,
) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = sqlx::query_as(
        "SELECT 1 FROM stages WHERE api_id = $1 AND (deployment_id = $2 OR canary_deployment_id = $2) LIMIT 1",
    )
    .bind(api_id)
    .bind(deployment_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}
