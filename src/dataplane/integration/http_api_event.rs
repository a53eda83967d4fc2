//! HTTP APIs' Lambda payload format 2.0: the event (lower-case headers with repeated values
//! joined by commas, cookies apart, `rawPath`/`rawQueryString`, `requestContext.http`), and the
//! function's answer: a response object (`statusCode`, `headers`, `cookies`, `body`,
//! `isBase64Encoded`), or any other JSON value, which AWS infers to be a 200 JSON body.

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::compiler::CompiledMethod;
use crate::dataplane::context::RequestContext;
use crate::dataplane::h1::{TextFields, is_name};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::{Body, full_body};

/// The payload format 2.0 event for a request to `method`'s route.
pub fn event(
    req: &MethodRequest<'_>,
    body: &[u8],
    method: &CompiledMethod,
    ctx: &RequestContext<'_>,
    path: &str,
) -> Value {
    let mut fields = TextFields::default();
    let mut cookies: Vec<&str> = Vec::new();
    let mut forwarded_for: Vec<&str> = Vec::new();
    req.fields.each_end_to_end(|name, value| {
        if is_name(name, b"cookie") {
            if let Ok(v) = std::str::from_utf8(value) {
                cookies.extend(v.split(';').map(str::trim).filter(|c| !c.is_empty()));
            }
        } else if is_name(name, b"x-forwarded-for") {
            if let Ok(v) = std::str::from_utf8(value) {
                forwarded_for.push(v);
            }
        } else if !GATEWAY_SET
            .iter()
            .any(|g| name.eq_ignore_ascii_case(g.as_bytes()))
        {
            fields.add(name, value);
        }
    });
    let mut headers = Map::new();
    for (name, values) in fields.iter() {
        headers.insert(name.to_ascii_lowercase(), json!(values.join(",")));
    }
    forwarded_for.push(ctx.source_ip());
    let mut port = itoa::Buffer::new();
    let added = [
        (GATEWAY_SET[0], ctx.trace_id.as_str()),
        (GATEWAY_SET[1], &forwarded_for.join(", ")),
        (GATEWAY_SET[2], port.format(ctx.source.listen_port())),
        (GATEWAY_SET[3], ctx.source.scheme()),
    ];
    for (name, value) in added {
        headers.insert(name.to_owned(), json!(value));
    }
    let stage = ctx.stage_name().unwrap_or_default();
    // A named stage is part of the path a function sees; the `$default` stage has none.
    // Through a custom domain, the path as requested (its base path in it).
    let raw_path = if ctx.base_path_matched.is_some() {
        ctx.path().to_owned()
    } else if stage == "$default" {
        path.to_owned()
    } else {
        format!("/{stage}{path}")
    };
    let route_key = method.route_key.as_deref().unwrap_or_default();
    let mut e = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": req.raw_query.as_deref().unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": ctx.account_id(),
            "apiId": ctx.api_id(),
            "domainName": ctx.domain_name(),
            "domainPrefix": ctx.domain_name().and_then(|d| d.split('.').next()),
            "http": {
                "method": req.method.as_str(),
                "path": raw_path,
                "protocol": ctx.protocol,
                "sourceIp": ctx.source_ip(),
                "userAgent": ctx.user_agent().unwrap_or_default(),
            },
            // HTTP APIs' request ids are of the short kind, the `apigw-requestid` answered.
            "requestId": ctx.extended_request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": ctx.request_time_clf(),
            "timeEpoch": ctx.request_time_epoch_ms(),
        },
        "isBase64Encoded": false,
    });
    // A mutual-TLS client's certificate.
    if let Some(cert) = ctx.source.tls().and_then(|t| t.client_cert.as_ref()) {
        e["requestContext"]["authentication"] = json!({"clientCert": cert});
    }
    // A Lambda authorizer's context, as AWS hands it on (values as the function gave them).
    if let Some(a) = ctx.authorizer.as_deref().filter(|a| a.claims.is_none()) {
        let context: Map<String, Value> = a.context.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        e["requestContext"]["authorizer"] = json!({"lambda": context});
    }
    // A JWT authorizer's claims and the token's scopes, as AWS hands them on.
    if let Some(claims) = ctx.authorizer.as_deref().and_then(|a| a.claims.as_ref()) {
        let text: Map<String, Value> = claims
            .iter()
            .map(|(k, v)| (k.clone(), json!(crate::dataplane::identity::text(v))))
            .collect();
        let scopes = crate::dataplane::authorizer::jwt::token_scopes(claims);
        let scopes = if scopes.is_empty() {
            Value::Null
        } else {
            json!(scopes)
        };
        e["requestContext"]["authorizer"] = json!({"jwt": {"claims": text, "scopes": scopes}});
    }
    let obj = e.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        obj.insert("cookies".into(), json!(cookies));
    }
    if !req.query.is_empty() {
        let mut query: Map<String, Value> = Map::new();
        for (k, v) in &req.query {
            match query.get_mut(k) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(v);
                }
                _ => {
                    query.insert(k.clone(), json!(v));
                }
            }
        }
        obj.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !req.path_params.is_empty() {
        let params: Map<String, Value> = req
            .path_params
            .iter()
            .map(|(k, v, _)| ((*k).to_owned(), json!(v)))
            .collect();
        obj.insert("pathParameters".into(), Value::Object(params));
    }
    if !req.variables.is_empty() {
        obj.insert("stageVariables".into(), json!(req.variables));
    }
    if !body.is_empty() {
        let text = req.header("content-type").is_none_or(is_text) && std::str::from_utf8(body).is_ok();
        let value = if text {
            json!(String::from_utf8_lossy(body))
        } else {
            json!(base64::engine::general_purpose::STANDARD.encode(body))
        };
        obj.insert("body".into(), value);
        obj.insert("isBase64Encoded".into(), json!(!text));
    }
    e
}

