//! Plain types shared by every layer: ids, the AWS-shaped documents of REST APIs and their parts,
//! and deployment snapshots. No axum, no sqlx here.
//!
//! The documents serialise in AWS's JSON shape (camelCase, absent fields omitted) because that is
//! also how they are stored (JSONB) and frozen into snapshots: one shape, three uses. What is only
//! wire (request bodies, AWS's error texts) lives in `management`.

pub mod caller;
pub mod client_certificate;
pub mod documentation;
pub mod domain_name;
pub mod enums;
pub mod http_api;
pub mod ids;
pub mod query;
pub mod rest_api;
pub mod snapshot;
pub mod stage;
pub mod usage_plan;
pub mod vpc_link;

/// Seconds since the epoch, the timestamp format of AWS's rest-json protocol.
pub type Timestamp = i64;

pub fn now() -> Timestamp {
    chrono::Utc::now().timestamp()
}
