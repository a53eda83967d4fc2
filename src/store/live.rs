//! The live configuration workers serve: every stage with the snapshots of its deployment and
//! canary, at a revision; and what changed since a revision.

use sqlx::PgConnection;

use super::StoreError;
use super::certificates::Sealer;
use super::error::decode;
use crate::domain::domain_name::DomainRoute;
use crate::domain::enums::ApiProtocol;
use crate::domain::usage_plan::KeyHasher;

pub use crate::domain::caller::CallerConfig;
pub use crate::domain::stage::StageConfig;

/// The stages workers serve: every kind's.
const STAGES_SQL: &str =
    "SELECT s.api_id, a.account_id, a.region, a.protocol, s.doc, d.snapshot_hash, cd.snapshot_hash, s.authorizers_flushed, s.cache_flushed,
            CASE WHEN (acs.doc->>'throttleEnforced')::boolean THEN acs.doc->'throttleSettings' END
     FROM stages s
     JOIN apis a ON a.id = s.api_id AND a.protocol IN ('REST', 'HTTP', 'WEBSOCKET')
     LEFT JOIN account_settings acs ON acs.account_id = a.account_id AND acs.region = a.region
     JOIN deployments d ON d.api_id = s.api_id AND d.id = s.deployment_id
     LEFT JOIN deployments cd ON cd.api_id = s.api_id AND cd.id = s.canary_deployment_id";

type Row = (
    String,
    String,
    String,
    String,
    serde_json::Value,
    String,
    Option<String>,
    i64,
    i64,
    Option<serde_json::Value>,
);

fn to_config(
    (
        api_id,
        account_id,
        region,
        protocol,
        doc,
        snapshot,
        canary_snapshot,
        authorizers_flushed,
        cache_flushed,
        account_throttle,
    ): Row,
) -> Result<StageConfig, StoreError> {
    let protocol = ApiProtocol::parse(&protocol)
        .ok_or_else(|| StoreError::Corrupt(format!("an API of protocol {protocol:?}")))?;
    // Workers serve every kind's stage from the same runtime settings.
    let stage = match protocol {
        ApiProtocol::Rest => decode(doc)?,
        ApiProtocol::Http | ApiProtocol::WebSocket => {
            decode::<crate::domain::http_api::Stage>(doc)?.runtime()
        }
    };
    Ok(StageConfig {
        api_id,
        account_id,
        region,
        protocol,
        stage,
        snapshot,
        canary_snapshot,
        authorizers_flushed,
        cache_flushed,
        account_throttle: account_throttle.map(decode).transpose()?,
        usage_plans: vec![],
        client_identity: None,
    })
}

/// A stage's configuration with its usage plans.
async fn stage_config(
    conn: &mut PgConnection,
    hasher: &KeyHasher,
    sealer: &Sealer,
    row: Row,
) -> Result<StageConfig, StoreError> {
    let mut config = to_config(row)?;
    config.usage_plans = super::usage_plans::stage_plans(
        conn,
        hasher,
        &config.account_id,
        &config.api_id,
        &config.stage.stage_name,
    )
    .await?;
    if let Some(id) = config.stage.client_certificate_id.clone() {
        config.client_identity =
            super::client_certificates::identity(conn, sealer, &config.account_id, &config.region, &id)
                .await?;
    }
    Ok(config)
}

/// The whole live config and its revision, read consistently (call inside a REPEATABLE READ
/// transaction, see [`super::Store::begin_snapshot_read`]).
pub async fn full(conn: &mut PgConnection, hasher: &KeyHasher, sealer: &Sealer) -> Result<Full, StoreError> {
    let revision = super::revision::current(conn).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{STAGES_SQL} ORDER BY s.seq"))
        .fetch_all(&mut *conn)
        .await?;
    let mut stages = Vec::with_capacity(rows.len());
    for row in rows {
        stages.push(stage_config(conn, hasher, sealer, row).await?);
    }
    Ok(Full {
        revision,
        stages,
        callers: super::credentials::callers(conn).await?,
        domains: super::domain_names::routes(conn, sealer).await?,
    })
}

/// The whole live configuration.
pub struct Full {
    pub revision: i64,
    pub stages: Vec<StageConfig>,
    pub callers: Vec<CallerConfig>,
    pub domains: Vec<DomainRoute>,
}

/// What changed after `since`: the current state of each changed stage, the stages that are gone,
/// and the APIs deleted whole. `None` when the caller must start from the full config instead.
pub struct Delta {
    pub revision: i64,
    pub upserts: Vec<StageConfig>,
    pub removed: Vec<(String, String)>,
    pub removed_apis: Vec<String>,
    /// Every caller, when any changed.
    pub callers: Option<Vec<CallerConfig>>,
    /// Every domain, when any changed.
    pub domains: Option<Vec<DomainRoute>>,
}

