//! Steps 10 and 12, the stage cache: a method with caching enabled on a stage with a cache
//! cluster answers from the cache when it holds the answer ([`lookup`]), and keeps a fresh
//! answer of its integration for its TTL ([`fill`]).
//!
//! Answers are keyed by the request's verb, the integration's cache namespace (its resource,
//! unless set) and the values of its cache key parameters, as AWS keys them: two requests
//! that differ only in a value no cache key parameter names share an answer. Only successful
//! (2xx) answers are kept, where AWS keeps any status: an error of the backend's is not served
//! again for the TTL. A canary serves from the stage's cache only when its settings say
//! `useStageCache`; otherwise its requests are not cached.
//!
//! `Cache-Control: max-age=0` asks for a fresh answer, which then replaces the cached one.
//! When the method requires authorization for it, only an IAM caller whose policies allow
//! `execute-api:InvalidateCache` on the method gets it; for anyone else the method's
//! `unauthorizedCacheControlHeaderStrategy` decides: a 403, or the cached answer with (or
//! without) a `Warning` header saying the request was not honoured.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use http_body_util::BodyExt;

use crate::compiler::{CompiledMethod, CompiledRestApi};
use crate::dataplane::cache::{CachedAnswer, MAX_CACHED_BYTES, StageCache};
use crate::dataplane::config::CachePolicy;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::integration::Reply;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::dataplane::{MAX_PAYLOAD, full_body};
use crate::domain::enums::UnauthorizedCacheControlHeaderStrategy as Unauthorized;

/// What the `Warning` header says to a caller whose `Cache-Control: max-age=0` was ignored.
const IGNORED: &str =
    "199 gatehouse \"Cache-Control: max-age=0 ignored: the caller may not invalidate the cache\"";

/// What the cache did for a request.
pub enum Lookup {
    /// Served from the cache.
    Hit(Reply),
    /// Not served from the cache: what to keep of the integration's answer, if anything.
    Miss(Option<Fill>),
}

/// Where an answer will be kept.
pub struct Fill {
    cache: Arc<StageCache>,
    key: String,
    policy: CachePolicy,
    /// Whether the answer says the request's `Cache-Control` was ignored.
    warn: bool,
}

pub fn lookup<'r>(
    dp: &DataPlane,
    api: &CompiledRestApi,
    method: &Arc<CompiledMethod>,
    request: &MethodRequest<'r>,
    path: &str,
    ctx: &mut RequestContext<'r>,
) -> Result<Lookup, GatewayError> {
    let Some(stage) = ctx.stage_runtime else {
        return Ok(Lookup::Miss(None));
    };
    let (Some(cache), Some(policy)) = (&stage.cache, stage.cache_policy(method)) else {
        return Ok(Lookup::Miss(None));
    };
    let canary_cached = || {
        stage
            .stage
            .canary_settings
            .as_ref()
            .is_some_and(|c| c.use_stage_cache)
    };
    if (policy.get_only && request.method != http::Method::GET) || (ctx.is_canary && !canary_cached()) {
        return Ok(Lookup::Miss(None));
    }
    let key = key(method, request, ctx);
    let mut warn = false;
    if asks_fresh(request) {
        if !policy.require_authorization
            || super::authorize::may_invalidate_cache(dp, api, request, path, ctx)
        {
            ctx.cache_hit = Some(false);
            return Ok(Lookup::Miss(Some(Fill {
                cache: cache.clone(),
                key,
                policy,
                warn,
            })));
        }
        match policy.unauthorized {
            Unauthorized::FailWith403 => {
                return Err(GatewayError::access_denied(
                    "User is not authorized to invalidate the cache of this resource",
                ));
            }
            Unauthorized::SucceedWithResponseHeader => warn = true,
            Unauthorized::SucceedWithoutResponseHeader => {}
        }
    }
    if let Some(answer) = cache.get(&key) {
        ctx.cache_hit = Some(true);
        let mut response = Response::new(full_body(answer.body.clone()));
        *response.status_mut() = answer.status;
        *response.headers_mut() = answer.headers.clone();
        let reply = Reply {
            response,
            passed: None,
            traced: answer.traced,
        };
        return Ok(Lookup::Hit(warned(reply, warn)));
    }
    ctx.cache_hit = Some(false);
    Ok(Lookup::Miss(Some(Fill {
        cache: cache.clone(),
        key,
        policy,
        warn,
    })))
}

