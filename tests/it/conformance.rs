//! Replays calls recorded against real AWS (`tests/data/aws-recorded/`), management calls and
//! calls of deployed APIs (on a worker started for the case), and compares Gatehouse's answers
//! with AWS's, field by field.
//!
//! The recordings hold only AWS's answers; the requests that produced them are reconstructed in
//! `tests/data/conformance/<file>.json` (one scenario per recorded case: wire requests in order, the
//! recorded key each answer must match, and variables saved from answers). Answers are compared
//! after the normalisation the recordings went through: ids and names are placeholders such as
//! `<id:1>` (bound on first sight, and the same placeholder must keep the same value), dates are
//! `"datetime"`, boto3 calls the wire's `item` lists `items`, and errors are `Error.Code` /
//! `Error.Message`. Requests are signed as account 111111111111, the account of the recordings.

use std::collections::{BTreeMap, HashMap};
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
    /// Fixed tokens of the recording (`<upper-id>`) and what they stand for (`${api:upper}`).
    #[serde(default)]
    tokens: BTreeMap<String, String>,
    /// The fake AWS services the case's integrations call ([`Backends::start`]).
    #[serde(default)]
    backends: Vec<String>,
}

/// Fake AWS services for a case, from `tests/it/backends.rs`: `lambda`, `s3`, `sqs` (the query
/// protocol), `sqs_json` and any other service name (served by the JSON-protocol fake), with
/// STS for the roles integrations name.
#[derive(Default)]
struct Backends {
    endpoints: BTreeMap<String, String>,
    /// Backends that are no AWS service (`http_echo`), by name: the scenario's `${name}` is
    /// their base URL.
    urls: HashMap<String, String>,
}

impl Backends {
    async fn start(names: &[String]) -> Self {
        use crate::backends::*;
        let mut endpoints = BTreeMap::new();
        let mut urls = HashMap::new();
        let mut json = None;
        for name in names {
            if name == "http_echo" {
                urls.insert(name.clone(), format!("http://{}", ls_http_echo().await));
                continue;
            }
            let url = match name.as_str() {
                "lambda" => format!("http://{}", fake_lambda().await),
                "s3" => format!("http://{}", fake_s3().await.0),
                "sqs" => format!("http://{}", fake_sqs().await.0),
                _ => match &json {
                    Some(url) => String::clone(url),
                    None => {
                        let url = format!("http://{}", fake_aws_json().await.0);
                        json = Some(url.clone());
                        url
                    }
                },
            };
            endpoints.insert(name.strip_suffix("_json").unwrap_or(name).to_owned(), url);
        }
        if !endpoints.is_empty() {
            endpoints.insert("sts".into(), format!("http://{}", fake_sts().await.0));
        }
        Self { endpoints, urls }
    }

    /// The control plane's environment: its Lambda endpoint (TestInvokeMethod calls it).
    fn app_env(&self) -> Vec<(&str, &str)> {
        self.endpoints
            .get("lambda")
            .map(|url| ("GATEHOUSE_LAMBDA_ENDPOINT", url.as_str()))
            .into_iter()
            .collect()
    }

