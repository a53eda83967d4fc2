//! HTTP and HTTP_PROXY integrations over a pooled keep-alive client. HTTP_PROXY passes the
//! request through (method, path parameters into the URI, query string, headers but hop-by-hop
//! ones, streamed body) and the answer back; HTTP maps both ways through the integration.

use bytes::Bytes;

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::BodyExt;

use super::{Payload, Reply, Selection, integration_response, request_payload};
use crate::compiler::{CompiledIntegration, ParamSource, ParamTarget};
use crate::domain::enums::IntegrationType;
use futures_util::FutureExt;
use futures_util::future::Either;
use std::future::Future;

use crate::dataplane::client::BackendClient;
use crate::dataplane::client::{BackendResponse, Budget, RequestError};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::h1::RawFields;
use crate::dataplane::h1::client::is_head_field;
use crate::dataplane::h1::{is_name, write_field};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
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

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_AMZN_APIGATEWAY_API_ID: HeaderName = HeaderName::from_static("x-amzn-apigateway-api-id");
static X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");

/// The backend URL: the URI template with path parameters (mapped, else the method's own) and
/// stage variables, plus query parameters, written into one buffer.
pub(super) fn backend_url(
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    pass_query: bool,
    base: &str,
) -> Result<http::Uri, GatewayError> {
    let template = integration.uri.as_ref().ok_or_else(GatewayError::internal)?;
    let resource_path = ctx.resource_path().unwrap_or("");
    let overrides = ctx.overrides.as_deref();
    let override_path = overrides.map(|o| o.request_path()).unwrap_or_default();
    let override_query = overrides.map(|o| o.request_query()).unwrap_or_default();
    // A spelled-out scheme and authority were parsed when the API was compiled: only the path
    // and query are rendered and checked now.
    let origin = if base.is_empty() { template.origin() } else { None };
    // Below a base, a spelled-out origin gives way to it (a VPC link's target).
    let path_only = origin.is_some() || !base.is_empty() && template.origin().is_some();
    let mut url = String::with_capacity(base.len() + 128);
    url.push_str(base);
    // Whether a decoded value holds a dot segment, which a backend (or a server between)
    // would resolve into a climb out of the integration URI's path.
    let mut climbs = false;
    template.render_into(
        &mut url,
        path_only,
        // `$context.requestOverride.path.x` from a request template wins over any mapping;
        // then a mapping; then the method's own (still encoded) path parameter.
        |name, out| {
            if let Some((_, v)) = override_path.iter().find(|(n, _)| *n == name) {
                return encode_path_value(out, v, SEGMENT, &mut climbs);
            }
            let mapped = integration
                .request_parameters
                .iter()
                .find(|(t, _)| matches!(t, ParamTarget::Path(n) if n == name))
                .and_then(|(_, s)| Some((s, req.source(s, ctx)?)));
            match mapped {
                // A path parameter was checked for dot segments with the whole decoded path
                // (the admit step); only a greedy one (`{proxy+}`) keeps its `/`.
                Some((ParamSource::Path(m), v)) => {
                    let set = if is_greedy(resource_path, m) {
                        PATH_SEGMENT
                    } else {
                        SEGMENT
                    };
                    return out.extend(percent_encoding::utf8_percent_encode(&v, set));
                }
                Some((_, v)) => return encode_path_value(out, &v, SEGMENT, &mut climbs),
                None => {}
            }
            out.push_str(req.raw_path_param(name).unwrap_or(""));
        },
        |name, out| out.push_str(req.variables.get(name).map_or("", String::as_str)),
    );
    if climbs {
        return Err(GatewayError::invalid_path());
    }
    // Query parameters: the request's own (HTTP_PROXY), then mapped ones, then overrides.
    let mut has_query = url.as_bytes().contains(&b'?');
    let mut separate = |url: &mut String| {
        url.push(if has_query { '&' } else { '?' });
        has_query = true;
    };
    if pass_query && let Some(q) = req.raw_query.as_deref().filter(|q| !q.is_empty()) {
        separate(&mut url);
        url.push_str(q);
    }
    let mut push_pair = |url: &mut String, name: &str, value: &str| {
        separate(url);
        url.extend(percent_encoding::utf8_percent_encode(
            name,
            percent_encoding::NON_ALPHANUMERIC,
        ));
        url.push('=');
        url.extend(percent_encoding::utf8_percent_encode(
            value,
            percent_encoding::NON_ALPHANUMERIC,
        ));
    };
    for (target, source) in &integration.request_parameters {
        let (ParamTarget::QueryString(name) | ParamTarget::MultiValueQueryString(name)) = target else {
            continue;
        };
        if override_query.iter().any(|(n, _)| n == name) {
            continue;
        }
        if let Some(v) = req.source(source, ctx) {
            push_pair(&mut url, name, &v);
        }
    }
    for (name, v) in &override_query {
        push_pair(&mut url, name, v);
    }
    let Some(origin) = origin else {
        return http::Uri::try_from(url).map_err(|_| GatewayError::internal());
    };
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(if origin.https {
        http::uri::Scheme::HTTPS
    } else {
        http::uri::Scheme::HTTP
    });
    parts.authority = Some(origin.authority.clone());
    parts.path_and_query = Some(
        http::uri::PathAndQuery::from_maybe_shared(Bytes::from(url)).map_err(|_| GatewayError::internal())?,
    );
    http::Uri::from_parts(parts).map_err(|_| GatewayError::internal())
}

