//! Calling a WebSocket route's integration. Proxy kinds pass the event as it is: AWS_PROXY
//! sends AWS's Lambda event and reads a proxy answer; HTTP_PROXY posts the message. The other
//! kinds map it both ways: the request template the template selection expression picks (or
//! the message passed through, as the passthrough behavior allows) and the request
//! parameters make the request (MOCK: its `statusCode`; HTTP: a call to the URL; AWS: a
//! Lambda function's or an AWS service action's), and the integration response the answer's
//! selection value picks turns the answer into what goes back, through its template.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

use super::MAX_MESSAGE;
use super::event::{ConnectionInfo, EventType, event};
use super::mapping::{Answer as Raw, Scope};
use crate::compiler::ParamTarget;
use crate::compiler::websocket::WsRoute;
use crate::compiler::websocket::mapping::{Unsupported, WsIntegration, pick_template};
use crate::dataplane::client::Budget;
use crate::dataplane::config::StageRuntime;
use crate::dataplane::integration::content::{self, Content};
use crate::dataplane::state::DataPlane;
use crate::domain::enums::{ContentHandling, IntegrationType};

/// What an integration answered, mapped.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    /// Whether the body goes back as a binary frame.
    pub binary: bool,
    /// The subprotocol `$connect`'s integration chose.
    pub protocol: Option<String>,
}

impl Answer {
    fn new(status: u16, body: Bytes) -> Self {
        Self {
            status,
            body,
            binary: false,
            protocol: None,
        }
    }
}

/// Why an integration gave no answer.
#[derive(Debug)]
pub enum Failure {
    /// The message is one the integration does not take (no template for it and a
    /// passthrough behavior that refuses): AWS's 415, an error frame for a message.
    Unsupported,
    /// The integration failed (unreachable, timed out, a template that failed, an answer
    /// over the limit).
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unsupported => f.write_str("no request template for the message"),
            Failure::Failed(why) => f.write_str(why),
        }
    }
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Failure::Failed(why)
    }
}

/// One event of a connection, for its route's integration.
pub struct Call<'a> {
    pub dp: &'a DataPlane,
    pub stage: &'a StageRuntime,
    pub route: &'a WsRoute,
    pub info: &'a ConnectionInfo,
    pub kind: EventType,
    /// The message and whether it came in a binary frame.
    pub body: Option<(&'a [u8], bool)>,
    pub request: &'a (String, String),
}

/// Calls the route's integration: its answer, mapped.
pub async fn invoke(call: Call<'_>) -> Result<Answer, Failure> {
    let Some(integration) = &call.route.integration else {
        return Ok(Answer::new(200, Bytes::new()));
    };
    if integration.proxy {
        return proxy(&call, integration).await;
    }
    let variables = &call.stage.stage.variables;
    let (message, binary) = call.body.unwrap_or((b"", false));
    let scope = Scope::new(
        call.info,
        call.kind,
        &call.route.route_key,
        call.request,
        variables,
        message,
    );
    let (payload, parameters) = request(&scope, integration, binary)?;
    let (status, headers, answer) = match integration.call.kind {
        IntegrationType::Mock => (
            crate::dataplane::integration::mock::status_code_of(&payload),
            Vec::new(),
            Bytes::new(),
        ),
        IntegrationType::Http => http(&call, integration, payload, &parameters, None).await?,
        IntegrationType::Aws => aws(&call, integration, payload, &parameters).await?,
        IntegrationType::AwsProxy | IntegrationType::HttpProxy => unreachable!("proxies pass through"),
    };
    respond(&scope, integration, status, &headers, answer)
}

/// The integration request's payload and its parameters (target, value).
fn request(
    scope: &Scope<'_>,
    integration: &WsIntegration,
    binary: bool,
) -> Result<(Bytes, Vec<(ParamTarget, String)>), Failure> {
    let handling = integration.call.content_handling;
    let template = integration
        .request_template(|name| scope.variable(name))
        .map_err(|Unsupported| Failure::Unsupported)?;
    let input = content::request_in(Bytes::copy_from_slice(scope.body), binary, handling);
    let payload = match template {
        Some(t) => Content::Text(Bytes::from(scope.render(t, &input.into_bytes())?)),
        None => input,
    };
    let payload = content::request_out(payload, binary, handling)
        .map_err(|_| Failure::Failed("the payload is not base64 where CONVERT_TO_BINARY needs it".into()))?
        .into_bytes();
    Ok((payload, parameters(scope, integration)))
}

/// The request parameters' values (target, value); one whose source has none is left out.
fn parameters(scope: &Scope<'_>, integration: &WsIntegration) -> Vec<(ParamTarget, String)> {
    integration
        .parameters
        .iter()
        .filter_map(|(target, source)| Some((target.clone(), scope.parameter(source)?)))
        .collect()
}

