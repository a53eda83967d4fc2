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