    async fn worker(&self, app: &TestApp) -> gatehouse::server::Worker {
        let env: HashMap<String, String> = [
            ("AWS_ACCESS_KEY_ID", "AKIATEST"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let aws = gatehouse::dataplane::settings::AwsSettings::from_env(self.endpoints.clone(), &env);
        WorkerBuilder::new(&app.control_plane_url())
            .aws(aws)
            .start()
            .await
    }
}

/// A step is a management call (`request`) or a call of the deployed API on a worker (`invoke`,
/// `"GET /{stage}/{path}"`, of the API `api` names).
#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    request: Option<String>,
    #[serde(default)]
    invoke: Option<String>,
    #[serde(default)]
    api: Option<String>,
    /// `host` (`{api}.execute-api.{host}/{stage}/...`, the default) or `path`
    /// (`/restapis/{api}/{stage}/_user_request_/...`).
    #[serde(default)]
    url_style: Option<String>,
    /// A JSON body; a string is sent as it is.
    #[serde(default)]
    body: Option<Value>,
    /// A file under `tests/data/conformance/` sent as the body, byte for byte.
    #[serde(default)]
    body_file: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// How the recorded value was made from the answer, where the recording's test transformed
    /// it: strings `$body`, `$text`, `$status`, `$errortype` and `$header.{name}` are replaced.
    #[serde(default)]
    answer: Option<Value>,
    /// Call again (for up to 10 s) until the answer matches: a deployment reaches workers soon,
    /// not at once, and the recordings' tests retried too.
    #[serde(default)]
    retry: bool,
    /// How the recording's test transformed the answer (kinds separated by commas):
    /// `test_invoke`, TestInvokeMethod's `log` made an object of lines (`line00`...) with their
    /// times replaced, and its `latency` `<latency>`; `sorted_required`, every `required` list
    /// of a (model's) JSON schema sorted; `dates`, every ISO 8601 time in a string `date`.
    #[serde(default)]
    normalize: Option<String>,
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
    text: String,
    bytes: bytes::Bytes,
    headers: reqwest::header::HeaderMap,
}

impl Answer {
    async fn read(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let error_type = headers
            .get("x-amzn-errortype")
            .map(|v| v.to_str().unwrap().split(':').next().unwrap().to_owned());
        let bytes = res.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Answer {
            status,
            error_type,
            body,
            text,
            bytes,
            headers,
        }
    }

    /// The value a recording's `answer` template makes of this answer.
    fn render(&self, template: &Value) -> Value {
        match template {
            Value::String(s) => match s.as_str() {
                "$body" => self.body.clone(),
                "$text" => Value::String(self.text.clone()),
                "$bytes" => Value::String(python_bytes(&self.bytes)),
                "$xml" => xml_to_dict(&self.text).unwrap_or(Value::Null),
                "$status" => Value::from(self.status),
                "$errortype" => self.error_type.clone().map_or(Value::Null, Value::String),
                s => {
                    if let Some(name) = s.strip_prefix("$header.") {
                        self.headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map_or(Value::Null, |v| Value::String(v.to_owned()))
                    } else if let Some(path) = s.strip_prefix("$body.") {
                        lookup(&self.body, path).cloned().unwrap_or(Value::Null)
                    } else {
                        template.clone()
                    }
                }
            },
            Value::Array(a) => Value::Array(a.iter().map(|v| self.render(v)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), self.render(v))).collect()),
            other => other.clone(),
        }
    }
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
        Answer::read(self.execute(method, uri, bytes, headers).await).await
    }
}

/// `raw` with `${var}` (and `${var:upper}`) replaced by the values saved.
fn substitute(raw: &str, vars: &HashMap<String, String>) -> String {
    let mut out = raw.to_owned();
    for (k, v) in vars {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${{{k}:upper}}"), &v.to_uppercase());
    }
    out
}

