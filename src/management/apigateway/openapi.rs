//! REST APIs as OpenAPI documents (Swagger 2.0 and OpenAPI 3.0), with API Gateway's
//! `x-amazon-apigateway-*` extensions: what an imported document asks for ([`import`]: the
//! API's fields, models, request validators, authorizers, gateway responses, resources and
//! methods with their integrations, as the stored documents those make), and the document a
//! stage's deployment exports ([`export`]).
//!
//! Import, as AWS's: `paths` with their operations (`x-amazon-apigateway-any-method` is ANY),
//! parameters (path, query string, header) and bodies (a model by `$ref`), `responses` (their
//! headers and models), `security` (an authorizer's scheme, an `api_key` scheme, `awsSigv4`),
//! `x-amazon-apigateway-integration` (inline, or a `$ref` to
//! `components.x-amazon-apigateway-integrations`), `definitions` / `components.schemas` as
//! models (their `$ref`s become model URLs), `securityDefinitions` / `components.securitySchemes`
//! with `x-amazon-apigateway-authorizer`, `x-amazon-apigateway-request-validators` and
//! `-request-validator`, `-gateway-responses`, `-binary-media-types`, `-api-key-source`,
//! `-policy`, `-minimum-compression-size`. What cannot be made is a warning.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::domain::enums::{
    ApiKeySource, AuthorizationType, AuthorizerType, ConnectionType, ContentHandling, HttpMethod,
    IntegrationType, PassthroughBehavior,
};
use crate::domain::ids;
use crate::domain::rest_api::{
    Authorizer, GatewayResponse, Integration, IntegrationResponse, Method, MethodResponse, Model,
    RequestValidator, TlsConfig,
};
use crate::domain::snapshot::Snapshot;
use crate::openapi::{BasePath, base_path, text};

/// The API's own fields a document sets.
#[derive(Debug, Default)]
pub struct ApiFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub binary_media_types: Vec<String>,
    pub api_key_source: Option<ApiKeySource>,
    pub policy: Option<String>,
    pub minimum_compression_size: Option<i32>,
}

/// A resource a document asks for, by path, with its methods (by HTTP method). A method's
/// `authorizer_id` and `request_validator_id` hold the authorizer's and validator's *names*
/// until the writer knows their ids.
#[derive(Debug, Default)]
pub struct PlannedResource {
    pub path: String,
    pub methods: BTreeMap<String, Method>,
}

/// Everything an imported document asks for.
#[derive(Debug, Default)]
pub struct Imported {
    pub fields: ApiFields,
    pub resources: Vec<PlannedResource>,
    pub models: Vec<Model>,
    pub validators: Vec<RequestValidator>,
    pub authorizers: Vec<Authorizer>,
    pub gateway_responses: Vec<GatewayResponse>,
    /// `x-amazon-apigateway-documentation`, for the documentation importer.
    pub documentation: Option<Value>,
    pub warnings: Vec<String>,
    /// What refuses the import whatever `failonwarnings` says (a method's security naming no
    /// scheme it could be given: made, it would be open to anyone).
    pub errors: Vec<String>,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A template, given as a string, or (as some documents do) as the JSON it holds.
fn template_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), text(v).unwrap_or_else(|| v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// What `v` is: itself, or the part of `doc` its local `$ref` names (`#/parameters/id`,
/// `#/components/requestBodies/Pet`, ...), followed a few times at most. A reference that
/// names nothing is itself (and then has none of the fields looked for).
fn local<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(pointer) = v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        else {
            break;
        };
        // A schema reference is a model's, kept as it is.
        if pointer.starts_with("/definitions/") || pointer.starts_with("/components/schemas/") {
            break;
        }
        match doc.pointer(pointer) {
            Some(found) => v = found,
            None => break,
        }
    }
    v
}

/// The model name a `$ref` names (`#/definitions/Pet`, `#/components/schemas/Pet`).
fn ref_name(v: Option<&Value>) -> Option<String> {
    let r = v?.get("$ref")?.as_str()?;
    r.rsplit_once('/').map(|(_, name)| name.to_owned())
}

/// The URL a model's `$ref` to model `name` of API `api_id` becomes.
fn model_url(api_id: &str, name: &str) -> String {
    format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}")
}

/// A schema's `$ref`s to the document's schemas, rewritten to model URLs (import) by `rewrite`.
fn rewrite_refs(v: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "$ref"
                    && let Some(r) = child.as_str().and_then(rewrite)
                {
                    *child = Value::String(r);
                    continue;
                }
                rewrite_refs(child, rewrite);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_refs(c, rewrite)),
        _ => {}
    }
}

/// How an operation's `security` authorizes it.
#[derive(Default)]
struct Security {
    authorization: Option<(AuthorizationType, Option<String>)>,
    scopes: Vec<String>,
    api_key: bool,
    /// Schemes it names that cannot be made.
    unknown: Vec<String>,
}

