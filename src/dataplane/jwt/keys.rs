//! Issuers' signing keys: a JWKS parsed once into decoding keys ([`KeySet`]), and the keys of
//! every issuer a worker has met ([`Issuers`]), shared by its threads: found through the
//! issuer's OpenID discovery document (`{issuer}/.well-known/openid-configuration`, its
//! `jwks_uri`), kept for an hour, fetched again early when a token names a key the set lacks
//! (at most once every 30 seconds per issuer, so a flood of forged `kid`s cannot turn the
//! gateway against the issuer), and kept past their hour when the issuer cannot be reached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::dataplane::client::{BackendClient, Budget};
use crate::dataplane::full_body;

/// How long a fetched key set is used before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(3600);
/// The least time between two early fetches of one issuer's keys (for unknown `kid`s).
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// The most a discovery document or key set may weigh.
const MAX_DOCUMENT: usize = 512 << 10;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after a failed fetch the next may be tried.
const RETRY_AFTER: Duration = Duration::from_secs(10);

/// An issuer's asymmetric signing keys.
pub struct KeySet {
    keys: Vec<Key>,
}

struct Key {
    kid: Option<String>,
    /// The algorithm the key is for, when the JWKS says.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

impl KeySet {
    /// The signing keys of a JWKS document: symmetric (`oct`) keys, encryption keys and keys
    /// that do not parse are left out.
    pub fn parse(jwks: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(jwks).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let list = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS has no keys")?;
        let keys = list
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter(|jwk| !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
            .filter(|jwk| {
                jwk.common
                    .public_key_use
                    .as_ref()
                    .is_none_or(|u| *u == PublicKeyUse::Signature)
            })
            .filter_map(|jwk| {
                Some(Key {
                    kid: jwk.common.key_id.clone(),
                    alg: jwk
                        .common
                        .key_algorithm
                        .and_then(|a| a.to_string().parse::<Algorithm>().ok()),
                    key: DecodingKey::from_jwk(&jwk).ok()?,
                })
            })
            .collect();
        Ok(Self { keys })
    }

    /// The key named `kid` (the only key when the token names none) that may verify `alg`.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&DecodingKey> {
        let mut candidates = self
            .keys
            .iter()
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)));
        let first = candidates.next()?;
        // Without a kid, only an unambiguous set answers.
        if kid.is_none() && candidates.next().is_some() {
            return None;
        }
        Some(&first.key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Every issuer's keys, fetched when first needed.
#[derive(Default)]
pub struct Issuers {
    by_issuer: Mutex<HashMap<String, Arc<IssuerKeys>>>,
}

#[derive(Default)]
struct IssuerKeys {
    current: Mutex<Option<(Arc<KeySet>, Instant)>>,
    /// When an unknown `kid` last made the keys be fetched early.
    last_refresh: Mutex<Option<Instant>>,
    /// When a fetch last failed: none is tried again for [`RETRY_AFTER`], so an issuer that
    /// is away costs requests nothing but its stale keys (or a quick refusal).
    last_failure: Mutex<Option<Instant>>,
    /// One fetch at a time per issuer; the others wait for its keys.
    fetching: tokio::sync::Mutex<()>,
}

impl IssuerKeys {
    /// The current keys, if they are younger than `max_age`.
    fn fresh(&self, max_age: Duration) -> Option<Arc<KeySet>> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|(_, at)| at.elapsed() < max_age)
            .map(|(k, _)| k.clone())
    }

    fn stale(&self) -> Option<Arc<KeySet>> {
        self.fresh(Duration::MAX)
    }
}

impl Issuers {
    /// The keys of the issuer at `issuer_url`. With `refresh` (a token named a key the set
    /// lacks), they are fetched again, unless that was done in the last 30 seconds.
    pub async fn keys(
        &self,
        client: &BackendClient,
        issuer_url: &str,
        refresh: bool,
    ) -> Result<Arc<KeySet>, String> {
        let entry = {
            let mut map = self.by_issuer.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(issuer_url.to_owned()).or_default().clone()
        };
        let max_age = if refresh {
            let mut last = entry.last_refresh.lock().unwrap_or_else(|p| p.into_inner());
            match *last {
                Some(at) if at.elapsed() < REFRESH_EVERY => FRESH_FOR,
                _ => {
                    *last = Some(Instant::now());
                    Duration::ZERO
                }
            }
        } else {
            FRESH_FOR
        };
        if let Some(keys) = entry.fresh(max_age) {
            return Ok(keys);
        }
        let failed_lately = |entry: &IssuerKeys| {
            entry
                .last_failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|at| at.elapsed() < RETRY_AFTER)
        };
        if failed_lately(&entry) {
            return entry
                .stale()
                .ok_or_else(|| "the issuer's keys could not be fetched lately".to_owned());
        }
        let _one_at_a_time = entry.fetching.lock().await;
        if failed_lately(&entry) {
            return entry
                .stale()
                .ok_or_else(|| "the issuer's keys could not be fetched lately".to_owned());
        }
        // Another request may have fetched them meanwhile.
        if let Some(keys) = entry.fresh(max_age) {
            return Ok(keys);
        }
        match fetch(client, issuer_url).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *entry.current.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((keys.clone(), Instant::now()));
                Ok(keys)
            }
            Err(why) => {
                tracing::warn!(jwt.issuer = issuer_url, error = %why, "cannot fetch the issuer's keys");
                *entry.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                // Static stability: the keys last fetched keep serving.
                entry.stale().ok_or(why)
            }
        }
    }
}

/// The issuer's discovery document, then its key set.
async fn fetch(client: &BackendClient, issuer_url: &str) -> Result<KeySet, String> {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer_url.trim_end_matches('/')
    );
    let doc: Value = serde_json::from_slice(&get(client, &discovery).await?)
        .map_err(|e| format!("the discovery document is not JSON: {e}"))?;
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("the discovery document names no jwks_uri")?;
    KeySet::parse(&get(client, jwks_uri).await?)
}

async fn get(client: &BackendClient, url: &str) -> Result<Bytes, String> {
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(full_body(Bytes::new()))
        .map_err(|e| format!("{url}: {e}"))?;
    let budget = Budget::starting_now(FETCH_TIMEOUT);
    let deadline = budget.deadline;
    let res = client
        .request(request, budget)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !res.status.is_success() {
        return Err(format!("{url} answered {}", res.status));
    }
    let body = http_body_util::Limited::new(res.body, MAX_DOCUMENT).collect();
    match tokio::time::timeout_at(deadline, body).await {
        Err(_) => Err(format!("{url}: timed out")),
        Ok(Err(e)) => Err(format!("{url}: {e}")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}