/// The recording `v` with its fixed tokens replaced: the case's own, and those every
/// recording shares (`<region>`, `<partition>`; `<request-id-1>` is a placeholder like others).
fn with_tokens(v: &Value, tokens: &[(String, String)]) -> Value {
    let expand = |s: &str| {
        let mut out = s
            .replace("<region>", REGION)
            .replace("<partition>", "aws")
            .replace("<request-id-", "<request-id:");
        for (token, value) in tokens {
            out = out.replace(token.as_str(), value);
        }
        out
    };
    match v {
        Value::String(s) => Value::String(expand(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| with_tokens(x, tokens)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (expand(k), with_tokens(x, tokens)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A TestInvokeMethod answer as the recordings' test showed it: its log an object of lines
/// (`line00`, ...) with their times replaced, its latency `<latency>`.
fn normalize_test_invoke(body: &mut Value) {
    let time = regex::Regex::new(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]?\d \d\d:\d\d:\d\d UTC \d{4}").unwrap();
    if let Some(log) = body.get("log").and_then(Value::as_str) {
        let lines = log
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                let line = time.replace(line, "DDD MMM dd hh:mm:ss UTC yyyy");
                (format!("line{i:02}"), Value::String(line.into_owned()))
            })
            .collect();
        body["log"] = Value::Object(lines);
    }
    if body.get("latency").is_some_and(Value::is_number) {
        body["latency"] = Value::String("<latency>".into());
    }
}

/// `v` with every `required` list sorted, in JSON documents held in strings too (a model's
/// schema).
fn sort_required(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(mut parsed @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(s) {
                sort_required(&mut parsed);
                *v = parsed;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sort_required),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "required"
                    && let Value::Array(list) = x
                {
                    list.sort_by_key(|e| e.to_string());
                }
                sort_required(x);
            }
        }
        _ => {}
    }
}

/// `v` with each ISO 8601 time (`2024-05-29T20:06:17Z`) in its strings replaced by `date`.
fn replace_dates(v: &mut Value) {
    let date = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    fn walk(v: &mut Value, date: &regex::Regex) {
        match v {
            Value::String(s) => {
                if let std::borrow::Cow::Owned(replaced) = date.replace_all(s, "date") {
                    *s = replaced;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, date)),
            Value::Object(o) => o.values_mut().for_each(|x| walk(x, date)),
            _ => {}
        }
    }
    walk(v, &date);
}

/// An XML document as Python's `xmltodict` reads it: an element of text is its text, one of
/// elements an object of them (repeated ones a list), an empty one `null`; attributes are
/// `@name`. Enough for the answers of AWS services (no CDATA, comments or entities but the five).
fn xml_to_dict(xml: &str) -> Option<Value> {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }
    /// The element at the start of `rest` (after its `<`): its name, value and what follows it.
    fn element(rest: &str) -> Option<(String, Value, &str)> {
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let mut words = tag.split_whitespace();
        let name = words.next()?.to_owned();
        let mut object = serde_json::Map::new();
        let attrs = tag[name.len()..].trim();
        for attr in attrs.split('"').collect::<Vec<_>>().chunks(2) {
            if let [key, value] = attr {
                let key = key.trim().trim_end_matches('=');
                object.insert(format!("@{key}"), Value::String(unescape(value)));
            }
        }
        let mut rest = &rest[end + 1..];
        if empty {
            let value = if object.is_empty() {
                Value::Null
            } else {
                Value::Object(object)
            };
            return Some((name, value, rest));
        }
        let mut text = String::new();
        loop {
            let lt = rest.find('<')?;
            text.push_str(&rest[..lt]);
            rest = &rest[lt + 1..];
            if let Some(after) = rest.strip_prefix('/') {
                let close = after.find('>')?;
                rest = &after[close + 1..];
                break;
            }
            let (child, value, after) = element(rest)?;
            rest = after;
            match object.get_mut(&child) {
                Some(Value::Array(list)) => list.push(value),
                Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
                None => {
                    object.insert(child, value);
                }
            }
        }
        let text = text.trim();
        let value = match (object.is_empty(), text.is_empty()) {
            (true, true) => Value::Null,
            (true, false) => Value::String(unescape(text)),
            (false, true) => Value::Object(object),
            (false, false) => {
                object.insert("#text".into(), Value::String(unescape(text)));
                Value::Object(object)
            }
        };
        Some((name, value, rest))
    }
    let mut rest = xml.trim_start();
    if let Some(decl) = rest.strip_prefix("<?") {
        rest = decl[decl.find("?>")? + 2..].trim_start();
    }
    let (name, value, _) = element(rest.strip_prefix('<')?)?;
    Some(serde_json::json!({ name: value }))
}

/// Python's `repr` of `bytes` (`b'...'`), as recordings of raw bodies show them.
fn python_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
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

/// The value at `dotted` in `v`: fields, indexes, and `list[field=value]` for the first item of
/// `list` whose `field` is `value` (`item[path=/pets/{petId}].id`; the value may hold dots).
fn lookup<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    let mut cur = v;
    let mut rest = dotted;
    while !rest.is_empty() {
        let (part, next) = match (rest.find('['), rest.find('.')) {
            (Some(open), dot) if dot.is_none_or(|d| open < d) => {
                let close = rest.find(']')?;
                let (list, filter) = (&rest[..open], &rest[open + 1..close]);
                let (field, value) = filter.split_once('=')?;
                cur = cur
                    .get(list)?
                    .as_array()?
                    .iter()
                    .find(|item| item.get(field).and_then(Value::as_str) == Some(value))?;
                rest = rest[close + 1..].strip_prefix('.').unwrap_or(&rest[close + 1..]);
                continue;
            }
            (_, Some(dot)) => (&rest[..dot], &rest[dot + 1..]),
            (_, None) => (rest, ""),
        };
        cur = match part.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(part)?,
        };
        rest = next;
    }
    Some(cur)
}

