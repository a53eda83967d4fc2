//! Access keys: each belongs to one account. Secrets are read only to verify signatures. A key
//! that names a principal is also a caller of deployed APIs ([`CallerConfig`]): those are
//! streamed to workers, and every change to them is a live-configuration change.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::{StoreError, revision};
use crate::domain::caller::CallerConfig;

pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

pub async fn get(conn: &mut PgConnection, access_key_id: &str) -> Result<Option<Credential>, StoreError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        // Callers of deployed APIs are not management credentials.
        "SELECT access_key_id, secret_access_key, account_id FROM credentials
         WHERE access_key_id = $1 AND principal_arn IS NULL",
    )
    .bind(access_key_id)
    .fetch_optional(conn)
    .await?;
    Ok(
        row.map(|(access_key_id, secret_access_key, account_id)| Credential {
            access_key_id,
            secret_access_key,
            account_id,
        }),
    )
}

/// Inserts a credential, or leaves an existing one with the same key id as it is.
/// Returns whether it was created.
pub async fn create_if_absent(conn: &mut PgConnection, c: &Credential) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO credentials (access_key_id, secret_access_key, account_id) VALUES ($1, $2, $3)
         ON CONFLICT (access_key_id) DO NOTHING",
    )
    .bind(&c.access_key_id)
    .bind(&c.secret_access_key)
    .bind(&c.account_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Key ids and accounts, never secrets.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(
        sqlx::query_as(
            "SELECT access_key_id, account_id FROM credentials ORDER BY created_at, access_key_id",
        )
        .fetch_all(conn)
        .await?,
    )
}

pub async fn delete(conn: &mut PgConnection, access_key_id: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    // One transaction: a caller is never gone from the table while workers still accept it.
    let mut tx = conn.begin().await?;
    let caller: Option<(Option<String>,)> =
        sqlx::query_as("DELETE FROM credentials WHERE access_key_id = $1 RETURNING principal_arn")
            .bind(access_key_id)
            .fetch_optional(&mut *tx)
            .await?;
    match caller {
        None => return Err(StoreError::NotFound),
        // Workers must stop accepting its signatures.
        Some((Some(_),)) => drop(revision::bump(&mut tx, "callers", "", "").await?),
        Some((None,)) => {}
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts a caller of deployed APIs, or leaves an existing key with the same id as it is.
/// Returns whether it was created.
pub async fn create_caller(conn: &mut PgConnection, c: &CallerConfig) -> Result<bool, StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    let done = sqlx::query(
        "INSERT INTO credentials (access_key_id, secret_access_key, account_id, principal_arn, session_token, policies)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (access_key_id) DO NOTHING",
    )
    .bind(&c.access_key_id)
    .bind(&c.secret_access_key)
    .bind(&c.account_id)
    .bind(&c.principal_arn)
    .bind(&c.session_token)
    .bind(Json(&c.policies))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    revision::bump(&mut tx, "callers", "", "").await?;
    tx.commit().await?;
    Ok(true)
}

/// Every caller of deployed APIs, as workers get them.
pub async fn callers(conn: &mut PgConnection) -> Result<Vec<CallerConfig>, StoreError> {
    type Row = (String, String, String, String, Option<String>, Json<Vec<String>>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT access_key_id, secret_access_key, account_id, principal_arn, session_token, policies
         FROM credentials WHERE principal_arn IS NOT NULL ORDER BY access_key_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(access_key_id, secret_access_key, account_id, principal_arn, session_token, policies)| {
                CallerConfig {
                    access_key_id,
                    secret_access_key,
                    account_id,
                    principal_arn,
                    session_token,
                    policies: policies.0,
                }
            },
        )
        .collect())
}
