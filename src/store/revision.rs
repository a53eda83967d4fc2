//! The live-config revision: one counter bumped by every change that workers must learn about
//! without a deployment, in the writer's transaction, with a NOTIFY that Postgres delivers on commit.

use sqlx::PgConnection;

use super::StoreError;

/// The channel control-plane replicas LISTEN on.
pub const CHANNEL: &str = "gatehouse_config";

/// Bumps the revision, records what changed, and queues the notification. Returns the new revision.
pub async fn bump(conn: &mut PgConnection, kind: &str, api_id: &str, key: &str) -> Result<i64, StoreError> {
    let (revision,): (i64,) =
        sqlx::query_as("UPDATE config_revision SET revision = revision + 1 RETURNING revision")
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query("INSERT INTO config_changes (revision, kind, api_id, key) VALUES ($1, $2, $3, $4)")
        .bind(revision)
        .bind(kind)
        .bind(api_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(revision.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(revision)
}

/// How many revisions of `config_changes` are kept for workers catching up with deltas.
pub const KEPT_CHANGES: i64 = 10_000;

/// Drops change records older than [`KEPT_CHANGES`] revisions (workers that far behind get the
/// full configuration instead).
pub async fn prune(conn: &mut PgConnection) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM config_changes WHERE revision < (SELECT revision FROM config_revision) - $1",
    )
    .bind(KEPT_CHANGES)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn current(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let (revision,): (i64,) = sqlx::query_as("SELECT revision FROM config_revision")
        .fetch_one(conn)
        .await?;
    Ok(revision)
}