/// A decoded value back into a URI path, encoded with `set`. A value with a `.` or `..`
/// segment (split at `/` or `\\`, whatever `set` keeps) sets `climbs` instead: encoding the dots
/// would not do, as servers such as nginx decode `%2E` before they resolve dot segments.
fn encode_path_value(
    out: &mut String,
    value: &str,
    set: &'static percent_encoding::AsciiSet,
    climbs: &mut bool,
) {
    if crate::dataplane::request::has_dot_segment(value) {
        *climbs = true;
        return;
    }
    out.extend(percent_encoding::utf8_percent_encode(value, set));
}

/// The integration request of a non-proxy integration: the body read (and kept for
/// `method.request.body` mappings), mapped through the request template, sent with its media
/// type, the mapped headers (which win over that media type) and the template's header
/// overrides, to the integration URI below `base`.
pub(super) async fn integration_request(
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
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
    apply_header_mappings(&mut headers, integration, req, ctx)?;
    apply_header_overrides(&mut headers, ctx);
    let mut request = Request::new(payload);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// What AWS sends an HTTP (non-proxy) backend besides the mapped headers, as its recordings
/// show: `Accept: application/json` and `User-Agent: AmazonAPIGateway_{api id}` unless mapped,
/// the API's id and the request's trace id.
fn add_gateway_headers(headers: &mut HeaderMap, ctx: &RequestContext<'_>) {
    let api_id = ctx.api_id().unwrap_or_default();
    headers
        .entry(header::ACCEPT)
        .or_insert(HeaderValue::from_static("application/json"));
    if !headers.contains_key(header::USER_AGENT)
        && let Ok(ua) = HeaderValue::try_from(format!("AmazonAPIGateway_{api_id}"))
    {
        headers.insert(header::USER_AGENT, ua);
    }
    if let Ok(id) = HeaderValue::try_from(api_id) {
        headers.insert(X_AMZN_APIGATEWAY_API_ID.clone(), id);
    }
    if let Ok(trace) = HeaderValue::from_bytes(ctx.trace_id.as_bytes()) {
        headers.insert(X_AMZN_TRACE_ID.clone(), trace);
    }
}

/// Sets the headers a request template put in `$context.requestOverride.header`.
pub(super) fn apply_header_overrides(headers: &mut HeaderMap, ctx: &RequestContext<'_>) {
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

/// Sets the headers mapped by `requestParameters`. A value mapped to a header AWS will not
/// send for the integration's kind is AWS's 500 (its recordings: `Content-Length` and
/// `Transfer-Encoding` for HTTP integrations, also `Authorization`, `Connection`, `Expect`,
/// `Proxy-Authenticate` and `TE` for AWS ones).
pub(super) fn apply_header_mappings(
    headers: &mut HeaderMap,
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
) -> Result<(), GatewayError> {
    const FRAMING: [&str; 2] = ["content-length", "transfer-encoding"];
    const AWS: [&str; 5] = [
        "authorization",
        "connection",
        "expect",
        "proxy-authenticate",
        "te",
    ];
    let aws = matches!(integration.kind, IntegrationType::Aws | IntegrationType::AwsProxy);
    for (target, source) in &integration.request_parameters {
        let (ParamTarget::Header(name) | ParamTarget::MultiValueHeader(name)) = target else {
            continue;
        };
        let Some(v) = req.source(source, ctx) else {
            continue;
        };
        let refused = |set: &[&str]| set.iter().any(|r| name.eq_ignore_ascii_case(r));
        if refused(&FRAMING) || (aws && refused(&AWS)) {
            tracing::debug!(header = %name, "a mapping sets a header the gateway keeps for itself");
            return Err(GatewayError::internal());
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(v.as_ref()),
        ) {
            headers.insert(n, v);
        }
    }
    Ok(())
}

/// Sends the integration request; its answer's head must come within the budget. (A mapped
/// future, not an async fn: that would hold the request twice over while it waits.)
fn send<'a>(
    dp: &'a DataPlane,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
    request: Request<Body>,
    budget: Budget,
) -> impl Future<Output = Result<BackendResponse, GatewayError>> + Send + 'a {
    answered(client_for(dp, integration, ctx).request(request, budget))
}