/// What `api_id`'s import of `doc` asks for.
pub fn import(doc: &Value, api_id: &str, basepath: BasePath) -> Result<Imported, String> {
    let Some(root) = doc.as_object() else {
        return Err("the document is not an object".into());
    };
    let oas3 = match (
        root.get("openapi").and_then(text),
        root.get("swagger").and_then(text),
    ) {
        (Some(v), _) if v.starts_with("3.") => true,
        (_, Some(v)) if v.starts_with("2.") => false,
        _ => {
            return Err(
                "the document is neither OpenAPI 3 (openapi: 3.x) nor Swagger 2.0 (swagger: 2.0)".into(),
            );
        }
    };
    let mut out = Imported::default();
    let info = root.get("info");
    out.fields.name = info.and_then(|i| i.get("title")).and_then(text);
    out.fields.description = info.and_then(|i| i.get("description")).and_then(text);
    out.fields.version = info.and_then(|i| i.get("version")).and_then(text);
    out.fields.binary_media_types = root
        .get("x-amazon-apigateway-binary-media-types")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default();
    if let Some(source) = root
        .get("x-amazon-apigateway-api-key-source")
        .and_then(Value::as_str)
    {
        match ApiKeySource::parse(&source.to_ascii_uppercase()) {
            Some(s) => out.fields.api_key_source = Some(s),
            None => out
                .warnings
                .push(format!("Invalid x-amazon-apigateway-api-key-source: {source}")),
        }
    }
    out.fields.policy = root.get("x-amazon-apigateway-policy").map(|p| match p {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if let Some(n) = root.get("x-amazon-apigateway-minimum-compression-size") {
        match n.as_i64().filter(|n| (0..=10_485_760).contains(n)) {
            Some(n) => out.fields.minimum_compression_size = Some(n as i32),
            None => out.warnings.push(format!(
                "x-amazon-apigateway-minimum-compression-size {n} is not between 0 and 10485760"
            )),
        }
    }
    out.documentation = root.get("x-amazon-apigateway-documentation").cloned();

    // Models, their references rewritten to model URLs.
    let schemas = if oas3 {
        root.get("components").and_then(|c| c.get("schemas"))
    } else {
        root.get("definitions")
    };
    let to_url = |r: &str| {
        let name = r
            .strip_prefix("#/definitions/")
            .or_else(|| r.strip_prefix("#/components/schemas/"))?;
        Some(model_url(api_id, name))
    };
    for (name, schema) in schemas.and_then(Value::as_object).into_iter().flatten() {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            out.warnings.push(format!(
                "Model name {name} is invalid: it must be alphanumeric; the model is left out"
            ));
            continue;
        }
        if !schema.is_object() {
            out.warnings.push(format!(
                "Model {name}: its schema is not an object; the model is left out"
            ));
            continue;
        }
        let mut schema = schema.clone();
        // Kept as the document gives it (AWS adds no `$schema` nor `title`).
        rewrite_refs(&mut schema, &to_url);
        out.models.push(Model {
            id: ids::random_id(6),
            name: name.clone(),
            description: schema.get("description").and_then(text),
            schema: Some(serde_json::to_string_pretty(&schema).unwrap_or_default()),
            content_type: "application/json".into(),
        });
    }

    // Request validators, and the document's default one.
    for (name, v) in root
        .get("x-amazon-apigateway-request-validators")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.validators.push(RequestValidator {
            id: ids::random_id(6),
            name: name.clone(),
            validate_request_body: v
                .get("validateRequestBody")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            validate_request_parameters: v
                .get("validateRequestParameters")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    let default_validator = root.get("x-amazon-apigateway-request-validator").and_then(text);

    // Security schemes: authorizers, API keys, SigV4.
    let schemes = if oas3 {
        root.get("components").and_then(|c| c.get("securitySchemes"))
    } else {
        root.get("securityDefinitions")
    };
    let mut api_key_schemes = BTreeSet::new();
    let mut iam_schemes = BTreeSet::new();
    for (name, scheme) in schemes.and_then(Value::as_object).into_iter().flatten() {
        match scheme.get("x-amazon-apigateway-authorizer") {
            Some(a) => match authorizer(name, scheme, a).and_then(|a| {
                super::authorizers::check_authorizer(&a).map_err(|e| e.message)?;
                Ok(a)
            }) {
                Ok(a) => out.authorizers.push(a),
                Err(e) => out.warnings.push(format!("Authorizer {name}: {e}")),
            },
            None if scheme
                .get("x-amazon-apigateway-authtype")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4")) =>
            {
                iam_schemes.insert(name.clone());
            }
            None if scheme.get("type").and_then(Value::as_str) == Some("apiKey")
                && scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key")) =>
            {
                api_key_schemes.insert(name.clone());
            }
            None => out.warnings.push(format!(
                "Security scheme {name} is not an API Gateway authorizer, API key or SigV4 scheme; it is left out"
            )),
        }
    }
    let authorizer_kinds: BTreeMap<String, AuthorizerType> =
        out.authorizers.iter().map(|a| (a.name.clone(), a.kind)).collect();
    let security_of = |requirement: Option<&Value>| -> Security {
        let mut s = Security::default();
        for req in requirement.and_then(Value::as_array).into_iter().flatten() {
            for (name, scopes) in req.as_object().into_iter().flatten() {
                if api_key_schemes.contains(name) {
                    s.api_key = true;
                } else if iam_schemes.contains(name) {
                    s.authorization = Some((AuthorizationType::AwsIam, None));
                } else if let Some(kind) = authorizer_kinds.get(name) {
                    let kind = if *kind == AuthorizerType::CognitoUserPools {
                        s.scopes = scopes
                            .as_array()
                            .map(|l| l.iter().filter_map(text).collect())
                            .unwrap_or_default();
                        AuthorizationType::CognitoUserPools
                    } else {
                        AuthorizationType::Custom
                    };
                    s.authorization = Some((kind, Some(name.clone())));
                } else {
                    s.unknown.push(name.clone());
                }
            }
        }
        s
    };
    let document_security = security_of(root.get("security"));

    // Gateway responses.
    for (kind, r) in root
        .get("x-amazon-apigateway-gateway-responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match crate::domain::enums::GatewayResponseType::parse(kind) {
            Some(t) => out.gateway_responses.push(GatewayResponse {
                response_type: t,
                status_code: r.get("statusCode").and_then(text),
                response_parameters: string_map(r.get("responseParameters")),
                response_templates: template_map(r.get("responseTemplates")),
                default_response: false,
            }),
            None => out
                .warnings
                .push(format!("Gateway response type {kind} is not one API Gateway has")),
        }
    }

    // Paths and their operations.
    let base = base_path(doc, basepath);
    let produces_default: Vec<String> = root
        .get("produces")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default();
    let consumes_default: Vec<String> = root
        .get("consumes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default();
    let integrations = root
        .get("components")
        .and_then(|c| c.get("x-amazon-apigateway-integrations"));
    for (path, item) in root.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let Some(item) = item.as_object() else { continue };
        let full = format!("{base}{}", if path == "/" { "" } else { path.as_str() });
        let full = if full.is_empty() { "/".to_owned() } else { full };
        if !path.starts_with('/') || full.contains("//") {
            out.warnings
                .push(format!("Path {path} is invalid; it is left out"));
            continue;
        }
        let mut planned = PlannedResource {
            path: full.clone(),
            methods: BTreeMap::new(),
        };
        let shared_params = item.get("parameters");
        for (verb, op) in item {
            let http_method = match verb.as_str() {
                "x-amazon-apigateway-any-method" => HttpMethod::Any,
                "get" | "put" | "post" | "delete" | "options" | "head" | "patch" => {
                    match HttpMethod::parse(&verb.to_ascii_uppercase()) {
                        Some(m) => m,
                        None => continue,
                    }
                }
                _ => continue,
            };
            let Some(op) = op.as_object() else { continue };
            let where_ = format!("{} {full}", http_method.as_str());
            let security = match op.get("security") {
                Some(s) => security_of(Some(s)),
                None => Security {
                    authorization: document_security.authorization.clone(),
                    scopes: document_security.scopes.clone(),
                    api_key: document_security.api_key,
                    unknown: document_security.unknown.clone(),
                },
            };
            if !security.unknown.is_empty() {
                out.errors.push(format!(
                    "{where_}: security names {}, which no valid security scheme defines",
                    security.unknown.join(", ")
                ));
            }
            let (authorization_type, authorizer_id) = security
                .authorization
                .clone()
                .unwrap_or((AuthorizationType::None, None));
            let mut method = Method {
                http_method,
                authorization_type,
                authorizer_id,
                api_key_required: security.api_key,
                request_validator_id: op
                    .get("x-amazon-apigateway-request-validator")
                    .and_then(text)
                    .or_else(|| default_validator.clone()),
                operation_name: op.get("operationId").and_then(text),
                request_parameters: BTreeMap::new(),
                request_models: BTreeMap::new(),
                method_responses: BTreeMap::new(),
                method_integration: None,
                authorization_scopes: security.scopes.clone(),
            };
            // Parameters: the path item's, then the operation's (which win).
            let params = shared_params
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(
                    op.get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                );
            let consumes: Vec<String> = op
                .get("consumes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_else(|| consumes_default.clone());
            for p in params {
                // A shared parameter (`#/parameters/...`, `#/components/parameters/...`).
                let p = local(doc, p);
                let name = p.get("name").and_then(text).unwrap_or_default();
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                let location = match p.get("in").and_then(Value::as_str) {
                    Some("path") => "path",
                    Some("query") => "querystring",
                    Some("header") => "header",
                    Some("body") => {
                        match ref_name(p.get("schema")) {
                            Some(model) => {
                                let types = if consumes.is_empty() {
                                    vec!["application/json".to_owned()]
                                } else {
                                    consumes.clone()
                                };
                                for t in types {
                                    method.request_models.insert(t, model.clone());
                                }
                            }
                            None => out.warnings.push(format!(
                                "{where_}: a body schema that is not a model reference is left out"
                            )),
                        }
                        continue;
                    }
                    _ => continue,
                };
                if name.is_empty() {
                    continue;
                }
                method.request_parameters.insert(
                    format!("method.request.{location}.{name}"),
                    required || location == "path",
                );
            }
            // Each variable of the path is a required path parameter, declared or not (as AWS
            // imports it).
            for var in full
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                let name = var.trim_end_matches('+');
                method
                    .request_parameters
                    .entry(format!("method.request.path.{name}"))
                    .or_insert(true);
            }
            if let Some(content) = op
                .get("requestBody")
                .map(|b| local(doc, b))
                .and_then(|b| b.get("content"))
                .and_then(Value::as_object)
            {
                for (media, body) in content {
                    match ref_name(body.get("schema")) {
                        Some(model) => {
                            method.request_models.insert(media.clone(), model);
                        }
                        None => out.warnings.push(format!(
                            "{where_}: a request body schema that is not a model reference is left out"
                        )),
                    }
                }
            }
            let produces: Vec<String> = op
                .get("produces")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_else(|| produces_default.clone());
            for (status, r) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if !crate::domain::rest_api::is_valid_status_code(status) {
                    continue;
                }
                // A shared response (`#/responses/...`, `#/components/responses/...`).
                let r = local(doc, r);
                let mut response = MethodResponse {
                    status_code: status.clone(),
                    response_parameters: None,
                    response_models: None,
                };
                for h in r
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(h, _)| h)
                {
                    response
                        .response_parameters
                        .get_or_insert_default()
                        .insert(format!("method.response.header.{h}"), false);
                }
                if let Some(model) = ref_name(r.get("schema")) {
                    let types = if produces.is_empty() {
                        vec!["application/json".to_owned()]
                    } else {
                        produces.clone()
                    };
                    for t in types {
                        response
                            .response_models
                            .get_or_insert_default()
                            .insert(t, model.clone());
                    }
                }
                for (media, body) in r.get("content").and_then(Value::as_object).into_iter().flatten() {
                    if let Some(model) = ref_name(body.get("schema")) {
                        response
                            .response_models
                            .get_or_insert_default()
                            .insert(media.clone(), model);
                    }
                }
                method.method_responses.insert(status.clone(), response);
            }
            let integration = op.get("x-amazon-apigateway-integration").and_then(|i| {
                match i.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let name = r.strip_prefix("#/components/x-amazon-apigateway-integrations/")?;
                        integrations?.get(name)
                    }
                    None => Some(i),
                }
            });
            if let Some(i) = integration {
                // A mapping is a string: another value is left out, with AWS's warning.
                let parameters = i.get("requestParameters").and_then(Value::as_object);
                for (target, v) in parameters.into_iter().flatten().filter(|(_, v)| !v.is_string()) {
                    out.warnings.push(format!(
                        "Invalid format for 'requestParameters'. Expected type string for property \
                         '{target}' of resource '{full}' and method '{}' but got '{v}'",
                        http_method.as_str()
                    ));
                }
                match integration_of(i) {
                    Ok(i) => method.method_integration = Some(i),
                    Err(e) => out
                        .warnings
                        .push(format!("{where_}: {e}; the method has no integration")),
                }
            }
            planned.methods.insert(http_method.as_str().to_owned(), method);
        }
        out.resources.push(planned);
    }
    Ok(out)
}

