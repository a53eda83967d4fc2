//! HTTP and HTTP_PROXY integrations over a pooled keep-alive client. HTTP_PROXY passes the
//! request through (method, path parameters into the URI, query string, headers but hop-by-hop
//! ones, streamed body) and the answer back; HTTP maps both ways through the integration.

use std::borrow::Cow;

use bytes::Bytes;

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::BodyExt;

use super::{Payload, Selection, integration_response, request_payload};
use crate::compiler::{CompiledIntegration, ParamSource, ParamTarget};
use crate::dataplane::client::ResponseBody;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::server::DataPlane;
use crate::dataplane::{Body, MAX_PAYLOAD, full_body};

/// What stays as-is when a decoded value goes back into a URI path: unreserved characters, `/`
/// and the sub-delimiters a path allows.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// [`PATH_SEGMENT`] without `/`: a value that must stay a single segment.
const SEGMENT: &percent_encoding::AsciiSet = &PATH_SEGMENT.add(b'/');

/// Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1), with the
/// legacy `Proxy-Connection`.
static HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("proxy-connection"),
];

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The backend URL: the URI template with path parameters (mapped, else the method's own) and
/// stage variables, plus query parameters.
pub(super) fn backend_url(
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    ctx: &RequestContext,
    pass_query: bool,
    base: &str,
) -> Result<http::Uri, GatewayError> {
    let template = integration.uri.as_ref().ok_or_else(GatewayError::internal)?;
    // Mapped values are decoded; they go back into the URI encoded. Only the value of a greedy
    // path parameter (`{proxy+}`) keeps its `/`; anything else stays one segment, and a lone `.`
    // or `..` is encoded so no server normalises it into a climb out of the URI's prefix.
    let resource_path = ctx.resource_path.as_deref().unwrap_or("");
    let overrides = ctx.overrides.as_deref();
    let override_path = overrides.map(|o| o.request_path()).unwrap_or_default();
    let override_query = overrides.map(|o| o.request_query()).unwrap_or_default();
    let encode_segment = |v: &str| match v {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        other => percent_encoding::utf8_percent_encode(other, SEGMENT).to_string(),
    };
    // `$context.requestOverride.path.x` from a request template wins over any mapping.
    let overridden = override_path
        .iter()
        .map(|(n, v)| (*n, Cow::Owned(encode_segment(v))));
    let mapped_path: Vec<(&str, Cow<'_, str>)> = overridden
        .chain(
            integration
                .request_parameters
                .iter()
                .filter_map(|(t, s)| match t {
                    ParamTarget::Path(n) => {
                        let v = req.source(s, ctx)?;
                        let greedy = matches!(s, ParamSource::Path(m) if is_greedy(resource_path, m));
                        let set = if greedy { PATH_SEGMENT } else { SEGMENT };
                        let encoded = match v.as_ref() {
                            "." => "%2E".to_owned(),
                            ".." => "%2E%2E".to_owned(),
                            other => percent_encoding::utf8_percent_encode(other, set).to_string(),
                        };
                        Some((n.as_str(), Cow::Owned(encoded)))
                    }
                    _ => None,
                }),
        )
        .collect();
    let mut url = base.to_owned();
    url += &template.render(
        |name| {
            mapped_path
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_ref())
                .or_else(|| req.raw_path_param(name))
        },
        |name| req.variables.get(name).map(String::as_str),
    );
    let mut extra: Vec<String> = Vec::new();
    if pass_query && let Some(q) = req.raw_query.as_deref().filter(|q| !q.is_empty()) {
        extra.push(q.to_owned());
    }
    for (target, source) in &integration.request_parameters {
        let (ParamTarget::QueryString(name) | ParamTarget::MultiValueQueryString(name)) = target else {
            continue;
        };
        if override_query.iter().any(|(n, _)| n == name) {
            continue;
        }
        if let Some(v) = req.source(source, ctx) {
            extra.push(format!("{}={}", query_encode(name), query_encode(&v)));
        }
    }
    for (name, v) in &override_query {
        extra.push(format!("{}={}", query_encode(name), query_encode(v)));
    }
    if !extra.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&extra.join("&"));
    }
    http::Uri::try_from(url).map_err(|_| GatewayError::internal())
}