/// The client for an integration's backend: one presenting the stage's client certificate
/// when it has one.
fn client_for<'a>(
    dp: &'a DataPlane,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
) -> &'a BackendClient {
    let insecure = integration.insecure_skip_verification;
    let identity = ctx.stage_runtime.and_then(|s| s.client_identity.as_deref());
    let server_name = integration.server_name.as_deref();
    if (identity.is_some() || server_name.is_some())
        && let Some(client) = dp.client_with(identity, insecure, server_name)
    {
        return client;
    }
    if insecure { &dp.http_insecure } else { &dp.http }
}

/// A backend's answer, or the gateway's error for its failure ([`GatewayError::from_backend`]).
fn answered(
    sent: impl Future<Output = Result<BackendResponse, RequestError>>,
) -> impl Future<Output = Result<BackendResponse, GatewayError>> {
    sent.map(|answer| answer.map_err(GatewayError::from_backend))
}

/// Passes the request through to the backend and its answer back. The backend request is
/// encoded when this is called, its header fields straight from the client's; the future only
/// waits for the answer. (An async fn would hold the request, its parts and the client's
/// future side by side, and each caller up the stack copies all of that when it takes the
/// future in.)
pub fn invoke_proxy<'a>(
    dp: &'a DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
    path: &str,
) -> impl Future<Output = Result<Reply, GatewayError>> + Send + 'a {
    let mapping = integration.http_mapping.as_deref().map(|m| &m.request);
    // A mapped query string is the request's as mapped: the request's own is not passed too.
    let pass_query = mapping.is_none_or(|m| m.query.is_empty() && m.path.is_none());
    proxy_to(
        dp,
        req,
        body,
        integration,
        ctx,
        path,
        link_base(dp, integration, req).and_then(|base| backend_url(integration, req, ctx, pass_query, base)),
    )
}

/// Where a VPC link integration's requests go: the URL `--aws-endpoint ARN=URL` gives for its
/// link's target (`""` for any other integration: its URI's own origin).
fn link_base<'a>(
    dp: &'a DataPlane,
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
) -> Result<&'a str, GatewayError> {
    let Some(link) = &integration.vpc_link else {
        return Ok("");
    };
    let Some(target) = link.target(req.variables) else {
        tracing::warn!(vpc_link.id = %link.connection_id, "the integration's VPC link is not in the deployment");
        return Err(GatewayError::internal());
    };
    match dp.aws.endpoints.get(target) {
        Some(url) => Ok(url.trim_end_matches('/')),
        None => {
            tracing::warn!(
                vpc.target = target,
                "no URL for the VPC link's target: give the worker --aws-endpoint ARN=URL"
            );
            Err(GatewayError::internal())
        }
    }
}

