//! Existence checks and defaults for the parts of an API that methods refer to: models, request
//! validators and authorizers (their full CRUD lives with their handlers).

use sqlx::PgConnection;
use sqlx::types::Json;

use super::StoreError;

pub async fn model_exists(conn: &mut PgConnection, api_id: &str, name: &str) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM models WHERE api_id = $1 AND name = $2")
        .bind(api_id)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub async fn request_validator_exists(
    conn: &mut PgConnection,
    api_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM request_validators WHERE api_id = $1 AND id = $2")
            .bind(api_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

pub async fn authorizer_exists(conn: &mut PgConnection, api_id: &str, id: &str) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM authorizers WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Inserts a model document under its name.
pub async fn insert_model(
    conn: &mut PgConnection,
    api_id: &str,
    name: &str,
    doc: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO models (api_id, name, doc) VALUES ($1, $2, $3)")
        .bind(api_id)
        .bind(name)
        .bind(Json(doc))
        .execute(conn)
        .await?;
    Ok(())
}
