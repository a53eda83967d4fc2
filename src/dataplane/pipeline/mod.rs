//! The request pipeline: the steps a request goes through, in AWS's order, each in a module of
//! its own. [`handle`] makes the request's `$context`, [`run`] calls the steps one after the
//! other, and [`respond`] makes the answer; this list and `run` name the same steps in the same
//! order:
//!
//! 1. [`resolve`]: Host and path → API and stage (unknown: 403 Missing Authentication Token);
//! 2. [`canary`]: the stage's canary deployment, for its share of requests;
//! 3. [`admit`]: refused before routing: a body declared over 10 MB (413), a path with dot
//!    segments once decoded (400), the execute-api endpoint of an API that disables it (403);
//! 4. [`route`]: resource and method (unknown: 403 Missing Authentication Token);
//! 5. [`authorize`]: the resource policy, then the method's authorizer (IAM SigV4 callers,
//!    Lambda TOKEN/REQUEST, Cognito user pools);
//! 6. [`api_key`]: a method that requires an API key gets one of its stage's usage plans;
//! 7. [`throttle`]: usage-plan, method and account rate limits;
//! 8. [`quota`]: the key's usage plan quota, and its usage counted;
//! 9. [`validate`]: required parameters, then the body against its model;
//! 10. [`cache`] lookup: a method with caching enabled answers from the stage cache when it
//!     holds the answer;
//! 11. [`integrate`]: MOCK, HTTP, HTTP_PROXY, AWS_PROXY (Lambda), AWS, with the request and
//!     response mappings they involve;
//! 12. [`cache`] fill: the integration's answer kept for the method's TTL;
//! 13. [`respond`]: AWS's ids on the answer, a failure through [`super::error::rescue`]; metrics
//!     and the access log.
//!
//! A step that fails ends the request with its [`GatewayError`]: the steps after it do not run.

pub mod admit;
pub mod api_key;
pub mod authorize;
pub mod cache;
pub mod canary;
pub mod cors;
pub mod integrate;
pub mod quota;
pub mod resolve;
pub mod respond;
pub mod route;
pub mod throttle;
pub mod validate;

use std::time::Instant;

pub use respond::{Answer, AnswerIds};

use super::body::RequestBody;
use super::context::{Peer, RequestContext, RequestFields};
use super::error::GatewayError;
use super::h1::RawFields;
use super::integration::{Payload, Reply};
use super::state::DataPlane;
use crate::compiler::CompiledApi;
use crate::compiler::http_api::CompiledHttpApi;
use crate::dataplane::config::RuntimeConfig;
use crate::domain::enums::AuthorizationType;

/// Answers the request `parts` (whose header fields are `fields`, as they arrived) and `body`,
/// which `arrived` when it did. The parts are lent, not moved: an async fn holds what it is
/// given and what it moves it to, and every byte of its state is copied when its future is
/// moved into place.
pub async fn handle(
    dp: &DataPlane,
    parts: &http::request::Parts,
    fields: &RawFields,
    body: RequestBody,
    peer: &Peer,
    arrived: Instant,
) -> Answer {
    // One configuration for the whole request, whatever is swapped meanwhile.
    handle_with(dp, &dp.runtime.load_full(), parts, fields, body, peer, arrived).await
}

/// [`handle`] with the configuration `config` (TestInvokeMethod's, a stage of its own
/// serving an API's current definition) rather than the worker's.
pub async fn handle_with(
    dp: &DataPlane,
    config: &RuntimeConfig,
    parts: &http::request::Parts,
    fields: &RawFields,
    body: RequestBody,
    peer: &Peer,
    arrived: Instant,
) -> Answer {
    // A target in absolute form names the host, whatever the Host header says (RFC 9112
    // §3.2.2; the parser let only a valid `host[:port]` authority through).
    let host = match parts.uri.authority() {
        Some(authority) => Some(authority.as_str().as_bytes()),
        None => fields.get(b"host"),
    };
    let kept = RequestFields {
        host,
        user_agent: fields.get(b"user-agent"),
        trace_id: fields.get(b"x-amzn-trace-id"),
    };
    let mut ctx = RequestContext::new(&parts.method, &parts.uri, kept, peer, arrived);
    // Boxed: the request's future is moved into place a few times, and `run`'s state is most
    // of its size; one allocation costs less than copying kilobytes each time.
    let outcome = Box::pin(run(dp, config, parts, fields, body, &mut ctx)).await;
    let mut answer = respond::answer(dp, outcome, &mut ctx);
    if let Some(CompiledApi::Http(api)) = ctx.api.map(|a| &**a)
        && let Some(c) = &api.cors
    {
        cors::decorate(c, parts, fields, &mut answer);
    }
    answer
}