/// Passes the request through to `uri` (before the integration's parameter mapping), and its
/// answer back: [`invoke_proxy`]'s work once the backend's URL is known.
pub fn proxy_to<'a>(
    dp: &'a DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
    path: &str,
    uri: Result<http::Uri, GatewayError>,
) -> impl Future<Output = Result<Reply, GatewayError>> + Send + 'a {
    let budget = Budget::from(ctx.integration_started, integration.timeout);
    let mapping = integration.http_mapping.as_deref().map(|m| &m.request);
    let uri = match uri {
        Ok(uri) => match mapping {
            Some(m) => super::http_mapping::request_uri(m, req, ctx, path, uri),
            None => Ok(uri),
        },
        Err(e) => Err(e),
    };
    let uri = match uri {
        Ok(uri) => uri,
        Err(e) => return Either::Right(std::future::ready(Err(e))),
    };
    let method = integration.http_method.as_ref().unwrap_or(&req.method);
    let mut mapped = HeaderMap::new();
    if let Err(e) = apply_header_mappings(&mut mapped, integration, req, ctx) {
        return Either::Right(std::future::ready(Err(e)));
    }
    let mut removed = Vec::new();
    if let Some(m) = mapping {
        super::http_mapping::request_headers(m, req, ctx, path, &mut mapped, &mut removed);
    }
    let added = GatewayFields {
        source: ctx.source_ip().as_bytes(),
        api_id: ctx.api_id().unwrap_or_default().as_bytes(),
        trace_id: ctx.trace_id.as_bytes(),
    };
    let fields = |out: &mut Vec<u8>| write_proxy_fields(out, req.fields, &mapped, &removed, &added);
    let sent =
        client_for(dp, integration, ctx).request_with_fields(method, &uri, &fields, body.into_body(), budget);
    // The answer streams through, but not past the integration's timeout, nor past AWS's 10 MB:
    // one declared larger is AWS's 502, one of unknown length is cut there. Its fields go back
    // as they came (the server writes the end-to-end ones), not through a header map.
    let pass = move |res: BackendResponse| {
        let body = match http_body::Body::size_hint(&res.body).exact() {
            Some(n) if n > MAX_PAYLOAD as u64 => {
                return Err(GatewayError::bad_gateway()
                    .caused_by(Side::Backend, format_args!("an answer of {n} bytes")));
            }
            Some(_) => crate::dataplane::Deadline::new(res.body, budget.deadline).boxed(),
            None => {
                let limited = http_body_util::Limited::new(res.body, MAX_PAYLOAD);
                crate::dataplane::Deadline::new(limited, budget.deadline).boxed()
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = res.status;
        Ok(Reply {
            response,
            passed: Some(res.fields),
            traced: false,
        })
    };
    Either::Left(answered(sent).map(move |res| res.and_then(pass)))
}

/// What the gateway adds to a request it passes on: the client's address to
/// `X-Forwarded-For`, and AWS's `X-Amzn-Apigateway-Api-Id` and `X-Amzn-Trace-Id`.
struct GatewayFields<'a> {
    source: &'a [u8],
    api_id: &'a [u8],
    trace_id: &'a [u8],
}