/// Keeps a successful answer of at most 1 MB for the method's TTL (read whole to be kept; its
/// client gets the same bytes), and says when the request's `Cache-Control` was ignored.
pub async fn fill(fill: Fill, reply: Reply) -> Result<Reply, GatewayError> {
    let declared = http_body::Body::size_hint(reply.response.body()).exact();
    if !reply.response.status().is_success() || declared.is_some_and(|n| n > MAX_CACHED_BYTES as u64) {
        return Ok(warned(reply, fill.warn));
    }
    let Reply {
        response,
        passed,
        traced,
    } = reply;
    let (parts, body) = response.into_parts();
    let body = read_whole(body).await?;
    // An answer that sets a cookie is its caller's alone: kept, it would be every caller's
    // (AWS keeps it; see the README's differences).
    if body.len() <= MAX_CACHED_BYTES && !sets_cookie(&parts.headers, passed.as_ref()) {
        let mut headers = parts.headers.clone();
        if let Some(passed) = &passed {
            kept_fields(passed, &mut headers);
        }
        let answer = CachedAnswer {
            status: parts.status,
            headers,
            // A copy of its exact size: what the cache counts is what it holds.
            body: Bytes::copy_from_slice(&body),
            traced,
            ttl: fill.policy.ttl,
        };
        fill.cache.put(fill.key, answer);
    }
    let reply = Reply {
        response: Response::from_parts(parts, full_body(body)),
        passed,
        traced,
    };
    Ok(warned(reply, fill.warn))
}

/// An answer's body, whole (at most AWS's 10 MB).
async fn read_whole(body: crate::dataplane::Body) -> Result<Bytes, GatewayError> {
    let mut body = std::pin::pin!(body);
    let mut whole = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| GatewayError::bad_gateway().caused_by(Side::Backend, e))?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > MAX_PAYLOAD {
                return Err(GatewayError::bad_gateway().caused_by(Side::Backend, "an answer over 10 MB"));
            }
            whole.extend_from_slice(&data);
        }
    }
    Ok(whole.freeze())
}

/// The request's verb, its method's cache namespace (else its resource), and the value of each
/// cache key parameter, each part its length then its bytes (a missing value `-`), so that no
/// value, whatever bytes it holds, can spell another request's key.
fn key(method: &CompiledMethod, request: &MethodRequest<'_>, ctx: &RequestContext<'_>) -> String {
    use std::fmt::Write as _;
    let integration = method.integration.as_ref();
    let namespace = integration
        .map(|i| i.cache_namespace.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(&method.resource_id);
    let mut key = String::with_capacity(64);
    for part in [request.method.as_str(), namespace] {
        let _ = write!(key, "{}:{part}", part.len());
    }
    for source in integration.map_or(&[][..], |i| &i.cache_key) {
        match request.source(source, ctx) {
            Some(value) => {
                let _ = write!(key, "{}:{value}", value.len());
            }
            None => key.push('-'),
        }
    }
    key
}

/// Whether the request asks for a fresh answer: a `max-age=0` directive in `Cache-Control`.
fn asks_fresh(request: &MethodRequest<'_>) -> bool {
    request
        .fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"cache-control"))
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .any(|directive| directive.trim_ascii().eq_ignore_ascii_case(b"max-age=0"))
}

/// A backend's fields as a client gets them ([`crate::dataplane::h1::server`] writes them so):
/// the hop-by-hop ones left out, and those AWS keeps for itself renamed `x-amzn-Remapped-*`.
fn kept_fields(passed: &crate::dataplane::h1::RawFields, headers: &mut HeaderMap) {
    passed.each_field(|name, value, hop| {
        let ours = super::respond::AnswerIds::NAMES;
        let name = if crate::dataplane::is_proxy_remapped(name)
            || ours.iter().any(|o| name.eq_ignore_ascii_case(o.as_bytes()))
        {
            let mut renamed = b"x-amzn-Remapped-".to_vec();
            renamed.extend_from_slice(name);
            HeaderName::from_bytes(&renamed)
        } else if hop {
            return;
        } else {
            HeaderName::from_bytes(name)
        };
        // Copies: the fields are slices of the backend's head.
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    });
}

/// Whether an answer carries `Set-Cookie`, in its headers or a backend's passed fields.
fn sets_cookie(headers: &HeaderMap, passed: Option<&crate::dataplane::h1::RawFields>) -> bool {
    headers.contains_key(http::header::SET_COOKIE)
        || passed.is_some_and(|p| p.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"set-cookie")))
}

fn warned(mut reply: Reply, warn: bool) -> Reply {
    if warn {
        reply
            .response
            .headers_mut()
            .append(http::header::WARNING, HeaderValue::from_static(IGNORED));
    }
    reply
}
