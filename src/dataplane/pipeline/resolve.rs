//! Step 1, resolve: which API and stage a request is for, from its Host and path: a custom
//! domain's mapping with the longest base path that starts the path (403 Forbidden when none
//! does), the execute-api host form (`{api-id}.execute-api.{anything}` with
//! `/{stage}/{path}`) or the path form (`/restapis/{api-id}/{stage}/_user_request_/{path}`);
//! an HTTP API's `$default` stage takes the whole path of any request no named stage takes.
//! An unknown one is AWS's 403 Missing Authentication Token.

use std::sync::Arc;

use crate::compiler::CompiledApi;
use crate::dataplane::config::{DomainRuntime, RuntimeConfig, StageRuntime};
use crate::dataplane::context::{Peer, RequestContext};
use crate::dataplane::error::GatewayError;
use crate::dataplane::state::Shared;

/// The stage the request's Host and path name in `config`, and the path within the API (`/`
/// when the request names none). `shared` tells which domains the worker serves over TLS
/// (when it has a TLS listener) and which front proxies it trusts.
pub fn stage<'r>(
    config: &'r RuntimeConfig,
    shared: &Shared,
    ctx: &mut RequestContext<'r>,
) -> Result<(&'r Arc<StageRuntime>, &'r str), GatewayError> {
    let by_path = ctx.path().starts_with("/restapis/");
    // A TLS connection serves the one domain its handshake was made for: the certificate it
    // showed and the client certificate it took (by that domain's truststore) are that
    // domain's, not another's nor an execute-api host's.
    let (tls, tls_domains) = (ctx.source.tls(), shared.tls.as_deref());
    if tls.is_some() || (!by_path && config.has_domains()) {
        let host = ctx.domain_name().filter(|_| !by_path).map(|host| {
            if host.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(host.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(host)
            }
        });
        let domain = host
            .as_deref()
            .filter(|h| host_api_id(Some(h)).is_none())
            .and_then(|h| config.domain(h));
        match (domain, tls) {
            (Some((name, domain)), Some(t)) if name == t.domain => {
                // Mutual TLS: the domain's truststore vouches for the client's certificate (the
                // one of the handshake, or one that came since and vouches for it too).
                let now = crate::dataplane::clock::wall(ctx.started);
                if domain.mutual_tls && !tls_domains.is_some_and(|d| t.vouched(&d.load(), now)) {
                    return Err(GatewayError::forbidden());
                }
                return through_domain(config, domain, ctx);
            }
            (_, Some(_)) => return Err(GatewayError::forbidden()),
            // Mutual TLS needs TLS; a domain served over TLS is served over TLS only (AWS's
            // custom domains have no plain HTTP: a request in clear could carry credentials),
            // but for a trusted front proxy's requests (it terminated TLS itself).
            (Some((_, domain)), None) if domain.mutual_tls => return Err(GatewayError::forbidden()),
            (Some((name, _)), None)
                if tls_domains.is_some_and(|d| d.load().serves(name))
                    && !shared.trusts(ctx.source.as_str()) =>
            {
                return Err(GatewayError::forbidden());
            }
            (Some((_, domain)), None) => return through_domain(config, domain, ctx),
            (None, None) => {}
        }
    }
    // `$default` is no stage segment of an execute-api URL: `/$default/x` is its path.
    let target = resolve(ctx.host(), ctx.path()).filter(|t| by_path || t.stage != DEFAULT_STAGE);
    // The API's stages, looked up once for the named stage and for the `$default` fallback.
    let api_id = match &target {
        Some(t) => Some(t.api_id),
        None => host_api_id(ctx.host()).filter(|_| !by_path),
    };
    let stages = api_id.and_then(|id| config.stages(id));
    let named = target.and_then(|t| Some((stages?.get(t.stage)?, t.path)));
    // An HTTP API's `$default` stage serves every path no named stage takes, whole.
    let whole = ctx.path();
    let default = || {
        if by_path {
            None
        } else {
            Some((stages?.get(DEFAULT_STAGE)?, whole))
        }
    };
    let Some((stage, path)) = named.or_else(default) else {
        // An HTTP API without such a stage answers its own 404, not REST's 403.
        if let Some(any) = stages.and_then(|s| s.values().next()).filter(|_| !by_path)
            && matches!(*any.api, CompiledApi::Http(_))
        {
            ctx.api = Some(&any.api);
            return Err(GatewayError::not_found());
        }
        return Err(GatewayError::missing_token());
    };
    ctx.stage_runtime = Some(stage);
    Ok((stage, path))
}

