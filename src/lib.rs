//! Gatehouse: a self-hostable Amazon API Gateway.
//!
//! The map, in the order a management call travels:
//! - [`management`] is the AWS-compatible API (`apigateway`, REST APIs): every route is registered in
//!   [`management::router`], SigV4 is verified in [`management::sigv4`], errors take AWS's shape in
//!   [`management::error`]; handlers live in one file per resource kind under
//!   [`management::apigateway`].
//! - [`domain`] holds the plain types (ids, REST API documents, deployment snapshots), shared by all.
//! - [`store`] is the only module that speaks SQL (Postgres through sqlx), with [`store::embedded`]
//!   running a private cluster when no `DATABASE_URL` is given.
//! - [`server`] wires the roles (`serve`, `control-plane`) together; [`config`] loads settings from an
//!   injectable environment map.
//!
//!
//! And in the order a deployment travels to the traffic it serves:
//! - [`domain::snapshot`] is a deployment frozen as canonical, content-hashed JSON;
//! - [`distribution`] streams the live configuration from the control plane to the workers;
//! - [`compiler`] turns each snapshot, once per worker, into what requests need: the route tree,
//!   integrations with their parsed mapping templates, compiled request models;
//! - [`dataplane`] serves requests through the steps listed in [`dataplane::pipeline`], its
//!   integrations under [`dataplane::integration`], every failure through [`dataplane::error`];
//! - [`tls`] holds custom domains' certificates and TLS configurations, chosen by SNI;
//! - [`vtl`] is the Velocity engine mapping templates run on (pure, no I/O);
//! - [`iam`] evaluates IAM policies (authorizers' policies, resource policies) for
//!   `execute-api:Invoke` (pure, no I/O).

pub mod compiler;
pub mod config;
pub mod dataplane;
pub mod distribution;
pub mod domain;
pub mod iam;
pub mod management;
pub mod openapi;
pub mod server;
pub mod sigv4;
pub mod store;
pub mod tls;
pub mod vtl;

/// What the fuzz targets (property tests beside the parsers they fuzz) share.
#[cfg(test)]
pub(crate) mod fuzzing {
    /// `default` cases, or `PROPTEST_CASES` of them to run longer; failures are not kept in
    /// files (a failing case is printed, to become a regression test).
    pub fn config(default: u32) -> proptest::prelude::ProptestConfig {
        proptest::prelude::ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(default),
            failure_persistence: None,
            ..Default::default()
        }
    }
}
