//! Lambda integrations, through the Lambda Invoke API
//! (`POST /2015-03-31/functions/{function}/invocations`) at AWS's or a configured endpoint
//! ([`super::aws`] signs the call):
//! - AWS_PROXY: AWS's payload format 1.0 event (REST APIs', and HTTP APIs' 1.0), or HTTP APIs'
//!   2.0 ([`super::http_api_event`]); the proxy response validated as AWS validates it;
//! - AWS (non-proxy): the request template's output is the event, the answer goes through the
//!   integration responses, selected by a function error's `errorMessage`.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Payload, Selection, aws, content, http_api_event, integration_response, media_type, request_payload,
};
use crate::compiler::context::ContextField;
use crate::compiler::{CompiledIntegration, CompiledMethod, PayloadFormat};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::h1::{TextFields, is_name};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::dataplane::{Body, full_body};

/// Invokes `target` (whose name may read the stage's `variables`) with `payload`
/// (RequestResponse) and reads its answer: integrations and authorizers alike.
pub async fn call_function(
    dp: &DataPlane,
    call_as: aws::CallAs<'_>,
    target: &crate::compiler::LambdaTarget,
    variables: &BTreeMap<String, String>,
    payload: Bytes,
) -> Result<(http::response::Parts, Bytes), GatewayError> {
    call_function_with(dp, call_as, target, variables, payload, HeaderMap::new()).await
}

/// [`call_function`] with the Invoke call's headers an integration maps
/// (`X-Amz-Invocation-Type: 'Event'` calls the function asynchronously, as on AWS).
pub async fn call_function_with(
    dp: &DataPlane,
    call_as: aws::CallAs<'_>,
    target: &crate::compiler::LambdaTarget,
    variables: &BTreeMap<String, String>,
    payload: Bytes,
    mapped: HeaderMap,
) -> Result<(http::response::Parts, Bytes), GatewayError> {
    let endpoint = dp.aws.endpoint("lambda", &target.region, None);
    let function = target
        .function
        .render(|_| None, |name| variables.get(name).map(String::as_str));
    let function = percent_encoding::utf8_percent_encode(&function, percent_encoding::NON_ALPHANUMERIC);
    let url = format!("{endpoint}/2015-03-31/functions/{function}/invocations");
    let mut request = Request::post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-amz-invocation-type", "RequestResponse")
        .body(payload)
        .map_err(|_| GatewayError::internal())?;
    for (name, value) in mapped {
        if let Some(name) = name {
            request.headers_mut().insert(name, value);
        }
    }
    aws::call(dp, call_as, request, &target.region, "lambda").await
}

/// AWS (non-proxy) Lambda: the request template's output (or the body passed through) is the
/// event; a function error's `errorMessage` selects the integration response, a result the
/// default one.
pub async fn invoke(
    dp: &DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
) -> Result<Response<Body>, GatewayError> {
    let target = integration.lambda.as_ref().ok_or_else(GatewayError::internal)?;
    let body = body.collect().await?;
    let (payload, _) = request_payload(integration, req, body, ctx)?;
    let mut mapped = HeaderMap::new();
    super::http_backend::apply_header_mappings(&mut mapped, integration, req, ctx)?;
    let (parts, answer) =
        call_function_with(dp, integration.into(), target, req.variables, payload, mapped).await?;
    if !parts.status.is_success() {
        tracing::debug!(status = %parts.status, "lambda invocation failed");
        return Err(GatewayError::bad_gateway());
    }
    let selection = if parts.headers.contains_key("x-amz-function-error") {
        serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    integration_response(
        integration,
        Selection::Lambda(&selection),
        Some(&headers),
        answer,
        req,
        ctx,
    )
}

pub async fn invoke_proxy(
    dp: &DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    method: &CompiledMethod,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
    path: &str,
) -> Result<Response<Body>, GatewayError> {
    let target = integration.lambda.as_ref().ok_or_else(GatewayError::internal)?;
    // A proxy maps no headers onto the Invoke call, but one that names a header the gateway
    // keeps for itself is refused as AWS refuses it (500).
    if !integration.request_parameters.is_empty() {
        super::http_backend::apply_header_mappings(&mut HeaderMap::new(), integration, req, ctx)?;
    }
    let body = body.collect().await?;
    let binary_types = ctx.binary_media_types();
    let event = match integration.payload_format {
        PayloadFormat::Rest => event(req, &body, method, ctx, path, binary_types),
        PayloadFormat::HttpV1 => {
            let mut e = event(req, &body, method, ctx, path, binary_types);
            e["version"] = json!("1.0");
            e["routeKey"] = json!(method.route_key);
            e
        }
        PayloadFormat::HttpV2 => http_api_event::event(req, &body, method, ctx, path),
    };
    let payload = Bytes::from(serde_json::to_vec(&event).expect("events serialise"));

    let (parts, body) = call_function(dp, integration.into(), target, req.variables, payload).await?;
    if !parts.status.is_success() || parts.headers.contains_key("x-amz-function-error") {
        tracing::debug!(status = %parts.status, "lambda invocation failed");
        return Err(GatewayError::bad_gateway());
    }
    let answer = match integration.payload_format {
        PayloadFormat::HttpV2 => http_api_event::response(&body),
        // HTTP APIs base64-decode a body that says it is encoded, whatever the client accepts.
        PayloadFormat::HttpV1 => proxy_response(&body, true),
        PayloadFormat::Rest => {
            proxy_response(&body, content::accepts_binary(req.header("accept"), binary_types))
        }
    };
    answer.ok_or_else(|| {
        tracing::debug!("malformed lambda proxy response");
        GatewayError::bad_gateway()
    })
}

/// The headers the gateway sets in an event, whatever the client sent under those names.
const GATEWAY_SET: [&str; 4] = [
    "X-Amzn-Trace-Id",
    "X-Forwarded-For",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
];

/// Name-value pairs as a proxy event has them twice: each name's last value
/// (`headers`, `queryStringParameters`), and all its values (`multiValue...`).
pub fn single_and_multi<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (k, v) in pairs {
        single.insert(k.to_owned(), json!(v));
        multi.entry(k).or_default().push(json!(v));
    }
    (Value::Object(single), json!(multi))
}