/// An authorizer from its security scheme and `x-amazon-apigateway-authorizer`.
fn authorizer(name: &str, scheme: &Value, a: &Value) -> Result<Authorizer, String> {
    let kind = a.get("type").and_then(Value::as_str).unwrap_or("token");
    let kind = match kind.to_ascii_lowercase().as_str() {
        "token" => AuthorizerType::Token,
        "request" => AuthorizerType::Request,
        "cognito_user_pools" => AuthorizerType::CognitoUserPools,
        other => {
            return Err(format!(
                "type {other} is not token, request or cognito_user_pools"
            ));
        }
    };
    let header = scheme
        .get("name")
        .and_then(Value::as_str)
        .filter(|_| scheme.get("in").and_then(Value::as_str) == Some("header"))
        .map(|h| format!("method.request.header.{h}"));
    Ok(Authorizer {
        id: ids::random_id(6),
        name: name.to_owned(),
        kind,
        provider_arns: a
            .get("providerARNs")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(text).collect())
            .unwrap_or_default(),
        auth_type: scheme.get("x-amazon-apigateway-authtype").and_then(text),
        authorizer_uri: a.get("authorizerUri").and_then(text),
        authorizer_credentials: a.get("authorizerCredentials").and_then(text),
        // An empty one is none: the scheme's header is the identity (as AWS imports Pulumi's).
        identity_source: a
            .get("identitySource")
            .and_then(text)
            .filter(|s| !s.is_empty())
            .or(header),
        identity_validation_expression: a.get("identityValidationExpression").and_then(text),
        authorizer_result_ttl_in_seconds: match a.get("authorizerResultTtlInSeconds") {
            None => None,
            Some(t) => Some(
                t.as_i64()
                    .and_then(|t| i32::try_from(t).ok())
                    .ok_or("authorizerResultTtlInSeconds is not a number of seconds")?,
            ),
        },
    })
}

