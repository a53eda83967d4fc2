//! API keys and usage plans: the keys clients present, the plans that admit them to stages with a
//! throttle and a quota, and the keyed hash that is all workers ever learn of a key's value.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::Timestamp;

/// An API key as AWS shows it. Its value is kept apart from this document (a column of its
/// own) and shown only when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub created_date: Timestamp,
    pub last_updated_date: Timestamp,
    /// `{restApiId}/{stageName}`: the stages of the key's creation (AWS's legacy field).
    #[serde(default)]
    pub stage_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A usage plan: the stages it covers, with its throttle and quota for each key it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A stage a plan covers, with per-method throttles keyed `{resourcePath}/{METHOD}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSettings {
    pub limit: i32,
    #[serde(default)]
    pub offset: i32,
    pub period: QuotaPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "DAY" => Some(Self::Day),
            "WEEK" => Some(Self::Week),
            "MONTH" => Some(Self::Month),
            _ => None,
        }
    }
}

/// A key of a plan, as `GetUsagePlanKeys` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlanKey {
    pub id: String,
    #[serde(rename = "type")]
    pub key_type: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A plan as the workers serving one of its stages need it: its limits, and the keyed hashes of
/// its enabled keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagePlan {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSettings>,
    /// This stage's per-method throttles, keyed `{resourcePath}/{METHOD}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_throttles: BTreeMap<String, ThrottleSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSettings>,
    pub keys: Vec<StagePlanKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagePlanKey {
    pub id: String,
    /// [`KeyHasher::hash`] of the key's value, in hex.
    pub hash: String,
    /// With a quota: what is left of it in the current period, as the control plane counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    /// With a quota: when the current period ends (seconds since the epoch); a new one starts
    /// with the whole quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_ends: Option<i64>,
}

impl QuotaSettings {
    /// The period holding `day`: its first day and the first day after it. Weeks start on
    /// Sunday and months on the 1st, each `offset` days later (AWS's offsets: 0-6 for weeks,
    /// 0-27 for months).
    pub fn period(&self, day: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate) {
        use chrono::{Datelike, Days, Months};
        let offset = Days::new(u64::try_from(self.offset.max(0)).unwrap_or(0));
        match self.period {
            QuotaPeriod::Day => (day, day + Days::new(1)),
            QuotaPeriod::Week => {
                let sunday = day - Days::new(u64::from(day.weekday().num_days_from_sunday()));
                let mut start = sunday + offset;
                if start > day {
                    start = start - Days::new(7);
                }
                (start, start + Days::new(7))
            }
            QuotaPeriod::Month => {
                let first = day.with_day(1).expect("every month has a 1st");
                let mut start = first + offset;
                if start > day {
                    start = (first - Months::new(1)) + offset;
                }
                let next = start.with_day(1).expect("every month has a 1st") + Months::new(1) + offset;
                (start, next)
            }
        }
    }
}

/// One count of a worker's usage report: requests `key_id` made under `plan_id` on `day` (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCount {
    pub plan_id: String,
    pub key_id: String,
    pub day: chrono::NaiveDate,
    pub used: i64,
}

/// The keyed hash (HMAC-SHA256) under which workers know API keys: a worker's configuration,
/// and the cache file it keeps of it, hold no key value, and no list of guesses can be checked
/// against them without the cluster's secret. The control plane and the workers derive the
/// same hasher from the cluster token they share.
#[derive(Clone)]
pub struct KeyHasher {
    mac: Hmac<Sha256>,
}

impl KeyHasher {
    pub fn from_secret(secret: &str) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"gatehouse api key hash v1")
            .expect("HMAC takes keys of any length");
        mac.update(secret.as_bytes());
        let derived = mac.finalize().into_bytes();
        Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(&derived).expect("HMAC takes keys of any length"),
        }
    }

    pub fn hash(&self, value: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn hex(&self, value: &str) -> String {
        hex::encode(self.hash(value))
    }
}

impl Default for KeyHasher {
    /// A hasher of a fixed secret, for data planes that serve no API keys of a control plane
    /// (the control plane's own test invocations).
    fn default() -> Self {
        Self::from_secret("")
    }
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHasher(..)")
    }
}

/// Parses a hex hash back to its bytes.
pub fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_periods_start_on_their_day_plus_the_offset() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let q = |period, offset| QuotaSettings {
            limit: 1,
            offset,
            period,
        };
        assert_eq!(
            q(QuotaPeriod::Day, 0).period(d("2026-12-05")),
            (d("2026-12-05"), d("2026-12-06"))
        );
        // 2026-12-05 is a Saturday; weeks start on Sunday.
        assert_eq!(
            q(QuotaPeriod::Week, 0).period(d("2026-12-05")),
            (d("2026-11-29"), d("2026-12-06"))
        );
        assert_eq!(
            q(QuotaPeriod::Week, 6).period(d("2026-12-05")),
            (d("2026-12-05"), d("2026-12-12"))
        );
        assert_eq!(
            q(QuotaPeriod::Month, 0).period(d("2026-12-05")),
            (d("2026-12-01"), d("2027-01-01"))
        );
        assert_eq!(
            q(QuotaPeriod::Month, 9).period(d("2026-12-05")),
            (d("2026-11-10"), d("2026-12-10"))
        );
    }

    #[test]
    fn keyed_hashes_depend_on_the_secret_and_round_trip_as_hex() {
        let a = KeyHasher::from_secret("cluster-token-one");
        let b = KeyHasher::from_secret("cluster-token-two");
        assert_eq!(
            a.hash("key-value-of-twenty-chars"),
            a.hash("key-value-of-twenty-chars")
        );
        assert_ne!(
            a.hash("key-value-of-twenty-chars"),
            b.hash("key-value-of-twenty-chars")
        );
        assert_eq!(parse_hash(&a.hex("k")), Some(a.hash("k")));
        assert_eq!(parse_hash("zz"), None);
    }
}
