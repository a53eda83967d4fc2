//! A WebSocket API's deployment snapshot, compiled: its routes by route key (`$connect`,
//! `$disconnect`, `$default` and the keys the route selection expression picks), each with its
//! integration compiled as the REST integration that calls the same backend (a Lambda
//! function, an HTTP URL, a mock), and whether the route answers its client (a route
//! response). Messages pick their route by the API's route selection expression, evaluated on
//! the message's JSON body.

pub mod mapping;
pub mod selection;
pub mod validation;

use std::collections::HashMap;
use std::sync::Arc;

use super::CompileError;
use super::authorizers::IdentitySource;
use crate::domain::enums::ApiKeySource;
use crate::domain::snapshot::HttpSnapshot;
use mapping::WsIntegration;
use selection::SelectionExpression;

/// A WebSocket API deployment, ready to serve.
#[derive(Debug)]
pub struct CompiledWebSocketApi {
    pub api_id: String,
    pub snapshot_hash: String,
    pub disable_execute_api_endpoint: bool,
    /// The route selection expression (`$request.body.action`).
    pub selection: SelectionExpression,
    /// Where a route that requires an API key reads it (the API key selection expression).
    pub api_key_source: ApiKeySource,
    pub routes: HashMap<String, Arc<WsRoute>>,
}

/// A route of a WebSocket API.
#[derive(Debug)]
pub struct WsRoute {
    pub route_id: String,
    pub route_key: String,
    pub integration: Option<WsIntegration>,
    /// Whether the integration's answer goes back to the client (the route has a route
    /// response and a route response selection expression).
    pub responds: bool,
    /// How `$connect` authorizes clients.
    pub authorization: WsAuthorization,
    /// Whether the connection needs an API key of one of the stage's usage plans (checked
    /// at `$connect`; the key the connection presented then meters this route's messages).
    pub api_key_required: bool,
    /// The handshake's required parameters (`$connect`) and the models messages must match.
    pub validation: Option<validation::WsValidation>,
}

/// A `$connect` route's authorization.
#[derive(Debug)]
pub enum WsAuthorization {
    None,
    /// SigV4-signed handshakes whose callers' policies allow `execute-api:Invoke`.
    Iam,
    /// A Lambda function asked with the handshake's identity sources, answering a policy.
    Lambda(super::authorizers::LambdaAuthorizer, Vec<IdentitySource>),
    /// An authorizer the deployment lacks or cannot call: every client refused (AWS's 500).
    Misconfigured(String),
}

/// A WebSocket API identity source: `route.request.header.{name}`,
/// `route.request.querystring.{name}`, `stageVariables.{name}` or `context.{name}`.
pub fn identity_source(raw: &str) -> Option<IdentitySource> {
    IdentitySource::parse_with(
        raw,
        [
            "route.request.header.",
            "route.request.querystring.",
            "stageVariables.",
            "context.",
        ],
    )
}

fn authorization(route: &crate::domain::http_api::Route, snapshot: &HttpSnapshot) -> WsAuthorization {
    match route.authorization_type.as_str() {
        "AWS_IAM" => WsAuthorization::Iam,
        "CUSTOM" => {
            let Some(a) = route
                .authorizer_id
                .as_deref()
                .and_then(|id| snapshot.authorizers.get(id))
            else {
                return WsAuthorization::Misconfigured(
                    "the route's authorizer is not in the deployment".into(),
                );
            };
            let function = a
                .authorizer_uri
                .as_deref()
                .and_then(|uri| super::lambda_target(&super::http_api::lambda_invocation_uri(uri)));
            let identity: Option<Vec<IdentitySource>> =
                a.identity_source.iter().map(|s| identity_source(s)).collect();
            match (function, identity) {
                (Some(function), Some(identity)) => WsAuthorization::Lambda(
                    super::authorizers::LambdaAuthorizer {
                        function,
                        token: false,
                        validation: None,
                        role_arn: a
                            .authorizer_credentials_arn
                            .clone()
                            .filter(|c| c.starts_with("arn:") && c.contains(":role/")),
                        http: None,
                    },
                    identity,
                ),
                _ => WsAuthorization::Misconfigured(
                    "the authorizer names no function or reads unknown sources".into(),
                ),
            }
        }
        _ => WsAuthorization::None,
    }
}