/// An integration from `x-amazon-apigateway-integration`, checked as PutIntegration checks one.
fn integration_of(i: &Value) -> Result<Integration, String> {
    let upper = |f: &str| i.get(f).and_then(text).map(|s| s.to_ascii_uppercase());
    let kind = upper("type").ok_or("x-amazon-apigateway-integration has no type")?;
    let kind = IntegrationType::parse(&kind)
        .ok_or_else(|| format!("integration type {kind} is not one API Gateway has"))?;
    let mut responses = BTreeMap::new();
    for (pattern, r) in i
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(status) = r.get("statusCode").and_then(text) else {
            continue;
        };
        responses.insert(
            status.clone(),
            IntegrationResponse {
                status_code: status,
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: string_map(r.get("responseParameters")),
                response_templates: r.get("responseTemplates").map(|t| {
                    template_map(Some(t))
                        .into_iter()
                        .map(|(k, v)| (k, Some(v)))
                        .collect()
                }),
                content_handling: r
                    .get("contentHandling")
                    .and_then(Value::as_str)
                    .and_then(|c| ContentHandling::parse(&c.to_ascii_uppercase())),
            },
        );
    }
    let integration = Integration {
        kind,
        // A MOCK integration calls nothing: AWS keeps no method for it.
        http_method: upper("httpMethod").filter(|_| kind != IntegrationType::Mock),
        uri: i.get("uri").and_then(text),
        connection_type: upper("connectionType").and_then(|c| ConnectionType::parse(&c)),
        connection_id: i.get("connectionId").and_then(text),
        credentials: i.get("credentials").and_then(text),
        request_parameters: i
            .get("requestParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        request_templates: template_map(i.get("requestTemplates")),
        passthrough_behavior: Some(
            upper("passthroughBehavior")
                .and_then(|p| PassthroughBehavior::parse(&p))
                .unwrap_or(PassthroughBehavior::WhenNoMatch),
        ),
        content_handling: upper("contentHandling").and_then(|c| ContentHandling::parse(&c)),
        timeout_in_millis: match i.get("timeoutInMillis") {
            None => *super::integrations::TIMEOUT_RANGE.end(),
            Some(t) => t
                .as_i64()
                .and_then(|t| i32::try_from(t).ok())
                .ok_or("timeoutInMillis is not a number of milliseconds")?,
        },
        cache_namespace: i.get("cacheNamespace").and_then(text),
        cache_key_parameters: i
            .get("cacheKeyParameters")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(text).collect())
            .unwrap_or_default(),
        integration_responses: responses,
        tls_config: i.get("tlsConfig").map(|t| TlsConfig {
            insecure_skip_verification: t
                .get("insecureSkipVerification")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }),
    };
    super::integrations::check_integration(&integration).map_err(|e| e.message)?;
    Ok(super::integrations::with_aws_defaults(integration))
}

