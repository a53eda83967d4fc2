//! The fleet's WebSocket connections (which worker holds each) and the @connections commands
//! waiting for the worker that holds their connection.

use sqlx::PgConnection;

use super::StoreError;
use super::error::decode;
use super::live::ALIVE_SECS;

/// The NOTIFY channel that wakes the replica streaming to a worker (payload: its id).
pub const CHANNEL: &str = "gatehouse_ws";

/// What GetConnection tells of a connection, as its worker registered it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub api_id: String,
    pub stage: String,
    /// Epoch milliseconds.
    pub connected_at: u64,
    pub source_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// When the client last sent a message (epoch milliseconds), as its worker last told
    /// (within [`crate::dataplane::websocket::ACTIVITY_REPORT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<u64>,
}

impl ConnectionRecord {
    /// GetConnection's answer for the connection, last active at `last_active` (epoch ms).
    pub fn get_connection(&self, last_active: u64) -> serde_json::Value {
        let iso = |ms: u64| {
            chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms as i64)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let mut identity = serde_json::Map::new();
        identity.insert("sourceIp".into(), serde_json::json!(self.source_ip));
        if let Some(ua) = &self.user_agent {
            identity.insert("userAgent".into(), serde_json::json!(ua));
        }
        serde_json::json!({
            "connectedAt": iso(self.connected_at),
            "identity": identity,
            "lastActiveAt": iso(last_active),
        })
    }
}

/// Registers connections a worker holds (again, when it tells of them again: their activity,
/// or all of them as its stream starts), in one statement; a closed one is never reopened.
pub async fn register(
    conn: &mut PgConnection,
    worker_id: &str,
    records: &[ConnectionRecord],
) -> Result<(), StoreError> {
    // The latest record of each connection (a batch may tell of one twice).
    let mut latest: std::collections::HashMap<&str, &ConnectionRecord> = Default::default();
    for r in records {
        latest.insert(&r.connection_id, r);
    }
    let (mut ids, mut apis, mut stages, mut docs) = (vec![], vec![], vec![], vec![]);
    for r in latest.values() {
        ids.push(r.connection_id.as_str());
        apis.push(r.api_id.as_str());
        stages.push(r.stage.as_str());
        docs.push(serde_json::to_value(r).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    }
    sqlx::query(
        "INSERT INTO websocket_connections (connection_id, worker_id, api_id, stage, doc)
         SELECT id, $1, api, stage, doc FROM UNNEST($2::text[], $3::text[], $4::text[], $5::jsonb[])
             AS t(id, api, stage, doc)
         ON CONFLICT (connection_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, doc = EXCLUDED.doc
         WHERE websocket_connections.closed_at IS NULL",
    )
    .bind(worker_id)
    .bind(ids)
    .bind(apis)
    .bind(stages)
    .bind(docs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks connections a worker closed (kept a while, for an at-once 410; see [`sweep`]).
pub async fn unregister(conn: &mut PgConnection, worker_id: &str, ids: &[String]) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE websocket_connections SET closed_at = now()
         WHERE worker_id = $1 AND connection_id = ANY($2) AND closed_at IS NULL",
    )
    .bind(worker_id)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// The connection `id` of an API's stage and the worker holding it, when that worker is alive
/// (a worker not acked yet counts as alive). A connection of a worker gone is not answered for;
/// its row is swept later ([`sweep`]), should the worker only have been slow.
pub async fn find(conn: &mut PgConnection, id: &str, api_id: &str, stage: &str) -> Result<Found, StoreError> {
    let row: Option<(String, serde_json::Value, bool)> = sqlx::query_as(
        "SELECT c.worker_id, c.doc,
                c.closed_at IS NULL AND COALESCE(w.last_seen > now() - make_interval(secs => $4), true)
         FROM websocket_connections c LEFT JOIN fleet_workers w ON w.worker_id = c.worker_id
         WHERE c.connection_id = $1 AND c.api_id = $2 AND c.stage = $3",
    )
    .bind(id)
    .bind(api_id)
    .bind(stage)
    .bind(ALIVE_SECS as f64)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some((worker, doc, true)) => Found::Open(worker, decode(doc)?),
        Some(_) => Found::Gone,
        None => Found::Unknown,
    })
}

/// What the registry knows of a connection.
#[derive(Debug)]
pub enum Found {
    /// Open, on this worker.
    Open(String, ConnectionRecord),
    /// Closed, or its worker is gone.
    Gone,
    /// Never told of: a bad id, or one whose handshake its worker is still telling of.
    Unknown,
}

/// Forgets the connections of workers not heard from for ten minutes and those closed ten
/// minutes ago, and commands older than a minute (their worker did not come for them).
pub async fn sweep(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM websocket_connections c USING fleet_workers w
         WHERE w.worker_id = c.worker_id AND w.last_seen < now() - interval '10 minutes'",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM websocket_connections WHERE closed_at < now() - interval '10 minutes'")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM websocket_commands WHERE created < now() - interval '1 minute'")
        .execute(conn)
        .await?;
    Ok(())
}

/// What may wait for one connection: messages beyond it are refused (its worker is not taking
/// them, or its client not reading them).
pub const QUEUED_BYTES: i64 = 4 << 20;

/// Queues a message for (or the close of) a connection `worker` holds, and wakes the replica
/// streaming to it; false when the connection already has [`QUEUED_BYTES`] waiting.
pub async fn enqueue(
    conn: &mut PgConnection,
    worker: &str,
    connection_id: &str,
    close: bool,
    data: &[u8],
) -> Result<bool, StoreError> {
    let (queued,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(SUM(length(data)), 0)::bigint FROM websocket_commands WHERE connection_id = $1",
    )
    .bind(connection_id)
    .fetch_one(&mut *conn)
    .await?;
    if queued + data.len() as i64 > QUEUED_BYTES {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO websocket_commands (worker_id, connection_id, close, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(worker)
    .bind(connection_id)
    .bind(close)
    .bind(data)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(worker)
        .execute(conn)
        .await?;
    Ok(true)
}

/// A command for a connection: its sequence number (what the worker acknowledges), the
/// connection, whether it closes it, and the message.
pub type Command = (i64, String, bool, Vec<u8>);

/// Hands over the commands waiting for `worker` that `stream` (one of the worker's config
/// streams) has not sent yet, oldest first, marking them sent on it. A command stays until the
/// worker says it delivered it ([`delivered`]): the worker's next stream sends it again should
/// this one die with it (the worker knows what it already delivered).
pub async fn pending(
    conn: &mut PgConnection,
    worker: &str,
    stream: &str,
) -> Result<Vec<Command>, StoreError> {
    let mut rows: Vec<Command> = sqlx::query_as(
        "UPDATE websocket_commands SET sent_on = $2
         WHERE worker_id = $1 AND sent_on IS DISTINCT FROM $2
         RETURNING seq, connection_id, close, data",
    )
    .bind(worker)
    .bind(stream)
    .fetch_all(&mut *conn)
    .await?;
    rows.sort_by_key(|r| r.0);
    Ok(rows)
}

/// Forgets the commands `worker` delivered.
pub async fn delivered(conn: &mut PgConnection, worker: &str, seqs: &[i64]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM websocket_commands WHERE worker_id = $1 AND seq = ANY($2)")
        .bind(worker)
        .bind(seqs)
        .execute(conn)
        .await?;
    Ok(())
}
