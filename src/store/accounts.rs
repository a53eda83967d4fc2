//! Per (account, region) settings: what GetAccount returns.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{StoreError, Tenant};

/// The stored settings, if the tenant ever changed any.
pub async fn get<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    lock: bool,
) -> Result<Option<T>, StoreError> {
    let sql = if lock {
        "SELECT doc FROM account_settings WHERE account_id = $1 AND region = $2 FOR UPDATE"
    } else {
        "SELECT doc FROM account_settings WHERE account_id = $1 AND region = $2"
    };
    let row: Option<(serde_json::Value,)> = sqlx::query_as(sql)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .fetch_optional(conn)
        .await?;
    row.map(|(doc,)| decode(doc)).transpose()
}

pub async fn put<T: serde::Serialize>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    doc: &T,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO account_settings (account_id, region, doc) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, region) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    Ok(())
}

/// Bumps the revision of every stage of the tenant's APIs: their configuration carries the
/// account's limit.
pub async fn touch_stages(conn: &mut PgConnection, tenant: &Tenant) -> Result<(), StoreError> {
    let stages: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.api_id, s.name FROM stages s JOIN apis a ON a.id = s.api_id
         WHERE a.account_id = $1 AND a.region = $2 ORDER BY s.api_id, s.name",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .fetch_all(&mut *conn)
    .await?;
    for (api, stage) in stages {
        super::revision::bump(conn, "stage", &api, &stage).await?;
    }
    Ok(())
}
