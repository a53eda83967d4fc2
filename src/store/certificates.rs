//! Imported certificates (Gatehouse's stand-in for ACM: a custom domain names one by ARN) and
//! mutual-TLS truststores. A certificate's private key is kept sealed with AES-256-GCM under
//! the control plane's certificate key ([`Sealer`]); it is unsealed only to go to workers.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{StoreError, Tenant};
use crate::domain::domain_name::CertifiedKey;

/// Seals and opens private keys under one 256-bit key.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// A sealer under `key` (32 bytes).
    pub fn new(key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("AES-256 takes 32-byte keys");
        Self {
            key: LessSafeKey::new(key),
        }
    }

    /// A sealer under the key `text` gives: 64 hex digits or the base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        use base64::Engine;
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .ok_or("the certificate key must be 64 hex digits or base64")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the certificate key must be 32 bytes (256 bits)")?;
        Ok(Self::new(&key))
    }

    /// `plain` sealed: a random nonce, then the ciphertext and its tag. `context` (the
    /// certificate's ARN) is bound in, so a sealed key moved to another row does not open.
    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut out,
            )
            .expect("sealing a key cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        sealed
    }

    /// What [`Sealer::seal`] sealed, when `sealed` was sealed under this key for `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// What is known of an imported certificate, besides its chain and key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub arn: String,
    /// The names it covers (its subject alternative names).
    pub domain_names: Vec<String>,
    /// Seconds since the epoch.
    pub not_after: i64,
    pub imported_at: i64,
}

/// Stores (or replaces: a certificate is re-imported under its ARN) a certificate.
pub async fn import(
    conn: &mut PgConnection,
    tenant: &Tenant,
    sealer: &Sealer,
    cert: &Certificate,
    chain_pem: &str,
    key_pem: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certificates (arn, account_id, region, chain_pem, sealed_key, doc) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (arn) DO UPDATE SET chain_pem = $4, sealed_key = $5, doc = $6
         WHERE certificates.account_id = $2 AND certificates.region = $3",
    )
    .bind(&cert.arn)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(chain_pem)
    .bind(sealer.seal(key_pem.as_bytes(), &cert.arn))
    .bind(Json(cert))
    .execute(&mut *conn)
    .await?;
    // Domains presenting it present the new one.
    super::domain_names::changed(conn).await
}

/// The tenant's certificate `arn`, share-locked (a domain naming it keeps it from deletion
/// until the domain's transaction ends).
pub async fn get(conn: &mut PgConnection, account_id: &str, arn: &str) -> Result<Certificate, StoreError> {
    let (doc,): (serde_json::Value,) =
        sqlx::query_as("SELECT doc FROM certificates WHERE arn = $1 AND account_id = $2 FOR SHARE")
            .bind(arn)
            .bind(account_id)
            .fetch_optional(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
    decode(doc)
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<(String, String, Certificate)>, StoreError> {
    let rows: Vec<(String, String, serde_json::Value)> =
        sqlx::query_as("SELECT account_id, region, doc FROM certificates ORDER BY seq")
            .fetch_all(conn)
            .await?;
    rows.into_iter()
        .map(|(a, r, doc)| Ok((a, r, decode(doc)?)))
        .collect()
}

/// Deletes certificate `arn`, unless a domain presents it: then the domain's name is returned
/// and nothing is deleted.
pub async fn delete(conn: &mut PgConnection, arn: &str) -> Result<Option<String>, StoreError> {
    let mut tx = sqlx::Acquire::begin(conn).await?;
    let locked: Option<(String,)> = sqlx::query_as("SELECT arn FROM certificates WHERE arn = $1 FOR UPDATE")
        .bind(arn)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Err(StoreError::NotFound);
    }
    if let Some(domain) = super::domain_names::using_certificate(&mut tx, arn).await? {
        return Ok(Some(domain));
    }
    sqlx::query("DELETE FROM certificates WHERE arn = $1")
        .bind(arn)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(None)
}

/// Certificate `arn` of `account_id` with its key unsealed, for workers; `None` when it is
/// not there, or does not open under this control plane's key (logged: it was sealed under
/// another key).
pub async fn certified_key(
    conn: &mut PgConnection,
    sealer: &Sealer,
    account_id: &str,
    arn: &str,
) -> Result<Option<CertifiedKey>, StoreError> {
    let row: Option<(String, Vec<u8>)> =
        sqlx::query_as("SELECT chain_pem, sealed_key FROM certificates WHERE arn = $1 AND account_id = $2")
            .bind(arn)
            .bind(account_id)
            .fetch_optional(conn)
            .await?;
    let Some((chain_pem, sealed)) = row else {
        return Ok(None);
    };
    let Some(key) = sealer.open(&sealed, arn).and_then(|k| String::from_utf8(k).ok()) else {
        tracing::error!(certificate.arn = %arn, "a certificate's key does not open under this control plane's certificate key: its domain is served without TLS");
        return Ok(None);
    };
    Ok(Some(CertifiedKey {
        arn: arn.to_owned(),
        chain_pem,
        key_pem: key,
    }))
}

/// Stores (or replaces) the truststore at `uri`.
pub async fn import_truststore(
    conn: &mut PgConnection,
    tenant: &Tenant,
    uri: &str,
    pem: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO truststores (account_id, region, uri, pem) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, region, uri) DO UPDATE SET pem = $4",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(uri)
    .bind(pem)
    .execute(&mut *conn)
    .await?;
    super::domain_names::changed(conn).await
}

/// The truststore at `uri`, PEM.
pub async fn truststore(
    conn: &mut PgConnection,
    account_id: &str,
    region: &str,
    uri: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT pem FROM truststores WHERE account_id = $1 AND region = $2 AND uri = $3")
            .bind(account_id)
            .bind(region)
            .bind(uri)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(p,)| p))
}

/// Seals every private key again under `new` (imported certificates' and client
/// certificates'), in the caller's transaction: what `old` cannot open refuses the rotation
/// (nothing is changed). How many of each were sealed again.
pub async fn reseal_all(
    conn: &mut PgConnection,
    old: &Sealer,
    new: &Sealer,
) -> Result<(usize, usize), StoreError> {
    let certs: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT arn, sealed_key FROM certificates FOR UPDATE")
        .fetch_all(&mut *conn)
        .await?;
    for (arn, sealed) in &certs {
        let plain = old.open(sealed, arn).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "certificate {arn}: its key does not open under the current key"
            ))
        })?;
        sqlx::query("UPDATE certificates SET sealed_key = $2 WHERE arn = $1")
            .bind(arn)
            .bind(new.seal(&plain, arn))
            .execute(&mut *conn)
            .await?;
    }
    let clients = super::client_certificates::reseal_all(conn, old, new).await?;
    Ok((certs.len(), clients))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_under_their_key_and_arn() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal(b"-----BEGIN PRIVATE KEY-----", "arn:a");
        assert!(!sealed.windows(5).any(|w| w == b"BEGIN"));
        assert_eq!(
            sealer.open(&sealed, "arn:a").unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert!(sealer.open(&sealed, "arn:b").is_none());
        assert!(Sealer::new(&[8; 32]).open(&sealed, "arn:a").is_none());
        assert!(sealer.open(&sealed[..10], "arn:a").is_none());
    }

    #[test]
    fn keys_are_hex_or_base64() {
        assert!(Sealer::parse(&"ab".repeat(32)).is_ok());
        assert!(Sealer::parse("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").is_ok());
        assert!(Sealer::parse("short").is_err());
    }
}
