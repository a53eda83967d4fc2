//! TOKEN and REQUEST authorizers: AWS's authorizer events, the function called through the
//! Lambda Invoke API (as Lambda integrations are, [`crate::dataplane::integration::lambda`]), and
//! its answer read as AWS reads it: `principalId`, `policyDocument`, `context` (string, number
//! and boolean values) and `usageIdentifierKey`. A function error whose message is exactly
//! `Unauthorized` is AWS's 401; any other failure, or an answer AWS would refuse, its 500.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::Verdict;
use crate::compiler::CompiledMethod;
use crate::compiler::authorizers::LambdaAuthorizer;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::identity::Authorization;
use crate::dataplane::integration::aws::CallAs;
use crate::dataplane::integration::lambda::{call_function, event};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::iam::Policy;

/// How long an authorizer's function may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A TOKEN authorizer's event.
pub fn token_event(token: &str, method_arn: &str) -> Value {
    json!({"type": "TOKEN", "methodArn": method_arn, "authorizationToken": token})
}

/// A REQUEST authorizer's event: the proxy integration's event (headers, query strings, path
/// parameters, stage variables, request context) without a body, with `type` and `methodArn`.
pub fn request_event(
    req: &MethodRequest<'_>,
    method: &CompiledMethod,
    ctx: &RequestContext<'_>,
    path: &str,
    method_arn: &str,
) -> Value {
    let mut e = event(req, b"", method, ctx, path, &[]);
    if let Some(o) = e.as_object_mut() {
        o.remove("body");
        o.remove("isBase64Encoded");
        o.insert("type".into(), json!("REQUEST"));
        o.insert("methodArn".into(), json!(method_arn));
    }
    e
}

/// Calls the authorizer's function with `event` and reads its verdict.
pub async fn ask(
    dp: &DataPlane,
    authorizer: &LambdaAuthorizer,
    variables: &BTreeMap<String, String>,
    event: &Value,
) -> Result<Verdict, GatewayError> {
    let answer = invoke(dp, authorizer, variables, event).await?;
    verdict(&answer).map_err(|why| GatewayError::authorizer_configuration().caused_by(Side::Backend, why))
}

/// Calls an HTTP API authorizer with simple responses: `{"isAuthorized": true|false,
/// "context": {...}}`. A refusal is a verdict too (cached like an allowance), whose policy
/// denies everything: AWS's 403.
pub async fn ask_simple(
    dp: &DataPlane,
    authorizer: &LambdaAuthorizer,
    variables: &BTreeMap<String, String>,
    event: &Value,
) -> Result<Verdict, GatewayError> {
    let answer = invoke(dp, authorizer, variables, event).await?;
    simple_verdict(&answer)
        .map_err(|why| GatewayError::authorizer_configuration().caused_by(Side::Backend, why))
}

/// A simple response, as AWS accepts it.
pub fn simple_verdict(answer: &[u8]) -> Result<Verdict, String> {
    let value: Value = serde_json::from_slice(answer).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let o = value.as_object().ok_or("the answer is not a JSON object")?;
    let allowed = o
        .get("isAuthorized")
        .and_then(Value::as_bool)
        .ok_or("the answer has no boolean isAuthorized")?;
    let context = match o.get("context") {
        None | Some(Value::Null) => vec![],
        Some(Value::Object(c)) => c.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(_) => return Err("context is not a JSON object".into()),
    };
    let policy = if allowed {
        None
    } else {
        let deny = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]});
        Some(Policy::from_value(&deny).map_err(|e| e.to_string())?)
    };
    Ok(Verdict {
        authorization: Arc::new(Authorization {
            principal_id: None,
            context,
            claims: None,
            usage_identifier_key: None,
        }),
        policy,
    })
}

/// Calls the authorizer's function with `event`: its answer, or AWS's outcome of a failed call
/// (401 for a function that said `Unauthorized`, 500 for any other failure).
pub async fn invoke(
    dp: &DataPlane,
    authorizer: &LambdaAuthorizer,
    variables: &BTreeMap<String, String>,
    event: &Value,
) -> Result<Bytes, GatewayError> {
    let payload = Bytes::from(serde_json::to_vec(event).expect("events serialise"));
    let call_as = CallAs {
        role_arn: authorizer.role_arn.as_deref(),
        timeout: TIMEOUT,
    };
    let (parts, answer) = call_function(dp, call_as, &authorizer.function, variables, payload)
        .await
        .map_err(|e| GatewayError::authorizer_configuration().caused_by(Side::Backend, e.message))?;
    if !parts.status.is_success() {
        return Err(GatewayError::authorizer_configuration()
            .caused_by(Side::Backend, format!("the Invoke API answered {}", parts.status)));
    }
    if parts.headers.contains_key("x-amz-function-error") {
        let message = serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned));
        return Err(match message.as_deref() {
            Some("Unauthorized") => GatewayError::unauthorized(),
            other => GatewayError::authorizer_configuration().caused_by(
                Side::Backend,
                format!("the authorizer failed: {}", other.unwrap_or("no message")),
            ),
        });
    }
    Ok(answer)
}

/// The authorizer's answer, as AWS accepts it.
pub fn verdict(answer: &[u8]) -> Result<Verdict, String> {
    let value: Value = serde_json::from_slice(answer).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let o = value.as_object().ok_or("the answer is not a JSON object")?;
    let principal_id = match o.get("principalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("principalId is not a string".into()),
    };
    let policy = match o.get("policyDocument") {
        Some(doc @ Value::Object(_)) => Policy::from_value(doc),
        // Some functions return the document as JSON text.
        Some(Value::String(text)) => Policy::parse(text),
        _ => return Err("the answer has no policyDocument".into()),
    }
    .map_err(|e| format!("policyDocument: {e}"))?;
    let context = match o.get("context") {
        None | Some(Value::Null) => vec![],
        Some(Value::Object(c)) => c
            .iter()
            .map(|(k, v)| match v {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.clone())),
                _ => Err(format!("context value {k:?} is not a string, number or boolean")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("context is not a JSON object".into()),
    };
    let usage_identifier_key = o
        .get("usageIdentifierKey")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Verdict {
        authorization: Arc::new(Authorization {
            principal_id,
            context,
            claims: None,
            usage_identifier_key,
        }),
        policy: Some(policy),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_aws_reads_them() {
        let v = verdict(
            br#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]},
                "context":{"tier":"gold","n":3,"ok":true},"usageIdentifierKey":"k"}"#,
        )
        .unwrap();
        assert_eq!(v.authorization.principal_id.as_deref(), Some("u1"));
        assert_eq!(v.authorization.value("n").as_deref(), Some("3"));
        assert_eq!(v.authorization.usage_identifier_key.as_deref(), Some("k"));
        for bad in [
            &b"null"[..],
            br#"{"principalId":"u"}"#,
            br#"{"policyDocument":{"Statement":[]},"context":{"o":{"nested":1}}}"#,
            br#"{"policyDocument":{"Statement":[{"Effect":"Allow"}]}}"#,
            br#"{"principalId":5,"policyDocument":{"Statement":[]}}"#,
        ] {
            assert!(verdict(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
