//! Replays management calls recorded against real AWS (`tests/data/aws-recorded/`) and compares
//! Gatehouse's answers with AWS's, field by field.
//!
//! The recordings hold only AWS's answers; the requests that produced them are reconstructed in
//! `tests/data/conformance/<file>.json` (one scenario per recorded case: wire requests in order, the
//! recorded key each answer must match, and variables saved from answers). Answers are compared
//! after the normalisation the recordings went through: ids and names are placeholders such as
//! `<id:1>` (bound on first sight, and the same placeholder must keep the same value), dates are
//! `"datetime"`, boto3 calls the wire's `item` lists `items`, and errors are `Error.Code` /
//! `Error.Message`. Requests are signed as account 111111111111, the account of the recordings.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde::Deserialize;
use serde_json::Value;

use crate::helpers::*;

#[derive(Debug, Deserialize)]
struct ScenarioFile {
    file: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    steps: Vec<Step>,
    /// Set where Gatehouse knowingly answers differently (the reason is the documentation).
    #[serde(default)]
    known_difference: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Step {
    request: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    save: HashMap<String, String>,
    /// The recording's test sorted the listing by this field before snapshotting it.
    #[serde(default)]
    sort_items_by: Option<String>,
    /// The recording's test did not compare the error message (AWS's is not stable).
    #[serde(default)]
    ignore_error_message: bool,
}

fn recordings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-recorded")
}

/// A raw HTTP client that signs like the SDK does, so any JSON can be sent as-is.
pub(crate) struct SignedClient {
    base: String,
    http: reqwest::Client,
    identity: Identity,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) error_type: Option<String>,
    body: Value,
}

impl SignedClient {
    pub(crate) fn new(app: &TestApp) -> Self {
        let creds =
            aws_sdk_apigateway::config::Credentials::new("other", "other-secret", None, None, "conformance");
        Self {
            base: app.url(),
            http: reqwest::Client::new(),
            identity: creds.into(),
        }
    }

    /// The same client as the test app's own account (`test`), not the other tenant.
    pub(crate) fn of_first_account(app: &TestApp) -> Self {
        let creds = aws_sdk_apigateway::config::Credentials::new("test", "test", None, None, "conformance");
        Self {
            base: app.url(),
            http: reqwest::Client::new(),
            identity: creds.into(),
        }
    }

