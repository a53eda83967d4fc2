//! A stage: a named pointer at a deployment (and, for a canary, at a second one) with live settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::enums::{CacheClusterSize, UnauthorizedCacheControlHeaderStrategy};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    pub cache_cluster_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_cluster_size: Option<CacheClusterSize>,
    pub cache_cluster_status: String,
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_settings: Option<CanarySettings>,
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub created_date: Timestamp,
    pub last_updated_date: Timestamp,
}

impl Stage {
    /// AWS's cache cluster status follows `cacheClusterEnabled`.
    pub fn cache_status(enabled: bool) -> String {
        if enabled { "AVAILABLE" } else { "NOT_AVAILABLE" }.to_owned()
    }
}

/// Settings of one `{resourcePath}/{httpMethod}` (or `*/*`): what AWS returns once any is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    pub metrics_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<String>,
    pub data_trace_enabled: bool,
    pub throttling_burst_limit: i32,
    pub throttling_rate_limit: f64,
    pub caching_enabled: bool,
    pub cache_ttl_in_seconds: i32,
    pub cache_data_encrypted: bool,
    pub require_authorization_for_cache_control: bool,
    pub unauthorized_cache_control_header_strategy: UnauthorizedCacheControlHeaderStrategy,
}

impl Default for MethodSetting {
    /// AWS's defaults, as it shows them for a method setting created by one patch.
    fn default() -> Self {
        Self {
            metrics_enabled: false,
            logging_level: None,
            data_trace_enabled: false,
            throttling_burst_limit: 5000,
            throttling_rate_limit: 10000.0,
            caching_enabled: false,
            cache_ttl_in_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy:
                UnauthorizedCacheControlHeaderStrategy::SucceedWithResponseHeader,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    pub percent_traffic: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variable_overrides: BTreeMap<String, String>,
    pub use_stage_cache: bool,
}

/// Stage names: letters, digits, `-` and `_`, at most 128 characters (AWS's rule).
pub fn is_valid_stage_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 128
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Stage variable names: alphanumerics and underscores; values a restricted character set.
pub fn is_valid_variable_name(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub fn is_valid_variable_value(raw: &str) -> bool {
    raw.len() <= 512
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#&=,".contains(c) || c == ' ')
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

/// One stage as workers serve it: the stage, the API and account it belongs to, and the
/// snapshots of its deployment and canary (by content hash). What the control plane streams
/// to workers; kept here, apart from the store that reads it and the data plane that serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageConfig {
    pub api_id: String,
    /// The account that owns the API (`requestContext.accountId`).
    pub account_id: String,
    /// The region the API lives in (method ARNs name it).
    #[serde(default = "default_region")]
    pub region: String,
    /// The kind of API the stage belongs to.
    #[serde(default)]
    pub protocol: super::enums::ApiProtocol,
    pub stage: Stage,
    /// Content hash of the deployment's snapshot.
    pub snapshot: String,
    /// Content hash of the canary deployment's snapshot, when the stage has a canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_snapshot: Option<String>,
    /// The generation of the stage's authorizer results (FlushStageAuthorizersCache starts a
    /// new one).
    #[serde(default)]
    pub authorizers_flushed: i64,
    /// The generation of the stage's cached answers (FlushStageCache starts a new one).
    #[serde(default)]
    pub cache_flushed: i64,
    /// The account's own limit, when UpdateAccount set one (Gatehouse's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_throttle: Option<super::usage_plan::ThrottleSettings>,
    /// The usage plans covering the stage, with the keyed hashes of their enabled keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_plans: Vec<super::usage_plan::StagePlan>,
    /// The client certificate the stage's HTTP integrations present to their backends
    /// (`clientCertificateId`), with its private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_identity: Option<super::client_certificate::ClientIdentity>,
}
