//! HTTP APIs as OpenAPI 3.0 documents, with API Gateway's `x-amazon-apigateway-*` extensions:
//! what an imported document asks for ([`plan`]: the API's fields, its authorizers,
//! integrations and routes, as the management API's own inputs, so that an import is checked
//! exactly as the same calls would be), and the document an API exports ([`export`]).
//!
//! Import, as AWS's: `paths` with their operations (`x-amazon-apigateway-any-method` is `ANY`,
//! `/$default` with it the `$default` route), `x-amazon-apigateway-integration` (inline or a
//! `$ref` to `components.x-amazon-apigateway-integrations`), `components.securitySchemes` with
//! `x-amazon-apigateway-authorizer` (jwt, request) or `x-amazon-apigateway-authtype: awsSigv4`,
//! an operation's (or the document's) `security`, `x-amazon-apigateway-cors`, the servers'
//! `x-amazon-apigateway-endpoint-configuration`, tags with `x-amazon-apigateway-tag-value`.
//! What HTTP APIs do not use (request bodies, parameters, schemas) is listed in `importInfo`;
//! what cannot be made is a warning, and the rest is still made unless `failOnWarnings`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::authorizers::AuthorizerInput;
use super::integrations::IntegrationInput;
use crate::domain::http_api::{
    Authorizer, Cors, HttpApi, Integration, JwtConfiguration, Route, RouteKey, TlsConfig,
};
pub use crate::openapi::BasePath;
use crate::openapi::{base_path, text};

/// The API's own fields a document sets.
#[derive(Debug, Default)]
pub struct ApiFields {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub cors: Option<Cors>,
    pub disable_execute_api_endpoint: bool,
    pub tags: Option<BTreeMap<String, String>>,
}

/// How an imported route is authorized: by the scheme it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    None,
    Scheme { name: String, scopes: Vec<String> },
}

#[derive(Debug)]
pub struct PlannedRoute {
    pub key: String,
    /// The key of its integration in [`Plan::integrations`].
    pub integration: Option<String>,
    pub security: Security,
    pub operation_name: Option<String>,
}