/// A payload format 2.0 authorizer's event: the request's event without its body, with the
/// route's ARN and the identity sources' values.
pub fn authorizer_event(
    req: &MethodRequest<'_>,
    method: &CompiledMethod,
    ctx: &RequestContext<'_>,
    path: &str,
    route_arn: &str,
    identity: &[&str],
) -> Value {
    let mut e = event(req, b"", method, ctx, path);
    if let Some(o) = e.as_object_mut() {
        o.remove("isBase64Encoded");
        o.insert("type".into(), json!("REQUEST"));
        o.insert("routeArn".into(), json!(route_arn));
        o.insert("identitySource".into(), json!(identity));
    }
    e
}

/// The headers the gateway sets in an event, whatever the client sent under those names.
const GATEWAY_SET: [&str; 4] = [
    "x-amzn-trace-id",
    "x-forwarded-for",
    "x-forwarded-port",
    "x-forwarded-proto",
];

/// Whether a body of this media type reaches the function as text (else base64).
fn is_text(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.ends_with("json")
        || media.ends_with("xml")
        || media.ends_with("javascript")
        || media == "application/x-www-form-urlencoded"
}

/// The answer a function's result stands for; `None` (not JSON, or a response object AWS
/// refuses) is HTTP APIs' 500.
pub fn response(raw: &[u8]) -> Option<Response<Body>> {
    let value: Value = serde_json::from_slice(raw).ok()?;
    let Some(obj) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        // Any JSON without a status code is the body of a 200 JSON answer.
        let mut res = Response::new(full_body(Bytes::copy_from_slice(raw)));
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Some(res);
    };
    let status = match obj.get("statusCode")? {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| (100..600).contains(&s.as_u16()))?;
    let mut headers = HeaderMap::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                headers.append(
                    HeaderName::try_from(k.as_str()).ok()?,
                    HeaderValue::try_from(v).ok()?,
                );
            }
        }
        Some(_) => return None,
    }
    match obj.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for c in cookies {
                headers.append(header::SET_COOKIE, HeaderValue::try_from(c.as_str()?).ok()?);
            }
        }
        Some(_) => return None,
    }
    let is_base64 = match obj.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if is_base64 => {
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(s).ok()?)
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        // A body that is not a string is sent as its JSON.
        Some(other) => Bytes::from(other.to_string()),
    };
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    crate::dataplane::remap_proxy_headers(&mut headers);
    let mut res = Response::new(full_body(body));
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    Some(res)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn answer(raw: &str) -> Option<(u16, HeaderMap, String)> {
        let res = response(raw.as_bytes())?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Some((
            parts.status.as_u16(),
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        ))
    }

    #[tokio::test]
    async fn json_without_a_status_code_is_a_200_json_body() {
        let (status, headers, body) = answer(r#"{"hello":"world"}"#).await.unwrap();
        assert_eq!((status, body.as_str()), (200, r#"{"hello":"world"}"#));
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(answer("\"text\"").await.unwrap().2, "\"text\"");
        assert!(answer("not json").await.is_none());
    }

    #[tokio::test]
    async fn a_response_object_sets_status_headers_cookies_and_body() {
        let (status, headers, body) = answer(
            r#"{"statusCode":201,"headers":{"content-type":"text/plain","x-n":1},"cookies":["a=1","b=2; Secure"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .await
        .unwrap();
        assert_eq!((status, body.as_str()), (201, "hi"));
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain");
        assert_eq!(headers["x-n"], "1");
        let cookies: Vec<_> = headers.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2; Secure"]);
        assert!(answer(r#"{"statusCode":"abc"}"#).await.is_none());
        assert!(answer(r#"{"statusCode":200,"headers":[1]}"#).await.is_none());
    }

    #[test]
    fn text_media_types_reach_the_function_as_text() {
        assert!(is_text("application/json; charset=utf-8"));
        assert!(is_text("text/plain"));
        assert!(is_text("application/vnd.api+json"));
        assert!(!is_text("image/png"));
        assert!(!is_text("application/octet-stream"));
    }
}