/// Whether the client of a connection through a mutual-TLS domain is still vouched for by the
/// domain's truststore (true for any other connection): a WebSocket session asks before each
/// message it takes, as [`stage`] does for each request.
pub fn vouched(config: &RuntimeConfig, shared: &Shared, peer: &Peer) -> bool {
    let Some(t) = peer.tls() else {
        return true;
    };
    match config.domain(&t.domain) {
        Some((_, d)) if d.mutual_tls => shared
            .tls
            .as_ref()
            .is_some_and(|tls| t.vouched(&tls.load(), std::time::SystemTime::now())),
        _ => true,
    }
}

/// The stage and path a custom domain's mappings give the request.
fn through_domain<'r>(
    config: &'r RuntimeConfig,
    domain: &'r DomainRuntime,
    ctx: &mut RequestContext<'r>,
) -> Result<(&'r Arc<StageRuntime>, &'r str), GatewayError> {
    let (m, rest) = domain.mapping(ctx.path()).ok_or_else(GatewayError::forbidden)?;
    // A v1 mapping without a stage leaves it to the path's next segment.
    let (stage_name, path) = if m.stage.is_empty() {
        let inner = rest.strip_prefix('/').unwrap_or(rest);
        match inner.bytes().position(|b| b == b'/') {
            Some(i) => (&inner[..i], &inner[i..]),
            None => (inner, "/"),
        }
    } else {
        (m.stage.as_str(), rest)
    };
    let stage = config
        .stage(&m.api_id, stage_name)
        .ok_or_else(GatewayError::forbidden)?;
    ctx.base_path_matched = Some(&m.key);
    ctx.stage_runtime = Some(stage);
    Ok((stage, path))
}

/// The stage an HTTP API serves without a stage segment in its URLs.
pub const DEFAULT_STAGE: &str = "$default";

/// The API id of an execute-api host (`{api-id}.execute-api.{anything}`).
fn host_api_id(host: Option<&str>) -> Option<&str> {
    let host = host?;
    // Byte scans: these strings are short, too short for `str::find`'s memchr to pay off.
    let dot = host.bytes().position(|b| b == b'.')?;
    let (api_id, rest) = (&host[..dot], &host[dot + 1..]);
    (rest.starts_with("execute-api.") && !api_id.is_empty()).then_some(api_id)
}

/// The resolved target; `path` is the rest of the path, with its leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'r> {
    pub api_id: &'r str,
    pub stage: &'r str,
    pub path: &'r str,
}

pub fn resolve<'r>(host: Option<&'r str>, path: &'r str) -> Option<Target<'r>> {
    if let Some(rest) = path.strip_prefix("/restapis/") {
        let (api_id, rest) = rest.split_once('/')?;
        let (stage, rest) = rest.split_once('/')?;
        let user_path = rest.strip_prefix("_user_request_")?;
        let user_path = if user_path.is_empty() { "/" } else { user_path };
        if !user_path.starts_with('/') {
            return None;
        }
        return Some(Target {
            api_id,
            stage,
            path: user_path,
        });
    }
    let api_id = host_api_id(host)?;
    let rest = path.strip_prefix('/')?;
    let (stage, user_path) = match rest.bytes().position(|b| b == b'/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if stage.is_empty() {
        return None;
    }
    Some(Target {
        api_id,
        stage,
        path: user_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_based_urls() {
        let t = resolve(Some("abc123.execute-api.localhost:8080"), "/dev/pets/1").unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc123",
                stage: "dev",
                path: "/pets/1"
            }
        );
        assert_eq!(
            resolve(Some("abc123.execute-api.localhost"), "/dev")
                .unwrap()
                .path,
            "/"
        );
        assert!(resolve(Some("localhost:8080"), "/dev/pets").is_none());
        assert!(resolve(Some("abc.execute-api.localhost"), "/").is_none());
    }

    #[test]
    fn path_based_urls() {
        let t = resolve(
            Some("localhost:8080"),
            "/restapis/abc123/dev/_user_request_/pets/1",
        )
        .unwrap();
        assert_eq!(
            t,
            Target {
                api_id: "abc123",
                stage: "dev",
                path: "/pets/1"
            }
        );
        assert_eq!(
            resolve(None, "/restapis/abc/dev/_user_request_").unwrap().path,
            "/"
        );
        assert!(resolve(None, "/restapis/abc/dev/pets").is_none());
    }
}
