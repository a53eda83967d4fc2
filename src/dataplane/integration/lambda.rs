//! AWS_PROXY to Lambda: AWS's payload format 1.0 event, sent to the Lambda Invoke API
//! (`POST /2015-03-31/functions/{function}/invocations`) at a configurable endpoint, signed with
//! SigV4 when credentials are configured; the proxy response validated as AWS validates it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};

use super::{Payload, media_type};
use crate::compiler::{CompiledIntegration, CompiledMethod};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::server::DataPlane;
use crate::dataplane::{Body, MAX_PAYLOAD, full_body};

/// Where Lambda is and how to sign for it.
#[derive(Clone, Default)]
pub struct LambdaSettings {
    /// Base URL of a Lambda Invoke API (e.g. `sam local start-lambda`'s); `None` means AWS's
    /// regional endpoint.
    pub endpoint: Option<String>,
    pub credentials: Option<aws_credential_types::Credentials>,
}

impl std::fmt::Debug for LambdaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaSettings")
            .field("endpoint", &self.endpoint)
            .field("signed", &self.credentials.is_some())
            .finish()
    }
}

impl LambdaSettings {
    /// Credentials from the standard environment variables, when set.
    /// Credentials from the standard sources, in AWS's order: the environment variables, then the
    /// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile
    /// `AWS_PROFILE` or `default`). None found means unsigned calls (fine for local Lambda runtimes).
    pub fn from_env(endpoint: Option<String>, env: &std::collections::HashMap<String, String>) -> Self {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let credentials = match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(aws_credential_types::Credentials::new(
                id,
                secret,
                get("AWS_SESSION_TOKEN"),
                None,
                "environment",
            )),
            _ => {
                let file = get("AWS_SHARED_CREDENTIALS_FILE")
                    .map(std::path::PathBuf::from)
                    .or_else(|| {
                        get("HOME").map(|h| std::path::Path::new(&h).join(".aws").join("credentials"))
                    });
                let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
                file.and_then(|f| std::fs::read_to_string(f).ok())
                    .and_then(|text| profile_credentials(&text, &profile))
            }
        };
        Self {
            endpoint,
            credentials,
        }
    }
}

/// The keys of `[profile]` in a shared credentials file (INI).
fn profile_credentials(text: &str, profile: &str) -> Option<aws_credential_types::Credentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            in_profile = line[1..line.len() - 1].trim() == profile;
            continue;
        }
        if !in_profile || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            match k.trim() {
                "aws_access_key_id" => id = v,
                "aws_secret_access_key" => secret = v,
                "aws_session_token" => token = v,
                _ => {}
            }
        }
    }
    Some(aws_credential_types::Credentials::new(
        id?,
        secret?,
        token,
        None,
        "shared-credentials-file",
    ))
}

pub async fn invoke_proxy(
    dp: &DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    method: &CompiledMethod,
    integration: &CompiledIntegration,
    ctx: &RequestContext,
    path: &str,
) -> Result<Response<Body>, GatewayError> {
    let target = integration.lambda.as_ref().ok_or_else(GatewayError::internal)?;
    let body = body.collect().await?;
    let binary_types = ctx
        .api
        .as_ref()
        .map(|a| a.binary_media_types.as_slice())
        .unwrap_or_default();
    let event = event(req, &body, method, ctx, path, binary_types);
    let payload = Bytes::from(serde_json::to_vec(&event).expect("events serialise"));

    let endpoint = dp
        .lambda
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://lambda.{}.amazonaws.com", target.region));
    let function = target
        .function
        .render(|_| None, |name| req.variables.get(name).map(String::as_str));
    let function = percent_encoding::utf8_percent_encode(&function, percent_encoding::NON_ALPHANUMERIC);
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        endpoint.trim_end_matches('/')
    );
    let mut request = Request::post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-amz-invocation-type", "RequestResponse")
        .body(payload.clone())
        .map_err(|_| GatewayError::internal())?;
    if let Some(creds) = &dp.lambda.credentials {
        sign(&mut request, creds, &target.region, &payload)?;
    }
    let request = request.map(full_body);
    // The integration's timeout covers the whole answer, body included.
    let deadline = tokio::time::Instant::now() + integration.timeout;
    let res = match tokio::time::timeout_at(deadline, dp.http.request(request)).await {
        Err(_) => return Err(GatewayError::timeout()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "lambda endpoint unreachable");
            return Err(GatewayError::bad_gateway());
        }
        Ok(Ok(res)) => res,
    };
    let (parts, body) = res.into_parts();
    let body = match tokio::time::timeout_at(
        deadline,
        http_body_util::Limited::new(body, MAX_PAYLOAD).collect(),
    )
    .await
    {
        Err(_) => return Err(GatewayError::timeout()),
        Ok(collected) => collected.map_err(|_| GatewayError::bad_gateway())?.to_bytes(),
    };
    if !parts.status.is_success() || parts.headers.contains_key("x-amz-function-error") {
        tracing::debug!(status = %parts.status, "lambda invocation failed");
        return Err(GatewayError::bad_gateway());
    }
    let accept_binary = req
        .header("accept")
        .is_some_and(|a| a.split(',').any(|t| is_binary(&media_type(t), binary_types)));
    proxy_response(&body, accept_binary).ok_or_else(|| {
        tracing::debug!("malformed lambda proxy response");
        GatewayError::bad_gateway()
    })
}

