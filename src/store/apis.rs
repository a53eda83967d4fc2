//! The `apis` table, which every kind of API shares (REST of `apigateway`, HTTP and WebSocket
//! of `apigatewayv2`): rows scoped by tenant and by the protocols an operation may see, so that
//! no REST operation reaches an HTTP API, nor one account another's. [`super::rest_apis`] and
//! [`super::http_apis`] are the two views.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, StoreError, Tenant};

/// Which APIs a view sees: an SQL condition on `protocol`.
#[derive(Debug, Clone, Copy)]
pub enum View {
    Rest,
    V2,
}

impl View {
    fn condition(self) -> &'static str {
        match self {
            View::Rest => "protocol = 'REST'",
            View::V2 => "protocol IN ('HTTP', 'WEBSOCKET')",
        }
    }
}

pub async fn insert<T: Serialize + Sync>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    protocol: &str,
    doc: &T,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO apis (id, account_id, region, doc, protocol) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(Json(doc))
        .bind(protocol)
        .execute(conn)
        .await?;
    Ok(())
}

/// The tenant's API `id` in `view`, with `lock` (an SQL locking clause, or nothing) on its row.
pub async fn get<T: DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    view: View,
    id: &str,
    lock: &str,
) -> Result<T, StoreError> {
    let sql = format!(
        "SELECT doc FROM apis WHERE id = $1 AND account_id = $2 AND region = $3 AND {}{lock}",
        view.condition()
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

pub async fn list<T: DeserializeOwned>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    view: View,
    page: PageRequest,
) -> Result<Page<T>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(&format!(
        "SELECT seq, doc FROM apis WHERE account_id = $1 AND region = $2 AND seq > $3 AND {}
         ORDER BY seq LIMIT $4",
        view.condition()
    ))
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

pub async fn update<T: Serialize + Sync>(
    conn: &mut PgConnection,
    tenant: &Tenant,
    view: View,
    id: &str,
    doc: &T,
) -> Result<(), StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE apis SET doc = $4 WHERE id = $1 AND account_id = $2 AND region = $3 AND {}",
        view.condition()
    ))
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes the API and, through cascading keys, everything in it.
pub async fn delete(
    conn: &mut PgConnection,
    tenant: &Tenant,
    view: View,
    id: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query(&format!(
        "DELETE FROM apis WHERE id = $1 AND account_id = $2 AND region = $3 AND {}",
        view.condition()
    ))
    .bind(id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