/// The header fields a proxy integration sends on, written straight from the client's: all but
/// the hop-by-hop ones (and those its `Connection` names), its `Host` and framing headers (the
/// backend gets its own), `Expect` (the gateway has the whole body or streams it: the
/// backend has nothing to agree to), names with `_` (as nginx drops them: a backend or a CGI
/// layer may read `X_Forwarded_For` as `X-Forwarded-For`), the ones the gateway sets and those
/// a mapping sets; then
/// `X-Forwarded-For` with the client's address added, the API's id and the request's trace id
/// (the client's, when it sent one: the gateway's own win over a mapping's, as they do for HTTP
/// integrations), and the mapped headers.
fn write_proxy_fields(
    out: &mut Vec<u8>,
    fields: &RawFields,
    mapped: &HeaderMap,
    removed: &[HeaderName],
    added: &GatewayFields<'_>,
) {
    let mut forwarded: smallvec::SmallVec<[&[u8]; 2]> = smallvec::SmallVec::new();
    fields.each_end_to_end(|name, value| {
        if is_head_field(name)
            || is_name(name, b"expect")
            || name.contains(&b'_')
            || is_name(name, b"x-amzn-trace-id")
            || is_name(name, b"x-amzn-apigateway-api-id")
        {
            return;
        }
        if is_name(name, b"x-forwarded-for") {
            forwarded.push(value);
            return;
        }
        if !mapped.is_empty()
            && mapped
                .keys()
                .any(|k| name.eq_ignore_ascii_case(k.as_str().as_bytes()))
        {
            return;
        }
        if removed
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k.as_str().as_bytes()))
        {
            return;
        }
        write_field(out, name, value);
    });
    if !mapped.contains_key(&X_FORWARDED_FOR) {
        out.extend_from_slice(b"x-forwarded-for: ");
        for hops in forwarded {
            out.extend_from_slice(hops);
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(added.source);
        out.extend_from_slice(b"\r\n");
    }
    // Spelled as AWS's recordings show them.
    let ours: [(&HeaderName, &[u8], &[u8]); 2] = [
        (
            &X_AMZN_APIGATEWAY_API_ID,
            b"X-Amzn-Apigateway-Api-Id",
            added.api_id,
        ),
        (&X_AMZN_TRACE_ID, b"X-Amzn-Trace-Id", added.trace_id),
    ];
    for (_, spelled, value) in ours {
        write_field(out, spelled, value);
    }
    // One value each: mappings insert, never append.
    for (name, value) in mapped {
        if !is_head_field(name.as_str().as_bytes()) && !ours.iter().any(|(n, _, _)| *n == name) {
            write_field(out, name.as_str().as_bytes(), value.as_bytes());
        }
    }
}

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
) -> Result<Response<Body>, GatewayError> {
    let base = link_base(dp, integration, req)?;
    let mut request = integration_request(req, body, integration, ctx, base).await?;
    add_gateway_headers(request.headers_mut(), ctx);
    let req = &*req;
    let request = request.map(full_body);
    let budget = Budget::from(ctx.integration_started, integration.timeout);
    let deadline = budget.deadline;
    let res = send(dp, integration, ctx, request, budget).await?;
    let (parts, body) = res
        .into_response()
        .map_err(|_| GatewayError::bad_gateway())?
        .into_parts();
    // The integration's timeout covers the whole answer, body included.
    let collect = http_body_util::Limited::new(body, MAX_PAYLOAD).collect();
    let body = match tokio::time::timeout_at(deadline, collect).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::h1::is_hop_by_hop;

    #[test]
    fn hop_by_hop_headers_are_known_in_any_case() {
        let fixed = [
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-connection",
        ];
        for name in fixed {
            assert!(is_hop_by_hop(name.as_bytes()), "{name}");
            assert!(is_hop_by_hop(name.to_uppercase().as_bytes()), "{name}");
        }
        for name in ["content-type", "host", "x-connection", "tee", "upgrades", "date"] {
            assert!(!is_hop_by_hop(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn a_proxied_request_keeps_the_clients_end_to_end_fields_as_they_came() {
        let write = |raw: &str, mapped: &HeaderMap| {
            let mut buf = bytes::BytesMut::from(raw);
            let head = crate::dataplane::h1::server::parse_request(&mut buf)
                .unwrap()
                .unwrap();
            let mut out = Vec::new();
            let added = GatewayFields {
                source: b"10.0.0.9",
                api_id: b"a1b2c3",
                trace_id: b"Root=1-x",
            };
            write_proxy_fields(&mut out, &head.fields, mapped, &[], &added);
            String::from_utf8(out).unwrap()
        };
        let none = HeaderMap::new();
        // Host, framing and hop-by-hop fields stay behind (and what Connection names), with
        // Expect and names with `_`.
        assert_eq!(
            write(
                "POST / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, X-Private\r\nX-Private: 1\r\n\
                 Content-Length: 0\r\nUpgrade: h2c\r\nContent-Type: text/plain\r\nX-Many: 1\r\nx-many: 2\r\n\
                 Expect: 100-continue\r\nX_Forwarded_For: 6.6.6.6\r\nx_a: 1\r\n\r\n",
                &none
            ),
            "Content-Type: text/plain\r\nX-Many: 1\r\nx-many: 2\r\nx-forwarded-for: 10.0.0.9\r\n\
             X-Amzn-Apigateway-Api-Id: a1b2c3\r\nX-Amzn-Trace-Id: Root=1-x\r\n"
        );
        // The client's X-Forwarded-For goes on with its address added; mapped headers replace
        // the client's of the same name, but never the head's own.
        let mut mapped = HeaderMap::new();
        mapped.insert("x-tenant", HeaderValue::from_static("acme"));
        mapped.insert(header::HOST, HeaderValue::from_static("evil"));
        assert_eq!(
            write(
                "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Tenant: other\r\nAccept: */*\r\n\
                 X-Forwarded-For: 5.6.7.8\r\n\r\n",
                &mapped
            ),
            "Accept: */*\r\nx-forwarded-for: 1.2.3.4, 5.6.7.8, 10.0.0.9\r\nX-Amzn-Apigateway-Api-Id: a1b2c3\r\nX-Amzn-Trace-Id: Root=1-x\r\nx-tenant: acme\r\n"
        );
        // A mapped X-Forwarded-For is the one sent; the trace id is the request's (the caller
        // passes the client's on), whatever a mapping says, and the API id the gateway's.
        let mut mapped = HeaderMap::new();
        mapped.insert("x-forwarded-for", HeaderValue::from_static("mapped"));
        mapped.insert("x-amzn-trace-id", HeaderValue::from_static("mapped"));
        assert_eq!(
            write(
                "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Amzn-Trace-Id: Root=1-x\r\n\
                 X-Amzn-Apigateway-Api-Id: forged\r\n\r\n",
                &mapped
            ),
            "X-Amzn-Apigateway-Api-Id: a1b2c3\r\nX-Amzn-Trace-Id: Root=1-x\r\nx-forwarded-for: mapped\r\n"
        );
    }
}
