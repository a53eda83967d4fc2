//! TestInvokeMethod: runs one method of an API's current definition (not a deployment)
//! through the data plane's own pipeline, on the control plane's tester data plane, as a
//! request to a stage of its own (`test-invoke-stage`, with the stage variables the call
//! gives), and answers what came back: status, body, headers, latency and AWS's execution log.
//! As the console's test does, the method's authorizer and API key are not asked for.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Extension, Path, State};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};

use super::{method_not_found, resource_not_found};
use crate::dataplane::body::RequestBody;
use crate::dataplane::cache::ResponseCaches;
use crate::dataplane::config::RuntimeConfig;
use crate::dataplane::context::Peer;
use crate::domain::enums::{ApiProtocol, AuthorizationType};
use crate::domain::stage::{Stage, StageConfig};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult};
use crate::management::extract::AwsJson;
use crate::store::Tenant;

/// The stage a test runs on.
const STAGE: &str = "test-invoke-stage";

/// The most of an answer a test shows (AWS's payload limit).
const MAX_BODY: usize = 10 << 20;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeMethodRequest {
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    pub client_certificate_id: Option<String>,
    pub stage_variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeMethodResponse {
    pub status: u16,
    pub body: String,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub log: String,
    /// Milliseconds.
    pub latency: u64,
}

/// The test request's head, as a client would send it: the method, the stage's path-based URL
/// and the given headers (refused when one could not be sent).
fn request_head(
    method: &str,
    api_id: &str,
    path: &str,
    headers: &[(&str, &str)],
    body_len: usize,
) -> ApiResult<crate::dataplane::h1::server::RequestHead> {
    let invalid =
        || ApiError::bad_request("Invalid request: a header name or value, or the path, cannot be sent");
    if !sendable_path(path) {
        return Err(invalid());
    }
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut head = format!(
        "{method} /restapis/{api_id}/{STAGE}/_user_request_{path} HTTP/1.1\r\nhost: test-invoke.localhost\r\n"
    );
    for (name, value) in headers {
        let sendable = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
            && !value.bytes().any(|b| b == b'\r' || b == b'\n');
        if !sendable {
            return Err(invalid());
        }
        // The test's own: the host it is sent to, the length of its body.
        if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body_len > 0 {
        head.push_str(&format!("content-length: {body_len}\r\n"));
    }
    head.push_str("\r\n");
    crate::dataplane::h1::server::parse_request(&mut BytesMut::from(head.as_bytes()))
        .ok()
        .flatten()
        .ok_or_else(invalid)
}

/// What the test's answer was: its status, its header fields, its body.
type Outcome = (u16, BTreeMap<String, Vec<String>>, Bytes);

/// Runs the test request through the pipeline with the test stage's configuration, on a
/// thread of its own with its own runtime and backend clients, as a data-plane thread runs
/// requests.
async fn run(
    tester: Arc<crate::dataplane::state::DataPlane>,
    runtime: RuntimeConfig,
    parts: http::request::Parts,
    head: crate::dataplane::h1::server::RequestHead,
    body: Bytes,
) -> ApiResult<Outcome> {
    let ran = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let dp = tester.with_own_clients();
        Ok::<_, std::io::Error>(rt.block_on(serve(&dp, runtime, parts, head, body)))
    })
    .await;
    match ran {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the test invocation's runtime cannot start");
            Err(ApiError::internal())
        }
        Err(e) => {
            tracing::warn!(error = %e, "the test invocation did not run");
            Err(ApiError::internal())
        }
    }
}

async fn serve(
    tester: &crate::dataplane::state::DataPlane,
    runtime: RuntimeConfig,
    parts: http::request::Parts,
    head: crate::dataplane::h1::server::RequestHead,
    body: Bytes,
) -> Outcome {
    {
        let peer = Peer::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), 0);
        let answer = crate::dataplane::pipeline::handle_with(
            tester,
            &runtime,
            &parts,
            &head.fields,
            RequestBody::full(body),
            &peer,
            Instant::now(),
        )
        .await;
        let status = answer.response.status().as_u16();
        let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in answer.response.headers() {
            if let Ok(v) = value.to_str() {
                multi
                    .entry(name.as_str().to_owned())
                    .or_default()
                    .push(v.to_owned());
            }
        }
        // A proxied backend's header fields, passed through as they came.
        for (name, value) in answer.passed.iter().flat_map(|f| f.iter()) {
            if let (Ok(n), Ok(v)) = (std::str::from_utf8(name), std::str::from_utf8(value))
                && !crate::dataplane::h1::is_hop_by_hop(name)
            {
                multi.entry(n.to_owned()).or_default().push(v.to_owned());
            }
        }
        let collected = http_body_util::Limited::new(answer.response.into_body(), MAX_BODY)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        (status, multi, collected)
    }
}