/// What a document asks for.
#[derive(Debug, Default)]
pub struct Plan {
    pub api: ApiFields,
    /// Authorizers by their security scheme's name.
    pub authorizers: Vec<(String, AuthorizerInput)>,
    /// Security schemes that stand for IAM authorization.
    pub iam_schemes: BTreeSet<String>,
    /// Integrations by key: `components/{name}` for shared ones, `{route key}` for inline ones.
    pub integrations: Vec<(String, IntegrationInput)>,
    pub routes: Vec<PlannedRoute>,
    pub warnings: Vec<String>,
    pub info: Vec<String>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const ANY_METHOD: &str = "x-amazon-apigateway-any-method";
const INTEGRATION: &str = "x-amazon-apigateway-integration";
const INTEGRATIONS: &str = "x-amazon-apigateway-integrations";
const AUTHORIZER: &str = "x-amazon-apigateway-authorizer";

/// Reads what a document asks for. A document that is not OpenAPI 3 (Swagger 2.0 included, as
/// AWS refuses it for HTTP APIs), or has no title, is an error.
pub fn plan(doc: &Value, basepath: BasePath) -> Result<Plan, String> {
    let version = doc.get("openapi").and_then(Value::as_str);
    if !version.is_some_and(|v| v.starts_with("3.")) {
        return Err(match doc.get("swagger") {
            Some(_) => "HTTP APIs import OpenAPI 3.0 documents: this is a Swagger 2.0 document".into(),
            None => "The document has no openapi field: HTTP APIs import OpenAPI 3.0 documents".into(),
        });
    }
    let info = doc.get("info").and_then(Value::as_object);
    let name = info
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("info.title is required: it names the API")?;
    let mut plan = Plan::default();
    plan.api.name = name.to_owned();
    plan.api.description = info
        .and_then(|i| i.get("description"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    plan.api.version = info.and_then(|i| i.get("version")).and_then(text);
    if let Some(cors) = doc.get("x-amazon-apigateway-cors") {
        match serde_json::from_value::<Cors>(cors.clone()) {
            Ok(c) => plan.api.cors = Some(c),
            Err(e) => plan
                .warnings
                .push(format!("Parse issue: attribute x-amazon-apigateway-cors: {e}")),
        }
    }
    let servers = doc.get("servers").and_then(Value::as_array);
    plan.api.disable_execute_api_endpoint = servers.into_iter().flatten().any(|s| {
        s.pointer("/x-amazon-apigateway-endpoint-configuration/disableExecuteApiEndpoint")
            .and_then(Value::as_bool)
            == Some(true)
    });
    if let Some(tags) = doc.get("tags").and_then(Value::as_array) {
        let tags = tags
            .iter()
            .filter_map(|t| {
                let name = t.get("name")?.as_str()?;
                let value = t.get("x-amazon-apigateway-tag-value").and_then(text);
                Some((name.to_owned(), value.unwrap_or_default()))
            })
            .collect();
        plan.api.tags = Some(tags);
    }
    let prefix = base_path(doc, basepath);
    plan_schemes(doc, &mut plan);
    let components = doc.pointer(&format!("/components/{INTEGRATIONS}"));
    for (name, integration) in components.and_then(Value::as_object).into_iter().flatten() {
        match integration_input(integration) {
            Ok(input) => plan.integrations.push((format!("components/{name}"), input)),
            Err(e) => plan
                .warnings
                .push(format!("Unable to create integration {name}: {e}. Ignoring.")),
        }
    }
    if doc.pointer("/components/schemas").is_some() {
        plan.info
            .push("components: key [schemas] will be ignored by API Gateway".into());
    }
    let default_security = doc.get("security");
    let mut seen = BTreeSet::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let Some(item) = item.as_object() else {
            continue;
        };
        if !path.starts_with('/') {
            plan.warnings.push(format!(
                "Parse issue: attribute paths. Resource {path} should start with /"
            ));
            continue;
        }
        for (method, op) in item {
            let verb = match method.as_str() {
                ANY_METHOD => "ANY".to_owned(),
                m if METHODS.contains(&m) => m.to_ascii_uppercase(),
                _ => continue,
            };
            let default_route = path == "/$default"
                || (verb == "ANY" && op.get("isDefaultRoute").and_then(Value::as_bool) == Some(true));
            let key = if default_route {
                "$default".to_owned()
            } else {
                format!("{verb} {prefix}{path}")
            };
            if !seen.insert(key.clone()) {
                plan.warnings
                    .push(format!("Route {key} is defined more than once. Ignoring."));
                continue;
            }
            for ignored in ["requestBody", "parameters"] {
                if op.get(ignored).is_some() {
                    plan.info.push(format!(
                        "paths.{path}.{method}: key [{ignored}] will be ignored by API Gateway"
                    ));
                }
            }
            let security = match security(op.get("security").or(default_security)) {
                Ok(s) => s,
                Err(e) => return Err(format!("Route {key}: {e}")),
            };
            let integration = match op.get(INTEGRATION) {
                None => None,
                Some(i) => match i.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let name = r
                            .strip_prefix(&format!("#/components/{INTEGRATIONS}/"))
                            .map(|n| format!("components/{n}"));
                        match name.filter(|n| plan.integrations.iter().any(|(k, _)| k == n)) {
                            Some(n) => Some(n),
                            None => {
                                plan.warnings.push(format!(
                                    "Unable to create integration for resource at path '{key}': {r} names no integration. Ignoring."
                                ));
                                None
                            }
                        }
                    }
                    None => match integration_input(i) {
                        Ok(input) => {
                            plan.integrations.push((key.clone(), input));
                            Some(key.clone())
                        }
                        Err(e) => {
                            plan.warnings.push(format!(
                                "Unable to create integration for resource at path '{key}': {e}. Ignoring."
                            ));
                            None
                        }
                    },
                },
            };
            plan.routes.push(PlannedRoute {
                key,
                integration,
                security,
                operation_name: op.get("operationId").and_then(Value::as_str).map(str::to_owned),
            });
        }
    }
    Ok(plan)
}

/// `security`: none, or one requirement naming one scheme (AWS refuses more).
fn security(requirement: Option<&Value>) -> Result<Security, String> {
    let Some(list) = requirement.and_then(Value::as_array) else {
        return Ok(Security::None);
    };
    let named: Vec<&Map<String, Value>> = list
        .iter()
        .filter_map(Value::as_object)
        .filter(|o| !o.is_empty())
        .collect();
    match named.as_slice() {
        [] => Ok(Security::None),
        [one] if one.len() == 1 => {
            let (name, scopes) = one.iter().next().expect("one entry");
            Ok(Security::Scheme {
                name: name.clone(),
                scopes: scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            })
        }
        _ => Err("more than one security requirement: HTTP API routes have one authorizer".into()),
    }
}

