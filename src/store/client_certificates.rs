//! Client certificates, scoped by tenant, with their private keys in a column of their own
//! (never in the document the API answers), sealed under the control plane's certificate key
//! ([`super::certificates::Sealer`]; a key stored before keys were sealed is read as it is).

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, RowLock, StoreError, Tenant};
use crate::domain::client_certificate::{ClientCertificate, ClientIdentity};

/// What marks a sealed key (base64 after it); a key without it is PEM, stored before keys
/// were sealed.
const SEALED: &str = "sealed:";

/// What a client certificate's key is sealed for: it opens for that certificate alone.
fn seal_context(id: &str) -> String {
    format!("clientcertificate:{id}")
}

/// Certificate `id`'s key as stored: sealed, behind [`SEALED`].
fn seal(sealer: &super::certificates::Sealer, id: &str, key: &[u8]) -> String {
    use base64::Engine;
    let sealed = sealer.seal(key, &seal_context(id));
    format!(
        "{SEALED}{}",
        base64::engine::general_purpose::STANDARD.encode(sealed)
    )
}

/// Certificate `id`'s key from what is stored: opened, or as it is when stored before keys
/// were sealed; `None` when it does not open under `sealer`.
fn open(sealer: &super::certificates::Sealer, id: &str, stored: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    match stored.strip_prefix(SEALED) {
        Some(b64) => {
            let sealed = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            sealer.open(&sealed, &seal_context(id))
        }
        None => Some(stored.as_bytes().to_vec()),
    }
}

pub async fn insert(
    conn: &mut PgConnection,
    tenant: &Tenant,
    cert: &ClientCertificate,
    sealer: &super::certificates::Sealer,
    private_key: &str,
) -> Result<(), StoreError> {
    let private_key = seal(sealer, &cert.client_certificate_id, private_key.as_bytes());
    sqlx::query(
        "INSERT INTO client_certificates (id, account_id, region, private_key, doc) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&cert.client_certificate_id)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(&private_key)
    .bind(Json(cert))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<ClientCertificate, StoreError> {
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM client_certificates WHERE id = $1 AND account_id = $2 AND region = $3{}",
        lock.sql()
    ))
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
) -> Result<Page<ClientCertificate>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM client_certificates WHERE account_id = $1 AND region = $2 AND seq > $3 ORDER BY seq LIMIT $4",
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

/// Replaces a certificate's document (the caller holds its row).
pub async fn update(conn: &mut PgConnection, cert: &ClientCertificate) -> Result<(), StoreError> {
    sqlx::query("UPDATE client_certificates SET doc = $2 WHERE id = $1")
        .bind(&cert.client_certificate_id)
        .bind(Json(cert))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> Result<(), StoreError> {
    let done =
        sqlx::query("DELETE FROM client_certificates WHERE id = $1 AND account_id = $2 AND region = $3")
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

/// The certificate and key a stage's backends are presented, for the workers serving it.
pub async fn identity(
    conn: &mut PgConnection,
    sealer: &super::certificates::Sealer,
    account_id: &str,
    region: &str,
    id: &str,
) -> Result<Option<ClientIdentity>, StoreError> {
    let row: Option<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT private_key, doc FROM client_certificates WHERE id = $1 AND account_id = $2 AND region = $3",
    )
    .bind(id)
    .bind(account_id)
    .bind(region)
    .fetch_optional(conn)
    .await?;
    row.map(|(stored, doc)| {
        let cert: ClientCertificate = decode(doc)?;
        // Sealed under another key (a rotation this control plane has not been told of): the
        // stage presents no certificate rather than stopping every update.
        let Some(private_key_pem) = open(sealer, id, &stored).and_then(|k| String::from_utf8(k).ok()) else {
            tracing::error!(client_certificate.id = %id, "a client certificate's key does not open under this control plane's certificate key: it is not presented");
            return Ok(None);
        };
        Ok(Some(ClientIdentity {
            certificate_pem: cert.pem_encoded_certificate,
            private_key_pem,
        }))
    })
    .transpose()
    .map(Option::flatten)
}

/// A stage of the tenant's that names certificate `id`, as `(api id, stage name)`.
pub async fn stage_using(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT s.api_id, s.name FROM stages s JOIN apis a ON a.id = s.api_id \
         WHERE a.account_id = $1 AND a.region = $2 AND s.doc->>'clientCertificateId' = $3 \
         ORDER BY s.seq LIMIT 1",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Seals every client certificate's key again under `new` (a key stored before keys were
/// sealed is sealed now); what `old` cannot open refuses the rotation. How many.
pub async fn reseal_all(
    conn: &mut PgConnection,
    old: &super::certificates::Sealer,
    new: &super::certificates::Sealer,
) -> Result<usize, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, private_key FROM client_certificates FOR UPDATE")
            .fetch_all(&mut *conn)
            .await?;
    for (id, stored) in &rows {
        let plain = open(old, id, stored).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "client certificate {id}: its key does not open under the current key"
            ))
        })?;
        let sealed = seal(new, id, &plain);
        sqlx::query("UPDATE client_certificates SET private_key = $2 WHERE id = $1")
            .bind(id)
            .bind(sealed)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len())
}