/// The integration request of a non-proxy integration: the body read (and kept for
/// `method.request.body` mappings), mapped through the request template, sent with its media
/// type, the mapped headers (which win over that media type) and the template's header
/// overrides, to the integration URI below `base`.
pub(super) async fn integration_request(
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext,
    base: &str,
) -> Result<Request<Bytes>, GatewayError> {
    let body = body.collect().await?;
    req.body = Some(body.clone());
    let req = &*req;
    let (payload, content_type) = request_payload(integration, req, body, ctx)?;
    let uri = backend_url(integration, req, ctx, false, base)?;
    let method = integration
        .http_method
        .clone()
        .unwrap_or_else(|| req.method.clone());
    let mut headers = HeaderMap::new();
    if let Some(ct) = content_type.and_then(|c| HeaderValue::try_from(c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    apply_header_mappings(&mut headers, integration, req, ctx);
    apply_header_overrides(&mut headers, ctx);
    let mut request = Request::new(payload);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// Sets the headers a request template put in `$context.requestOverride.header`.
pub(super) fn apply_header_overrides(headers: &mut HeaderMap, ctx: &RequestContext) {
    let overrides = ctx.overrides.as_deref().map(|o| o.request_headers());
    for (name, value) in overrides.unwrap_or_default() {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(n, v);
        }
    }
}

/// Whether the resource path names `{name+}`.
fn is_greedy(resource_path: &str, name: &str) -> bool {
    resource_path.match_indices('{').any(|(i, _)| {
        resource_path[i + 1..]
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with("+}"))
    })
}

fn query_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Sets the headers mapped by `requestParameters`.
pub(super) fn apply_header_mappings(
    headers: &mut HeaderMap,
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    ctx: &RequestContext,
) {
    for (target, source) in &integration.request_parameters {
        let (ParamTarget::Header(name) | ParamTarget::MultiValueHeader(name)) = target else {
            continue;
        };
        if let Some(v) = req.source(source, ctx)
            && let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(v.as_ref()),
            )
        {
            headers.insert(n, v);
        }
    }
}

async fn send(
    dp: &DataPlane,
    integration: &CompiledIntegration,
    request: Request<Body>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let client = if integration.insecure_skip_verification {
        &dp.http_insecure
    } else {
        &dp.http
    };
    match tokio::time::timeout(integration.timeout, client.request(request)).await {
        Err(_) => Err(GatewayError::timeout()),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "backend request failed");
            Err(GatewayError::bad_gateway())
        }
        Ok(Ok(res)) => Ok(res),
    }
}

pub async fn invoke_proxy(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &RequestContext,
) -> Result<Response<Body>, GatewayError> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_PAYLOAD) {
        return Err(GatewayError::too_large());
    }
    let uri = backend_url(integration, req, ctx, true, "")?;
    let method = integration
        .http_method
        .clone()
        .unwrap_or_else(|| req.method.clone());
    // Mappings read the method request's headers, so they are evaluated before the headers are
    // moved (not copied) into the backend request.
    let mut mapped = HeaderMap::new();
    apply_header_mappings(&mut mapped, integration, req, ctx);
    let forwarded = match req.header(&X_FORWARDED_FOR) {
        Some(prev) => HeaderValue::try_from(format!("{prev}, {}", ctx.source_ip)).ok(),
        None => HeaderValue::try_from(ctx.source_ip.as_str()).ok(),
    };
    let mut headers = std::mem::take(&mut req.headers);
    remove_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    if let Some(v) = forwarded {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    for (name, value) in mapped.drain().filter_map(|(n, v)| Some((n?, v))) {
        headers.insert(name, value);
    }
    let mut request = Request::new(body.into_body());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let started = tokio::time::Instant::now();
    let res = send(dp, integration, request).await?;
    let (mut parts, body) = res.into_parts();
    remove_hop_by_hop(&mut parts.headers);
    // The answer streams through, but not past the integration's timeout.
    let body = crate::dataplane::Deadline::new(body, started + integration.timeout);
    Ok(Response::from_parts(parts, body.boxed()))
}

/// Removes the hop-by-hop headers: the fixed ones and every header the `Connection` header
/// names (RFC 9110 §7.6.1). One pass over the names finds them; most requests carry none.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let mut doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| HOP_BY_HOP.contains(name))
        .cloned()
        .collect();
    if doomed.is_empty() {
        return;
    }
    let named = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        // The usual tokens name no header beyond the fixed ones.
        .filter(|t| !t.eq_ignore_ascii_case("keep-alive") && !t.eq_ignore_ascii_case("close"))
        .filter_map(|t| HeaderName::try_from(t).ok());
    doomed.extend(named);
    for name in doomed {
        headers.remove(name);
    }
}

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext,
) -> Result<Response<Body>, GatewayError> {
    let request = integration_request(req, body, integration, ctx, "").await?;
    let req = &*req;
    let request = request.map(full_body);
    let started = tokio::time::Instant::now();
    let res = send(dp, integration, request).await?;
    let (parts, body) = res.into_parts();
    // The integration's timeout covers the whole answer, body included.
    let collect = http_body_util::Limited::new(body, MAX_PAYLOAD).collect();
    let body = match tokio::time::timeout_at(started + integration.timeout, collect).await {
        Err(_) => return Err(GatewayError::timeout()),
        Ok(collected) => collected.map_err(|_| GatewayError::bad_gateway())?.to_bytes(),
    };
    integration_response(
        integration,
        Selection::Status(parts.status.as_str()),
        Some(&parts.headers),
        body,
        req,
        ctx,
    )
}
