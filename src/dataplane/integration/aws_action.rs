//! HTTP APIs' AWS service integrations at work ([`crate::compiler::aws_action`]): the
//! subtype's parameters read from the request, the action called at the service's endpoint
//! (AWS's JSON protocol, or AppConfig's GET) signed as the integration's role, and the
//! service's answer passed back. A required parameter the request does not supply is the
//! client's 400; a service that refuses the call is a 500 (the service's answer is logged,
//! not shown), as AWS answers both.

use std::borrow::Cow;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};

use super::http_mapping::resolve;
use super::{Payload, aws};
use crate::compiler::CompiledIntegration;
use crate::compiler::aws_action::{CompiledAction, Param, Protocol, Shape};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::dataplane::{Body, full_body};
use crate::domain::enums::GatewayResponseType;

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
    path: &str,
) -> Result<Response<Body>, GatewayError> {
    let action = integration
        .aws_action
        .as_deref()
        .ok_or_else(GatewayError::internal)?;
    if action.reads_body() && req.body.is_none() {
        req.body = Some(body.collect().await?);
    }
    let req = &*req;
    let value = |v| resolve(v, req, ctx, path).filter(|t: &Cow<'_, str>| !t.is_empty());
    let region = match action.region.as_ref().and_then(value) {
        // The region names the host called: a request's value must be a region's name.
        Some(r) if !crate::compiler::aws_action::valid_region(&r) => {
            return Err(bad_request(format!("{r:?} is not a region")));
        }
        Some(r) => r.into_owned(),
        None => ctx
            .stage_runtime
            .map_or_else(|| "us-east-1".to_owned(), |s| s.region.clone()),
    };
    let mut fields = serde_json::Map::new();
    for (param, v) in &action.params {
        if let Some(text) = value(v) {
            fields.insert(param.wire.to_owned(), shaped(param, &text)?);
        }
    }
    if let Some(missing) = action
        .subtype
        .params
        .iter()
        .find(|p| p.required && !fields.contains_key(p.wire))
    {
        return Err(bad_request(format!(
            "{} needs {}, which the request does not supply",
            action.subtype.name, missing.name
        )));
    }
    let subtype = action.subtype;
    let endpoint = match subtype.host {
        Some(host) if !dp.aws.endpoints.contains_key(subtype.service) => {
            format!("https://{host}.{region}.amazonaws.com")
        }
        _ => dp.aws.endpoint(subtype.service, &region, None),
    };
    let request = request(action, endpoint, fields)?;
    let (parts, answer) = aws::call(dp, integration.into(), request, &region, subtype.service).await?;
    if !parts.status.is_success() {
        tracing::warn!(
            aws.service = subtype.service,
            aws.action = subtype.name,
            status = parts.status.as_u16(),
            answer = %String::from_utf8_lossy(&answer[..answer.len().min(512)]),
            "the AWS service refused the integration's call"
        );
        return Err(GatewayError::internal());
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let mut res = Response::new(full_body(answer));
    *res.status_mut() = parts.status;
    res.headers_mut().insert(http::header::CONTENT_TYPE, content_type);
    Ok(res)
}

fn bad_request(why: String) -> GatewayError {
    GatewayError::new(GatewayResponseType::BadRequestParameters, 400, "Bad Request")
        .caused_by(crate::dataplane::error::Side::Client, why)
}

/// A parameter's text as its field of the action's request.
fn shaped(param: &Param, text: &str) -> Result<serde_json::Value, GatewayError> {
    use serde_json::Value;
    let bad = || bad_request(format!("{} is not a valid {:?}", param.name, param.shape));
    Ok(match param.shape {
        Shape::Text => Value::String(text.to_owned()),
        Shape::Integer => Value::from(text.trim().parse::<i64>().map_err(|_| bad())?),
        Shape::List => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        Shape::Json => serde_json::from_str(text).map_err(|_| bad())?,
        Shape::Blob => Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
        Shape::Time => match text.trim().parse::<f64>() {
            Ok(secs) => Value::from(secs),
            Err(_) => Value::from(
                chrono::DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|_| bad())?
                    .timestamp(),
            ),
        },
    })
}

/// The call of the action at `endpoint`.
fn request(
    action: &CompiledAction,
    endpoint: String,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Result<Request<Bytes>, GatewayError> {
    let built = match action.subtype.protocol {
        Protocol::Json {
            version,
            target,
            entries,
        } => {
            let payload = if entries {
                serde_json::json!({ "Entries": [fields] })
            } else {
                serde_json::Value::Object(fields)
            };
            Request::post(format!("{endpoint}/"))
                .header(
                    http::header::CONTENT_TYPE,
                    format!("application/x-amz-json-{version}"),
                )
                .header("x-amz-target", target)
                .body(Bytes::from(payload.to_string()))
        }
        Protocol::AppConfigGet => {
            let mut take = |name: &str| match fields.remove(name) {
                Some(serde_json::Value::String(s)) => s,
                _ => String::new(),
            };
            let segment = |s: String| {
                percent_encoding::utf8_percent_encode(&s, percent_encoding::NON_ALPHANUMERIC).to_string()
            };
            let mut uri = format!(
                "{endpoint}/applications/{}/environments/{}/configurations/{}?client_id={}",
                segment(take("Application")),
                segment(take("Environment")),
                segment(take("Configuration")),
                segment(take("client_id")),
            );
            let version = take("client_configuration_version");
            if !version.is_empty() {
                uri.push_str("&client_configuration_version=");
                uri.push_str(&segment(version));
            }
            Request::get(uri).body(Bytes::new())
        }
    };
    built.map_err(|_| bad_request("the action's request cannot be built from its parameters".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::aws_action::compile;

    #[test]
    fn parameters_take_their_shapes() {
        let a = compile(
            "Kinesis-PutRecord",
            &[("StreamName", "s"), ("Data", "hi"), ("PartitionKey", "k")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
        .unwrap();
        let data = a.params.iter().find(|(p, _)| p.name == "Data").unwrap().0;
        assert_eq!(shaped(data, "hi").unwrap(), serde_json::json!("aGk="));
        let sqs = crate::compiler::aws_action::subtype("SQS-SendMessage").unwrap();
        let delay = sqs.params.iter().find(|p| p.name == "DelaySeconds").unwrap();
        assert_eq!(shaped(delay, "5").unwrap(), serde_json::json!(5));
        assert!(shaped(delay, "soon").is_err());
        let events = crate::compiler::aws_action::subtype("EventBridge-PutEvents").unwrap();
        let time = events.params.iter().find(|p| p.name == "Time").unwrap();
        assert_eq!(
            shaped(time, "2026-01-01T00:00:00Z").unwrap(),
            serde_json::json!(1767225600)
        );
        let resources = events.params.iter().find(|p| p.name == "Resources").unwrap();
        assert_eq!(shaped(resources, "a, b").unwrap(), serde_json::json!(["a", "b"]));
    }

    #[test]
    fn event_bridge_entries_are_wrapped_and_targets_set() {
        let a = compile(
            "EventBridge-PutEvents",
            &[("Detail", "{}"), ("DetailType", "t"), ("Source", "s")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
        .unwrap();
        let mut fields = serde_json::Map::new();
        fields.insert("Source".into(), "s".into());
        let r = request(&a, "http://events".into(), fields).unwrap();
        assert_eq!(r.uri(), "http://events/");
        assert_eq!(r.headers()["x-amz-target"], "AWSEvents.PutEvents");
        assert_eq!(r.headers()["content-type"], "application/x-amz-json-1.1");
        assert_eq!(r.body().as_ref(), br#"{"Entries":[{"Source":"s"}]}"#);
    }
}
