//! REST APIs, scoped by tenant. Every lookup of anything inside an API starts here, which is what
//! keeps one account from reaching another's. They are the `apis` of protocol `REST`: HTTP and
//! WebSocket APIs share the table, and no REST API operation sees them.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, RowLock, StoreError, Tenant};
use crate::domain::rest_api::RestApi;

pub async fn insert(conn: &mut PgConnection, tenant: &Tenant, api: &RestApi) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO apis (id, account_id, region, doc, protocol) VALUES ($1, $2, $3, $4, 'REST')")
        .bind(&api.id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(Json(api))
        .execute(conn)
        .await?;
    Ok(())
}

/// Reads an API of the tenant, locking its row as asked. The API's row is the lock of its whole
/// definition: writers of methods hold it shared, tree changes and deployments exclusively, so a
/// deployment always freezes a consistent definition.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<RestApi, StoreError> {
    let sql = format!(
        "SELECT doc FROM apis WHERE id = $1 AND account_id = $2 AND region = $3 AND protocol = 'REST'{}",
        lock.sql()
    );
    let (doc,): (serde_json::Value,) = sqlx::query_as(&sql)
        .bind(id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode(doc)
}

pub async fn list(
    conn: &mut PgConnection,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<Page<RestApi>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM apis WHERE account_id = $1 AND region = $2 AND seq > $3 AND protocol = 'REST'
         ORDER BY seq LIMIT $4",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
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

pub async fn update(conn: &mut PgConnection, tenant: &Tenant, api: &RestApi) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE apis SET doc = $4 WHERE id = $1 AND account_id = $2 AND region = $3 AND protocol = 'REST'",
    )
    .bind(&api.id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(Json(api))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Deletes an API and, through cascading keys, everything in it.
pub async fn delete(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query(
        "DELETE FROM apis WHERE id = $1 AND account_id = $2 AND region = $3 AND protocol = 'REST'",
    )
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