fn sign(
    request: &mut Request<Bytes>,
    creds: &aws_credential_types::Credentials,
    region: &str,
    payload: &[u8],
) -> Result<(), GatewayError> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity: aws_smithy_runtime_api::client::identity::Identity = creds.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| GatewayError::internal())?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(payload))
        .map_err(|_| GatewayError::internal())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|_| GatewayError::internal())?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Whether a media type is one of the API's binary media types (`*/*` and `type/*` included).
pub fn is_binary(media: &str, binary_types: &[String]) -> bool {
    binary_types.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        t == media
            || t == "*/*"
            || t.strip_suffix("/*")
                .is_some_and(|prefix| media.split('/').next() == Some(prefix))
    })
}

/// `Content-Type` → `Content-Type`: hyper keeps names lowercase; AWS passes the client's casing,
/// which is nearly always this (see README: differences).
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

/// The payload format 1.0 event, field for field.
pub fn event(
    req: &MethodRequest<'_>,
    body: &[u8],
    method: &CompiledMethod,
    ctx: &RequestContext,
    path: &str,
    binary_types: &[String],
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in &req.headers {
        let Ok(value) = value.to_str() else { continue };
        let name = title_case(name.as_str());
        headers.insert(name.clone(), json!(value));
        multi_headers.entry(name).or_default().push(json!(value));
    }
    let (query, multi_query) = if req.query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        let mut single = Map::new();
        let mut multi: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (k, v) in &req.query {
            single.insert(k.clone(), json!(v));
            multi.entry(k.as_str()).or_default().push(json!(v));
        }
        (Value::Object(single), json!(multi))
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
        .is_some_and(|ct| is_binary(ct, binary_types));
    let body_value = if body.is_empty() {
        Value::Null
    } else if binary {
        json!(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        json!(String::from_utf8_lossy(body))
    };
    let stage = ctx.stage.clone().unwrap_or_default();
    let full_path = if ctx.path.starts_with("/restapis/") {
        format!("/{stage}{path}")
    } else {
        ctx.path.clone()
    };
    json!({
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
            "accountId": ctx.account_id,
            "protocol": ctx.protocol,
            "stage": stage,
            "domainPrefix": ctx.domain_name.as_deref().and_then(|d| d.split('.').next()),
            "requestTimeEpoch": ctx.request_time_epoch_ms(),
            "requestId": ctx.request_id,
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": null,
                "cognitoIdentityId": null,
                "caller": null,
                "sourceIp": ctx.source_ip,
                "principalOrgId": null,
                "accessKey": null,
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": null,
                "userAgent": ctx.user_agent,
                "user": null,
            },
            "domainName": ctx.domain_name,
            "deploymentId": ctx.deployment_id,
            "apiId": ctx.api_id,
        },
        "body": body_value,
        "isBase64Encoded": binary,
    })
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
    crate::dataplane::remap_framing_headers(&mut headers);
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

    #[test]
    fn credentials_come_from_the_environment_then_the_shared_file() {
        let file = std::env::temp_dir().join(format!("gh-creds-{}", std::process::id()));
        std::fs::write(&file, "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=s2\naws_session_token=t\n").unwrap();
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let path = file.to_str().unwrap();
        let from_file = LambdaSettings::from_env(None, &env(&[("AWS_SHARED_CREDENTIALS_FILE", path)]));
        assert_eq!(from_file.credentials.unwrap().access_key_id(), "AKIADEFAULT");
        let profile = LambdaSettings::from_env(
            None,
            &env(&[("AWS_SHARED_CREDENTIALS_FILE", path), ("AWS_PROFILE", "work")]),
        );
        assert_eq!(profile.credentials.as_ref().unwrap().session_token(), Some("t"));
        let vars = LambdaSettings::from_env(
            None,
            &env(&[
                ("AWS_SHARED_CREDENTIALS_FILE", path),
                ("AWS_ACCESS_KEY_ID", "AKIAENV"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
            ]),
        );
        assert_eq!(vars.credentials.unwrap().access_key_id(), "AKIAENV");
        assert!(
            LambdaSettings::from_env(None, &env(&[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")]))
                .credentials
                .is_none()
        );
        let _ = std::fs::remove_file(file);
    }

    #[test]
    fn binary_types_match_wildcards() {
        let types = vec!["image/*".to_owned(), "application/octet-stream".to_owned()];
        assert!(is_binary("image/png", &types));
        assert!(is_binary("application/octet-stream", &types));
        assert!(!is_binary("application/json", &types));
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
    }
}
