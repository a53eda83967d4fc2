//! Step 5, authorize: the API's resource policy, then the method's authorizer, as AWS decides
//! (its "resource policy and authorizer" tables):
//! - a resource policy that explicitly denies the caller ends the request first (403);
//! - NONE: with a resource policy, it must allow the caller;
//! - CUSTOM (Lambda TOKEN/REQUEST): every identity source present (else 401), the function's
//!   answer (cached per identity for its TTL), then its policy evaluated against this request's
//!   method ARN: an explicit Deny or no Allow is 403;
//! - COGNITO_USER_POOLS: a valid token of one of the pools (else 401; verified tokens cached
//!   for the TTL), unexpired, with one of the method's scopes when it has some;
//! - AWS_IAM: the caller's SigV4 signature (403 when missing, malformed, expired or wrong), then
//!   its identity policies and the resource policy together: an explicit deny wins; a caller of
//!   the API's account needs an allow from either, one of another account from both.
//!
//! Cached answers are held against every request's own method: a Lambda authorizer's policy
//! against its method ARN, a token's expiry and scopes against its method.
//!
//! What the authorizer passed on is kept in `$context.authorizer` for the steps after, and for
//! the gateway response when the request is refused.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::compiler::authorizers::{AuthorizerKind, CompiledAuthorizer, IdentitySource};
use crate::compiler::{CompiledMethod, CompiledRestApi};
use crate::dataplane::authorizer::{Verdict, cognito, iam, jwt, lambda};
use crate::dataplane::config::RuntimeConfig;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::domain::enums::AuthorizationType;
use crate::iam::{Caller, Decision, Policy, Request};

const INVOKE: &str = "execute-api:Invoke";
const INVALIDATE_CACHE: &str = "execute-api:InvalidateCache";

pub async fn check<'r>(
    dp: &DataPlane,
    config: &RuntimeConfig,
    policy: Option<&Policy>,
    method: &'r CompiledMethod,
    request: &MethodRequest<'r>,
    path: &str,
    ctx: &mut RequestContext<'r>,
) -> Result<(), GatewayError> {
    if policy.is_none() && method.authorization == AuthorizationType::None {
        return Ok(());
    }
    let arn = method_arn(ctx, request, path);
    // An IAM method's caller is known first: the resource policy may name it.
    let signer = match method.authorization {
        AuthorizationType::AwsIam => {
            let region = ctx.stage_runtime.map_or("us-east-1", |s| s.region.as_str());
            let signer = iam::caller(
                config,
                request,
                ctx.path(),
                request.body.as_deref().unwrap_or_default(),
                region,
                ctx.host(),
            )?;
            ctx.caller = Some(signer.clone());
            Some(signer)
        }
        _ => None,
    };
    let who = match &signer {
        Some(s) => Caller::Iam {
            account: &s.config.account_id,
            arn: &s.config.principal_arn,
        },
        None => Caller::Anonymous,
    };
    let user = signer
        .as_ref()
        .map_or("anonymous", |s| s.config.principal_arn.as_str());
    let from = Origin::new(dp, request, ctx);
    let by_resource_policy = policy.map(|p| evaluate(p, who, INVOKE, &arn, &from));
    if by_resource_policy == Some(Decision::ExplicitDeny) {
        return Err(policy_denies(user, &arn, true));
    }
    match method.authorization {
        AuthorizationType::None => match by_resource_policy {
            None | Some(Decision::Allow) => Ok(()),
            _ => Err(policy_denies(user, &arn, false)),
        },
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools => {
            let authorizer = method.authorizer.as_deref().ok_or_else(|| {
                GatewayError::authorizer_configuration()
                    .caused_by(Side::Gateway, "the method's authorizer is not in the deployment")
            })?;
            let verdict = ask(dp, authorizer, method, request, path, &arn, ctx).await?;
            ctx.authorizer = Some(verdict.authorization.clone());
            match verdict
                .policy
                .as_ref()
                .map(|p| evaluate(p, Caller::Anonymous, INVOKE, &arn, &from))
            {
                None | Some(Decision::Allow) => Ok(()),
                Some(Decision::ExplicitDeny) => Err(GatewayError::access_denied(
                    "User is not authorized to access this resource with an explicit deny",
                )),
                Some(Decision::ImplicitDeny | Decision::AccountAllow) => Err(GatewayError::access_denied(
                    "User is not authorized to access this resource",
                )),
            }
        }
        AuthorizationType::AwsIam => {
            let Some(signer) = signer.as_deref() else {
                return Err(GatewayError::missing_token());
            };
            let by_identity = signer
                .policies
                .iter()
                .map(|p| evaluate(p, who, INVOKE, &arn, &from))
                .fold(Decision::ImplicitDeny, Decision::combine);
            let by_resource = by_resource_policy.unwrap_or(Decision::ImplicitDeny);
            // AWS's evaluation: an explicit deny anywhere wins; a caller of the API's own
            // account needs an allow from either policy, one of another account from both. A
            // resource policy's allow to the caller's account delegates to its identity
            // policies: it admits no one they do not allow.
            let same_account = ctx.account_id() == Some(signer.config.account_id.as_str());
            let identity_allows = by_identity == Decision::Allow;
            let allowed = match by_identity.combine(by_resource) {
                Decision::ExplicitDeny => return Err(policy_denies(user, &arn, true)),
                _ if same_account => identity_allows || by_resource == Decision::Allow,
                _ => identity_allows && matches!(by_resource, Decision::Allow | Decision::AccountAllow),
            };
            if allowed {
                Ok(())
            } else {
                Err(policy_denies(user, &arn, false))
            }
        }
    }
}