/// The answer through the integration response its selection value picks (its template, its
/// content handling); with none, the answer as it came.
fn respond(
    scope: &Scope<'_>,
    integration: &WsIntegration,
    status: u16,
    headers: &[(String, String)],
    answer: Bytes,
) -> Result<Answer, Failure> {
    let raw = Raw {
        status,
        headers,
        body: &answer,
    };
    let lookup = |name: &str| scope.answer_variable(&raw, name);
    let Some(response) = integration.response(lookup) else {
        return within_limit(status, answer, None);
    };
    let key = response
        .template_selection
        .as_ref()
        .map(|e| e.evaluate(lookup).unwrap_or_default());
    let body = match pick_template(&response.templates, key.as_deref()) {
        Some(t) => Bytes::from(scope.render(t, &answer)?),
        None => answer,
    };
    within_limit(status, body, response.content_handling)
}

/// The answer, converted as `handling` asks, within AWS's 128 KB.
fn within_limit(status: u16, body: Bytes, handling: Option<ContentHandling>) -> Result<Answer, Failure> {
    let binary = std::str::from_utf8(&body).is_err();
    let (body, binary) = match handling {
        None => (body, binary),
        Some(h) => match content::response(body, binary, false, Some(h)) {
            Ok(Content::Binary(b)) => (b, true),
            Ok(Content::Text(t)) => (t, false),
            Err(_) => {
                return Err(Failure::Failed(
                    "the answer is not base64 where CONVERT_TO_BINARY needs it".into(),
                ));
            }
        },
    };
    if body.len() > MAX_MESSAGE {
        return Err(Failure::Failed("the integration's answer is over 128 KB".into()));
    }
    Ok(Answer {
        status,
        body,
        binary,
        protocol: None,
    })
}

/// The names and values the request parameters map to one kind of target.
fn mapped(parameters: &[(ParamTarget, String)], kind: fn(&ParamTarget) -> Option<&str>) -> Vec<(&str, &str)> {
    parameters
        .iter()
        .filter_map(|(target, value)| Some((kind(target)?, value.as_str())))
        .collect()
}

fn path_target(t: &ParamTarget) -> Option<&str> {
    match t {
        ParamTarget::Path(n) => Some(n),
        _ => None,
    }
}

fn query_target(t: &ParamTarget) -> Option<&str> {
    match t {
        ParamTarget::QueryString(n) => Some(n),
        _ => None,
    }
}

fn header_target(t: &ParamTarget) -> Option<&str> {
    match t {
        ParamTarget::Header(n) => Some(n),
        _ => None,
    }
}

/// The URL an integration's URI names, with the mapped path parameters (percent-encoded) and
/// query string, and the stage's variables.
fn url(
    template: &crate::compiler::UriTemplate,
    call: &Call<'_>,
    parameters: &[(ParamTarget, String)],
) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let (path, query) = (mapped(parameters, path_target), mapped(parameters, query_target));
    let encoded: Vec<(&str, String)> = path
        .iter()
        .map(|(n, v)| (*n, utf8_percent_encode(v, NON_ALPHANUMERIC).to_string()))
        .collect();
    let variables = &call.stage.stage.variables;
    let mut url = template.render(
        |name| encoded.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()),
        |name| variables.get(name).map(String::as_str),
    );
    for (i, (name, value)) in query.iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') { '?' } else { '&' };
        url.push(sep);
        url.extend(utf8_percent_encode(name, NON_ALPHANUMERIC));
        url.push('=');
        url.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
    }
    url
}