/// Which of API Gateway's extensions an export carries (`extensions=`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Extensions {
    /// `x-amazon-apigateway-integration` on each operation (`integrations`, `apigateway`).
    pub integrations: bool,
    /// Authorizers' `x-amazon-apigateway-authorizer` (`authorizers`, `apigateway`).
    pub authorizers: bool,
    /// The API-wide extensions: validators, gateway responses, binary media types, policy
    /// (`apigateway`).
    pub api: bool,
    /// `x-amazon-apigateway-documentation` (`documentation`).
    pub documentation: bool,
}

impl Extensions {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let mut e = Self::default();
        for name in raw
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match name {
                "integrations" => e.integrations = true,
                "authorizers" => e.authorizers = true,
                "apigateway" => {
                    e.integrations = true;
                    e.authorizers = true;
                    e.api = true;
                }
                "documentation" => e.documentation = true,
                // Postman's variables are not written; the document is the same.
                "postman" => {}
                other => {
                    return Err(format!(
                        "Invalid extensions {other}: expected integrations, authorizers, apigateway, documentation or postman"
                    ));
                }
            }
        }
        Ok(e)
    }
}

/// What an export is of: a stage's deployment, where it is served.
pub struct ExportOf<'a> {
    pub snapshot: &'a Snapshot,
    pub stage: &'a str,
    pub region: &'a str,
    /// When the deployment was made (the document's version when the API has none).
    pub deployed: i64,
    pub documentation: Option<Value>,
}