/// Matches `actual` against a recorded string that may hold placeholders (`<name:1>`, bound on
/// first sight); a recorded value that is a bare `<name>` alone (a header the recording's test
/// replaced whatever it held, `<Date>`) matches any.
fn match_placeholders(expected: &str, actual: &str, bindings: &mut HashMap<String, String>) -> bool {
    if let Some(name) = expected.strip_prefix('<').and_then(|e| e.strip_suffix('>'))
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return true;
    }
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
        if let Some(bound) = bindings.get(*text) {
            if !actual[pos..].starts_with(bound.as_str()) {
                return false;
            }
            pos += bound.len();
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
        // A placeholder stands for something: AWS never recorded an empty id.
        if end == pos {
            return false;
        }
        bindings.insert((*text).to_owned(), actual[pos..end].to_owned());
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
    if let Value::Array(items) = v {
        items.sort_by(|a, b| a[field].to_string().cmp(&b[field].to_string()));
    }
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
    // A management error (an answer the recording's test made of a body is compared as such).
    if let Some(error) = expected.get("Error").filter(|_| step.answer.is_none()) {
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
    let mut actual = match &step.answer {
        Some(template) => answer.render(template),
        None => answer.body.clone(),
    };
    for kind in step.normalize.iter().flat_map(|n| n.split(',')) {
        match kind.trim() {
            "test_invoke" => normalize_test_invoke(&mut actual),
            "sorted_required" => {
                sort_required(&mut expected);
                sort_required(&mut actual);
            }
            "dates" => replace_dates(&mut actual),
            other => diffs.push(format!("unknown normalize {other}")),
        }
    }
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

/// The body a step sends, with the Content-Type it implies when its headers give none.
fn body_of(step: &Step, vars: &HashMap<String, String>) -> (Vec<u8>, Option<&'static str>) {
    if let Some(file) = &step.body_file {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/conformance")
            .join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return (bytes, None);
    }
    match step.body.as_ref().map(|b| substitute_json(b, vars)) {
        None => (Vec::new(), None),
        Some(Value::String(raw)) => (raw.into_bytes(), None),
        Some(json) => (serde_json::to_vec(&json).unwrap(), Some("application/json")),
    }
}

/// One call of the deployed API `step.api` on `worker`.
async fn invoke(
    worker: &gatehouse::server::Worker,
    step: &Step,
    line: &str,
    vars: &HashMap<String, String>,
) -> Result<Answer, String> {
    let (method, path) = line.split_once(' ').ok_or("bad invoke line")?;
    let api = substitute(step.api.as_deref().ok_or("an invoke step names no api")?, vars);
    let port = worker.addr.port();
    let url = match step.url_style.as_deref() {
        None | Some("host") => format!("http://{api}.execute-api.localhost:{port}{path}"),
        Some("path") => {
            let rest = path.strip_prefix('/').ok_or("an invoke path starts with /")?;
            let (stage, user_path) = rest.split_once('/').unwrap_or((rest, ""));
            format!("http://127.0.0.1:{port}/restapis/{api}/{stage}/_user_request_/{user_path}")
        }
        Some(other) => return Err(format!("unknown url_style {other}")),
    };
    let (bytes, content_type) = body_of(step, vars);
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = invoker(&api, worker).request(method, &url).body(bytes);
    if let Some(ct) = content_type.filter(|_| {
        !step
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
    }) {
        req = req.header("content-type", ct);
    }
    for (k, v) in &step.headers {
        req = req.header(k, substitute(v, vars));
    }
    let res = req.send().await.map_err(|e| format!("{url}: {e}"))?;
    Ok(Answer::read(res).await)
}

async fn run_case(app: &TestApp, backends: &Backends, recorded: &Value, case: &Case) -> Result<(), String> {
    let client = SignedClient::new(app);
    let mut worker = None;
    let mut vars = backends.urls.clone();
    let tokens = |vars: &HashMap<String, String>| -> Vec<(String, String)> {
        case.tokens
            .iter()
            .map(|(k, v)| (k.clone(), substitute(v, vars)))
            .collect()
    };
    let mut bindings = HashMap::new();
    for (i, step) in case.steps.iter().enumerate() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let (line, answer) = loop {
            let (line, answer) = match (&step.request, &step.invoke) {
                (Some(request), None) => {
                    let line = substitute(request, &vars);
                    let (method, uri) = line
                        .split_once(' ')
                        .ok_or_else(|| format!("step {i}: bad request line"))?;
                    let (bytes, content_type) = body_of(step, &vars);
                    let mut headers: Vec<(String, String)> = step
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), substitute(v, &vars)))
                        .collect();
                    if let Some(ct) = content_type
                        && !headers
                            .iter()
                            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    {
                        headers.push(("content-type".into(), ct.into()));
                    }
                    let headers: Vec<(&str, &str)> =
                        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let res = client.execute(method, uri, bytes, &headers).await;
                    (line, Answer::read(res).await)
                }
                (None, Some(invoke_line)) => {
                    let line = substitute(invoke_line, &vars);
                    if worker.is_none() {
                        worker = Some(backends.worker(app).await);
                    }
                    let answer = invoke(worker.as_ref().unwrap(), step, &line, &vars)
                        .await
                        .map_err(|e| format!("step {i}: {e}"))?;
                    (line, answer)
                }
                _ => return Err(format!("step {i}: give one of request and invoke")),
            };
            let retry_again = step.retry && std::time::Instant::now() < deadline && {
                let mut trial = bindings.clone();
                match &step.expect {
                    Some(key) => recorded.get(key).is_some_and(|rec| {
                        let rec = with_tokens(rec, &tokens(&vars));
                        !compare_answer(&rec, &answer, step, &mut trial).is_empty()
                    }),
                    None => step
                        .status
                        .map_or(!(200..300).contains(&answer.status), |s| s != answer.status),
                }
            };
            if !retry_again {
                break (line, answer);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        if let (Some(_), Some(status)) = (&step.expect, step.status)
            && answer.status != status
        {
            return Err(format!(
                "step {i} ({line}): expected status {status}, got {} {}",
                answer.status, answer.body
            ));
        }
        if let Some(key) = &step.expect {
            let rec = recorded
                .get(key)
                .ok_or_else(|| format!("step {i}: no recorded key {key}"))?;
            let diffs = compare_answer(&with_tokens(rec, &tokens(&vars)), &answer, step, &mut bindings);
            if !diffs.is_empty() {
                return Err(format!("{key} ({line}): {}", diffs.join("; ")));
            }
        } else if let Some(status) = step.status {
            if answer.status != status {
                return Err(format!(
                    "step {i} ({line}): expected status {status}, got {} {}",
                    answer.status, answer.body
                ));
            }
        } else if !(200..300).contains(&answer.status) {
            return Err(format!(
                "setup step {i} ({line}) failed: {} {}",
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
            let backends = Backends::start(&case.backends).await;
            let app = spawn_app_with(&backends.app_env()).await;
            match run_case(&app, &backends, &rec["recorded-content"], case).await {
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
    // A bare token stands for anything; a token among text does not.
    assert!(match_placeholders(
        "<Date>",
        "Mon, 07 Dec 2026 03:00:00 GMT",
        &mut b
    ));
    assert!(!match_placeholders("a <Date>", "a Mon", &mut b));
}

#[test]
fn xml_reads_as_xmltodict_reads_it() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a &amp; b</Key><Empty/><Item>1</Item><Item>2</Item></Error>"#;
    assert_eq!(
        xml_to_dict(xml).unwrap(),
        serde_json::json!({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist.",
            "Key": "a & b", "Empty": null, "Item": ["1", "2"]}})
    );
    assert_eq!(
        xml_to_dict(r#"<R xmlns="urn:x"><A>t</A></R>"#).unwrap(),
        serde_json::json!({"R": {"@xmlns": "urn:x", "A": "t"}})
    );
    assert!(xml_to_dict("not xml").is_none());
}