/// The path parameters `path` gives the resource path `template` (`/pets/{id}`,
/// `/{proxy+}`), or `None` when it does not match it.
fn path_parameters(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut given = path.trim_start_matches('/').split('/');
    let mut params = Vec::new();
    for part in template.trim_start_matches('/').split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest: Vec<&str> = given.by_ref().collect();
            if rest.is_empty() || rest == [""] {
                return None;
            }
            params.push((name.to_owned(), rest.join("/")));
            return Some(params);
        }
        let segment = given.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => params.push((name.to_owned(), segment.to_owned())),
            Some(_) => return None,
            None if segment == part => {}
            None => return None,
        }
    }
    given.next().is_none().then_some(params)
}

/// `content-type` as `Content-Type`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A path and query string only: no space, control character or fragment, so nothing can
/// be written into the request line (or the log) but a target.
fn sendable_path(path: &str) -> bool {
    !path.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#')
        && path.parse::<http::uri::PathAndQuery>().is_ok()
}

/// AWS's execution log lines, each stamped as AWS stamps them.
struct Log(String);

impl Log {
    fn line(&mut self, text: impl AsRef<str>) {
        let now = chrono::Utc::now().format("%a %b %d %H:%M:%S UTC %Y");
        self.0.push_str(&format!("{now} : {}\n", text.as_ref()));
    }
}

fn shown(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}",
    operation_id = "TestInvokeMethod",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path), ("http_method" = String, Path)),
    request_body = TestInvokeMethodRequest,
    responses((status = 200, description = "TestInvokeMethod succeeded", body = TestInvokeMethodResponse), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id, resource.id = %resource_id, method = %verb))]
