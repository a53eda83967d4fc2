//! A WebSocket integration, compiled: what it calls (the REST integration that calls the same
//! backend), and for the non-proxy kinds (AWS, HTTP, MOCK) how a message becomes its request
//! (a request template picked by the template selection expression, request parameters from
//! the handshake, the message and the connection's context) and how its answer becomes the
//! message sent back (the integration response its response selection expression picks, and
//! that response's template). Proxy kinds pass both ways as they are.

use std::collections::BTreeMap;

use super::selection::{ResponseKey, SelectionExpression};
use crate::compiler::{CompiledIntegration, MappingTemplate, ParamSource, ParamTarget, compile_integration};
use crate::domain::enums::{ContentHandling, IntegrationType, PassthroughBehavior};
use crate::domain::http_api::{Integration, IntegrationResponse};
use crate::domain::rest_api;

/// What request templates' selection expressions may read.
pub const TEMPLATE_SELECTION_VARIABLES: &[&str] = &[
    "request.body.",
    "request.header.",
    "request.querystring.",
    "context.",
    "stageVariables.",
];

/// What integration response selection expressions (and their templates') may read.
pub const RESPONSE_SELECTION_VARIABLES: &[&str] = &[
    "integration.response.statuscode",
    "integration.response.body.",
    "integration.response.header.",
    "context.",
    "stageVariables.",
];

/// The integration response selection expression AWS gives a non-proxy integration: the
/// backend's status (HTTP, MOCK), or a Lambda function's error message (AWS).
pub fn default_response_selection(integration_type: &str) -> Option<&'static str> {
    match integration_type {
        "HTTP" | "MOCK" => Some("${integration.response.statuscode}"),
        "AWS" => Some("${integration.response.body.errorMessage}"),
        _ => None,
    }
}

/// A WebSocket integration's request parameter source: the handshake's headers and query
/// string (`route.request.header.{name}`, `route.request.querystring.{name}`), the message
/// (`route.request.body`, `route.request.body.{JSONPath}`), a stage variable, a static value,
/// or the connection's `$context` (`context.connectionId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsSource {
    Request(ParamSource),
    Context(String),
}

impl WsSource {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(name) = raw.strip_prefix("context.").filter(|n| !n.is_empty()) {
            return Ok(Self::Context(name.to_owned()));
        }
        let bad = || {
            format!(
                "Invalid mapping expression {raw}: expected route.request.header.{{name}}, route.request.querystring.{{name}}, route.request.body[.{{JSONPath}}], context.{{name}}, stageVariables.{{name}} or a 'static' value"
            )
        };
        let rewritten = match raw.strip_prefix("route.request.") {
            Some(rest) => format!("method.request.{rest}"),
            None if raw.starts_with("method.") => return Err(bad()),
            None => raw.to_owned(),
        };
        match ParamSource::parse(&rewritten).map_err(|_| bad())? {
            s @ (ParamSource::Static(_)
            | ParamSource::Header(_)
            | ParamSource::QueryString(_)
            | ParamSource::Body
            | ParamSource::BodyPath(_)
            | ParamSource::StageVariable(_)) => Ok(Self::Request(s)),
            _ => Err(bad()),
        }
    }
}

/// A request parameter's target: `integration.request.header.{name}`,
/// `integration.request.querystring.{name}` or `integration.request.path.{name}`.
pub fn parse_target(raw: &str) -> Result<ParamTarget, String> {
    match ParamTarget::parse(raw) {
        Ok(t @ (ParamTarget::Header(_) | ParamTarget::QueryString(_) | ParamTarget::Path(_))) => Ok(t),
        _ => Err(format!(
            "Invalid mapping target {raw}: expected integration.request.header.{{name}}, integration.request.querystring.{{name}} or integration.request.path.{{name}}"
        )),
    }
}

/// A WebSocket route's integration.
#[derive(Debug)]
pub struct WsIntegration {
    /// What is called, and how (its URI, function, role, timeout, request templates,
    /// passthrough behavior and content handling).
    pub call: CompiledIntegration,
    /// Proxy kinds (AWS_PROXY, HTTP_PROXY): no templates, no integration responses.
    pub proxy: bool,
    pub template_selection: Option<SelectionExpression>,
    pub parameters: Vec<(ParamTarget, WsSource)>,
    pub response_selection: Option<SelectionExpression>,
    /// The integration responses, `$default` last.
    pub responses: Vec<WsIntegrationResponse>,
}

