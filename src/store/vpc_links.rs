//! VPC links, scoped by tenant and by version (`V2`: HTTP APIs'; `V1`: REST APIs'), and the
//! integrations that name one (which keep it from being deleted).

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, RowLock, StoreError, Tenant};

pub async fn insert<T: serde::Serialize>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    version: &str,
    id: &str,
    doc: &T,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO vpc_links (id, account_id, region, version, doc) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(version)
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    version: &str,
    id: &str,
    lock: RowLock,
) -> Result<T, StoreError> {
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM vpc_links WHERE id = $1 AND account_id = $2 AND region = $3 AND version = $4{}",
        lock.sql()
    ))
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(version)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(doc)
}

pub async fn list<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    version: &str,
    page: PageRequest,
) -> Result<Page<T>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM vpc_links WHERE account_id = $1 AND region = $2 AND version = $3 AND seq > $4 ORDER BY seq LIMIT $5",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(version)
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

/// Replaces a link's document (the caller holds its row).
pub async fn update<T: serde::Serialize>(
    conn: &mut PgConnection,
    id: &str,
    doc: &T,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE vpc_links SET doc = $2 WHERE id = $1")
        .bind(id)
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM vpc_links WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The tenant's v2 integrations that reach their backend through link `id`, as
/// `(api id, integration id)`.
pub async fn integrations_using(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.api_id, i.id FROM integrations i JOIN apis a ON a.id = i.api_id \
         WHERE a.account_id = $1 AND a.region = $2 AND i.doc->>'connectionType' = 'VPC_LINK' \
         AND i.doc->>'connectionId' = $3 ORDER BY i.seq",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// The tenant's REST API methods whose integration reaches its backend through link `id`, as
/// `(api id, resource id, HTTP method)`.
pub async fn rest_integrations_using(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.api_id, m.resource_id, m.http_method FROM methods m JOIN apis a ON a.id = m.api_id \
         WHERE a.account_id = $1 AND a.region = $2 \
         AND m.doc->'methodIntegration'->>'connectionType' = 'VPC_LINK' \
         AND m.doc->'methodIntegration'->>'connectionId' = $3 \
         ORDER BY m.api_id, m.resource_id, m.http_method",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(id)
    .fetch_all(conn)
    .await?)
}
