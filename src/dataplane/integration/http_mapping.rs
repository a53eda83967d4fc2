//! HTTP APIs' parameter mapping at work ([`crate::compiler::http_mapping`]): an HTTP_PROXY
//! integration request's headers, query string and path changed before it leaves, and an
//! answer's headers and status changed by the mapping of its status code. A value whose source
//! the request lacks maps nothing, as AWS skips it.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::Reply;
use crate::compiler::http_mapping::{Action, RequestMapping, ResponseMapping, Value};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;

/// A value for this request; `$request.path` is the path within the API, decoded. Text with
/// selections keeps its text where a selection finds nothing.
pub(crate) fn resolve<'a>(
    v: &'a Value,
    req: &'a MethodRequest<'_>,
    ctx: &'a RequestContext<'_>,
    path: &'a str,
) -> Option<Cow<'a, str>> {
    match v {
        Value::Request(source) => req.source(source, ctx),
        Value::WholePath => Some(percent_encoding::percent_decode_str(path).decode_utf8_lossy()),
        Value::Mixed(parts) => Some(Cow::Owned(
            parts.iter().filter_map(|p| resolve(p, req, ctx, path)).collect(),
        )),
        Value::ResponseHeader(_) | Value::ResponseBody(_) => None,
    }
}

/// A header value from mapped text: any bytes but control characters (CR, LF, NUL refused).
fn header_value(v: &str) -> Option<HeaderValue> {
    HeaderValue::from_bytes(v.as_bytes()).ok()
}

/// The request's headers as the mapping leaves them: `mapped` holds what replaces the client's
/// fields of the same names, `removed` the names none is sent for.
pub fn request_headers(
    m: &RequestMapping,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    path: &str,
    mapped: &mut HeaderMap,
    removed: &mut Vec<HeaderName>,
) {
    for (action, name, v) in &m.headers {
        match action {
            Action::Remove => {
                mapped.remove(name);
                removed.push(name.clone());
            }
            Action::Overwrite | Action::Append => {
                let Some(value) = resolve(v, req, ctx, path).and_then(|v| header_value(&v)) else {
                    continue;
                };
                if *action == Action::Append && !mapped.contains_key(name) {
                    // The client's own values stay, before the appended one.
                    for own in req.headers().get_all(name) {
                        mapped.append(name.clone(), own.clone());
                    }
                }
                if *action == Action::Overwrite {
                    mapped.insert(name.clone(), value);
                } else {
                    mapped.append(name.clone(), value);
                }
            }
        }
    }
}

/// The integration request's URI with the mapped path and query string.
pub fn request_uri(
    m: &RequestMapping,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    api_path: &str,
    uri: http::Uri,
) -> Result<http::Uri, GatewayError> {
    if m.path.is_none() && m.query.is_empty() {
        return Ok(uri);
    }
    let mut path = uri.path().to_owned();
    if let Some(v) = &m.path
        && let Some(p) = resolve(v, req, ctx, api_path)
    {
        // One leading `/`: `//host/x` would read as an authority to some servers.
        let p = format!("/{}", p.trim_start_matches('/'));
        if crate::dataplane::request::has_dot_segment(&p) {
            return Err(GatewayError::invalid_path());
        }
        path = percent_encoding::utf8_percent_encode(&p, PATH).to_string();
    }
    let mut query: Vec<(Cow<'_, str>, Cow<'_, str>)> = req
        .query
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
        .collect();
    for (action, name, v) in &m.query {
        match action {
            Action::Remove => query.retain(|(k, _)| k != name),
            Action::Overwrite | Action::Append => {
                let Some(value) = resolve(v, req, ctx, api_path) else {
                    continue;
                };
                if *action == Action::Overwrite {
                    query.retain(|(k, _)| k != name);
                }
                query.push((Cow::Borrowed(name.as_str()), value));
            }
        }
    }
    // The integration URI's own query stays; the request's, as mapped, follows it.
    let mut pq = path;
    let mut first = true;
    if let Some(own) = uri.query().filter(|q| !q.is_empty()) {
        pq.push('?');
        pq.push_str(own);
        first = false;
    }
    for (k, v) in &query {
        pq.push(if first { '?' } else { '&' });
        first = false;
        pq.extend(percent_encoding::utf8_percent_encode(
            k,
            percent_encoding::NON_ALPHANUMERIC,
        ));
        pq.push('=');
        pq.extend(percent_encoding::utf8_percent_encode(
            v,
            percent_encoding::NON_ALPHANUMERIC,
        ));
    }
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(pq.parse().map_err(|_| GatewayError::internal())?);
    http::Uri::from_parts(parts).map_err(|_| GatewayError::internal())
}