    /// Sends a signed request with `headers` beside the signature's.
    pub(crate) async fn execute(
        &self,
        method: &str,
        uri: &str,
        bytes: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let url = format!("{}{uri}", self.base);
        let mut req = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("host", self.base.trim_start_matches("http://"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(bytes.clone()).unwrap();
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name("apigateway")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signed_headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        let signable = SignableRequest::new(
            method,
            &url,
            signed_headers.into_iter(),
            SignableBody::Bytes(&bytes),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        self.http
            .execute(reqwest::Request::try_from(req).unwrap())
            .await
            .unwrap()
    }

    pub(crate) async fn send(&self, method: &str, uri: &str, body: Option<&Value>) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        let res = self.execute(method, uri, bytes, headers).await;
        let status = res.status().as_u16();
        let error_type = res
            .headers()
            .get("x-amzn-errortype")
            .map(|v| v.to_str().unwrap().split(':').next().unwrap().to_owned());
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            error_type,
            body,
        }
    }
}

fn substitute(raw: &str, vars: &HashMap<String, String>) -> String {
    let mut out = raw.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

fn substitute_json(v: &Value, vars: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute_json(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (substitute(k, vars), substitute_json(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn lookup<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .try_fold(v, |cur, part| match part.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(part),
        })
}

/// Matches `actual` against a recorded string that may hold placeholders (`<name:1>`).
fn match_placeholders(expected: &str, actual: &str, bindings: &mut HashMap<String, String>) -> bool {
    let mut parts = Vec::new();
    let mut rest = expected;
    while let Some(start) = rest.find('<') {
        match rest[start..].find('>') {
            Some(end) if rest[start + 1..start + end].contains(':') => {
                parts.push((false, &rest[..start]));
                parts.push((true, &rest[start..start + end + 1]));
                rest = &rest[start + end + 1..];
            }
            _ => break,
        }
    }
    parts.push((false, rest));
    let mut pos = 0;
    for (i, (is_placeholder, text)) in parts.iter().enumerate() {
        if !is_placeholder {
            if !actual[pos..].starts_with(text) {
                return false;
            }
            pos += text.len();
            continue;
        }
        let next_literal = parts.get(i + 1).map(|(_, t)| *t).unwrap_or("");
        let end = if i + 2 >= parts.len() && next_literal.is_empty() {
            actual.len()
        } else if next_literal.is_empty() {
            return false;
        } else {
            match actual[pos..].find(next_literal) {
                Some(off) => pos + off,
                None => return false,
            }
        };
        let value = &actual[pos..end];
        match bindings.get(*text) {
            Some(bound) if bound != value => return false,
            Some(_) => {}
            None => {
                bindings.insert((*text).to_owned(), value.to_owned());
            }
        }
        pos = end;
    }
    pos == actual.len()
}

fn compare(
    expected: &Value,
    actual: &Value,
    path: &str,
    bindings: &mut HashMap<String, String>,
    diffs: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::String(e), Value::Number(_)) if e == "datetime" => {}
        (Value::String(e), Value::String(a)) => {
            if !match_placeholders(e, a, bindings) {
                diffs.push(format!("{path}: expected {e:?}, got {a:?}"));
            }
        }
        // LocalStack's snapshots parse JSON documents held in strings (model schemas, policies).
        (Value::Object(_) | Value::Array(_), Value::String(a)) => match serde_json::from_str::<Value>(a) {
            Ok(parsed) => compare(expected, &parsed, path, bindings, diffs),
            Err(_) => diffs.push(format!("{path}: expected {expected}, got {a:?}")),
        },
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => compare(ev, av, &format!("{path}.{k}"), bindings, diffs),
                    None => diffs.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: unexpected (got {})", a[k]));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                diffs.push(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    e.len(),
                    a.len()
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}[{i}]"), bindings, diffs);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => diffs.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn sort_items(v: &mut Value, field: &str) {
    for key in ["items", "item"] {
        if let Some(Value::Array(items)) = v.get_mut(key) {
            items.sort_by(|a, b| a[field].to_string().cmp(&b[field].to_string()));
        }
    }
}

/// Compares one answer with its recording; returns the differences.
fn compare_answer(
    recorded: &Value,
    answer: &Answer,
    step: &Step,
    bindings: &mut HashMap<String, String>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut expected = recorded.clone();
    let meta = expected
        .as_object_mut()
        .and_then(|o| o.remove("ResponseMetadata"));
    if let Some(status) = meta
        .as_ref()
        .and_then(|m| m.get("HTTPStatusCode"))
        .and_then(Value::as_u64)
        && status != u64::from(answer.status)
    {
        diffs.push(format!(
            "status: expected {status}, got {} ({})",
            answer.status, answer.body
        ));
    }
    if let Some(error) = expected.get("Error") {
        let code = error.get("Code").and_then(Value::as_str).unwrap_or_default();
        if answer.error_type.as_deref() != Some(code) {
            diffs.push(format!(
                "error type: expected {code}, got {:?}",
                answer.error_type
            ));
        }
        let message = error.get("Message").and_then(Value::as_str).unwrap_or_default();
        let got = answer
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !step.ignore_error_message && !match_placeholders(message, got, bindings) {
            diffs.push(format!("error message: expected {message:?}, got {got:?}"));
        }
        return diffs;
    }
    let mut actual = answer.body.clone();
    if actual.is_null() {
        actual = Value::Object(Default::default());
    }
    // boto3 names the wire's `item` list `items` for most listings.
    if let Some(o) = actual.as_object_mut()
        && expected.get("items").is_some()
        && let Some(items) = o.remove("item")
    {
        o.insert("items".into(), items);
    }
    if let Some(field) = &step.sort_items_by {
        sort_items(&mut expected, field);
        sort_items(&mut actual, field);
    }
    compare(&expected, &actual, "$", bindings, &mut diffs);
    diffs
}

async fn run_case(app: &TestApp, recorded: &Value, case: &Case) -> Result<(), String> {
    let client = SignedClient::new(app);
    let mut vars = HashMap::new();
    let mut bindings = HashMap::new();
    for (i, step) in case.steps.iter().enumerate() {
        let request = substitute(&step.request, &vars);
        let (method, uri) = request
            .split_once(' ')
            .ok_or_else(|| format!("step {i}: bad request line"))?;
        let body = step.body.as_ref().map(|b| substitute_json(b, &vars));
        let answer = client.send(method, uri, body.as_ref()).await;
        if let Some(key) = &step.expect {
            let rec = recorded
                .get(key)
                .ok_or_else(|| format!("step {i}: no recorded key {key}"))?;
            let diffs = compare_answer(rec, &answer, step, &mut bindings);
            if !diffs.is_empty() {
                return Err(format!("{key} ({request}): {}", diffs.join("; ")));
            }
        } else if let Some(status) = step.status {
            if answer.status != status {
                return Err(format!(
                    "step {i} ({request}): expected status {status}, got {} {}",
                    answer.status, answer.body
                ));
            }
        } else if !(200..300).contains(&answer.status) {
            return Err(format!(
                "setup step {i} ({request}) failed: {} {}",
                answer.status, answer.body
            ));
        }
        for (var, field) in &step.save {
            let v = lookup(&answer.body, field)
                .ok_or_else(|| format!("step {i}: no field {field} to save in {}", answer.body))?;
            vars.insert(
                var.clone(),
                v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()),
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn recorded_aws_answers_are_reproduced() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut total, mut matched, mut known) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let scenarios: ScenarioFile = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let recorded: Value = serde_json::from_slice(
            &std::fs::read(recordings_dir().join(format!("{}.snapshot.json", scenarios.file)))
                .expect("recordings in tests/data/aws-recorded"),
        )
        .unwrap();
        for case in &scenarios.cases {
            let suffix = format!("::{}", case.name);
            let Some((_, rec)) = recorded
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.ends_with(&suffix))
            else {
                failures.push(format!(
                    "{}::{}: no such recorded case",
                    scenarios.file, case.name
                ));
                continue;
            };
            if case.known_difference.is_some() {
                known += 1;
                continue;
            }
            total += 1;
            // Each case on its own server and database, as AWS's recordings were made on fresh APIs.
            let app = spawn_app().await;
            match run_case(&app, &rec["recorded-content"], case).await {
                Ok(()) => matched += 1,
                Err(e) => failures.push(format!("{}::{}: {e}", scenarios.file, case.name)),
            }
        }
    }
    println!("conformance: {matched}/{total} recorded cases reproduced ({known} documented differences)");
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ from AWS:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 0, "no scenarios found in {}", dir.display());
}

#[test]
fn placeholders_bind_consistently() {
    let mut b = HashMap::new();
    assert!(match_placeholders("<id:1>", "abc", &mut b));
    assert!(match_placeholders("x <id:1> y", "x abc y", &mut b));
    assert!(!match_placeholders("<id:1>", "other", &mut b));
    assert!(match_placeholders(
        "Invalid API identifier specified 111111111111:<id:2>",
        "Invalid API identifier specified 111111111111:zz",
        &mut b
    ));
    assert!(!match_placeholders("plain", "plain!", &mut b));
}