/// The document's security schemes: authorizers, and the IAM scheme.
fn plan_schemes(doc: &Value, plan: &mut Plan) {
    let schemes = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (name, scheme) in schemes.into_iter().flatten() {
        let authtype = scheme.get("x-amazon-apigateway-authtype").and_then(Value::as_str);
        if authtype.is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4")) {
            plan.iam_schemes.insert(name.clone());
            continue;
        }
        let Some(authorizer) = scheme.get(AUTHORIZER) else {
            continue;
        };
        match authorizer_input(name, scheme, authorizer) {
            Ok(input) => plan.authorizers.push((name.clone(), input)),
            Err(e) => plan
                .warnings
                .push(format!("Unable to create Authorizer '{name}': {e}")),
        }
    }
}

fn identity_sources(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    }
}

fn authorizer_input(name: &str, scheme: &Value, a: &Value) -> Result<AuthorizerInput, String> {
    let kind = a.get("type").and_then(Value::as_str).unwrap_or_default();
    let mut input = AuthorizerInput {
        name: Some(name.to_owned()),
        identity_source: identity_sources(a.get("identitySource")),
        ..Default::default()
    };
    match kind.to_ascii_lowercase().as_str() {
        "jwt" => {
            input.authorizer_type = Some("JWT".into());
            let mut jwt: JwtConfiguration = a
                .get("jwtConfiguration")
                .map(|j| serde_json::from_value(j.clone()))
                .transpose()
                .map_err(|e| format!("jwtConfiguration: {e}"))?
                .unwrap_or_default();
            if jwt.issuer.is_none() {
                // An openIdConnect scheme names its issuer by its discovery document.
                jwt.issuer = scheme
                    .get("openIdConnectUrl")
                    .and_then(Value::as_str)
                    .map(|u| u.trim_end_matches("/.well-known/openid-configuration").to_owned());
            }
            input.jwt_configuration = Some(jwt);
        }
        "request" => {
            input.authorizer_type = Some("REQUEST".into());
            input.authorizer_uri = a.get("authorizerUri").and_then(text);
            input.authorizer_payload_format_version = a.get("authorizerPayloadFormatVersion").and_then(text);
            input.enable_simple_responses = a.get("enableSimpleResponses").and_then(Value::as_bool);
            input.authorizer_result_ttl_in_seconds = a
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64)
                .map(|t| t.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
            input.authorizer_credentials_arn = a.get("authorizerCredentials").and_then(text);
        }
        other => {
            return Err(format!(
                "authorizer type {other:?} is not supported for HTTP APIs"
            ));
        }
    }
    Ok(input)
}

fn integration_input(i: &Value) -> Result<IntegrationInput, String> {
    let kind = i
        .get("type")
        .and_then(Value::as_str)
        .ok_or("the integration has no type")?
        .to_ascii_uppercase();
    if !matches!(kind.as_str(), "AWS_PROXY" | "HTTP_PROXY") {
        return Err(format!(
            "integration type {kind} is not supported for HTTP APIs (AWS_PROXY and HTTP_PROXY are)"
        ));
    }
    let strings = |key: &str| -> Result<Option<BTreeMap<String, String>>, String> {
        i.get(key)
            .map(|m| serde_json::from_value(m.clone()).map_err(|e| format!("{key}: {e}")))
            .transpose()
    };
    Ok(IntegrationInput {
        integration_type: Some(kind),
        integration_uri: i.get("uri").and_then(text),
        integration_method: i.get("httpMethod").and_then(text),
        payload_format_version: i.get("payloadFormatVersion").and_then(text),
        connection_type: i.get("connectionType").and_then(text),
        connection_id: i.get("connectionId").and_then(text),
        credentials_arn: i.get("credentials").and_then(text),
        integration_subtype: i.get("integrationSubtype").and_then(text),
        description: i.get("description").and_then(text),
        request_parameters: strings("requestParameters")?,
        response_parameters: i
            .get("responseParameters")
            .map(|m| serde_json::from_value(m.clone()).map_err(|e| format!("responseParameters: {e}")))
            .transpose()?,
        timeout_in_millis: i
            .get("timeoutInMillis")
            .and_then(Value::as_i64)
            .map(|t| t.clamp(0, i32::MAX as i64) as i32),
        tls_config: i
            .get("tlsConfig")
            .map(|t| serde_json::from_value::<TlsConfig>(t.clone()).map_err(|e| format!("tlsConfig: {e}")))
            .transpose()?,
        ..Default::default()
    })
}

