//! Pure: a deployment snapshot becomes a compiled API, once per snapshot on each worker: the
//! route tree, each method's integration with its URI template, parameter mappings and selection
//! patterns parsed, and the effective gateway responses. Nothing here does I/O; a snapshot that
//! does not compile is refused and the worker keeps what it had.

pub mod access_log;
pub mod authorizers;
pub mod aws_action;
pub mod context;
pub mod cors;
pub mod http_api;
pub mod http_mapping;
pub mod mapping;
pub mod routes;
pub mod validation;
pub mod websocket;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::enums::{
    ApiKeySource, AuthorizationType, ContentHandling, GatewayResponseType, HttpMethod, IntegrationType,
    PassthroughBehavior,
};
use crate::domain::rest_api::{GatewayResponse, Integration, Method};
use crate::domain::snapshot::Snapshot;
pub use mapping::{ParamSource, ParamTarget, UriTemplate};
use routes::{RouteError, RouteTree};

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("snapshot format {0} is not supported by this worker")]
    Format(u32),
    #[error("resource tree: {0}")]
    Route(#[from] RouteError),
    #[error("resource policy: {0}")]
    Policy(#[from] crate::iam::PolicyError),
    #[error("method {method} {path}: {reason}")]
    Method {
        method: String,
        path: String,
        reason: String,
    },
}

/// A deployment, compiled for the data plane: each kind of API has a compiled form of its own
/// (an HTTP API's routes are route keys, its events payload format 2.0). Code that serves only
/// one kind says so by matching on it, so a new kind shows every place that must learn it.
#[derive(Debug)]
pub enum CompiledApi {
    Rest(CompiledRestApi),
    Http(http_api::CompiledHttpApi),
    WebSocket(websocket::CompiledWebSocketApi),
}

impl CompiledApi {
    /// Compiles a snapshot of either kind.
    pub fn compile(
        snapshot: &crate::domain::snapshot::AnySnapshot,
        hash: &str,
    ) -> Result<Self, CompileError> {
        use crate::domain::snapshot::AnySnapshot;
        match snapshot {
            AnySnapshot::Rest(s) => compile(s, hash),
            AnySnapshot::Http(s) if s.http_api.protocol_type == "WEBSOCKET" => {
                websocket::compile(s, hash).map(CompiledApi::WebSocket)
            }
            AnySnapshot::Http(s) => http_api::compile(s, hash).map(CompiledApi::Http),
        }
    }
}

/// A REST API deployment, ready to serve.
#[derive(Debug)]
pub struct CompiledRestApi {
    pub api_id: String,
    pub snapshot_hash: String,
    pub binary_media_types: Vec<String>,
    pub disable_execute_api_endpoint: bool,
    /// The resource policy, evaluated for every request before the method's authorizer.
    pub policy: Option<crate::iam::Policy>,
    /// Where API keys come from: the `x-api-key` header, or the authorizer's
    /// `usageIdentifierKey`.
    pub api_key_source: ApiKeySource,
    pub routes: RouteTree<CompiledResource>,
    gateway_responses: HashMap<GatewayResponseType, GatewayResponse>,
    /// The body templates of gateway responses other than AWS's default one, parsed.
    gateway_templates: HashMap<GatewayResponseType, MappingTemplate>,
    /// Whether a gateway response maps a request value into a header (then the pipeline keeps
    /// the request's headers and parameters for the rescue; otherwise it need not).
    pub gateway_responses_read_request: bool,
}

#[derive(Debug)]
pub struct CompiledResource {
    pub id: String,
    pub path: String,
    methods: Vec<Arc<CompiledMethod>>,
}

impl CompiledResource {
    /// The method for a request's verb: its own, else `ANY`.
    pub fn method(&self, verb: &str) -> Option<&Arc<CompiledMethod>> {
        self.methods
            .iter()
            .find(|m| m.http_method.as_str() == verb)
            .or_else(|| self.methods.iter().find(|m| m.http_method == HttpMethod::Any))
    }
}

#[derive(Debug)]
pub struct CompiledMethod {
    pub http_method: HttpMethod,
    pub resource_id: String,
    pub resource_path: String,
    /// An HTTP API route's key (`GET /pets/{id}`, `$default`); `None` for REST methods.
    pub route_key: Option<String>,
    pub method: Method,
    /// How the method authorizes callers, and its authorizer for CUSTOM and
    /// COGNITO_USER_POOLS (`None` there when the snapshot lacks it: AWS's 500).
    pub authorization: AuthorizationType,
    pub authorizer: Option<Arc<authorizers::CompiledAuthorizer>>,
    pub integration: Option<CompiledIntegration>,
    /// What the method's request validator checks, when it has one.
    pub validation: Option<validation::CompiledValidation>,
}

#[derive(Debug)]
pub struct CompiledIntegration {
    pub kind: IntegrationType,
    /// The HTTP method to call the backend with (HTTP/AWS kinds).
    pub http_method: Option<http::Method>,
    pub uri: Option<UriTemplate>,
    /// For Lambda integrations: the function ARN (or name) and its region.
    pub lambda: Option<LambdaTarget>,
    /// For AWS service integrations: the service and region (`uri` then holds the path, or
    /// `/?Action=...`, below the service's endpoint).
    pub aws_service: Option<ServiceTarget>,
    pub timeout: Duration,
    pub request_parameters: Vec<(ParamTarget, ParamSource)>,
    pub request_templates: BTreeMap<String, MappingTemplate>,
    pub passthrough_behavior: PassthroughBehavior,
    pub content_handling: Option<ContentHandling>,
    pub responses: Vec<CompiledIntegrationResponse>,
    pub insecure_skip_verification: bool,
    /// The IAM role AWS integrations call AWS as (`credentials`), when it is one.
    pub role_arn: Option<String>,
    /// The group of cached answers the method's belong to (`cacheNamespace`; empty: the
    /// method's resource alone).
    pub cache_namespace: String,
    /// What else keys the method's cached answers (`cacheKeyParameters`): request values, or
    /// for an integration request parameter, the value mapped into it.
    pub cache_key: Vec<ParamSource>,
    /// The Lambda event's shape (AWS_PROXY).
    pub payload_format: PayloadFormat,
    /// An HTTP API integration's parameter mapping, when it has one.
    pub http_mapping: Option<Box<HttpMappings>>,
    /// An HTTP API's AWS service integration (`integrationSubtype`): the action it calls.
    pub aws_action: Option<Box<aws_action::CompiledAction>>,
    /// An HTTP API's private integration (`connectionType: VPC_LINK`): its target, a load
    /// balancer listener's or Cloud Map service's ARN (which the worker's `--aws-endpoint`
    /// maps to a URL) or a URL. Requests go to it with their whole path.
    pub private_target: Option<Box<str>>,
    /// A REST API's integration through a VPC link (`connectionType: VPC_LINK`).
    pub vpc_link: Option<Box<VpcLinkRoute>>,
    /// The name an HTTP API's integration verifies its backend's certificate against, and
    /// sends in the handshake (`tlsConfig.serverNameToVerify`), instead of the URI's host.
    pub server_name: Option<Box<str>>,
}

/// The VPC link a REST API's integration names (its id, or `${stageVariables.name}`) and the
/// targets of the API's links: requests go to the URL the worker's `--aws-endpoint ARN=URL`
/// gives for the target, with the integration URI's path and query.
#[derive(Debug)]
pub struct VpcLinkRoute {
    pub connection_id: String,
    pub targets: BTreeMap<String, String>,
}

impl VpcLinkRoute {
    /// The target ARN of the link, with the stage's `variables`.
    pub fn target(&self, variables: &BTreeMap<String, String>) -> Option<&str> {
        let named = self
            .connection_id
            .strip_prefix("${stageVariables.")
            .and_then(|v| v.strip_suffix('}'));
        let id = match named {
            Some(v) => variables.get(v)?.as_str(),
            None => self.connection_id.as_str(),
        };
        self.targets.get(id).map(String::as_str)
    }
}

/// An HTTP API integration's parameter mapping: of its requests, and of its answers by status.
#[derive(Debug, Default)]
pub struct HttpMappings {
    pub request: http_mapping::RequestMapping,
    pub responses: Vec<(u16, http_mapping::ResponseMapping)>,
}

/// The shape of a Lambda proxy integration's event and answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// REST APIs' (1.0).
    Rest,
    /// HTTP APIs' 1.0: REST's, with `version`.
    HttpV1,
    /// HTTP APIs' 2.0.
    HttpV2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaTarget {
    /// The function ARN or name; may reference `${stageVariables.name}`.
    pub function: UriTemplate,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTarget {
    pub service: String,
    pub region: String,
    /// `{subdomain}.{service}` addressing (IoT data endpoints and the like).
    pub subdomain: Option<String>,
}

#[derive(Debug)]
pub struct CompiledIntegrationResponse {
    pub status_code: u16,
    /// `None` is the default response (no or empty selection pattern).
    pub selection_pattern: Option<regex::Regex>,
    pub response_parameters: Vec<(String, ParamSource)>,
    pub response_templates: BTreeMap<String, MappingTemplate>,
    pub content_handling: Option<ContentHandling>,
}

/// A mapping template, parsed once per deployment. API Gateway accepts any text at
/// PutIntegration, so a template that does not parse is kept with its error and answers AWS's
/// 500 when a request reaches it, instead of failing the whole deployment.
#[derive(Debug)]
pub struct MappingTemplate {
    pub parsed: Result<crate::vtl::Template, crate::vtl::Error>,
}

impl MappingTemplate {
    pub fn compile(source: &str) -> Self {
        Self {
            parsed: crate::vtl::Template::parse(source),
        }
    }
}

fn compile_templates<'a>(
    templates: impl Iterator<Item = (&'a String, &'a String)>,
) -> BTreeMap<String, MappingTemplate> {
    templates
        .map(|(content_type, source)| (content_type.clone(), MappingTemplate::compile(source)))
        .collect()
}

impl CompiledIntegration {
    /// Whether a cache key parameter reads the request's body (which must then be read before
    /// the cache is looked up).
    pub fn cache_key_reads_body(&self) -> bool {
        self.cache_key
            .iter()
            .any(|s| matches!(s, ParamSource::Body | ParamSource::BodyPath(_)))
    }

    /// The integration response for a selection input (a status code for HTTP and MOCK, the
    /// `errorMessage` for Lambda): the first whose pattern matches the whole input, else the
    /// default one.
    pub fn select_response(&self, input: &str) -> Option<&CompiledIntegrationResponse> {
        self.responses
            .iter()
            .find(|r| r.selection_pattern.as_ref().is_some_and(|p| p.is_match(input)))
            .or_else(|| self.default_response())
    }

    /// The response with no selection pattern.
    pub fn default_response(&self) -> Option<&CompiledIntegrationResponse> {
        self.responses.iter().find(|r| r.selection_pattern.is_none())
    }
}

impl CompiledRestApi {
    /// The gateway response the API answers for `kind` (its own, inherited, or AWS's default).
    pub fn gateway_response(&self, kind: GatewayResponseType) -> &GatewayResponse {
        &self.gateway_responses[&kind]
    }

    /// The parsed body template of `kind`'s gateway response, unless it is AWS's default
    /// `{"message":$context.error.messageString}` (rendered without the engine).
    pub fn gateway_template(&self, kind: GatewayResponseType) -> Option<&MappingTemplate> {
        self.gateway_templates.get(&kind)
    }
}

/// Compiles a snapshot whose canonical hash is `hash`.
pub fn compile(snapshot: &Snapshot, hash: &str) -> Result<CompiledApi, CompileError> {
    if snapshot.format != crate::domain::snapshot::SNAPSHOT_FORMAT {
        return Err(CompileError::Format(snapshot.format));
    }
    let mut routes = RouteTree::default();
    let mut models = validation::Models::new(snapshot);
    // Compiled once each, shared by the methods that use them.
    let authorizers: HashMap<&str, Arc<authorizers::CompiledAuthorizer>> = snapshot
        .authorizers
        .values()
        .map(|a| (a.id.as_str(), Arc::new(authorizers::compile(a))))
        .collect();
    for r in &snapshot.resources {
        let mut methods = Vec::new();
        for m in r.resource_methods.iter().flat_map(|ms| ms.values()) {
            let integration = m
                .method_integration
                .as_ref()
                .map(|i| {
                    let mut c = compile_integration(i)?;
                    let private = i.connection_type == Some(crate::domain::enums::ConnectionType::VpcLink)
                        && matches!(i.kind, IntegrationType::Http | IntegrationType::HttpProxy);
                    if private {
                        c.vpc_link = Some(Box::new(VpcLinkRoute {
                            connection_id: i.connection_id.clone().unwrap_or_default(),
                            targets: snapshot.vpc_links.clone(),
                        }));
                    }
                    Ok(c)
                })
                .transpose()
                .map_err(|reason: String| CompileError::Method {
                    method: m.http_method.to_string(),
                    path: r.path.clone(),
                    reason,
                })?;
            let authorizer = match m.authorization_type {
                AuthorizationType::Custom | AuthorizationType::CognitoUserPools => m
                    .authorizer_id
                    .as_deref()
                    .and_then(|id| authorizers.get(id))
                    .cloned(),
                AuthorizationType::None | AuthorizationType::AwsIam => None,
            };
            methods.push(Arc::new(CompiledMethod {
                http_method: m.http_method,
                resource_id: r.id.clone(),
                resource_path: r.path.clone(),
                route_key: None,
                authorization: m.authorization_type,
                authorizer,
                method: m.clone(),
                integration,
                validation: models.for_method(m),
            }));
        }
        routes.insert(
            &r.path,
            CompiledResource {
                id: r.id.clone(),
                path: r.path.clone(),
                methods,
            },
        )?;
    }
    let customised: BTreeMap<GatewayResponseType, GatewayResponse> = snapshot
        .gateway_responses
        .values()
        .map(|g| (g.response_type, g.clone()))
        .collect();
    let gateway_responses: HashMap<GatewayResponseType, GatewayResponse> = GatewayResponseType::ALL
        .iter()
        .map(|t| (*t, GatewayResponse::effective(*t, &customised)))
        .collect();
    let gateway_templates = gateway_responses
        .iter()
        .filter_map(|(kind, g)| {
            let t = g
                .response_templates
                .get("application/json")
                .or_else(|| g.response_templates.values().next())?;
            (t != crate::domain::rest_api::DEFAULT_GATEWAY_TEMPLATE)
                .then(|| (*kind, MappingTemplate::compile(t)))
        })
        .collect();
    let gateway_responses_read_request = gateway_responses
        .values()
        .flat_map(|g| g.response_parameters.values())
        .any(|source| !(source.starts_with('\'') && source.ends_with('\'')));
    let policy = snapshot
        .rest_api
        .policy
        .as_deref()
        .map(|p| crate::iam::Policy::parse(&crate::domain::rest_api::policy_document(p)))
        .transpose()?;
    Ok(CompiledApi::Rest(CompiledRestApi {
        api_id: snapshot.rest_api.id.clone(),
        snapshot_hash: hash.to_owned(),
        binary_media_types: snapshot.rest_api.binary_media_types.clone(),
        disable_execute_api_endpoint: snapshot.rest_api.disable_execute_api_endpoint,
        policy,
        api_key_source: snapshot.rest_api.api_key_source,
        routes,
        gateway_responses,
        gateway_templates,
        gateway_responses_read_request,
    }))
}

pub(crate) fn compile_integration(i: &Integration) -> Result<CompiledIntegration, String> {
    let http_method = i
        .http_method
        .as_deref()
        .filter(|m| *m != "ANY")
        .map(|m| m.parse::<http::Method>().map_err(|e| e.to_string()))
        .transpose()?;
    let (uri, lambda, aws_service) = match i.kind {
        // A private target named by its ARN is found by the worker when a request goes to it.
        IntegrationType::Http | IntegrationType::HttpProxy
            if i.connection_type == Some(crate::domain::enums::ConnectionType::VpcLink)
                && i.uri.as_deref().is_some_and(|u| u.starts_with("arn:")) =>
        {
            (None, None, None)
        }
        IntegrationType::Http | IntegrationType::HttpProxy => {
            let raw = i.uri.as_deref().ok_or("an HTTP integration needs a uri")?;
            (Some(UriTemplate::parse(raw)?), None, None)
        }
        IntegrationType::AwsProxy => {
            let raw = i.uri.as_deref().ok_or("an AWS integration needs a uri")?;
            // Lambda's Invoke is a POST: a function called with another method is AWS's 500
            // at request time (as recorded), like a uri that names nothing callable.
            let posts = i.http_method.as_deref() == Some("POST");
            (None, lambda_target(raw).filter(|_| posts), None)
        }
        IntegrationType::Aws => {
            let raw = i.uri.as_deref().ok_or("an AWS integration needs a uri")?;
            match lambda_target(raw) {
                Some(lambda) => (None, Some(lambda), None),
                // A uri that names nothing callable is answered with a 500 at request time,
                // like a missing integration, rather than refusing the whole deployment.
                None => match service_target(raw) {
                    Some((target, path)) => (Some(UriTemplate::parse(&path)?), None, Some(target)),
                    None => (None, None, None),
                },
            }
        }
        IntegrationType::Mock => (None, None, None),
    };
    let request_parameters = i
        .request_parameters
        .iter()
        .map(|(t, s)| Ok((ParamTarget::parse(t)?, ParamSource::parse(s)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut responses = Vec::new();
    for r in i.integration_responses.values() {
        let status_code = r
            .status_code
            .parse()
            .map_err(|_| format!("bad status code {}", r.status_code))?;
        let selection_pattern = match r.selection_pattern.as_deref().filter(|p| !p.is_empty()) {
            None => None,
            // API Gateway matches the whole input (Java's `matches`); `.` also spans newlines.
            Some(p) => Some(
                regex::RegexBuilder::new(&format!("^(?:{p})$"))
                    .dot_matches_new_line(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("selection pattern {p:?}: {e}"))?,
            ),
        };
        let response_parameters = r
            .response_parameters
            .iter()
            .map(|(t, s)| Ok((t.clone(), ParamSource::parse(s)?)))
            .collect::<Result<Vec<_>, String>>()?;
        responses.push(CompiledIntegrationResponse {
            status_code,
            selection_pattern,
            response_parameters,
            response_templates: compile_templates(
                r.templates()
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v))),
            ),
            content_handling: r.content_handling,
        });
    }
    let cache_key = i
        .cache_key_parameters
        .iter()
        .filter_map(|name| cache_key_source(name, &request_parameters))
        .collect();
    Ok(CompiledIntegration {
        kind: i.kind,
        http_method,
        uri,
        lambda,
        aws_service,
        timeout: Duration::from_millis(i.timeout_in_millis.max(50) as u64),
        request_parameters,
        request_templates: compile_templates(i.request_templates.iter()),
        passthrough_behavior: i.passthrough_behavior.unwrap_or(PassthroughBehavior::WhenNoMatch),
        content_handling: i.content_handling,
        responses,
        insecure_skip_verification: i
            .tls_config
            .as_ref()
            .is_some_and(|t| t.insecure_skip_verification),
        role_arn: i
            .credentials
            .clone()
            .filter(|c| c.starts_with("arn:") && c.contains(":role/")),
        cache_namespace: i.cache_namespace.clone().unwrap_or_default(),
        cache_key,
        payload_format: PayloadFormat::Rest,
        http_mapping: None,
        aws_action: None,
        private_target: None,
        vpc_link: None,
        server_name: None,
    })
}

/// Where a cache key parameter's value comes from: a method request parameter is read from the
/// request; an integration request parameter from the source mapped into it (none: the
/// parameter keys nothing, as an unmapped one holds nothing).
fn cache_key_source(name: &str, mapped: &[(ParamTarget, ParamSource)]) -> Option<ParamSource> {
    if name.starts_with("integration.request.") {
        let target = ParamTarget::parse(name).ok()?;
        return mapped.iter().find(|(t, _)| *t == target).map(|(_, s)| s.clone());
    }
    ParamSource::parse(name).ok()
}

/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function-arn}/invocations`.
pub fn lambda_target(uri: &str) -> Option<LambdaTarget> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    if parts.len() != 6 || parts[4] != "lambda" {
        return None;
    }
    if !is_region(parts[3]) {
        return None;
    }
    let path = parts[5].strip_prefix("path/")?;
    let function = path.split_once("/functions/")?.1.strip_suffix("/invocations")?;
    Some(LambdaTarget {
        function: UriTemplate::parse(function).ok()?,
        region: parts[3].to_owned(),
    })
}

/// `arn:aws:apigateway:{region}:{[subdomain.]service}:action/{Action}` or `...:path/{path}`:
/// the service, and the request path below its endpoint (`/?Action={Action}` for actions).
pub fn service_target(uri: &str) -> Option<(ServiceTarget, String)> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    if parts.len() != 6 || parts[..3] != ["arn", "aws", "apigateway"] || !is_region(parts[3]) {
        return None;
    }
    let (subdomain, service) = match parts[4].rsplit_once('.') {
        Some((sub, svc)) => (Some(sub.to_owned()), svc),
        None => (None, parts[4]),
    };
    // Both become part of a host name Gatehouse signs requests for.
    let label = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !label(service) || subdomain.as_deref().is_some_and(|s| !s.split('.').all(label)) {
        return None;
    }
    let path = if let Some(action) = parts[5].strip_prefix("action/") {
        if !label(action) {
            return None;
        }
        format!("/?Action={action}")
    } else {
        format!("/{}", parts[5].strip_prefix("path/")?.trim_start_matches('/'))
    };
    Some((
        ServiceTarget {
            service: service.to_owned(),
            region: parts[3].to_owned(),
            subdomain,
        },
        path,
    ))
}

/// An AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`): it becomes part of a host
/// name Gatehouse signs requests for, so nothing else is accepted.
pub fn is_region(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked() {
        assert!(is_region("us-east-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("x.attacker.example?"));
        assert!(!is_region("us-east"));
    }

    #[test]
    fn service_uris_name_service_region_and_path() {
        let (t, path) = service_target("arn:aws:apigateway:eu-west-1:sqs:path/000000000000/orders").unwrap();
        assert_eq!(
            (t.service.as_str(), t.region.as_str(), path.as_str()),
            ("sqs", "eu-west-1", "/000000000000/orders")
        );
        let (t, path) = service_target("arn:aws:apigateway:us-east-1:sqs:action/SendMessage").unwrap();
        assert_eq!(
            (t.service.as_str(), path.as_str()),
            ("sqs", "/?Action=SendMessage")
        );
        let (t, _) = service_target("arn:aws:apigateway:us-east-1:abc.iotdata:path/topics/x").unwrap();
        assert_eq!(t.subdomain.as_deref(), Some("abc"));
        assert!(service_target("arn:aws:apigateway:us-east-1:evil.com/x:path/a").is_none());
        assert!(service_target("arn:aws:apigateway:us-east-1:sqs:action/Send&x=1").is_none());
        assert!(service_target("arn:aws:apigateway:nowhere:sqs:path/a").is_none());
    }

    #[test]
    fn lambda_uris_name_function_and_region() {
        let t = lambda_target(
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:000000000000:function:f/invocations",
        )
        .unwrap();
        assert_eq!(
            t.function.render(|_| None, |_| None),
            "arn:aws:lambda:eu-west-1:000000000000:function:f"
        );
        assert_eq!(t.region, "eu-west-1");
        assert!(lambda_target("arn:aws:apigateway:us-east-1:sqs:path/q").is_none());
    }
}
