//! An HTTP API's deployment snapshot, compiled: its routes in a route tree (the most specific
//! route for a request's verb wins, `$default` catches the rest), each route a
//! [`CompiledMethod`] so that every pipeline step after routing serves HTTP APIs as it serves
//! REST APIs. An HTTP API integration is stated as the REST integration that behaves the same
//! (HTTP_PROXY to a URI whose `{variables}` the route's path fills; AWS_PROXY to a Lambda
//! function), and compiled by the same code; only the Lambda event's payload format differs.
//! A JWT route is a user-pool-like method whose authorizer verifies tokens of its issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::authorizers::{
    AuthorizerKind, CompiledAuthorizer, HttpAuthorizerFormat, IdentitySource, LambdaAuthorizer,
};
use super::aws_action::CompiledAction;
use super::cors::CompiledCors;
use super::routes::{Match, RouteTree};
use super::{
    CompileError, CompiledMethod, CompiledResource, HttpMappings, PayloadFormat, compile_integration,
};
use crate::domain::enums::{AuthorizationType, ConnectionType, HttpMethod, IntegrationType};
use crate::domain::http_api::{Authorizer, DEFAULT_ROUTE, Integration, Route, RouteKey};
use crate::domain::rest_api::{self, Method};
use crate::domain::snapshot::HttpSnapshot;

/// An HTTP API deployment, ready to serve.
#[derive(Debug)]
pub struct CompiledHttpApi {
    pub api_id: String,
    pub snapshot_hash: String,
    pub disable_execute_api_endpoint: bool,
    /// Routes with a path, by path; each resource holds its routes' verbs.
    pub routes: RouteTree<CompiledResource>,
    /// The `$default` route: every request no other route matches.
    pub default_route: Option<Arc<CompiledMethod>>,
    pub cors: Option<CompiledCors>,
}

impl CompiledHttpApi {
    /// The route for a request: the most specific path with a route for its verb (or `ANY`),
    /// else `$default`; with the raw values of the route's path variables.
    pub fn route<'t, 'p>(&'t self, verb: &str, path: &'p str) -> Option<Match<'t, 'p, Arc<CompiledMethod>>> {
        match self.routes.lookup_where(path, |r| r.method(verb).is_some()) {
            Some(m) => Some(Match {
                value: m.value.method(verb)?,
                params: m.params,
            }),
            None => self.default_route.as_ref().map(|d| Match {
                value: d,
                params: Vec::new(),
            }),
        }
    }
}