impl CompiledWebSocketApi {
    /// The route a message goes to: the one its selection picks, else `$default`.
    pub fn route_for(&self, body: &[u8]) -> Option<&Arc<WsRoute>> {
        let key = self.selection.evaluate(|name| {
            let path = name.strip_prefix("request.body.")?;
            crate::dataplane::request::body_path(body, path)
        });
        key.filter(|k| !k.starts_with('$'))
            .and_then(|k| self.routes.get(&k))
            .or_else(|| self.routes.get("$default"))
    }

    pub fn route(&self, key: &str) -> Option<&Arc<WsRoute>> {
        self.routes.get(key)
    }
}

pub fn compile(snapshot: &HttpSnapshot, hash: &str) -> Result<CompiledWebSocketApi, CompileError> {
    if snapshot.format != crate::domain::snapshot::SNAPSHOT_FORMAT {
        return Err(CompileError::Format(snapshot.format));
    }
    let mut routes = HashMap::new();
    let mut models = super::validation::Models::of(
        &snapshot.http_api.api_id,
        snapshot
            .models
            .values()
            .map(|m| (m.name.as_str(), m.schema.as_deref().unwrap_or("{}"))),
    );
    for route in &snapshot.routes {
        let fail = |reason: String| CompileError::Method {
            method: route.route_key.clone(),
            path: String::new(),
            reason,
        };
        let integration = route
            .integration_id()
            .and_then(|id| snapshot.integrations.get(id))
            .map(|i| {
                let responses = snapshot.integration_responses.get(&i.integration_id);
                mapping::compile(i, responses.map_or(&[], Vec::as_slice))
            })
            .transpose()
            .map_err(&fail)?;
        let responds = route.route_response_selection_expression.is_some()
            && snapshot
                .route_responses
                .get(&route.route_id)
                .is_some_and(|r| !r.is_empty());
        routes.insert(
            route.route_key.clone(),
            Arc::new(WsRoute {
                route_id: route.route_id.clone(),
                route_key: route.route_key.clone(),
                integration,
                responds,
                authorization: authorization(route, snapshot),
                api_key_required: route.api_key_required,
                validation: validation::WsValidation::compile(route, &mut models).map_err(&fail)?,
            }),
        );
    }
    Ok(CompiledWebSocketApi {
        api_id: snapshot.http_api.api_id.clone(),
        snapshot_hash: hash.to_owned(),
        disable_execute_api_endpoint: snapshot.http_api.disable_execute_api_endpoint,
        selection: SelectionExpression::parse(&snapshot.http_api.route_selection_expression).map_err(
            |reason| CompileError::Method {
                method: "routeSelectionExpression".into(),
                path: String::new(),
                reason,
            },
        )?,
        api_key_source: api_key_source(snapshot.http_api.api_key_selection_expression.as_deref()),
        routes,
    })
}

/// Where the API key selection expression reads a key: `$request.header.x-api-key` (AWS's
/// default), or `$context.authorizer.usageIdentifierKey`.
fn api_key_source(expression: Option<&str>) -> ApiKeySource {
    match expression {
        Some("$context.authorizer.usageIdentifierKey") => ApiKeySource::Authorizer,
        _ => ApiKeySource::Header,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_pick_their_route_by_the_selection_expression_then_default() {
        let mut api = CompiledWebSocketApi {
            api_id: "a".into(),
            snapshot_hash: "h".into(),
            disable_execute_api_endpoint: false,
            selection: SelectionExpression::parse("$request.body.action").unwrap(),
            api_key_source: ApiKeySource::Header,
            routes: HashMap::new(),
        };
        for key in ["sendmessage", "$default", "$connect"] {
            api.routes.insert(
                key.into(),
                Arc::new(WsRoute {
                    route_id: key.into(),
                    route_key: key.into(),
                    integration: None,
                    responds: false,
                    authorization: WsAuthorization::None,
                    api_key_required: false,
                    validation: None,
                }),
            );
        }
        let key = |body: &str| api.route_for(body.as_bytes()).map(|r| r.route_key.as_str());
        assert_eq!(key(r#"{"action":"sendmessage"}"#), Some("sendmessage"));
        assert_eq!(key(r#"{"action":"other"}"#), Some("$default"));
        assert_eq!(key("not json"), Some("$default"));
        assert_eq!(
            key(r#"{"action":"$connect"}"#),
            Some("$default"),
            "no reserved route by message"
        );
    }
}