/// What an API exports: its definition (the current one, or a stage's deployment's).
pub struct Definition<'a> {
    pub api: &'a HttpApi,
    pub routes: &'a [Route],
    pub integrations: &'a [Integration],
    pub authorizers: &'a [Authorizer],
    /// The stage exported, which names the servers' base path.
    pub stage: Option<&'a str>,
}

/// The OpenAPI 3.0 document of a definition, with API Gateway's extensions unless
/// `extensions` is false.
pub fn export(d: &Definition<'_>, extensions: bool) -> Value {
    let api = d.api;
    let mut info = Map::new();
    info.insert("title".into(), json!(api.name));
    if let Some(desc) = &api.description {
        info.insert("description".into(), json!(desc));
    }
    // AWS's version for an API without one: when it was made, as `2025-06-20 17:22:45UTC`.
    let version = api.version.clone().unwrap_or_else(|| {
        chrono::DateTime::parse_from_rfc3339(&api.created_date)
            .map(|t| t.format("%Y-%m-%d %H:%M:%SUTC").to_string())
            .unwrap_or_else(|_| api.created_date.clone())
    });
    info.insert("version".into(), json!(version));
    let base = d.stage.filter(|s| *s != "$default").unwrap_or("");
    let mut server = json!({
        "url": format!("{}/{{basePath}}", api.api_endpoint),
        "variables": {"basePath": {"default": base}},
    });
    if api.disable_execute_api_endpoint {
        server["x-amazon-apigateway-endpoint-configuration"] = json!({"disableExecuteApiEndpoint": true});
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.0.1"));
    doc.insert("info".into(), Value::Object(info));
    doc.insert("servers".into(), json!([server]));
    if !api.tags.is_empty() {
        let tags: Vec<Value> = api
            .tags
            .iter()
            .map(|(k, v)| json!({"name": k, "x-amazon-apigateway-tag-value": v}))
            .collect();
        doc.insert("tags".into(), Value::Array(tags));
    }

    // Scheme names: the authorizers' names (made unique), and `sigv4` for IAM.
    let mut schemes = Map::new();
    let mut scheme_of: BTreeMap<&str, String> = BTreeMap::new();
    for a in d.authorizers {
        let mut name = a.name.clone();
        let mut n = 1;
        while schemes.contains_key(&name) {
            n += 1;
            name = format!("{}{n}", a.name);
        }
        schemes.insert(name.clone(), authorizer_scheme(a));
        scheme_of.insert(a.authorizer_id.as_str(), name);
    }
    // IAM's scheme: `sigv4`, unless an authorizer has that name.
    let mut iam = "sigv4".to_owned();
    while schemes.contains_key(&iam) {
        iam.push('_');
    }
    let integrations: BTreeMap<&str, &Integration> = d
        .integrations
        .iter()
        .map(|i| (i.integration_id.as_str(), i))
        .collect();
    let mut used = BTreeSet::new();
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut routes: Vec<&Route> = d.routes.iter().collect();
    routes.sort_by(|a, b| a.route_key.cmp(&b.route_key));
    for route in routes {
        let (path, method) = match RouteKey::parse(&route.route_key) {
            Ok(RouteKey::Default) => ("/$default".to_owned(), ANY_METHOD.to_owned()),
            Ok(RouteKey::Path { verb: "ANY", path }) => (path.to_owned(), ANY_METHOD.to_owned()),
            Ok(RouteKey::Path { verb, path }) => (path.to_owned(), verb.to_ascii_lowercase()),
            Err(_) => continue,
        };
        let mut op = Map::new();
        if let Some(name) = &route.operation_name {
            op.insert("operationId".into(), json!(name));
        }
        op.insert(
            "responses".into(),
            json!({"default": {"description": format!("Default response for {}", route.route_key)}}),
        );
        match route.authorization_type.as_str() {
            "AWS_IAM" => {
                schemes.entry(iam.clone()).or_insert_with(|| {
                    json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"})
                });
                op.insert("security".into(), json!([{ iam.clone(): [] }]));
            }
            "JWT" | "CUSTOM" => {
                if let Some(name) = route.authorizer_id.as_deref().and_then(|a| scheme_of.get(a)) {
                    op.insert(
                        "security".into(),
                        json!([{ name.clone(): route.authorization_scopes }]),
                    );
                }
            }
            _ => {}
        }
        if route.route_key == "$default" {
            op.insert("isDefaultRoute".into(), json!(true));
        }
        if let Some(i) = route.integration_id().and_then(|id| integrations.get(id)) {
            used.insert(i.integration_id.as_str());
            op.insert(INTEGRATION.into(), integration_object(i));
        }
        let item = paths.entry(path.clone()).or_default();
        item.insert(method, Value::Object(op));
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "description": format!("Generated path parameter for {name}"),
                    "required": true,
                    "schema": {"type": "string"},
                })
            })
            .collect();
        if !parameters.is_empty() {
            item.insert("parameters".into(), Value::Array(parameters));
        }
    }
    doc.insert(
        "paths".into(),
        Value::Object(paths.into_iter().map(|(k, v)| (k, Value::Object(v))).collect()),
    );
    let mut components = Map::new();
    if !schemes.is_empty() {
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }
    let unused: Map<String, Value> = d
        .integrations
        .iter()
        .filter(|i| !used.contains(i.integration_id.as_str()))
        .map(|i| {
            (
                format!("unusedIntegration_{}", i.integration_id),
                integration_object(i),
            )
        })
        .collect();
    if !unused.is_empty() {
        components.insert(INTEGRATIONS.into(), Value::Object(unused));
    }
    if !components.is_empty() {
        doc.insert("components".into(), Value::Object(components));
    }
    if let Some(cors) = &api.cors_configuration {
        doc.insert(
            "x-amazon-apigateway-cors".into(),
            serde_json::to_value(cors).unwrap_or_default(),
        );
    }
    doc.insert("x-amazon-apigateway-importexport-version".into(), json!("1.0"));
    let mut doc = Value::Object(doc);
    if !extensions {
        strip_extensions(&mut doc);
    }
    doc
}