pub fn compile(snapshot: &HttpSnapshot, hash: &str) -> Result<CompiledHttpApi, CompileError> {
    if snapshot.format != crate::domain::snapshot::SNAPSHOT_FORMAT {
        return Err(CompileError::Format(snapshot.format));
    }
    let fail = |route: &Route, reason: String| CompileError::Method {
        method: route.route_key.clone(),
        path: String::new(),
        reason,
    };
    let authorizers: HashMap<&str, Arc<CompiledAuthorizer>> = snapshot
        .authorizers
        .values()
        .map(|a| (a.authorizer_id.as_str(), Arc::new(compile_authorizer(a))))
        .collect();
    let mut by_path: std::collections::BTreeMap<&str, Vec<Arc<CompiledMethod>>> = Default::default();
    let mut default_route = None;
    for route in &snapshot.routes {
        let key = RouteKey::parse(&route.route_key).map_err(|e| fail(route, e))?;
        let (verb, path) = match key {
            RouteKey::Default => (HttpMethod::Any, DEFAULT_ROUTE),
            RouteKey::Path { verb, path } => (
                HttpMethod::parse(verb).ok_or_else(|| fail(route, format!("unknown verb {verb}")))?,
                path,
            ),
        };
        let source = route
            .integration_id()
            .and_then(|id| snapshot.integrations.get(id));
        let server_name: Option<Box<str>> = source
            .and_then(|i| i.tls_config.as_ref()?.server_name_to_verify.as_deref())
            .filter(|n| !n.is_empty())
            .map(Box::from);
        let integration = source
            .map(|i| as_rest_integration(i, path))
            .transpose()
            .map_err(|e| fail(route, e))?
            .map(|(i, format, mapping, action)| {
                compile_integration(&i).map(|mut c| {
                    c.payload_format = format;
                    c.http_mapping = mapping;
                    c.aws_action = action;
                    if i.connection_type == Some(ConnectionType::VpcLink) {
                        c.private_target = i.uri.as_deref().map(Box::from);
                    }
                    c.server_name = server_name.clone();
                    c
                })
            })
            .transpose()
            .map_err(|e| fail(route, e))?;
        // A JWT route is served as a user pool method is: its authorizer verifies the token,
        // the route's scopes are the method's.
        let (authorization, authorizer) = match route.authorization_type.as_str() {
            // The route's authorizer, when it is of the route's kind (an authorizer whose type
            // was changed under a route serves it no more: AWS's 500).
            kind @ ("JWT" | "CUSTOM") => {
                let jwt = kind == "JWT";
                let authorizer = route
                    .authorizer_id
                    .as_deref()
                    .and_then(|id| authorizers.get(id))
                    .filter(|a| match &a.kind {
                        AuthorizerKind::Jwt { .. } => jwt,
                        AuthorizerKind::Lambda(_) => !jwt,
                        _ => true,
                    })
                    .cloned()
                    .unwrap_or_else(|| Arc::new(missing_authorizer(route)));
                let authorization = if jwt {
                    AuthorizationType::CognitoUserPools
                } else {
                    AuthorizationType::Custom
                };
                (authorization, Some(authorizer))
            }
            "AWS_IAM" => (AuthorizationType::AwsIam, None),
            "NONE" => (AuthorizationType::None, None),
            other => return Err(fail(route, format!("authorization {other} is not served"))),
        };
        let method = Arc::new(CompiledMethod {
            http_method: verb,
            resource_id: route.route_id.clone(),
            resource_path: path.to_owned(),
            route_key: Some(route.route_key.clone()),
            method: Method {
                http_method: verb,
                authorization_type: authorization,
                authorizer_id: route.authorizer_id.clone(),
                api_key_required: false,
                request_validator_id: None,
                operation_name: route.operation_name.clone(),
                request_parameters: Default::default(),
                request_models: Default::default(),
                method_responses: Default::default(),
                method_integration: None,
                authorization_scopes: route.authorization_scopes.clone(),
            },
            authorization,
            authorizer,
            integration,
            validation: None,
        });
        match key {
            RouteKey::Default => default_route = Some(method),
            RouteKey::Path { .. } => by_path.entry(path).or_default().push(method),
        }
    }
    let mut routes = RouteTree::param_beside_greedy();
    for (path, methods) in by_path {
        routes.insert(
            path,
            CompiledResource {
                id: methods[0].resource_id.clone(),
                path: path.to_owned(),
                methods,
            },
        )?;
    }
    Ok(CompiledHttpApi {
        api_id: snapshot.http_api.api_id.clone(),
        snapshot_hash: hash.to_owned(),
        disable_execute_api_endpoint: snapshot.http_api.disable_execute_api_endpoint,
        routes,
        default_route,
        cors: snapshot
            .http_api
            .cors_configuration
            .as_ref()
            .map(CompiledCors::compile),
    })
}