/// Whether the request's caller may invalidate the cached answer of its method: an IAM caller
/// (an AWS_IAM method's signer) whose identity policies allow `execute-api:InvalidateCache` on
/// the method ARN, and whom the API's resource policy does not deny it.
pub fn may_invalidate_cache(
    dp: &DataPlane,
    api: &CompiledRestApi,
    request: &MethodRequest<'_>,
    path: &str,
    ctx: &RequestContext<'_>,
) -> bool {
    let Some(signer) = ctx.caller.as_deref() else {
        return false;
    };
    let arn = method_arn(ctx, request, path);
    let from = Origin::new(dp, request, ctx);
    let who = Caller::Iam {
        account: &signer.config.account_id,
        arn: &signer.config.principal_arn,
    };
    let denied = api
        .policy
        .as_ref()
        .is_some_and(|p| evaluate(p, who, INVALIDATE_CACHE, &arn, &from) == Decision::ExplicitDeny);
    !denied
        && signer
            .policies
            .iter()
            .map(|p| evaluate(p, who, INVALIDATE_CACHE, &arn, &from))
            .fold(Decision::ImplicitDeny, Decision::combine)
            == Decision::Allow
}

/// The request's method ARN: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}`,
/// with the path as the backend will see it (percent-decoded, empty segments dropped) and the
/// verb in upper case, so that no spelling of a request slips past a policy written for it.
fn method_arn(ctx: &RequestContext<'_>, request: &MethodRequest<'_>, path: &str) -> String {
    let stage = ctx.stage_runtime.map(|s| &**s);
    let region = stage.map_or("us-east-1", |s| s.region.as_str());
    let account = stage.map_or("", |s| s.account_id.as_str());
    let api = stage.map_or("", |s| s.api_id.as_str());
    let stage_name = stage.map_or("", |s| s.stage.stage_name.as_str());
    let verb = request.method.as_str();
    // One allocation: the prefix, then the path's segments as they decode.
    let mut arn = String::with_capacity(
        "arn:aws:execute-api:::///".len()
            + region.len()
            + account.len()
            + api.len()
            + stage_name.len()
            + verb.len()
            + path.len(),
    );
    for part in [
        "arn:aws:execute-api:",
        region,
        ":",
        account,
        ":",
        api,
        "/",
        stage_name,
        "/",
    ] {
        arn.push_str(part);
    }
    arn.extend(verb.chars().map(|c| c.to_ascii_uppercase()));
    arn.push('/');
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    for (i, segment) in decoded.split('/').filter(|s| !s.is_empty()).enumerate() {
        if i > 0 {
            arn.push('/');
        }
        arn.push_str(segment);
    }
    arn
}

/// Where a request came from, as policies see it: the client's address (behind a trusted front
/// proxy, the one its `X-Forwarded-For` names) and, when a trusted proxy says so, the VPC and
/// VPC endpoint it came through (`X-Gatehouse-Source-Vpc`, `X-Gatehouse-Source-Vpce`). Worked
/// out only when a policy's condition asks.
struct Origin<'a> {
    dp: &'a DataPlane,
    fields: &'a crate::dataplane::h1::RawFields,
    peer: &'a crate::dataplane::context::Peer,
    known: std::cell::OnceCell<(String, Option<&'a str>, Option<&'a str>)>,
}

impl<'a> Origin<'a> {
    fn new(dp: &'a DataPlane, request: &MethodRequest<'a>, ctx: &RequestContext<'a>) -> Self {
        Self {
            dp,
            fields: request.fields,
            peer: ctx.source,
            known: std::cell::OnceCell::new(),
        }
    }

