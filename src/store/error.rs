//! Store errors, with Postgres constraint violations turned into meaning by constraint name.

use sqlx::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; the name says which.
    #[error("already exists ({0})")]
    AlreadyExists(String),
    /// A foreign key was violated (a referenced row is missing, or a referencing row remains).
    #[error("foreign key violation ({0})")]
    ForeignKey(String),
    /// Another transaction changed the same rows (serialization failure or deadlock).
    #[error("concurrent modification")]
    Conflict,
    #[error("stored document is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        convert_sqlx_err(e)
    }
}

/// Maps Postgres error codes to store errors: 23505 unique, 23503 foreign key,
/// 40001/40P01 serialization failure and deadlock.
pub fn convert_sqlx_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.kind() {
                ErrorKind::UniqueViolation => StoreError::AlreadyExists(constraint),
                ErrorKind::ForeignKeyViolation => StoreError::ForeignKey(constraint),
                _ if matches!(db.code().as_deref(), Some("40001" | "40P01")) => StoreError::Conflict,
                _ => StoreError::Db(e),
            }
        }
        _ => StoreError::Db(e),
    }
}

/// Decodes a JSONB document into its domain type; a failure means the row is corrupt.
pub fn decode<T: serde::de::DeserializeOwned>(doc: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(doc).map_err(|e| StoreError::Corrupt(e.to_string()))
}