/// Whether `routes` can live in one route tree: no two variables of different names, nor a
/// greedy variable and another greedy one, at one place of their paths.
pub fn check_routes<'a>(routes: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut paths: std::collections::BTreeSet<&str> = Default::default();
    for key in routes {
        if let RouteKey::Path { path, .. } = RouteKey::parse(key)? {
            paths.insert(path);
        }
    }
    let mut tree = RouteTree::param_beside_greedy();
    for path in paths {
        tree.insert(path, ()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// An HTTP API authorizer, compiled: a JWT authorizer reads its token from one header; a
/// Lambda (REQUEST) one is called with the identity sources' values, its answers cached for its
/// TTL under them.
fn compile_authorizer(a: &Authorizer) -> CompiledAuthorizer {
    let identity: Result<Vec<IdentitySource>, String> = a
        .identity_source
        .iter()
        .map(|s| {
            identity_source(s).ok_or_else(|| format!("identity source {s:?} is not one API Gateway reads"))
        })
        .collect();
    let kind = match (a.authorizer_type.as_str(), &identity) {
        (_, Err(why)) => AuthorizerKind::Misconfigured(why.clone()),
        ("JWT", Ok(sources)) => match (&a.jwt_configuration, sources.as_slice()) {
            (Some(jwt), [IdentitySource::Header(_)]) => match jwt.issuer.clone() {
                Some(issuer) => AuthorizerKind::Jwt {
                    issuer,
                    audiences: jwt.audience.clone(),
                },
                None => AuthorizerKind::Misconfigured("a JWT authorizer without an issuer".into()),
            },
            _ => AuthorizerKind::Misconfigured("a JWT authorizer reads one header".into()),
        },
        ("REQUEST", Ok(sources))
            if sources.is_empty() && a.authorizer_result_ttl_in_seconds.unwrap_or(0) > 0 =>
        {
            // One cached answer would stand for every caller.
            AuthorizerKind::Misconfigured(
                "caching a Lambda authorizer's answers needs identity sources".into(),
            )
        }
        ("REQUEST", Ok(_)) => {
            let function = a
                .authorizer_uri
                .as_deref()
                .and_then(|uri| super::lambda_target(&lambda_invocation_uri(uri)));
            match function {
                Some(function) => AuthorizerKind::Lambda(LambdaAuthorizer {
                    function,
                    token: false,
                    validation: None,
                    role_arn: a
                        .authorizer_credentials_arn
                        .clone()
                        .filter(|c| c.starts_with("arn:") && c.contains(":role/")),
                    http: Some(HttpAuthorizerFormat {
                        payload_v2: a.authorizer_payload_format_version.as_deref() == Some("2.0"),
                        simple: a.enable_simple_responses == Some(true),
                    }),
                }),
                None => AuthorizerKind::Misconfigured("the authorizer's URI names no Lambda function".into()),
            }
        }
        (kind, _) => {
            AuthorizerKind::Misconfigured(format!("a {kind} authorizer of an HTTP API is not served"))
        }
    };
    CompiledAuthorizer {
        id: a.authorizer_id.clone(),
        kind,
        identity: identity.unwrap_or_default(),
        ttl: Duration::from_secs(a.authorizer_result_ttl_in_seconds.unwrap_or(0).clamp(0, 3600) as u64),
    }
}

/// An HTTP API identity source: `$request.header.{name}`, `$request.querystring.{name}`,
/// `$stageVariables.{name}` or `$context.{name}`.
pub fn identity_source(raw: &str) -> Option<IdentitySource> {
    IdentitySource::parse_with(
        raw,
        [
            "$request.header.",
            "$request.querystring.",
            "$stageVariables.",
            "$context.",
        ],
    )
}

/// What a route whose authorizer is not in the deployment, or not of its kind, is served
/// with: AWS's 500.
fn missing_authorizer(route: &Route) -> CompiledAuthorizer {
    CompiledAuthorizer {
        id: route.authorizer_id.clone().unwrap_or_default(),
        kind: AuthorizerKind::Misconfigured("the route's authorizer is not in the deployment".into()),
        identity: vec![],
        ttl: Duration::ZERO,
    }
}

/// What an HTTP API integration is served as: the REST integration that serves as `i` does on
/// a route at `path`, the payload format of its events, its parameter mapping, and for an AWS
/// service integration, its action.
type Served = (
    rest_api::Integration,
    PayloadFormat,
    Option<Box<HttpMappings>>,
    Option<Box<CompiledAction>>,
);

fn as_rest_integration(i: &Integration, path: &str) -> Result<Served, String> {
    // An AWS service integration's parameters are its action's, not a mapping of the request.
    let action = i
        .integration_subtype
        .as_deref()
        .map(|subtype| super::aws_action::compile(subtype, &i.request_parameters).map(Box::new))
        .transpose()?;
    let (kind, uri, format) = match i.integration_type.as_str() {
        "AWS_PROXY" if action.is_some() => {
            let subtype = i.integration_subtype.clone().unwrap_or_default();
            (IntegrationType::AwsProxy, subtype, PayloadFormat::HttpV1)
        }
        "HTTP_PROXY" => {
            let uri = i
                .integration_uri
                .clone()
                .ok_or("an HTTP_PROXY integration needs a URI")?;
            (IntegrationType::HttpProxy, uri, PayloadFormat::Rest)
        }
        "AWS_PROXY" => {
            let uri = i
                .integration_uri
                .clone()
                .ok_or("an AWS_PROXY integration needs a URI")?;
            let format = match i.payload_format_version.as_deref() {
                Some("1.0") => PayloadFormat::HttpV1,
                _ => PayloadFormat::HttpV2,
            };
            (IntegrationType::AwsProxy, lambda_invocation_uri(&uri), format)
        }
        other => return Err(format!("integration type {other} is not served for HTTP APIs")),
    };
    // Each `{name}` of the URI that names a variable of the route's path is filled with it.
    let variables = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|s| s.trim_end_matches('+'));
    let request_parameters = variables
        .filter(|v| uri.contains(&format!("{{{v}}}")))
        .map(|v| {
            (
                format!("integration.request.path.{v}"),
                format!("method.request.path.{v}"),
            )
        })
        .collect();
    let private = i.connection_type == "VPC_LINK";
    let integration = rest_api::Integration {
        kind,
        http_method: i.integration_method.clone(),
        uri: Some(uri),
        connection_type: private.then_some(ConnectionType::VpcLink),
        connection_id: None,
        credentials: i.credentials_arn.clone(),
        request_parameters,
        request_templates: Default::default(),
        passthrough_behavior: None,
        content_handling: None,
        timeout_in_millis: i.timeout_in_millis,
        cache_namespace: None,
        cache_key_parameters: vec![],
        integration_responses: Default::default(),
        tls_config: None,
    };
    let mapped = if action.is_some() {
        &Default::default()
    } else {
        &i.request_parameters
    };
    let mapping = (!mapped.is_empty() || !i.response_parameters.is_empty())
        .then(|| {
            Ok::<_, String>(Box::new(HttpMappings {
                request: super::http_mapping::request(mapped)?,
                responses: super::http_mapping::response(&i.response_parameters)?,
            }))
        })
        .transpose()?;
    Ok((integration, format, mapping, action))
}

/// HTTP APIs name a Lambda integration by the function's ARN; REST APIs by its invocation
/// URI, which says the same.
pub fn lambda_invocation_uri(uri: &str) -> String {
    let parts: Vec<&str> = uri.splitn(5, ':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", region, _] => {
            format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{uri}/invocations")
        }
        _ => uri.to_owned(),
    }
}