    fn facts(&self) -> &(String, Option<&'a str>, Option<&'a str>) {
        self.known.get_or_init(|| self.resolve())
    }

    fn resolve(&self) -> (String, Option<&'a str>, Option<&'a str>) {
        let peer = self.peer.as_str();
        let trusted = |ip: &str| self.dp.shared.trusts(ip);
        if !trusted(peer) {
            return (peer.to_owned(), None, None);
        }
        let fields = self.fields;
        let values = move |name: &'static [u8]| {
            fields
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .filter_map(|(_, v)| crate::dataplane::h1::text(v))
        };
        // The right-most address no trusted proxy stands for is the client.
        let forwarded: Vec<&str> = values(b"x-forwarded-for")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
            .collect();
        let client = forwarded
            .iter()
            .rev()
            .find(|a| !trusted(a))
            .or(forwarded.first())
            .map_or_else(|| peer.to_owned(), |a| (*a).to_owned());
        (
            client,
            values(b"x-gatehouse-source-vpc").last(),
            values(b"x-gatehouse-source-vpce").last(),
        )
    }
}

fn evaluate(policy: &Policy, caller: Caller<'_>, action: &str, arn: &str, origin: &Origin<'_>) -> Decision {
    let keys = |key: &str| match (key, caller) {
        ("aws:sourceip", _) => Some(origin.facts().0.clone()),
        ("aws:sourcevpc", _) => origin.facts().1.map(str::to_owned),
        ("aws:sourcevpce", _) => origin.facts().2.map(str::to_owned),
        ("aws:principalaccount", Caller::Iam { account, .. }) => Some(account.to_owned()),
        ("aws:principalarn", Caller::Iam { arn, .. }) => Some(crate::iam::principal_arn(arn)),
        ("aws:username", Caller::Iam { arn, .. }) => arn
            .strip_prefix("arn:aws:iam::")?
            .split_once(":user/")
            .map(|(_, n)| n.rsplit('/').next().unwrap_or(n).to_owned()),
        _ => None,
    };
    policy.evaluate(&Request {
        caller,
        action,
        resource: arn,
        keys: &keys,
    })
}

/// What an authorizer's `policy` decides for an anonymous caller's `action` on `arn`, with the
/// request's condition keys (`aws:SourceIp`, ...): a WebSocket `$connect` authorizer's answer.
pub fn policy_decides<'a>(
    dp: &'a DataPlane,
    policy: &Policy,
    action: &str,
    arn: &str,
    request: &MethodRequest<'a>,
    ctx: &RequestContext<'a>,
) -> Decision {
    evaluate(
        policy,
        Caller::Anonymous,
        action,
        arn,
        &Origin::new(dp, request, ctx),
    )
}

/// Whether a signed caller's identity policies allow `action` on `arn` (an explicit deny
/// wins): the @connections API's `execute-api:ManageConnections`.
pub fn identity_allows<'a>(
    dp: &'a DataPlane,
    signer: &crate::dataplane::config::Caller,
    action: &str,
    arn: &str,
    request: &MethodRequest<'a>,
    ctx: &RequestContext<'a>,
) -> bool {
    let who = Caller::Iam {
        account: &signer.config.account_id,
        arn: &signer.config.principal_arn,
    };
    let from = Origin::new(dp, request, ctx);
    signer
        .policies
        .iter()
        .map(|p| evaluate(p, who, action, arn, &from))
        .fold(Decision::ImplicitDeny, Decision::combine)
        == Decision::Allow
}

/// AWS's 403 for policies that do not let `user` in.
fn policy_denies(user: &str, arn: &str, explicitly: bool) -> GatewayError {
    let how = if explicitly { " with an explicit deny" } else { "" };
    GatewayError::access_denied(format!(
        "User: {user} is not authorized to perform: {INVOKE} on resource: {arn}{how}"
    ))
}

