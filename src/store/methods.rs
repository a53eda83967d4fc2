//! Methods, each stored whole: its integration, method responses and integration responses
//! live in one document, as `GetMethod` returns them.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::StoreError;
use super::error::decode;
use crate::domain::rest_api::Method;

/// Reads a method; with `lock`, holds its row so a read-modify-write cannot lose an update.
pub async fn get(
    conn: &mut PgConnection,
    api_id: &str,
    resource_id: &str,
    http_method: &str,
    lock: bool,
) -> Result<Method, StoreError> {
    let sql = if lock {
        "SELECT doc FROM methods WHERE api_id = $1 AND resource_id = $2 AND http_method = $3 FOR UPDATE"
    } else {
        "SELECT doc FROM methods WHERE api_id = $1 AND resource_id = $2 AND http_method = $3"
    };
    let (doc,): (serde_json::Value,) = sqlx::query_as(sql)
        .bind(api_id)
        .bind(resource_id)
        .bind(http_method)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// Creates or replaces a method (PutMethod replaces).
pub async fn put(
    conn: &mut PgConnection,
    api_id: &str,
    resource_id: &str,
    m: &Method,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO methods (api_id, resource_id, http_method, doc) VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_id, resource_id, http_method) DO UPDATE SET doc = EXCLUDED.doc",
    )
    .bind(api_id)
    .bind(resource_id)
    .bind(m.http_method.as_str())
    .bind(Json(m))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut PgConnection,
    api_id: &str,
    resource_id: &str,
    http_method: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM methods WHERE api_id = $1 AND resource_id = $2 AND http_method = $3")
        .bind(api_id)
        .bind(resource_id)
        .bind(http_method)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Every method of an API as `(resource_id, method)`.
pub async fn all(conn: &mut PgConnection, api_id: &str) -> Result<Vec<(String, Method)>, StoreError> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT resource_id, doc FROM methods WHERE api_id = $1 ORDER BY resource_id, http_method",
    )
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(rid, doc)| Ok((rid, decode(doc)?)))
        .collect()
}

/// The methods of one resource.
pub async fn of_resource(
    conn: &mut PgConnection,
    api_id: &str,
    resource_id: &str,
) -> Result<Vec<Method>, StoreError> {
    let rows: Vec<(serde_json::Value,)> =
        sqlx::query_as("SELECT doc FROM methods WHERE api_id = $1 AND resource_id = $2 ORDER BY http_method")
            .bind(api_id)
            .bind(resource_id)
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(|(doc,)| decode(doc)).collect()
}