pub async fn since(
    conn: &mut PgConnection,
    hasher: &KeyHasher,
    sealer: &Sealer,
    since: i64,
) -> Result<Option<Delta>, StoreError> {
    let revision = super::revision::current(conn).await?;
    // A worker ahead of the database (restored from backup, or another cluster), or so far
    // behind that its changes were pruned, starts over from the full configuration.
    if since > revision || since < revision - super::revision::KEPT_CHANGES {
        return Ok(None);
    }
    let changes: Vec<(String, String, String)> =
        sqlx::query_as("SELECT kind, api_id, key FROM config_changes WHERE revision > $1 AND revision <= $2 ORDER BY revision")
            .bind(since)
            .bind(revision)
            .fetch_all(&mut *conn)
            .await?;
    let mut delta = Delta {
        revision,
        upserts: vec![],
        removed: vec![],
        removed_apis: vec![],
        callers: None,
        domains: None,
    };
    let mut seen = std::collections::HashSet::new();
    for (kind, api_id, key) in changes {
        if !seen.insert((kind.clone(), api_id.clone(), key.clone())) {
            continue;
        }
        match kind.as_str() {
            "api" => {
                delta.removed_apis.push(api_id);
                // Its mappings went with it.
                delta.domains = Some(super::domain_names::routes(&mut *conn, sealer).await?);
            }
            super::domain_names::CHANGE => {
                delta.domains = Some(super::domain_names::routes(&mut *conn, sealer).await?)
            }
            "callers" => delta.callers = Some(super::credentials::callers(&mut *conn).await?),
            _ => {
                let row: Option<Row> =
                    sqlx::query_as(&format!("{STAGES_SQL} WHERE s.api_id = $1 AND s.name = $2"))
                        .bind(&api_id)
                        .bind(&key)
                        .fetch_optional(&mut *conn)
                        .await?;
                match row {
                    Some(row) => delta.upserts.push(stage_config(conn, hasher, sealer, row).await?),
                    None => delta.removed.push((api_id, key)),
                }
            }
        }
    }
    Ok(Some(delta))
}

/// Workers heard of within this many seconds are alive (they ack every heartbeat, 10 s).
pub const ALIVE_SECS: i64 = 35;

/// How many workers are alive: the share of a rate limit each enforces is one over this.
pub async fn fleet_size(conn: &mut PgConnection) -> Result<u32, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM fleet_workers WHERE last_seen > now() - make_interval(secs => $1)",
    )
    .bind(ALIVE_SECS as f64)
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX).max(1))
}

/// A worker as the fleet view shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetWorker {
    pub worker_id: String,
    pub address: String,
    pub revision: i64,
    pub applied: bool,
    pub last_error: Option<String>,
    pub replica: String,
    /// Seconds since the worker was last heard of.
    pub last_seen_secs: f64,
    /// Revisions behind the control plane.
    pub lag: i64,
}

pub async fn record_ack(
    conn: &mut PgConnection,
    worker_id: &str,
    address: &str,
    revision: i64,
    applied: bool,
    error: Option<&str>,
    replica: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO fleet_workers (worker_id, address, revision, applied, last_error, replica)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (worker_id) DO UPDATE SET address = EXCLUDED.address,
            revision = CASE WHEN EXCLUDED.applied THEN EXCLUDED.revision ELSE fleet_workers.revision END,
            applied = EXCLUDED.applied, last_error = EXCLUDED.last_error, replica = EXCLUDED.replica, last_seen = now()",
    )
    .bind(worker_id)
    .bind(address)
    .bind(revision)
    .bind(applied)
    .bind(error)
    .bind(replica)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn fleet(conn: &mut PgConnection) -> Result<Vec<FleetWorker>, StoreError> {
    let revision = super::revision::current(conn).await?;
    type FleetRow = (String, String, i64, bool, Option<String>, String, f64);
    let rows: Vec<FleetRow> = sqlx::query_as(
        "SELECT worker_id, address, revision, applied, last_error, replica,
                EXTRACT(EPOCH FROM (now() - last_seen))::float8
         FROM fleet_workers ORDER BY worker_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(worker_id, address, rev, applied, last_error, replica, last_seen_secs)| FleetWorker {
                worker_id,
                address,
                revision: rev,
                applied,
                last_error,
                replica,
                last_seen_secs,
                lag: revision - rev,
            },
        )
        .collect())
}
