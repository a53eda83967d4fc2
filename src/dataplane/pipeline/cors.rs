//! An HTTP API's CORS configuration at work, as AWS applies it: a preflight request (`OPTIONS`
//! with `Origin` and `Access-Control-Request-Method`) is answered by the gateway, whatever the
//! routes; every other answer to an allowed origin, the gateway's errors included, carries the
//! configured headers, and the integration's own CORS headers give way to them.

use http::header::{self, HeaderName};
use http::{Response, StatusCode};

use super::Answer;
use crate::compiler::cors::CompiledCors;
use crate::dataplane::h1::RawFields;
use crate::dataplane::integration::Reply;

/// The gateway's answer to a preflight request (204, with the configured headers when the
/// origin is allowed), or `None` for any other request.
pub fn preflight(cors: &CompiledCors, parts: &http::request::Parts, fields: &RawFields) -> Option<Reply> {
    if !is_preflight(parts, fields) {
        return None;
    }
    let origin = fields.get(b"origin")?;
    let mut res = Response::new(crate::dataplane::full_body(bytes::Bytes::new()));
    *res.status_mut() = StatusCode::NO_CONTENT;
    if let Some(allowed) = cors.allow_origin(origin) {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        let pairs = [
            (header::ACCESS_CONTROL_ALLOW_METHODS, &cors.allow_methods),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, &cors.allow_headers),
            (header::ACCESS_CONTROL_MAX_AGE, &cors.max_age),
        ];
        for (name, value) in pairs {
            if let Some(v) = value {
                h.insert(name, v.clone());
            }
        }
        if cors.allow_credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                http::HeaderValue::from_static("true"),
            );
        }
    }
    Some(Reply::from(res))
}

fn is_preflight(parts: &http::request::Parts, fields: &RawFields) -> bool {
    parts.method == http::Method::OPTIONS
        && fields.get(b"origin").is_some()
        && fields.get(b"access-control-request-method").is_some()
}

/// Puts the configured CORS headers on an answer to a request from an allowed origin, in
/// place of any the integration set.
pub fn decorate(cors: &CompiledCors, parts: &http::request::Parts, fields: &RawFields, answer: &mut Answer) {
    let Some(origin) = fields.get(b"origin") else {
        return;
    };
    if is_preflight(parts, fields) {
        return;
    }
    // A backend's fields passed through as they arrived become headers of the answer, its
    // CORS headers left out.
    if let Some(passed) = answer.passed.take() {
        crate::dataplane::integration::absorb_passed(answer.response.headers_mut(), &passed, |name| {
            !(name.len() > 15 && name[..15].eq_ignore_ascii_case(b"access-control-"))
        });
    }
    let headers = answer.response.headers_mut();
    let theirs: Vec<HeaderName> = headers
        .keys()
        .filter(|n| n.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for n in theirs {
        headers.remove(n);
    }
    let Some(allowed) = cors.allow_origin(origin) else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    if let Some(v) = &cors.expose_headers {
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
    }
    if cors.allow_credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            http::HeaderValue::from_static("true"),
        );
    }
}