/// The payload format 1.0 event, field for field.
pub fn event(
    req: &MethodRequest<'_>,
    body: &[u8],
    method: &CompiledMethod,
    ctx: &RequestContext<'_>,
    path: &str,
    binary_types: &[String],
) -> Value {
    // The client's end-to-end fields, but those the gateway sets.
    let (mut fields, mut forwarded) = (TextFields::default(), TextFields::default());
    req.fields.each_end_to_end(|name, value| {
        if is_name(name, b"x-forwarded-for") {
            forwarded.add(name, value);
        } else if !GATEWAY_SET
            .iter()
            .any(|g| name.eq_ignore_ascii_case(g.as_bytes()))
        {
            fields.add(name, value);
        }
    });
    let mut headers = Map::new();
    let mut multi_headers: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, values) in fields.iter() {
        if let Some(last) = values.last() {
            headers.insert(name.to_owned(), json!(last));
        }
        multi_headers.insert(name.to_owned(), values.iter().map(|v| json!(v)).collect());
    }
    // What the gateway adds, as AWS's recorded events show: the client's address appended to
    // X-Forwarded-For, the port and protocol it came in on, the request's trace id.
    let mut forwarded_for: Vec<&str> = forwarded.iter().flat_map(|(_, values)| values).copied().collect();
    forwarded_for.push(ctx.source_ip());
    let forwarded_for = forwarded_for.join(", ");
    let mut port = itoa::Buffer::new();
    let added = [
        (GATEWAY_SET[0], ctx.trace_id.as_str()),
        (GATEWAY_SET[1], forwarded_for.as_str()),
        (GATEWAY_SET[2], port.format(ctx.source.listen_port())),
        (GATEWAY_SET[3], ctx.source.scheme()),
    ];
    for (name, value) in added {
        headers.insert(name.to_owned(), json!(value));
        multi_headers.insert(name.to_owned(), vec![json!(value)]);
    }
    let (query, multi_query) = if req.query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        single_and_multi(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let path_parameters = if req.path_params.is_empty() {
        Value::Null
    } else {
        Value::Object(
            req.path_params
                .iter()
                .map(|(k, v, _)| ((*k).to_owned(), json!(v)))
                .collect(),
        )
    };
    let stage_variables = if req.variables.is_empty() {
        Value::Null
    } else {
        json!(req.variables)
    };
    let content_type = req.header("content-type").map(media_type);
    let binary = content_type
        .as_deref()
        .is_some_and(|ct| content::is_binary(ct, binary_types));
    let body_value = if body.is_empty() {
        Value::Null
    } else if binary {
        json!(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        json!(String::from_utf8_lossy(body))
    };
    let stage = ctx.stage_name().unwrap_or_default();
    let full_path = if ctx.path().starts_with("/restapis/") {
        format!("/{stage}{path}")
    } else {
        ctx.path().to_owned()
    };
    // A SigV4-signed caller's identity (AWS_IAM methods); null otherwise.
    let identity = |f: ContextField| ctx.field(f).map(|v| v.into_owned());
    // Through a custom domain, a function sees the path with its base path, as AWS shows it.
    let path = if ctx.base_path_matched.is_some() {
        ctx.path()
    } else {
        path
    };
    let mut e = json!({
        "resource": method.resource_path,
        "path": path,
        "httpMethod": req.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": stage_variables,
        "requestContext": {
            "resourceId": method.resource_id,
            "resourcePath": method.resource_path,
            "httpMethod": req.method.as_str(),
            "extendedRequestId": ctx.extended_request_id,
            "requestTime": ctx.request_time_clf(),
            "path": full_path,
            "accountId": ctx.account_id(),
            "protocol": ctx.protocol,
            "stage": stage,
            "domainPrefix": ctx.domain_name().and_then(|d| d.split('.').next()),
            "requestTimeEpoch": ctx.request_time_epoch_ms(),
            "requestId": ctx.request_id(),
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": identity(ContextField::IdentityAccountId),
                "cognitoIdentityId": null,
                "caller": identity(ContextField::IdentityCaller),
                "sourceIp": ctx.source_ip(),
                "principalOrgId": null,
                "accessKey": identity(ContextField::IdentityAccessKey),
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": identity(ContextField::IdentityUserArn),
                "userAgent": ctx.user_agent(),
                "user": identity(ContextField::IdentityUser),
            },
            "domainName": ctx.domain_name(),
            "deploymentId": ctx.deployment_id(),
            "apiId": ctx.api_id(),
        },
        "body": body_value,
        "isBase64Encoded": binary,
    });
    // A mutual-TLS client's certificate.
    if let Some(cert) = ctx.source.tls().and_then(|t| t.client_cert.as_ref()) {
        e["requestContext"]["identity"]["clientCert"] = json!(cert);
    }
    if let Some(authorizer) = authorizer_of(ctx) {
        e["requestContext"]["authorizer"] = authorizer;
    }
    // The key a method that requires one was called with.
    if let Some(key) = ctx.api_key.as_deref() {
        e["requestContext"]["identity"]["apiKey"] = Value::from(&*key.value);
        e["requestContext"]["identity"]["apiKeyId"] = Value::from(&*key.grant.key_id);
    }
    e
}