/// What a mapped path may hold unencoded: a path's characters, `/` included.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The mapping of an answer's status, when it has one.
fn mapping_of<'m>(mappings: &'m [(u16, ResponseMapping)], reply: &Reply) -> Option<&'m ResponseMapping> {
    let status = reply.response.status().as_u16();
    mappings.iter().find(|m| m.0 == status).map(|m| &m.1)
}

/// Whether the mapping of the answer's status reads its body.
pub fn reads_answer_body(mappings: &[(u16, ResponseMapping)], reply: &Reply) -> bool {
    mapping_of(mappings, reply).is_some_and(ResponseMapping::reads_body)
}

/// The answer's body, read whole (within AWS's 10 MB) when `needed` ([`reads_answer_body`]);
/// the answer then carries the body read.
pub async fn answer_body(reply: Reply, needed: bool) -> Result<(Reply, Option<bytes::Bytes>), GatewayError> {
    if !needed {
        return Ok((reply, None));
    }
    let Reply {
        response,
        passed,
        traced,
    } = reply;
    let (parts, body) = response.into_parts();
    let mut body = std::pin::pin!(body);
    let mut whole = bytes::BytesMut::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        let Ok(data) = frame.map_err(|_| GatewayError::bad_gateway())?.into_data() else {
            continue;
        };
        if whole.len() + data.len() > crate::dataplane::MAX_PAYLOAD {
            return Err(GatewayError::bad_gateway());
        }
        whole.extend_from_slice(&data);
    }
    let whole = whole.freeze();
    let response = http::Response::from_parts(parts, crate::dataplane::full_body(whole.clone()));
    let reply = Reply {
        response,
        passed,
        traced,
    };
    Ok((reply, Some(whole)))
}

/// An answer as the mapping of its status code leaves it (`body`: the answer's, when the
/// mapping reads it: [`answer_body`]).
pub fn response(
    mappings: &[(u16, ResponseMapping)],
    mut reply: Reply,
    body: Option<&bytes::Bytes>,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    path: &str,
) -> Reply {
    let Some(m) = mapping_of(mappings, &reply) else {
        return reply;
    };
    // A backend's fields passed through become the answer's headers, to be changed.
    if let Some(passed) = reply.passed.take() {
        super::absorb_passed(reply.response.headers_mut(), &passed, |_| true);
    }
    let answered = reply.response.headers().clone();
    let value = |v: &Value| answer_value(v, &answered, body, req, ctx, path);
    let headers = reply.response.headers_mut();
    for (action, name, v) in &m.headers {
        match action {
            Action::Remove => {
                headers.remove(name);
            }
            Action::Overwrite | Action::Append => {
                let Some(value) = value(v).and_then(|v| header_value(&v)) else {
                    continue;
                };
                if *action == Action::Overwrite {
                    headers.insert(name.clone(), value);
                } else {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
    if let Some(code) = m
        .status
        .as_ref()
        .and_then(value)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|c| (200..600).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
    {
        *reply.response.status_mut() = code;
    }
    reply
}

/// A value of an answer's mapping: from the answer's headers or body, or the request's.
fn answer_value(
    v: &Value,
    answered: &HeaderMap,
    body: Option<&bytes::Bytes>,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    path: &str,
) -> Option<String> {
    match v {
        Value::ResponseHeader(name) => answered.get(name.as_str())?.to_str().ok().map(str::to_owned),
        Value::ResponseBody(None) => Some(String::from_utf8_lossy(body?).into_owned()),
        Value::ResponseBody(Some(json_path)) => crate::dataplane::request::body_path(body?, json_path),
        Value::Mixed(parts) => Some(
            parts
                .iter()
                .filter_map(|p| answer_value(p, answered, body, req, ctx, path))
                .collect(),
        ),
        other => resolve(other, req, ctx, path).map(Cow::into_owned),
    }
}
