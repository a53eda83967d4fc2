//! A fake Lambda Invoke API whose functions behave by name.

use super::*;

/// A Lambda Invoke API whose functions behave by name: `echo` answers the event it got as the
/// body; `malformed` answers a bare string; `bare` a JSON object that is no proxy response; `error` is a function error; `slow` takes 2 s;
/// `custom` answers the proxy response in the event's `body`. For non-proxy integrations:
/// `identity` answers the event itself; `select_pattern` and `mapping_responses` are the
/// functions of AWS's recorded selection-pattern and response-template cases. `ls_aws_proxy`,
/// `ls_response_from_body` and `ls_nodejs_handler` are the LocalStack tests' `lambda_aws_proxy.py`,
/// `LAMBDA_RESPONSE_FROM_BODY` and `lambda_handler.js`, answering byte for byte as their runtimes
/// write JSON (the recordings' `Content-Length` counts those bytes).
pub async fn fake_lambda() -> SocketAddr {
    /// `v` as Python's `json.dumps` writes it: `", "` and `": "` between items, and every
    /// character but printable ASCII escaped when `ascii` (its default; the Lambda runtime
    /// writes a function's result with `ensure_ascii=False`).
    fn py_json(v: &Value, ascii: bool) -> String {
        match v {
            Value::String(s) => {
                let mut out = String::from("\"");
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        c if c < ' ' || (ascii && c > '~') => {
                            let mut units = [0u16; 2];
                            for unit in c.encode_utf16(&mut units).iter() {
                                out.push_str(&format!("\\u{unit:04x}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
                out
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|i| py_json(i, ascii)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}: {}",
                            py_json(&Value::String(k.clone()), ascii),
                            py_json(v, ascii)
                        )
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            other => other.to_string(),
        }
    }
    serve(|req: Request<hyper::body::Incoming>| async move {
        let path = req.uri().path().to_owned();
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let signed = signed_for(&parts, &body, "lambda");
        let function = path
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|p| p.strip_suffix("/invocations"))
            .map(|f| percent_encoding::percent_decode_str(f).decode_utf8_lossy().into_owned())
            .unwrap_or_default();
        let name = function.rsplit(':').next().unwrap_or_default().to_owned();
        let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        // The LocalStack tests' functions: whether the answer is a function error, and the
        // answer as the function's runtime writes it. An empty payload is the event `{}`, as
        // Lambda gives it.
        let given = if body.is_empty() { json!({}) } else { event.clone() };
        let written: Option<(bool, String)> = match name.as_str() {
            // lambda_aws_proxy.py: the event, as the proxy response's body.
            "ls_aws_proxy" => Some((
                false,
                format!(
                    "{{\"statusCode\": 200, \"body\": {}, \"isBase64Encoded\": false}}",
                    py_json(&Value::String(py_json(&given, true)), false)
                ),
            )),
            // LAMBDA_RESPONSE_FROM_BODY: the JSON the event's body holds (base64-decoded when
            // the event says it is encoded); what Python raises otherwise.
            "ls_response_from_body" => {
                let raised = |kind: &str, message: &str| {
                    let error = json!({"errorMessage": message, "errorType": kind, "requestId": "r", "stackTrace": []});
                    (true, py_json(&error, false))
                };
                Some(match given.get("body") {
                    None => raised("KeyError", "'body'"),
                    Some(Value::String(text)) => {
                        let bytes = if given["isBase64Encoded"].as_bool() == Some(true) {
                            use base64::Engine;
                            base64::engine::general_purpose::STANDARD.decode(text).ok()
                        } else {
                            Some(text.as_bytes().to_vec())
                        };
                        match bytes.map(|b| serde_json::from_slice::<Value>(&b)) {
                            None => raised("Error", "Incorrect padding"),
                            Some(Ok(result)) => (false, py_json(&result, false)),
                            Some(Err(_)) => raised("JSONDecodeError", "Expecting value: line 1 column 1 (char 0)"),
                        }
                    }
                    Some(other) => {
                        let kind = match other {
                            Value::Null => "NoneType",
                            Value::Bool(_) => "bool",
                            Value::Number(n) if n.is_f64() => "float",
                            Value::Number(_) => "int",
                            Value::String(_) => "str",
                            Value::Array(_) => "list",
                            Value::Object(_) => "dict",
                        };
                        let message = format!("the JSON object must be str, bytes or bytearray, not {kind}");
                        raised("TypeError", message.as_str())
                    }
                })
            }
            // lambda_handler.js (Node): what it was given, quoted twice, as JSON.stringify does.
            "ls_nodejs_handler" => {
                let said = Value::String(format!("response from localstack lambda: {given}"));
                Some((
                    false,
                    format!(
                        "{{\"statusCode\":200,\"body\":{},\"isBase64Encoded\":false,\"headers\":{{}}}}",
                        Value::String(said.to_string())
                    ),
                ))
            }
            _ => None,
        };
        let (status, function_error, answer) = match name.as_str() {
            "echo" => (200, false, json!({"statusCode": 200, "headers": {"x-signed": signed.to_string()}, "body": event.to_string()})),
            "malformed" => (200, false, json!("just a string")),
            // A policy allowing everyone but callers from loopback (a condition on aws:SourceIp).
            "deny_local" => (200, false, json!({"principalId": "p2", "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}})),
            // A WebSocket `$connect` function choosing a subprotocol.
            "subprotocol" => (200, false, json!({"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat.v2"}})),
            // HTTP API authorizers: a simple response (2.0) and an IAM policy (1.0), allowing
            // the `authorization: allow` header; the simple one tells what its event held.
            "simple_auth" => {
                let allowed = event["headers"]["authorization"] == "allow";
                (200, false, json!({"isAuthorized": allowed, "context": {
                    "type": event["type"], "routeArn": event["routeArn"], "identity": event["identitySource"], "version": event["version"]}}))
            }
            "policy_auth" => {
                let effect = if event["headers"]["authorization"] == "allow" { "Allow" } else { "Deny" };
                (200, false, json!({"principalId": "p1", "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": effect, "Action": "execute-api:Invoke", "Resource": event["methodArn"]}]}}))
            }
            // An HTTP API's function answering bare JSON (payload 2.0 infers the rest).
            "bare" => (200, false, json!({"message": "hi", "n": 1})),
            "error" => (200, true, json!({"errorMessage": "boom", "errorType": "Error"})),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                (200, false, json!({"statusCode": 200, "body": "late"}))
            }
            // The function answers whatever proxy response the request body holds.
            "custom" => {
                let inner = event.get("body").and_then(Value::as_str).unwrap_or("null");
                (200, false, serde_json::from_str(inner).unwrap_or(Value::Null))
            }
            "identity" => (200, false, event),
            // lambda_select_pattern.py of the recordings.
            "select_pattern" => match event["statusCode"].as_str() {
                Some("200") => (200, false, json!("Pass")),
                Some(code @ ("400" | "500")) => {
                    let words = if code == "400" { "four hundred" } else { "five hundred" };
                    let message = format!("Error: Raising {words} from within the Lambda function");
                    (200, true, json!({"errorMessage": message, "errorType": "Exception", "requestId": "r", "stackTrace": []}))
                }
                _ => (200, false, json!("Error Value in the json request should either be 400 or 500 to demonstrate")),
            },
            // lambda_mapping_responses.py of the recordings.
            "mapping_responses" => {
                let status: i64 = event["body"]["httpStatus"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
                let body = if status >= 400 { "customerror" } else { "noerror" };
                (200, false, json!({"statusCode": 200, "body": body}))
            }
            // Says how it was invoked: `Event` (asynchronously) answers 202 and nothing, as Lambda does.
            "invocation_type" => match parts.headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()) {
                Some("Event") => (202, false, Value::Null),
                other => (200, false, json!({"invocationType": other})),
            },
            _ if written.is_some() => (200, false, Value::Null),
            _ => (404, false, json!({"Type": "User", "message": format!("Function not found: {function}")})),
        };
        let (function_error, answer) = match written {
            Some(written) => written,
            None if status == 202 => (function_error, String::new()),
            None => (function_error, answer.to_string()),
        };
        let mut res = Response::builder().status(status).header("content-type", "application/json");
        if function_error {
            res = res.header("x-amz-function-error", "Unhandled");
        }
        res.body(Full::new(Bytes::from(answer))).unwrap()
    })
    .await
}