/// The document of `of`, Swagger 2.0 or OpenAPI 3.0.
pub fn export(of: &ExportOf<'_>, oas3: bool, ext: Extensions) -> Value {
    let api = &of.snapshot.rest_api;
    let models_ref = if oas3 {
        "#/components/schemas/"
    } else {
        "#/definitions/"
    };
    let url_prefix = model_url(&api.id, "");
    let to_ref = |r: &str| {
        r.strip_prefix(url_prefix.as_str())
            .map(|name| format!("{models_ref}{name}"))
    };
    let version = api.version.clone().unwrap_or_else(|| {
        chrono::DateTime::from_timestamp(of.deployed, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    });
    let mut info = Map::new();
    if let Some(d) = &api.description {
        info.insert("description".into(), json!(d));
    }
    info.insert("version".into(), json!(version));
    info.insert("title".into(), json!(api.name));
    let mut doc = Map::new();
    let host = format!("{}.execute-api.{}.amazonaws.com", api.id, of.region);
    if oas3 {
        doc.insert("openapi".into(), json!("3.0.1"));
        doc.insert("info".into(), Value::Object(info));
        doc.insert(
            "servers".into(),
            json!([{"url": format!("https://{host}/{{basePath}}"), "variables": {"basePath": {"default": of.stage}}}]),
        );
    } else {
        doc.insert("swagger".into(), json!("2.0"));
        doc.insert("info".into(), Value::Object(info));
        doc.insert("host".into(), json!(host));
        doc.insert("basePath".into(), json!(format!("/{}", of.stage)));
        doc.insert("schemes".into(), json!(["https"]));
    }
    let validators: BTreeMap<&str, &RequestValidator> = of
        .snapshot
        .request_validators
        .values()
        .map(|v| (v.id.as_str(), v))
        .collect();
    let authorizers: BTreeMap<&str, &Authorizer> = of
        .snapshot
        .authorizers
        .values()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let mut uses_api_key = false;
    let mut paths = Map::new();
    for r in &of.snapshot.resources {
        let Some(methods) = r.resource_methods.as_ref().filter(|m| !m.is_empty()) else {
            continue;
        };
        let mut item = Map::new();
        for m in methods.values() {
            let verb = match m.http_method {
                HttpMethod::Any => "x-amazon-apigateway-any-method".to_owned(),
                other => other.as_str().to_ascii_lowercase(),
            };
            let mut op = Map::new();
            if let Some(name) = &m.operation_name {
                op.insert("operationId".into(), json!(name));
            }
            let mut params = Vec::new();
            for (p, required) in &m.request_parameters {
                let Some(rest) = p.strip_prefix("method.request.") else {
                    continue;
                };
                let Some((location, name)) = rest.split_once('.') else {
                    continue;
                };
                let location = match location {
                    "querystring" => "query",
                    "path" | "header" => location,
                    _ => continue,
                };
                let required = *required || location == "path";
                let mut param = json!({"name": name, "in": location, "required": required});
                if oas3 {
                    // AWS's OpenAPI 3 exports say `required` only when it is true.
                    if !required {
                        param.as_object_mut().map(|p| p.remove("required"));
                    }
                    param["schema"] = json!({"type": "string"});
                } else {
                    param["type"] = json!("string");
                }
                params.push(param);
            }
            if !oas3 && let Some(model) = m.request_models.values().next() {
                params.push(json!({"in": "body", "name": model, "required": true, "schema": {"$ref": format!("{models_ref}{model}")}}));
            }
            // Swagger's media types, as AWS writes them: what the models and the integration's
            // templates are for.
            let integration = m.method_integration.as_ref();
            let consumes: BTreeSet<&String> = m
                .request_models
                .keys()
                .chain(integration.into_iter().flat_map(|i| i.request_templates.keys()))
                .collect();
            if !oas3 && !consumes.is_empty() {
                op.insert("consumes".into(), json!(consumes));
            }
            if !params.is_empty() {
                op.insert("parameters".into(), Value::Array(params));
            }
            if oas3 && !m.request_models.is_empty() {
                let content: Map<String, Value> = m
                    .request_models
                    .iter()
                    .map(|(t, model)| {
                        (
                            t.clone(),
                            json!({"schema": {"$ref": format!("{models_ref}{model}")}}),
                        )
                    })
                    .collect();
                op.insert(
                    "requestBody".into(),
                    json!({"content": content, "required": true}),
                );
            }
            let mut responses = Map::new();
            let mut produces: BTreeSet<String> = integration
                .into_iter()
                .flat_map(|i| i.integration_responses.values())
                .flat_map(|r| r.templates().keys().cloned())
                .collect();
            for (status, r) in &m.method_responses {
                let mut response = Map::new();
                response.insert("description".into(), json!(format!("{status} response")));
                let headers: Map<String, Value> = r
                    .parameters()
                    .keys()
                    .filter_map(|p| p.strip_prefix("method.response.header."))
                    .map(|h| {
                        let schema = if oas3 {
                            json!({"schema": {"type": "string"}})
                        } else {
                            json!({"type": "string"})
                        };
                        (h.to_owned(), schema)
                    })
                    .collect();
                if !headers.is_empty() {
                    response.insert("headers".into(), Value::Object(headers));
                }
                if oas3 {
                    let content: Map<String, Value> = r
                        .models()
                        .iter()
                        .map(|(t, model)| {
                            (
                                t.clone(),
                                json!({"schema": {"$ref": format!("{models_ref}{model}")}}),
                            )
                        })
                        .collect();
                    // Empty too, as AWS writes it.
                    response.insert("content".into(), Value::Object(content));
                } else if let Some(model) = r.models().values().next() {
                    response.insert("schema".into(), json!({"$ref": format!("{models_ref}{model}")}));
                    produces.extend(r.models().keys().cloned());
                }
                responses.insert(status.clone(), Value::Object(response));
            }
            op.insert("responses".into(), Value::Object(responses));
            if !oas3 && !produces.is_empty() {
                op.insert("produces".into(), json!(produces));
            }
            let mut security = Vec::new();
            match (
                m.authorization_type,
                m.authorizer_id.as_deref().and_then(|id| authorizers.get(id)),
            ) {
                (AuthorizationType::Custom | AuthorizationType::CognitoUserPools, Some(a)) => {
                    security.push(json!({a.name.clone(): m.authorization_scopes}));
                }
                (AuthorizationType::AwsIam, _) => security.push(json!({"sigv4": []})),
                _ => {}
            }
            if m.api_key_required {
                uses_api_key = true;
                security.push(json!({"api_key": []}));
            }
            if !security.is_empty() {
                op.insert("security".into(), Value::Array(security));
            }
            if ext.api
                && let Some(v) = m
                    .request_validator_id
                    .as_deref()
                    .and_then(|id| validators.get(id))
            {
                op.insert("x-amazon-apigateway-request-validator".into(), json!(v.name));
            }
            if ext.integrations
                && let Some(i) = &m.method_integration
            {
                op.insert(
                    "x-amazon-apigateway-integration".into(),
                    integration_object(i, &r.id),
                );
            }
            item.insert(verb, Value::Object(op));
        }
        paths.insert(r.path.clone(), Value::Object(item));
    }
    doc.insert("paths".into(), Value::Object(paths));

    let mut models = Map::new();
    for (name, m) in &of.snapshot.models {
        let mut schema: Value = m
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| json!({}));
        rewrite_refs(&mut schema, &to_ref);
        if let Some(o) = schema.as_object_mut() {
            o.remove("$schema");
        }
        models.insert(name.clone(), schema);
    }
    let mut schemes = Map::new();
    if uses_api_key {
        schemes.insert(
            "api_key".into(),
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
    }
    if of
        .snapshot
        .resources
        .iter()
        .flat_map(|r| r.resource_methods.iter().flatten())
        .any(|(_, m)| m.authorization_type == AuthorizationType::AwsIam)
    {
        schemes.insert(
            "sigv4".into(),
            json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}),
        );
    }
    for a in of.snapshot.authorizers.values() {
        let header = a
            .identity_source
            .as_deref()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .filter(|h| !h.contains(','))
            .unwrap_or("Unused");
        let mut scheme = json!({"type": "apiKey", "name": header, "in": "header"});
        scheme["x-amazon-apigateway-authtype"] = json!(a.auth_type.clone().unwrap_or_else(|| match a.kind {
            AuthorizerType::CognitoUserPools => "cognito_user_pools".into(),
            _ => "custom".into(),
        }));
        if ext.authorizers {
            let mut x = Map::new();
            x.insert("type".into(), json!(a.kind.as_str().to_ascii_lowercase()));
            if let Some(u) = &a.authorizer_uri {
                x.insert("authorizerUri".into(), json!(u));
            }
            if let Some(c) = &a.authorizer_credentials {
                x.insert("authorizerCredentials".into(), json!(c));
            }
            if let Some(s) = &a.identity_source {
                x.insert("identitySource".into(), json!(s));
            }
            if let Some(e) = &a.identity_validation_expression {
                x.insert("identityValidationExpression".into(), json!(e));
            }
            if !a.provider_arns.is_empty() {
                x.insert("providerARNs".into(), json!(a.provider_arns));
            }
            if let Some(ttl) = a.authorizer_result_ttl_in_seconds {
                x.insert("authorizerResultTtlInSeconds".into(), json!(ttl));
            }
            scheme["x-amazon-apigateway-authorizer"] = Value::Object(x);
        }
        schemes.insert(a.name.clone(), scheme);
    }
    if oas3 {
        let mut components = Map::new();
        if !models.is_empty() {
            components.insert("schemas".into(), Value::Object(models));
        }
        if !schemes.is_empty() {
            components.insert("securitySchemes".into(), Value::Object(schemes));
        }
        doc.insert("components".into(), Value::Object(components));
    } else {
        if !schemes.is_empty() {
            doc.insert("securityDefinitions".into(), Value::Object(schemes));
        }
        if !models.is_empty() {
            doc.insert("definitions".into(), Value::Object(models));
        }
    }
    if ext.api {
        if !of.snapshot.request_validators.is_empty() {
            let v: Map<String, Value> = of
                .snapshot
                .request_validators
                .values()
                .map(|v| {
                    (
                        v.name.clone(),
                        json!({"validateRequestBody": v.validate_request_body, "validateRequestParameters": v.validate_request_parameters}),
                    )
                })
                .collect();
            doc.insert("x-amazon-apigateway-request-validators".into(), Value::Object(v));
        }
        if !of.snapshot.gateway_responses.is_empty() {
            let g: Map<String, Value> = of
                .snapshot
                .gateway_responses
                .values()
                .map(|g| {
                    let mut r = Map::new();
                    if let Some(s) = &g.status_code {
                        r.insert("statusCode".into(), json!(s));
                    }
                    if !g.response_parameters.is_empty() {
                        r.insert("responseParameters".into(), json!(g.response_parameters));
                    }
                    if !g.response_templates.is_empty() {
                        r.insert("responseTemplates".into(), json!(g.response_templates));
                    }
                    (g.response_type.as_str().to_owned(), Value::Object(r))
                })
                .collect();
            doc.insert("x-amazon-apigateway-gateway-responses".into(), Value::Object(g));
        }
        if !api.binary_media_types.is_empty() {
            doc.insert(
                "x-amazon-apigateway-binary-media-types".into(),
                json!(api.binary_media_types),
            );
        }
        if api.api_key_source != ApiKeySource::Header {
            doc.insert(
                "x-amazon-apigateway-api-key-source".into(),
                json!(api.api_key_source.as_str()),
            );
        }
        if let Some(p) = api
            .policy
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(&crate::domain::rest_api::policy_document(p)).ok())
        {
            doc.insert("x-amazon-apigateway-policy".into(), p);
        }
        if let Some(n) = api.minimum_compression_size {
            doc.insert("x-amazon-apigateway-minimum-compression-size".into(), json!(n));
        }
    }
    if ext.documentation
        && let Some(d) = &of.documentation
    {
        doc.insert("x-amazon-apigateway-documentation".into(), d.clone());
    }
    Value::Object(doc)
}