fn build(
    method: &http::Method,
    url: &str,
    parameters: &[(ParamTarget, String)],
    connection_id: Option<&str>,
) -> http::request::Builder {
    let headers = mapped(parameters, header_target);
    let mut builder = http::Request::builder().method(method.clone()).uri(url);
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    if let Some(id) = connection_id {
        builder = builder.header("x-amzn-connection-id", id);
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
}

/// An HTTP or HTTP_PROXY integration's call: the request to its URL (HTTP_PROXY's tells the
/// connection's id); the answer's status, headers and body (128 KB at most).
async fn http(
    call: &Call<'_>,
    integration: &WsIntegration,
    payload: Bytes,
    parameters: &[(ParamTarget, String)],
    connection_id: Option<&str>,
) -> Result<(u16, Vec<(String, String)>, Bytes), Failure> {
    let template = integration
        .call
        .uri
        .as_ref()
        .ok_or("the integration has no URI".to_owned())?;
    let method = integration.call.http_method.clone().unwrap_or(http::Method::POST);
    let request = build(
        &method,
        &url(template, call, parameters),
        parameters,
        connection_id,
    )
    .body(crate::dataplane::full_body(payload))
    .map_err(|e| e.to_string())?;
    let res = call
        .dp
        .http
        .request(request, Budget::starting_now(integration.call.timeout))
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status.as_u16();
    let headers = res
        .fields
        .iter()
        .filter_map(|(k, v)| {
            Some((
                std::str::from_utf8(k).ok()?.to_owned(),
                std::str::from_utf8(v).ok()?.to_owned(),
            ))
        })
        .collect();
    Ok((status, headers, read_limited(res.body).await?))
}

/// An AWS integration's call: a Lambda function (its result, or its error as
/// `{"errorMessage": ...}`), or an AWS service's action signed as the integration's role.
async fn aws(
    call: &Call<'_>,
    integration: &WsIntegration,
    payload: Bytes,
    parameters: &[(ParamTarget, String)],
) -> Result<(u16, Vec<(String, String)>, Bytes), Failure> {
    let dp = call.dp;
    let compiled = &integration.call;
    if let Some(target) = &compiled.lambda {
        let (parts, answer) = crate::dataplane::integration::lambda::call_function(
            dp,
            compiled.into(),
            target,
            &call.stage.stage.variables,
            payload,
        )
        .await
        .map_err(|e| e.message.clone())?;
        if !parts.status.is_success() {
            return Err(Failure::Failed(format!("Lambda answered {}", parts.status)));
        }
        // A function's error is an answer too: its errorMessage picks the integration response.
        return Ok((200, Vec::new(), answer));
    }
    let (Some(service), Some(template)) = (&compiled.aws_service, &compiled.uri) else {
        return Err(Failure::Failed(
            "the integration names no Lambda function or AWS action".into(),
        ));
    };
    let endpoint = dp
        .aws
        .endpoint(&service.service, &service.region, service.subdomain.as_deref());
    let method = compiled.http_method.clone().unwrap_or(http::Method::POST);
    let url = format!("{endpoint}{}", url(template, call, parameters));
    let request = build(&method, &url, parameters, None)
        .body(payload)
        .map_err(|e| e.to_string())?;
    let (parts, answer) = crate::dataplane::integration::aws::call(
        dp,
        compiled.into(),
        request,
        &service.region,
        &service.service,
    )
    .await
    .map_err(|e| e.message.clone())?;
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    Ok((parts.status.as_u16(), headers, answer))
}

/// Reads a backend's answer, 128 KB at most (AWS's message limit).
async fn read_limited(body: crate::dataplane::client::ResponseBody) -> Result<Bytes, Failure> {
    let mut body = std::pin::pin!(body);
    let mut whole = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > MAX_MESSAGE {
                return Err(Failure::Failed("the backend's answer is over 128 KB".into()));
            }
            whole.extend_from_slice(&data);
        }
    }
    Ok(whole.freeze())
}

/// A proxy integration: AWS's Lambda event to a function (AWS_PROXY), or the message posted
/// to a URL (HTTP_PROXY, with the mapped request parameters); the answer as it comes.
async fn proxy(call: &Call<'_>, integration: &WsIntegration) -> Result<Answer, Failure> {
    let dp = call.dp;
    let compiled = &integration.call;
    match compiled.kind {
        IntegrationType::AwsProxy => {
            let target = compiled
                .lambda
                .as_ref()
                .ok_or("the integration names no function".to_owned())?;
            let payload = event(
                call.info,
                call.kind,
                &call.route.route_key,
                call.body,
                call.request,
            )
            .to_string();
            let (parts, answer) = crate::dataplane::integration::lambda::call_function(
                dp,
                compiled.into(),
                target,
                &call.stage.stage.variables,
                Bytes::from(payload),
            )
            .await
            .map_err(|e| e.message.clone())?;
            if !parts.status.is_success() || parts.headers.contains_key("x-amz-function-error") {
                return Err(Failure::Failed(format!("the function failed ({})", parts.status)));
            }
            let answer = proxy_answer(answer);
            if answer.body.len() > MAX_MESSAGE {
                return Err(Failure::Failed("the function's answer is over 128 KB".into()));
            }
            Ok(answer)
        }
        _ => {
            let (message, _) = call.body.unwrap_or((b"", false));
            let scope = Scope::new(
                call.info,
                call.kind,
                &call.route.route_key,
                call.request,
                &call.stage.stage.variables,
                message,
            );
            let parameters = parameters(&scope, integration);
            let payload = Bytes::copy_from_slice(message);
            let connection_id = Some(call.info.connection_id.as_str());
            let (status, headers, body) =
                http(call, integration, payload, &parameters, connection_id).await?;
            let protocol = headers
                .into_iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"))
                .map(|(_, v)| v);
            Ok(Answer {
                protocol,
                binary: std::str::from_utf8(&body).is_err(),
                ..Answer::new(status, body)
            })
        }
    }
}

/// A Lambda proxy answer: `{"statusCode": ..., "body": ..., "headers": ...}` (whose
/// `Sec-WebSocket-Protocol` is the subprotocol `$connect` chose), or any other result as a
/// 200's body.
fn proxy_answer(answer: Bytes) -> Answer {
    match serde_json::from_slice::<Value>(&answer) {
        Ok(Value::Object(o)) if o.contains_key("statusCode") => {
            let status = o
                .get("statusCode")
                .and_then(Value::as_u64)
                .filter(|s| (100..600).contains(s))
                .unwrap_or(500) as u16;
            let body = match o.get("body") {
                Some(Value::String(s)) => Bytes::from(s.clone()),
                Some(Value::Null) | None => Bytes::new(),
                Some(other) => Bytes::from(other.to_string()),
            };
            let protocol = o
                .get("headers")
                .and_then(Value::as_object)
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"))
                })
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned);
            Answer {
                protocol,
                ..Answer::new(status, body)
            }
        }
        _ => Answer::new(200, answer),
    }
}
