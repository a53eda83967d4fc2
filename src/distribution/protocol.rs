//! The wire protocol between control plane and workers: newline-delimited JSON events on one
//! long-lived HTTP response, snapshots fetched by content hash, acks posted back.

use serde::{Deserialize, Serialize};

pub use crate::domain::domain_name::DomainRoute;
pub use crate::store::live::{CallerConfig, FleetWorker, StageConfig};

/// Where the internal endpoints live on the control plane's port.
pub const STREAM_PATH: &str = "/_gatehouse/v1/stream";
pub const SNAPSHOTS_PATH: &str = "/_gatehouse/v1/snapshots";
pub const ACKS_PATH: &str = "/_gatehouse/v1/acks";
pub const FLEET_PATH: &str = "/_gatehouse/v1/fleet";
pub const USAGE_PATH: &str = "/_gatehouse/v1/usage";
/// Workers' WebSocket connections: registered and forgotten here (POST), and reached through
/// here by a worker that does not hold one (`POST {CONNECTIONS_PATH}/{id}`).
pub const CONNECTIONS_PATH: &str = "/_gatehouse/v1/connections";

/// The connections a worker opened and closed since it last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionChanges {
    pub worker_id: String,
    #[serde(default)]
    pub opened: Vec<crate::store::websockets::ConnectionRecord>,
    #[serde(default)]
    pub closed: Vec<String>,
    /// The @connections commands the worker delivered (their `seq`), which the control plane
    /// then forgets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<i64>,
}

/// An @connections call for a connection another worker holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCall {
    pub api_id: String,
    pub stage: String,
    pub op: ConnectionOp,
    /// A message's bytes, base64.
    #[serde(default)]
    pub data: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionOp {
    Post,
    Get,
    Delete,
}

/// A worker's report of what API keys used. Sent again until acknowledged, under the same
/// `batchId`: the control plane applies each batch once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub batch_id: String,
    pub worker_id: String,
    pub counts: Vec<crate::domain::usage_plan::UsageCount>,
}

/// How often an idle stream carries a heartbeat, so both ends notice a dead connection.
pub const HEARTBEAT_SECS: u64 = 10;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// The whole live configuration at `revision`: replaces whatever the worker had.
    #[serde(rename_all = "camelCase")]
    Full {
        revision: i64,
        stages: Vec<StageConfig>,
        /// The callers of AWS_IAM methods (their secrets: the stream must stay on a trusted
        /// network, or be served over TLS).
        #[serde(default)]
        callers: Vec<CallerConfig>,
        /// The custom domain names, with their certificates' keys (as secret as the callers).
        #[serde(default)]
        domains: Vec<DomainRoute>,
        /// How many workers the fleet has: each enforces its share of rate limits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fleet: Option<u32>,
    },
    /// Changes up to `revision`: stages (re)placed, stages and whole APIs removed, and every
    /// caller (every domain) when any changed.
    #[serde(rename_all = "camelCase")]
    Delta {
        revision: i64,
        upserts: Vec<StageConfig>,
        removed: Vec<StageKey>,
        removed_apis: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        callers: Option<Vec<CallerConfig>>,
        /// Every custom domain, when any changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domains: Option<Vec<DomainRoute>>,
    },
    /// A message for (or the close of) a WebSocket connection this worker holds, sent through
    /// another worker's @connections API. Not a configuration change: `revision` is the last
    /// one sent.
    #[serde(rename_all = "camelCase")]
    Deliver {
        revision: i64,
        /// What the worker acknowledges once it delivered the command
        /// ([`ConnectionChanges::delivered`]).
        #[serde(default)]
        seq: i64,
        connection_id: String,
        close: bool,
        /// The message, base64.
        data: String,
    },
    /// Nothing changed; the fleet's size, as the control plane last saw it.
    Heartbeat {
        revision: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fleet: Option<u32>,
    },
}

impl Event {
    pub fn revision(&self) -> i64 {
        match self {
            Event::Full { revision, .. }
            | Event::Delta { revision, .. }
            | Event::Heartbeat { revision, .. }
            | Event::Deliver { revision, .. } => *revision,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageKey {
    pub api_id: String,
    pub stage_name: String,
}

/// A worker's answer to a revision: applied, or refused with the reason (and still serving
/// its last good configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ack {
    pub worker_id: String,
    pub address: String,
    pub revision: i64,
    pub applied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Constant-time comparison of a presented bearer token with the cluster token.
pub fn token_matches(header: Option<&str>, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    let Some(presented) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    if token.is_empty() {
        return false;
    }
    // Comparing digests keeps the time independent of where the strings differ.
    Sha256::digest(presented.as_bytes()) == Sha256::digest(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json_lines() {
        let e = Event::Heartbeat {
            revision: 7,
            fleet: None,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"heartbeat","revision":7}"#
        );
        let d: Event = serde_json::from_str(
            r#"{"type":"delta","revision":3,"upserts":[],"removed":[],"removedApis":["a"]}"#,
        )
        .unwrap();
        assert_eq!(d.revision(), 3);
    }

    #[test]
    fn tokens_must_match_exactly() {
        assert!(token_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(!token_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!token_matches(None, "s3cret"));
    }
}
