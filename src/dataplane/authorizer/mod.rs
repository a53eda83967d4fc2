//! Authorizers as the data plane runs them: a Lambda function (TOKEN and REQUEST), a Cognito
//! user pool's tokens, SigV4-signed IAM callers, and the cache of Lambda results, shared by a worker's threads. The
//! [`super::pipeline::authorize`] step decides with what they answer; this module only asks.

pub mod cache;
pub mod cognito;
pub mod iam;
pub mod jwt;
pub mod lambda;

use std::sync::Arc;

pub use cache::AuthorizerCache;

use super::identity::Authorization;
use crate::iam::Policy;

/// What an authorizer answered for one identity. Cached for the authorizer's TTL under the
/// identity's values, and evaluated again for each method it is asked about: a cached policy
/// that allows method A opens method B only when it covers B too.
#[derive(Debug)]
pub struct Verdict {
    pub authorization: Arc<Authorization>,
    /// The IAM policy a Lambda authorizer returned (a user pool's valid token needs none).
    pub policy: Option<Policy>,
}