fn authorizer_scheme(a: &Authorizer) -> Value {
    let mut ext = Map::new();
    ext.insert("identitySource".into(), json!(a.identity_source.join(", ")));
    if a.authorizer_type == "JWT" {
        ext.insert("type".into(), json!("jwt"));
        ext.insert(
            "jwtConfiguration".into(),
            serde_json::to_value(a.jwt_configuration.clone().unwrap_or_default()).unwrap_or_default(),
        );
        return json!({"type": "oauth2", "flows": {}, AUTHORIZER: ext});
    }
    ext.insert("type".into(), json!("request"));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            ext.insert(k.into(), v);
        }
    };
    put("authorizerUri", a.authorizer_uri.as_ref().map(|v| json!(v)));
    put(
        "authorizerPayloadFormatVersion",
        a.authorizer_payload_format_version.as_ref().map(|v| json!(v)),
    );
    put(
        "authorizerResultTtlInSeconds",
        Some(json!(a.authorizer_result_ttl_in_seconds.unwrap_or(0))),
    );
    put(
        "enableSimpleResponses",
        Some(json!(a.enable_simple_responses.unwrap_or(false))),
    );
    put(
        "authorizerCredentials",
        a.authorizer_credentials_arn.as_ref().map(|v| json!(v)),
    );
    // The scheme's own header: the first header the authorizer reads (AWS's `Unused` else).
    let header = a
        .identity_source
        .iter()
        .find_map(|s| s.strip_prefix("$request.header."))
        .unwrap_or("Unused");
    json!({"type": "apiKey", "name": header, "in": "header", AUTHORIZER: ext})
}