/// What `authorizer` says of the request's identity: from the cache, or asked.
async fn ask<'r>(
    dp: &DataPlane,
    authorizer: &CompiledAuthorizer,
    method: &CompiledMethod,
    request: &MethodRequest<'r>,
    path: &str,
    arn: &str,
    ctx: &mut RequestContext<'r>,
) -> Result<Arc<Verdict>, GatewayError> {
    let mut identity: smallvec::SmallVec<[Cow<'_, str>; 2]> = smallvec::SmallVec::new();
    for source in &authorizer.identity {
        match identity_value(source, request, ctx).filter(|v| !v.is_empty()) {
            Some(v) => identity.push(v),
            None => return Err(GatewayError::unauthorized()),
        }
    }
    let lambda = match &authorizer.kind {
        AuthorizerKind::Lambda(l) => l,
        AuthorizerKind::CognitoUserPools(pools) => {
            let scopes = &method.method.authorization_scopes;
            let key = (!authorizer.ttl.is_zero()).then(|| cache_key(ctx, authorizer, &identity));
            let verdict = match key.as_deref().and_then(|k| dp.shared.authorizers.get(k)) {
                Some(hit) => hit,
                None => {
                    let verdict = Arc::new(cognito::verify(dp, pools, &identity[0]).await?);
                    if let Some(key) = key {
                        let ttl = cognito::cache_for(&verdict, authorizer.ttl);
                        dp.shared.authorizers.put(key, verdict.clone(), ttl);
                    }
                    verdict
                }
            };
            // Expiry, token use and scopes are the method's, checked on every request.
            cognito::admit(&verdict, scopes)?;
            return Ok(verdict);
        }
        AuthorizerKind::Jwt { issuer, audiences } => {
            let scopes = &method.method.authorization_scopes;
            let verdict = jwt::verify(dp, issuer, audiences, &identity[0], scopes).await?;
            return Ok(Arc::new(verdict));
        }
        AuthorizerKind::Misconfigured(why) => {
            return Err(GatewayError::authorizer_configuration().caused_by(Side::Gateway, why));
        }
    };
    if let (Some(expected), Some(token)) = (&lambda.validation, identity.first())
        && !expected.is_match(token)
    {
        return Err(GatewayError::unauthorized());
    }
    let key = (!authorizer.ttl.is_zero()).then(|| cache_key(ctx, authorizer, &identity));
    if let Some(hit) = key.as_deref().and_then(|k| dp.shared.authorizers.get(k)) {
        ctx.authorizer_latency_ms = Some(0);
        return Ok(hit);
    }
    let event = match lambda.http {
        _ if lambda.token => lambda::token_event(&identity[0], arn),
        Some(f) if f.payload_v2 => {
            let values: Vec<&str> = identity.iter().map(|v| v.as_ref()).collect();
            crate::dataplane::integration::http_api_event::authorizer_event(
                request, method, ctx, path, arn, &values,
            )
        }
        _ => lambda::request_event(request, method, ctx, path, arn),
    };
    let started = Instant::now();
    let asked = match lambda.http {
        Some(f) if f.simple => lambda::ask_simple(dp, lambda, request.variables, &event).await,
        _ => lambda::ask(dp, lambda, request.variables, &event).await,
    };
    ctx.authorizer_latency_ms = Some(started.elapsed().as_millis() as u64);
    let verdict = Arc::new(asked?);
    if let Some(key) = key {
        dp.shared.authorizers.put(key, verdict.clone(), authorizer.ttl);
    }
    Ok(verdict)
}

/// One identity source's value for this request.
fn identity_value<'a>(
    source: &'a IdentitySource,
    request: &'a MethodRequest<'_>,
    ctx: &RequestContext<'_>,
) -> Option<Cow<'a, str>> {
    match source {
        // The last value, as the REQUEST event's `headers` carries it.
        IdentitySource::Header(name) => request
            .fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .last()
            .and_then(|(_, v)| crate::dataplane::h1::text(v))
            .map(Cow::Borrowed),
        IdentitySource::Query(name) => request.query_value(name).map(Cow::Borrowed),
        IdentitySource::StageVariable(name) => request.variables.get(name).map(|v| Cow::Borrowed(v.as_str())),
        IdentitySource::Context(v) => ctx.variable(v).map(|v| Cow::Owned(v.into_owned())),
    }
}

/// Results are cached per API, stage (and generation of its cache), deployment (a redeployed
/// authorizer may call another function), authorizer and identity (each value length-prefixed,
/// so no two identities share a key).
fn cache_key(ctx: &RequestContext<'_>, authorizer: &CompiledAuthorizer, identity: &[Cow<'_, str>]) -> String {
    let mut key = String::with_capacity(64 + identity.iter().map(|v| v.len() + 8).sum::<usize>());
    let mut generation = itoa::Buffer::new();
    let generation = generation.format(ctx.stage_runtime.map_or(0, |s| s.authorizers_flushed));
    for part in [
        ctx.api_id().unwrap_or_default(),
        ctx.stage_name().unwrap_or_default(),
        generation,
        ctx.deployment_id().unwrap_or_default(),
        authorizer.id.as_str(),
    ]
    .into_iter()
    .chain(identity.iter().map(|v| v.as_ref()))
    {
        key.push_str(itoa::Buffer::new().format(part.len()));
        key.push(':');
        key.push_str(part);
    }
    key
}
