//! Stages: live configuration. Every write here bumps the config revision (see `revision`).
//! REST and v2 stages share the table, each kind with its own document ([`StageDoc`]).

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, StoreError, revision};

/// A stage document: what the table's key columns are read from.
pub trait StageDoc: Serialize + DeserializeOwned + Sync {
    fn name(&self) -> &str;
    /// The deployment it serves (a v2 stage may have none yet).
    fn deployment(&self) -> Option<&str>;
    fn canary_deployment(&self) -> Option<&str>;
}

impl StageDoc for crate::domain::stage::Stage {
    fn name(&self) -> &str {
        &self.stage_name
    }
    fn deployment(&self) -> Option<&str> {
        Some(&self.deployment_id)
    }
    fn canary_deployment(&self) -> Option<&str> {
        self.canary_settings
            .as_ref()
            .and_then(|c| c.deployment_id.as_deref())
    }
}

impl StageDoc for crate::domain::http_api::Stage {
    fn name(&self) -> &str {
        &self.stage_name
    }
    fn deployment(&self) -> Option<&str> {
        self.deployment_id.as_deref()
    }
    fn canary_deployment(&self) -> Option<&str> {
        None
    }
}

pub async fn insert<S: StageDoc>(conn: &mut PgConnection, api_id: &str, s: &S) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO stages (api_id, name, deployment_id, canary_deployment_id, doc) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(api_id)
    .bind(s.name())
    .bind(s.deployment())
    .bind(s.canary_deployment())
    .bind(Json(s))
    .execute(&mut *conn)
    .await?;
    revision::bump(conn, "stage", api_id, s.name()).await
}

pub async fn get<S: StageDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    lock: bool,
) -> Result<S, StoreError> {
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
pub async fn list<S: StageDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    deployment_id: Option<&str>,
) -> Result<Vec<S>, StoreError> {
    let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
        "SELECT doc FROM stages WHERE api_id = $1 AND ($2::text IS NULL OR deployment_id = $2) ORDER BY seq",
    )
    .bind(api_id)
    .bind(deployment_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(doc,)| decode(doc)).collect()
}

pub async fn update<S: StageDoc>(conn: &mut PgConnection, api_id: &str, s: &S) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE stages SET deployment_id = $3, canary_deployment_id = $4, doc = $5 WHERE api_id = $1 AND name = $2",
    )
    .bind(api_id)
    .bind(s.name())
    .bind(s.deployment())
    .bind(s.canary_deployment())
    .bind(Json(s))
    .execute(&mut *conn)
    .await?;
    revision::bump(conn, "stage", api_id, s.name()).await
}

/// A page of the API's stages, in creation order.
pub async fn page<S: StageDoc>(
    conn: &mut PgConnection,
    api_id: &str,
    page: PageRequest,
) -> Result<Page<S>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> =
        sqlx::query_as("SELECT seq, doc FROM stages WHERE api_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
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