fn integration_object(i: &Integration) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(i.integration_type.to_ascii_lowercase()));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            o.insert(k.into(), v);
        }
    };
    put(
        "integrationSubtype",
        i.integration_subtype.as_ref().map(|v| json!(v)),
    );
    put("httpMethod", i.integration_method.as_ref().map(|v| json!(v)));
    put("uri", i.integration_uri.as_ref().map(|v| json!(v)));
    put(
        "payloadFormatVersion",
        i.payload_format_version.as_ref().map(|v| json!(v)),
    );
    put("connectionType", Some(json!(i.connection_type)));
    put("connectionId", i.connection_id.as_ref().map(|v| json!(v)));
    put("credentials", i.credentials_arn.as_ref().map(|v| json!(v)));
    put("description", i.description.as_ref().map(|v| json!(v)));
    put(
        "requestParameters",
        (!i.request_parameters.is_empty()).then(|| json!(i.request_parameters)),
    );
    put(
        "responseParameters",
        (!i.response_parameters.is_empty()).then(|| json!(i.response_parameters)),
    );
    put("timeoutInMillis", Some(json!(i.timeout_in_millis)));
    put(
        "tlsConfig",
        i.tls_config.as_ref().and_then(|t| serde_json::to_value(t).ok()),
    );
    Value::Object(o)
}

/// Drops every `x-amazon-apigateway-*` key (an export without extensions).
fn strip_extensions(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|k, _| !k.starts_with("x-amazon-apigateway-") && k != "isDefaultRoute");
            o.values_mut().for_each(strip_extensions);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETSTORE: &str = include_str!("../../../tests/fixtures/petstore-http-api.yaml");

    #[test]
    fn a_petstore_document_plans_routes_integrations_and_authorizers() {
        let doc = crate::openapi::parse(PETSTORE).unwrap();
        let plan = plan(&doc, BasePath::Ignore).unwrap();
        assert_eq!(plan.api.name, "Example Pet Store");
        assert_eq!(plan.api.version.as_deref(), Some("1.0"));
        assert_eq!(plan.api.cors.as_ref().unwrap().max_age, Some(300));
        let keys: Vec<&str> = plan.routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "$default",
                "GET /pets",
                "POST /pets",
                "DELETE /pets/{petId}",
                "GET /pets/{petId}"
            ]
        );
        let get = &plan.routes[1];
        assert_eq!(get.integration.as_deref(), Some("components/petstore"));
        assert_eq!(get.operation_name.as_deref(), Some("ListPets"));
        let post = &plan.routes[2];
        assert_eq!(
            post.security,
            Security::Scheme {
                name: "jwt".into(),
                scopes: vec!["pets/write".into()]
            }
        );
        let (_, inline) = plan.integrations.iter().find(|(k, _)| k == "POST /pets").unwrap();
        assert_eq!(
            inline.payload_format_version.as_deref(),
            Some("2.0"),
            "a YAML number"
        );
        // The AWS integration is a warning, its route made without one.
        assert!(plan.routes[3].integration.is_none());
        assert!(
            plan.warnings[0].contains("'DELETE /pets/{petId}'"),
            "{:?}",
            plan.warnings
        );
        assert!(plan.iam_schemes.contains("iam"));
        assert_eq!(plan.api.tags.as_ref().unwrap()["team"], "pets");
        assert_eq!(plan.authorizers.len(), 1);
        assert!(plan.info.iter().any(|i| i.contains("[schemas]")));
        assert!(plan.info.iter().any(|i| i.contains("[requestBody]")));

        let prepended = super::plan(&doc, BasePath::Prepend).unwrap();
        assert_eq!(prepended.routes[1].key, "GET /v1/store/pets");
        let split = super::plan(&doc, BasePath::Split).unwrap();
        assert_eq!(split.routes[1].key, "GET /store/pets");
    }

    #[test]
    fn documents_that_are_not_openapi_3_are_refused() {
        let swagger = json!({"swagger": "2.0", "info": {"title": "t"}});
        assert!(
            plan(&swagger, BasePath::Ignore)
                .unwrap_err()
                .contains("Swagger 2.0")
        );
        let untitled = json!({"openapi": "3.0.1", "info": {}});
        assert!(plan(&untitled, BasePath::Ignore).is_err());
        let two = json!({"openapi": "3.0.1", "info": {"title": "t"}, "paths": {"/a": {"get": {
            "security": [{"a": []}, {"b": []}]
        }}}});
        assert!(plan(&two, BasePath::Ignore).is_err());
    }
}