/// `requestContext.authorizer`: a Lambda authorizer's principal, latency and context (values
/// as text, as REST APIs pass them), or a user pool token's claims.
fn authorizer_of(ctx: &RequestContext<'_>) -> Option<Value> {
    let a = ctx.authorizer.as_deref()?;
    let mut m = Map::new();
    if let Some(claims) = &a.claims {
        let claims: Map<String, Value> = claims
            .iter()
            .map(|(k, v)| (k.clone(), json!(crate::dataplane::identity::text(v))))
            .collect();
        m.insert("claims".into(), Value::Object(claims));
    } else {
        m.insert("principalId".into(), json!(a.principal_id));
        m.insert(
            "integrationLatency".into(),
            json!(ctx.authorizer_latency_ms.unwrap_or(0)),
        );
    }
    for (k, v) in &a.context {
        m.insert(k.clone(), json!(crate::dataplane::identity::text(v)));
    }
    Some(Value::Object(m))
}

/// Validates a Lambda proxy response as AWS does; `None` is AWS's 502.
pub fn proxy_response(raw: &[u8], accept_binary: bool) -> Option<Response<Body>> {
    let value: Value = serde_json::from_slice(raw).ok()?;
    let obj = value.as_object()?;
    const KNOWN: [&str; 5] = [
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
    ];
    if obj.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return None;
    }
    let status = match obj.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.trim().parse().ok()?,
        Some(_) => return None,
    };
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| (100..600).contains(&s.as_u16()))?;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut headers = HeaderMap::new();
    match obj.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, vs) in m {
                for v in vs.as_array()? {
                    headers.append(
                        HeaderName::try_from(k.as_str()).ok()?,
                        HeaderValue::try_from(scalar(v)?).ok()?,
                    );
                }
            }
        }
        Some(_) => return None,
    }
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                headers.append(
                    HeaderName::try_from(k.as_str()).ok()?,
                    HeaderValue::try_from(scalar(v)?).ok()?,
                );
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
        Some(Value::String(s)) if is_base64 && accept_binary => {
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(s).ok()?)
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return None,
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
    use super::*;

    fn status(raw: &str) -> Option<u16> {
        proxy_response(raw.as_bytes(), false).map(|r| r.status().as_u16())
    }

    #[test]
    fn proxy_responses_are_validated_like_aws() {
        assert_eq!(status(r#"{"statusCode": 201, "body": "ok"}"#), Some(201));
        assert_eq!(status(r#"{"statusCode": "200"}"#), Some(200));
        assert_eq!(status(r#"{"headers": {"a": "b"}}"#), Some(200));
        assert_eq!(status(r#"{"headers": null}"#), Some(200));
        assert_eq!(status(r#""just a string""#), None);
        assert_eq!(status(""), None);
        assert_eq!(status(r#"{"statusCode": 200, "wrongKey": 1}"#), None);
        assert_eq!(status(r#"{"statusCode": "abc"}"#), None);
        assert_eq!(status(r#"{"multiValueHeaders": {"a": "not-a-list"}}"#), None);
        assert_eq!(status(r#"{"body": {"an": "object"}}"#), None);
    }

    #[test]
    fn multi_value_headers_merge_with_single_ones() {
        let r = proxy_response(
            br#"{"headers": {"x": "solo"}, "multiValueHeaders": {"x": ["multi"]}}"#,
            false,
        )
        .unwrap();
        let values: Vec<_> = r.headers().get_all("x").iter().collect();
        assert_eq!(values, ["multi", "solo"]);
    }
}