/// The steps, in their order; each returns what the next ones need, or the failure the rescue
/// answers.
async fn run<'r>(
    dp: &DataPlane,
    config: &'r RuntimeConfig,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    body: RequestBody,
    ctx: &mut RequestContext<'r>,
) -> Result<Reply, GatewayError> {
    let (stage, path) = resolve::stage(config, &dp.shared, ctx)?;
    let deployment = canary::pick(stage, ctx);
    admit::check(deployment, parts, fields, path, &body, ctx)?;
    let api = match &**deployment.api {
        CompiledApi::Rest(api) => api,
        CompiledApi::Http(api) => {
            return run_http(dp, config, api, deployment, parts, fields, body, path, ctx).await;
        }
        // A WebSocket API's stage answers HTTP requests only on its @connections API.
        CompiledApi::WebSocket(_) => {
            return crate::dataplane::websocket::connections::handle(
                dp, config, parts, fields, body, path, ctx,
            )
            .await;
        }
    };
    let (method, mut request) = route::method(deployment, parts, fields, path, ctx)?;
    // A signature covers the body: an IAM method reads it before authorizing.
    let body = match method.authorization {
        AuthorizationType::AwsIam => {
            let whole = Payload::Streaming(body).collect().await?;
            request.body = Some(whole.clone());
            Payload::Buffered(whole)
        }
        _ => Payload::Streaming(body),
    };
    authorize::check(dp, config, api.policy.as_ref(), method, &request, path, ctx).await?;
    api_key::check(dp, api, method, &request, ctx)?;
    // Throttled requests use up no quota.
    throttle::check(dp, method, ctx).await?;
    quota::check(dp, ctx)?;
    // Only a method with a validator waits for its body here.
    let body = match method.validation.as_ref() {
        Some(v) => validate::check(v, &request, body).await?,
        None => body,
    };
    // A cache key read from the body needs the body first.
    let body = match (&body, method.integration.as_ref()) {
        (Payload::Streaming(_), Some(i))
            if i.cache_key_reads_body()
                && ctx
                    .stage_runtime
                    .is_some_and(|s| s.cache_policy(method).is_some()) =>
        {
            let whole = body.collect().await?;
            request.body = Some(whole.clone());
            Payload::Buffered(whole)
        }
        _ => body,
    };
    let fill = match cache::lookup(dp, api, method, &request, path, ctx)? {
        cache::Lookup::Hit(reply) => return Ok(reply),
        cache::Lookup::Miss(fill) => fill,
    };
    let reply = integrate::call(dp, &mut request, body, method, path, ctx).await?;
    match fill {
        Some(fill) => cache::fill(fill, reply).await,
        None => Ok(reply),
    }
}

/// An HTTP API's steps after admission: a CORS preflight answered ([`cors`]), its route (404
/// when none), its JWT authorizer, the stage's route throttles, the integration with its
/// parameter mapping ([`crate::dataplane::integration::http_mapping`]). HTTP APIs have no API keys,
/// validation or cache. [`handle`] puts the CORS headers on the answer, errors included.
#[expect(clippy::too_many_arguments, reason = "the request's parts, as `run` has them")]
async fn run_http<'r>(
    dp: &DataPlane,
    config: &'r RuntimeConfig,
    api: &'r CompiledHttpApi,
    deployment: canary::Deployment<'r>,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    body: RequestBody,
    path: &'r str,
    ctx: &mut RequestContext<'r>,
) -> Result<Reply, GatewayError> {
    if let Some(c) = &api.cors
        && let Some(reply) = cors::preflight(c, parts, fields)
    {
        return Ok(reply);
    }
    let (method, mut request) = route::http_route(api, deployment, parts, fields, path, ctx)?;
    let mapping = method
        .integration
        .as_ref()
        .and_then(|i| i.http_mapping.as_deref());
    // A signature covers the body, and a mapping may read it: then it is read whole first.
    let body = if method.authorization == AuthorizationType::AwsIam
        || mapping.is_some_and(|m| m.request.reads_body())
    {
        let whole = Payload::Streaming(body).collect().await?;
        request.body = Some(whole.clone());
        Payload::Buffered(whole)
    } else {
        Payload::Streaming(body)
    };
    authorize::check(dp, config, None, method, &request, path, ctx).await?;
    throttle::check(dp, method, ctx).await?;
    let reply = integrate::call(dp, &mut request, body, method, path, ctx).await?;
    Ok(match mapping {
        Some(m) if !m.responses.is_empty() => {
            use crate::dataplane::integration::http_mapping;
            let needed = http_mapping::reads_answer_body(&m.responses, &reply);
            let (reply, answer) = http_mapping::answer_body(reply, needed).await?;
            http_mapping::response(&m.responses, reply, answer.as_ref(), &request, ctx, path)
        }
        _ => reply,
    })
}