/// `x-amazon-apigateway-integration` of an integration.
/// An integration as `x-amazon-apigateway-integration` of the resource `resource_id`: what
/// differs from AWS's defaults (timeout, connection, cache namespace), as AWS exports it.
fn integration_object(i: &Integration, resource_id: &str) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(i.kind.as_str().to_ascii_lowercase()));
    if let Some(m) = &i.http_method {
        o.insert("httpMethod".into(), json!(m));
    }
    if let Some(u) = &i.uri {
        o.insert("uri".into(), json!(u));
    }
    if let Some(c) = &i.credentials {
        o.insert("credentials".into(), json!(c));
    }
    if let Some(c) = i.connection_type.filter(|c| *c != ConnectionType::Internet) {
        o.insert("connectionType".into(), json!(c.as_str()));
    }
    if let Some(c) = &i.connection_id {
        o.insert("connectionId".into(), json!(c));
    }
    if !i.request_parameters.is_empty() {
        o.insert("requestParameters".into(), json!(i.request_parameters));
    }
    if !i.request_templates.is_empty() {
        o.insert("requestTemplates".into(), json!(i.request_templates));
    }
    if let Some(p) = i.passthrough_behavior {
        o.insert(
            "passthroughBehavior".into(),
            json!(p.as_str().to_ascii_lowercase()),
        );
    }
    if let Some(c) = i.content_handling {
        o.insert("contentHandling".into(), json!(c.as_str()));
    }
    if i.timeout_in_millis != *super::integrations::TIMEOUT_RANGE.end() {
        o.insert("timeoutInMillis".into(), json!(i.timeout_in_millis));
    }
    if let Some(n) = i.cache_namespace.as_ref().filter(|n| *n != resource_id) {
        o.insert("cacheNamespace".into(), json!(n));
    }
    if !i.cache_key_parameters.is_empty() {
        o.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    }
    if let Some(t) = &i.tls_config {
        o.insert(
            "tlsConfig".into(),
            json!({"insecureSkipVerification": t.insecure_skip_verification}),
        );
    }
    let responses: Map<String, Value> = i
        .integration_responses
        .values()
        .map(|r| {
            let mut x = Map::new();
            x.insert("statusCode".into(), json!(r.status_code));
            if !r.response_parameters.is_empty() {
                x.insert("responseParameters".into(), json!(r.response_parameters));
            }
            let templates: BTreeMap<&String, &String> = r
                .templates()
                .iter()
                .filter_map(|(k, v)| Some((k, v.as_ref()?)))
                .collect();
            if !templates.is_empty() {
                x.insert("responseTemplates".into(), json!(templates));
            }
            if let Some(c) = r.content_handling {
                x.insert("contentHandling".into(), json!(c.as_str()));
            }
            let key = r.selection_pattern.clone().unwrap_or_else(|| "default".into());
            (key, Value::Object(x))
        })
        .collect();
    if !responses.is_empty() {
        o.insert("responses".into(), Value::Object(responses));
    }
    Value::Object(o)
}