/// How an integration's answer becomes the message sent back.
#[derive(Debug)]
pub struct WsIntegrationResponse {
    pub key: ResponseKey,
    pub template_selection: Option<SelectionExpression>,
    pub templates: BTreeMap<String, MappingTemplate>,
    pub content_handling: Option<ContentHandling>,
}

/// The template a key picks: its own, else the `$default` one. A message has no content
/// type: with no selection expression it is taken for `application/json`, the key AWS's
/// console and CDK write.
pub fn pick_template<'a>(
    templates: &'a BTreeMap<String, MappingTemplate>,
    key: Option<&str>,
) -> Option<&'a MappingTemplate> {
    templates
        .get(key.unwrap_or("application/json"))
        .or_else(|| templates.get("$default"))
}

/// A message the passthrough behavior refuses: no template is for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

impl WsIntegration {
    /// The request template for a message, when there is one to apply; `Err` when the
    /// passthrough behavior refuses a message no template is for.
    pub fn request_template(
        &self,
        lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Option<&MappingTemplate>, Unsupported> {
        let templates = &self.call.request_templates;
        if self.proxy || templates.is_empty() && self.call.passthrough_behavior != PassthroughBehavior::Never
        {
            return Ok(None);
        }
        let key = self.template_selection.as_ref().map(|e| e.evaluate(lookup));
        match pick_template(templates, key.as_ref().map(|k| k.as_deref().unwrap_or(""))) {
            Some(t) => Ok(Some(t)),
            None if self.call.passthrough_behavior == PassthroughBehavior::WhenNoMatch => Ok(None),
            None => Err(Unsupported),
        }
    }

    /// The integration response for an answer: the first key its selection value picks, the
    /// `$default` one last.
    pub fn response(&self, lookup: impl FnMut(&str) -> Option<String>) -> Option<&WsIntegrationResponse> {
        let value = self
            .response_selection
            .as_ref()
            .and_then(|e| e.evaluate(lookup))
            .unwrap_or_default();
        self.responses.iter().find(|r| r.key.picks(&value))
    }
}

/// Compiles a WebSocket integration and its integration responses.
pub fn compile(i: &Integration, responses: &[IntegrationResponse]) -> Result<WsIntegration, String> {
    let proxy = matches!(i.integration_type.as_str(), "AWS_PROXY" | "HTTP_PROXY");
    let call = compile_integration(&as_rest_integration(i)?)?;
    let template_selection = i
        .template_selection_expression
        .as_deref()
        .map(SelectionExpression::parse)
        .transpose()?;
    let parameters = i
        .request_parameters
        .iter()
        .map(|(t, s)| Ok((parse_target(t)?, WsSource::parse(s)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let response_selection = i
        .integration_response_selection_expression
        .as_deref()
        .or_else(|| default_response_selection(&i.integration_type))
        .map(SelectionExpression::parse)
        .transpose()?;
    let mut compiled = Vec::with_capacity(responses.len());
    for r in responses {
        compiled.push(WsIntegrationResponse {
            key: ResponseKey::parse(&r.integration_response_key)?,
            template_selection: r
                .template_selection_expression
                .as_deref()
                .map(SelectionExpression::parse)
                .transpose()?,
            templates: r
                .response_templates
                .iter()
                .map(|(k, v)| (k.clone(), MappingTemplate::compile(v)))
                .collect(),
            content_handling: r
                .content_handling_strategy
                .as_deref()
                .and_then(ContentHandling::parse),
        });
    }
    // Explicit keys first, in creation order, the catch-all last.
    compiled.sort_by_key(|r| r.key.is_default());
    Ok(WsIntegration {
        call,
        proxy,
        template_selection,
        parameters,
        response_selection,
        responses: compiled,
    })
}

/// The REST integration that calls what a WebSocket integration calls: a Lambda function
/// (AWS_PROXY, or AWS with a Lambda invocation URI), an AWS service's action (AWS), an HTTP URL
/// (HTTP_PROXY, HTTP), or nothing (MOCK).
fn as_rest_integration(i: &Integration) -> Result<rest_api::Integration, String> {
    // A Lambda function is named by its ARN or by its invocation URI, as in HTTP APIs.
    let function = || {
        i.integration_uri
            .as_deref()
            .map(crate::compiler::http_api::lambda_invocation_uri)
    };
    let (kind, uri) = match i.integration_type.as_str() {
        "AWS_PROXY" => (IntegrationType::AwsProxy, function()),
        "AWS" => (IntegrationType::Aws, function()),
        "HTTP_PROXY" => (IntegrationType::HttpProxy, i.integration_uri.clone()),
        "HTTP" => (IntegrationType::Http, i.integration_uri.clone()),
        "MOCK" => (IntegrationType::Mock, None),
        other => return Err(format!("integration type {other} is not one of WebSocket APIs'")),
    };
    Ok(rest_api::Integration {
        kind,
        http_method: i.integration_method.clone().or(Some("POST".into())),
        uri,
        connection_type: None,
        connection_id: None,
        credentials: i.credentials_arn.clone(),
        request_parameters: Default::default(),
        request_templates: i.request_templates.clone(),
        passthrough_behavior: i
            .passthrough_behavior
            .as_deref()
            .and_then(PassthroughBehavior::parse),
        content_handling: i
            .content_handling_strategy
            .as_deref()
            .and_then(ContentHandling::parse),
        timeout_in_millis: i.timeout_in_millis,
        cache_namespace: None,
        cache_key_parameters: vec![],
        integration_responses: Default::default(),
        tls_config: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integration(kind: &str) -> Integration {
        serde_json::from_value(serde_json::json!({
            "integrationId": "i", "integrationType": kind, "connectionType": "INTERNET",
            "timeoutInMillis": 29000,
        }))
        .unwrap()
    }

    fn response(key: &str) -> IntegrationResponse {
        serde_json::from_value(serde_json::json!({
            "integrationResponseId": key, "integrationResponseKey": key,
        }))
        .unwrap()
    }

    #[test]
    fn templates_are_picked_by_the_selection_expression_then_default() {
        let mut i = integration("MOCK");
        i.template_selection_expression = Some("$request.body.action".into());
        i.request_templates.insert("join".into(), "J".into());
        i.request_templates.insert("$default".into(), "D".into());
        let c = compile(&i, &[]).unwrap();
        let pick = |action: Option<&str>| {
            let t = c
                .request_template(|_| action.map(str::to_owned))
                .unwrap()
                .unwrap();
            std::ptr::eq(t, &c.call.request_templates["join"])
        };
        assert!(pick(Some("join")));
        assert!(!pick(Some("leave")));
        assert!(!pick(None));
    }

    #[test]
    fn passthrough_behaviors_decide_messages_no_template_is_for() {
        let mut i = integration("HTTP");
        i.integration_uri = Some("http://backend/".into());
        i.template_selection_expression = Some("\\$default".into());
        i.request_templates.insert("other".into(), "T".into());
        for (behavior, passes) in [
            ("WHEN_NO_MATCH", true),
            ("WHEN_NO_TEMPLATES", false),
            ("NEVER", false),
        ] {
            i.passthrough_behavior = Some(behavior.into());
            let c = compile(&i, &[]).unwrap();
            assert_eq!(c.request_template(|_| None).is_ok(), passes, "{behavior}");
        }
        i.request_templates.clear();
        i.passthrough_behavior = Some("WHEN_NO_TEMPLATES".into());
        assert!(compile(&i, &[]).unwrap().request_template(|_| None).is_ok());
    }

    #[test]
    fn integration_responses_are_picked_by_status_default_last() {
        let c = compile(
            &integration("MOCK"),
            &[response("$default"), response("/4\\d\\d/"), response("/2\\d\\d/")],
        )
        .unwrap();
        let key = |status: &str| {
            let r = c
                .response(|v| (v == "integration.response.statuscode").then(|| status.to_owned()))
                .unwrap();
            match &r.key {
                ResponseKey::Pattern(p) => p.as_str().to_owned(),
                ResponseKey::Default => "$default".into(),
                ResponseKey::Exact(e) => e.clone(),
            }
        };
        assert!(key("200").contains("2\\d\\d"));
        assert!(key("404").contains("4\\d\\d"));
        assert_eq!(key("500"), "$default");
    }

    #[test]
    fn request_parameters_read_the_route_request_and_the_context() {
        assert_eq!(
            WsSource::parse("context.connectionId").unwrap(),
            WsSource::Context("connectionId".into())
        );
        assert_eq!(
            WsSource::parse("route.request.header.Auth").unwrap(),
            WsSource::Request(ParamSource::Header("Auth".into()))
        );
        assert_eq!(
            WsSource::parse("route.request.body.user.id").unwrap(),
            WsSource::Request(ParamSource::BodyPath("user.id".into()))
        );
        assert!(WsSource::parse("method.request.header.x").is_err());
        assert!(WsSource::parse("integration.response.body").is_err());
        assert!(parse_target("integration.request.header.x").is_ok());
        assert!(parse_target("integration.request.multivalueheader.x").is_err());
    }
}
