//! Step 2, canary: a stage with a canary serves its share of requests from the canary's
//! deployment, with the canary's stage variables (`$context.isCanaryRequest`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::Rng;

use crate::compiler::CompiledApi;
use crate::dataplane::config::StageRuntime;
use crate::dataplane::context::RequestContext;

/// What serves the request: a compiled deployment, and the stage variables it sees.
#[derive(Clone, Copy)]
pub struct Deployment<'r> {
    pub api: &'r Arc<CompiledApi>,
    pub variables: &'r BTreeMap<String, String>,
}

/// The stage's deployment, or its canary's for the canary's share of requests.
pub fn pick<'r>(stage: &'r StageRuntime, ctx: &mut RequestContext<'r>) -> Deployment<'r> {
    let canary = stage
        .canary
        .as_ref()
        .filter(|c| c.percent > 0.0 && rand::rng().random_range(0.0..100.0) < c.percent);
    let deployment = match canary {
        Some(c) => {
            ctx.is_canary = true;
            Deployment {
                api: &c.api,
                variables: &c.variables,
            }
        }
        None => Deployment {
            api: &stage.api,
            variables: &stage.stage.variables,
        },
    };
    ctx.api = Some(deployment.api);
    deployment
}
