//! Client certificates (`apigateway`): a key pair and a self-signed certificate API Gateway
//! presents to the HTTP backends of a stage that names it (`clientCertificateId`), so that
//! they can tell its calls from others'. The private key never leaves the control plane but
//! for the workers serving such a stage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A client certificate as GetClientCertificate answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertificate {
    pub client_certificate_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub pem_encoded_certificate: String,
    pub created_date: Timestamp,
    pub expiration_date: Timestamp,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What a worker presents to backends for a stage: the certificate and its private key (PEM).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientIdentity {
    pub certificate_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for ClientIdentity {
    // The key is a secret: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity").finish_non_exhaustive()
    }
}

/// A new key pair (ECDSA P-256) and a self-signed certificate for it, valid for 365 days from
/// `now` (epoch seconds): the certificate's PEM, the private key's PEM, and its expiry.
pub fn generate(id: &str, now: Timestamp) -> Result<(String, String, Timestamp), String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("ApiGateway {id}"));
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Gatehouse");
    let ((y, m, d), _) = day_of(now)?;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let ((y, m, d), expires) = day_of(now + 365 * 24 * 3600)?;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((cert.pem(), key.serialize_pem(), expires))
}

/// The day (UTC) of `epoch`, and its start in epoch seconds.
fn day_of(epoch: Timestamp) -> Result<((i32, u8, u8), Timestamp), String> {
    use chrono::Datelike;
    let day = chrono::DateTime::from_timestamp(epoch, 0)
        .ok_or("a date out of range")?
        .date_naive();
    let start = day
        .and_hms_opt(0, 0, 0)
        .map_or(epoch, |t| t.and_utc().timestamp());
    Ok(((day.year(), day.month() as u8, day.day() as u8), start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_a_pem_certificate_valid_for_a_year() {
        let now = 1_780_000_000;
        let (cert, key, expires) = generate("abc123", now).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!((364 * 86_400..=366 * 86_400).contains(&(expires - now)));
        let (other, other_key, _) = generate("abc123", now).unwrap();
        assert_ne!((cert, key), (other, other_key), "a new key pair each time");
    }
}