pub async fn test_invoke_method(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id, verb)): Path<(String, String, String)>,
    AwsJson(req): AwsJson<TestInvokeMethodRequest>,
) -> ApiResult<Json<TestInvokeMethodResponse>> {
    let started = Instant::now();
    // The definition as it is now, read consistently (nothing is written).
    let mut tx = app.store.begin().await?;
    let mut snapshot = super::deployments::freeze(&mut tx, &tenant, &api_id)
        .await
        .map_err(|e| {
            if e.status == http::StatusCode::NOT_FOUND {
                resource_not_found()
            } else {
                e
            }
        })?;
    tx.rollback().await?;
    let resource = snapshot
        .resources
        .iter_mut()
        .find(|r| r.id == resource_id)
        .ok_or_else(resource_not_found)?;
    let resource_path = resource.path.clone();
    // A method the resource lacks is run by its ANY, as the data plane would route it.
    let method = resource
        .resource_methods
        .as_mut()
        .and_then(|m| {
            let verb = if m.contains_key(&verb) {
                verb.as_str()
            } else {
                "ANY"
            };
            m.get_mut(verb)
        })
        .ok_or_else(method_not_found)?;
    method.authorization_type = AuthorizationType::None;
    method.authorizer_id = None;
    method.api_key_required = false;
    let (_, hash) = snapshot.canonical();
    let api = crate::compiler::compile(&snapshot, &hash)
        .map_err(|e| ApiError::bad_request(format!("The API cannot be run as it is: {e}")))?;
    let now = crate::domain::now();
    let stage = Stage {
        stage_name: STAGE.into(),
        deployment_id: "test-invoke-deployment-id".into(),
        description: None,
        client_certificate_id: req.client_certificate_id.clone(),
        cache_cluster_enabled: false,
        cache_cluster_size: None,
        cache_cluster_status: "NOT_AVAILABLE".into(),
        method_settings: BTreeMap::new(),
        variables: req.stage_variables.clone().unwrap_or_default(),
        documentation_version: None,
        access_log_settings: None,
        canary_settings: None,
        tracing_enabled: false,
        web_acl_arn: None,
        tags: BTreeMap::new(),
        created_date: now,
        last_updated_date: now,
    };
    let config = StageConfig {
        api_id: api_id.clone(),
        account_id: tenant.account_id.clone(),
        region: tenant.region.clone(),
        protocol: ApiProtocol::Rest,
        stage,
        snapshot: hash.clone(),
        canary_snapshot: None,
        authorizers_flushed: 0,
        cache_flushed: 0,
        account_throttle: None,
        usage_plans: Vec::new(),
        client_identity: None,
    };
    let compiled = HashMap::from([(hash, Arc::new(api))]);
    let runtime = RuntimeConfig::build(0, [&config], &compiled, &[], &[], &ResponseCaches::default())
        .map_err(|e| {
            tracing::warn!(error = %e, "the test stage cannot be built");
            ApiError::internal()
        })?;

    let path = req
        .path_with_query_string
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| resource_path.clone());
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for (name, value) in req.headers.iter().flatten() {
        headers.push((name, value));
    }
    for (name, values) in req.multi_value_headers.iter().flatten() {
        for value in values {
            headers.push((name, value));
        }
    }
    let body = req.body.clone().unwrap_or_default();
    let sent_method = if verb == "ANY" { "GET" } else { verb.as_str() };
    if !sendable_path(&path) {
        return Err(ApiError::bad_request(
            "Invalid request: a header name or value, or the path, cannot be sent",
        ));
    }
    // The method is run whatever the path says, as AWS runs it: a path its resource does not
    // match is sent as the resource's own (its parameters named by themselves).
    let (route_path, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let params = path_parameters(&resource_path, route_path);
    let sent = match &params {
        Some(_) => path.clone(),
        None => {
            let own = resource_path.replace(['{', '}'], "").replace('+', "");
            if query.is_empty() {
                own
            } else {
                format!("{own}?{query}")
            }
        }
    };
    let head = request_head(sent_method, &api_id, &sent, &headers, body.len())?;
    let parts = {
        let mut r = http::Request::new(());
        *r.method_mut() = head.method.clone();
        *r.uri_mut() = head.uri.clone();
        *r.version_mut() = head.version;
        r.into_parts().0
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut log = Log(format!("Execution log for request {request_id}\n"));
    log.line(format!("Starting execution for request: {request_id}"));
    log.line(format!("HTTP Method: {verb}, Resource Path: {route_path}"));
    log.line(format!(
        "Method request path: {}",
        shown(params.unwrap_or_default())
    ));
    log.line(format!(
        "Method request query string: {}",
        shown(crate::domain::query::parse(query))
    ));
    log.line(format!(
        "Method request headers: {}",
        shown(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    ));
    log.line(format!("Method request body before transformations: {body}"));

    drop(headers);
    let (status, multi, collected) = run(app.tester.clone(), runtime, parts, head, Bytes::from(body)).await?;
    let body = String::from_utf8_lossy(&collected).into_owned();
    // Header names as AWS shows them (`Content-Type`).
    let multi: BTreeMap<String, Vec<String>> = multi.into_iter().map(|(k, v)| (title_case(&k), v)).collect();
    let single: BTreeMap<String, String> = multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
        .collect();
    log.line(format!("Method response body after transformations: {body}"));
    log.line(format!("Method response headers: {}", shown(single.clone())));
    if status < 400 {
        log.line("Successfully completed execution");
    } else {
        log.line("Execution failed");
    }
    log.line(format!("Method completed with status: {status}"));
    Ok(Json(TestInvokeMethodResponse {
        status,
        body,
        headers: single,
        multi_value_headers: multi,
        log: log.0,
        latency: started.elapsed().as_millis() as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_give_their_resources_parameters() {
        let p = |t, path| path_parameters(t, path);
        assert_eq!(p("/pets", "/pets"), Some(vec![]));
        assert_eq!(p("/", "/"), Some(vec![]));
        assert_eq!(p("/pets/{id}", "/pets/7"), Some(vec![("id".into(), "7".into())]));
        assert_eq!(
            p("/files/{proxy+}", "/files/a/b"),
            Some(vec![("proxy".into(), "a/b".into())])
        );
        assert_eq!(p("/pets", "/random/test"), None);
        assert_eq!(p("/pets/{id}", "/pets"), None);
        assert_eq!(p("/", "/x"), None);
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
    }
}
