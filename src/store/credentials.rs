//! Access keys: each belongs to one account. Secrets are read only to verify signatures.

use sqlx::PgConnection;

use super::StoreError;

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
        "SELECT access_key_id, secret_access_key, account_id FROM credentials WHERE access_key_id = $1",
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
    let done = sqlx::query("DELETE FROM credentials WHERE access_key_id = $1")
        .bind(access_key_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