/// Whether `uri` names a private target as AWS's VPC links reach them: an Application or
/// Network Load Balancer's listener, or a Cloud Map service.
pub fn private_target_arn(uri: &str) -> bool {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "elasticloadbalancing", _, _, resource] => resource.starts_with("listener/"),
        ["arn", _, "servicediscovery", _, _, resource] => resource.starts_with("service/"),
        _ => false,
    }
}

/// How long an HTTP API waits for an integration when it does not say: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::http_api::HttpApi;

    fn route(id: &str, key: &str, target: Option<&str>) -> Route {
        Route {
            route_id: id.into(),
            route_key: key.into(),
            api_gateway_managed: false,
            api_key_required: false,
            authorization_scopes: vec![],
            authorization_type: "NONE".into(),
            authorizer_id: None,
            model_selection_expression: None,
            operation_name: None,
            request_models: BTreeMap::new(),
            request_parameters: BTreeMap::new(),
            route_response_selection_expression: None,
            target: target.map(|t| format!("integrations/{t}")),
        }
    }

    fn snapshot(routes: Vec<Route>) -> HttpSnapshot {
        let api = HttpApi {
            api_id: "a1".into(),
            name: "n".into(),
            protocol_type: "HTTP".into(),
            api_endpoint: String::new(),
            api_key_selection_expression: None,
            cors_configuration: None,
            created_date: String::new(),
            description: None,
            disable_schema_validation: None,
            disable_execute_api_endpoint: false,
            ip_address_type: "ipv4".into(),
            route_selection_expression: String::new(),
            tags: BTreeMap::new(),
            version: None,
        };
        let integration = Integration {
            integration_id: "i1".into(),
            integration_type: "HTTP_PROXY".into(),
            api_gateway_managed: false,
            connection_id: None,
            connection_type: "INTERNET".into(),
            content_handling_strategy: None,
            credentials_arn: None,
            description: None,
            integration_method: Some("GET".into()),
            integration_response_selection_expression: None,
            integration_subtype: None,
            integration_uri: Some("http://backend/items/{id}".into()),
            passthrough_behavior: None,
            payload_format_version: Some("1.0".into()),
            request_parameters: BTreeMap::new(),
            request_templates: BTreeMap::new(),
            response_parameters: BTreeMap::new(),
            template_selection_expression: None,
            timeout_in_millis: 30000,
            tls_config: None,
        };
        HttpSnapshot::new(api, routes, vec![integration])
    }

    #[test]
    fn the_most_specific_route_for_the_verb_wins_then_default() {
        let api = compile(
            &snapshot(vec![
                route("r1", "GET /pets/{id}", Some("i1")),
                route("r2", "POST /pets/dog", None),
                route("r3", "ANY /{proxy+}", None),
                route("r4", "$default", None),
            ]),
            "h",
        )
        .unwrap();
        let m = api.route("GET", "/pets/dog").unwrap();
        assert_eq!(m.value.route_key.as_deref(), Some("GET /pets/{id}"));
        assert_eq!(m.params, vec![("id", "dog")]);
        assert_eq!(api.route("POST", "/pets/dog").unwrap().value.resource_id, "r2");
        assert_eq!(api.route("DELETE", "/pets/1").unwrap().value.resource_id, "r3");
        assert_eq!(api.route("GET", "/").unwrap().value.resource_id, "r4");
        let m = api.route("GET", "/pets/1").unwrap();
        let integration = m.value.integration.as_ref().unwrap();
        assert_eq!(
            integration.request_parameters.len(),
            1,
            "{{id}} is filled from the path"
        );
    }

    #[test]
    fn without_default_an_unmatched_request_has_no_route() {
        let api = compile(&snapshot(vec![route("r1", "GET /a", None)]), "h").unwrap();
        assert!(api.route("GET", "/b").is_none());
        assert!(api.route("POST", "/a").is_none());
    }

    #[test]
    fn routes_whose_variables_clash_cannot_share_a_tree() {
        assert!(
            check_routes([
                "GET /pets/{id}",
                "POST /pets/{id}",
                "ANY /pets/{proxy+}",
                "$default"
            ])
            .is_ok()
        );
        assert!(check_routes(["GET /pets/{id}", "POST /pets/{petId}"]).is_err());
    }

    #[test]
    fn lambda_arns_become_invocation_uris() {
        assert_eq!(
            lambda_invocation_uri("arn:aws:lambda:eu-west-1:123456789012:function:hello"),
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:hello/invocations"
        );
        let rest = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/f/invocations";
        assert_eq!(lambda_invocation_uri(rest), rest);
    }
}
