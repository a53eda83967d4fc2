//! What a WebSocket event's selection expressions, request parameters and mapping templates
//! read: the message (`$request.body.*`, `$input`), the handshake's headers and query string,
//! the event's `requestContext` (`$context.connectionId` and the rest, as the Lambda event
//! has it) and the stage's variables; and for an integration's answer, its status, headers
//! and body (`$integration.response.*`).

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use super::event::{ConnectionInfo, EventType, request_context};
use crate::compiler::websocket::mapping::WsSource;
use crate::compiler::{MappingTemplate, ParamSource};
use crate::vtl::apigateway::{Input, Params, Util};
use crate::vtl::{Limits, Value, Vars};

/// One event of a connection, as its mappings see it.
pub struct Scope<'a> {
    pub info: &'a ConnectionInfo,
    pub variables: &'a BTreeMap<String, String>,
    /// The message (empty for `$connect` and `$disconnect`).
    pub body: &'a [u8],
    pub context: Map<String, Json>,
}

/// An integration's answer, for the integration response's selection and templates.
pub struct Answer<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> Scope<'a> {
    pub fn new(
        info: &'a ConnectionInfo,
        kind: EventType,
        route_key: &str,
        request: &(String, String),
        variables: &'a BTreeMap<String, String>,
        body: &'a [u8],
    ) -> Self {
        Self {
            info,
            variables,
            body,
            context: request_context(info, kind, route_key, request),
        }
    }

    /// `$context.{name}` (`identity.sourceIp`, `authorizer.principalId`: dotted into the
    /// groups), as text.
    pub fn context(&self, name: &str) -> Option<String> {
        let mut parts = name.split('.');
        let mut at = self.context.get(parts.next()?)?;
        for p in parts {
            at = at.get(p)?;
        }
        match at {
            Json::Null | Json::Object(_) | Json::Array(_) => None,
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        let found = self
            .info
            .headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.clone())
    }

    fn query(&self, name: &str) -> Option<String> {
        let found = self.info.query.iter().rev().find(|(k, _)| k == name);
        found.map(|(_, v)| v.clone())
    }

    /// A request variable of a selection expression: `request.body.{path}`,
    /// `request.header.{name}`, `request.querystring.{name}`, `context.{name}`,
    /// `stageVariables.{name}`.
    pub fn variable(&self, name: &str) -> Option<String> {
        if let Some(path) = name.strip_prefix("request.body.") {
            return crate::dataplane::request::body_path(self.body, path);
        }
        if let Some(h) = name.strip_prefix("request.header.") {
            return self.header(h);
        }
        if let Some(q) = name.strip_prefix("request.querystring.") {
            return self.query(q);
        }
        if let Some(c) = name.strip_prefix("context.") {
            return self.context(c);
        }
        name.strip_prefix("stageVariables.")
            .and_then(|v| self.variables.get(v).cloned())
    }

    /// A variable of an integration response's selection expression: the answer's
    /// `integration.response.statuscode`, `.header.{name}`, `.body.{path}`, or a request one.
    pub fn answer_variable(&self, answer: &Answer<'_>, name: &str) -> Option<String> {
        match name.strip_prefix("integration.response.") {
            Some("statuscode") => Some(answer.status.to_string()),
            Some(rest) => {
                if let Some(path) = rest.strip_prefix("body.") {
                    return crate::dataplane::request::body_path(answer.body, path);
                }
                let h = rest.strip_prefix("header.")?;
                let found = answer.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h));
                found.map(|(_, v)| v.clone())
            }
            None => self.variable(name),
        }
    }

    /// A request parameter's value.
    pub fn parameter(&self, source: &WsSource) -> Option<String> {
        match source {
            WsSource::Context(name) => self.context(name),
            WsSource::Request(s) => match s {
                ParamSource::Static(v) => Some(v.clone()),
                ParamSource::Header(h) => self.header(h),
                ParamSource::QueryString(q) => self.query(q),
                ParamSource::Body => Some(String::from_utf8_lossy(self.body).into_owned()),
                ParamSource::BodyPath(p) => crate::dataplane::request::body_path(self.body, p),
                ParamSource::StageVariable(v) => self.variables.get(v).cloned(),
                _ => None,
            },
        }
    }

    /// Renders `template` over `payload` (the message, or the integration's answer), with
    /// `$input`, `$context`, `$stageVariables` and `$util`.
    pub fn render(&self, template: &MappingTemplate, payload: &[u8]) -> Result<String, String> {
        let parsed = template
            .parsed
            .as_ref()
            .map_err(|e| format!("the mapping template does not parse: {e}"))?;
        let mut vars = Vars::with_capacity_and_hasher(4, Default::default());
        if parsed.uses("input") {
            let params = Params {
                path: Vec::new(),
                querystring: self.info.query.clone(),
                header: self.info.headers.clone(),
            };
            vars.insert(
                "input".into(),
                Value::Object(Rc::new(Input::new(payload, params))),
            );
        }
        if parsed.uses("util") {
            vars.insert("util".into(), Value::Object(Rc::new(Util)));
        }
        if parsed.uses("stageVariables") {
            let mut map = crate::vtl::value::entries(self.variables.len());
            for (k, v) in self.variables {
                map.insert(Rc::from(k.as_str()), Value::from(v.as_str()));
            }
            vars.insert("stageVariables".into(), Value::map(map));
        }
        if parsed.uses("context") {
            vars.insert(
                "context".into(),
                Value::from_json(&Json::Object(self.context.clone())),
            );
        }
        parsed
            .render(&vars, &Limits::default())
            .map_err(|e| format!("the mapping template failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ConnectionInfo {
        ConnectionInfo {
            connection_id: "c1=".into(),
            connected_at: std::time::SystemTime::UNIX_EPOCH,
            api_id: "api".into(),
            stage: "prod".into(),
            domain_name: "api.execute-api.localhost".into(),
            source_ip: "10.0.0.1".into(),
            user_agent: None,
            headers: vec![("X-Team".into(), "blue".into())],
            query: vec![("room".into(), "7".into())],
            authorizer: Some(serde_json::json!({"principalId": "ann", "tier": "gold"})),
            api_key: None,
        }
    }

    #[test]
    fn templates_and_parameters_read_the_message_the_handshake_and_the_context() {
        let info = info();
        let vars = BTreeMap::from([("env".to_owned(), "test".to_owned())]);
        let request = ("r1".to_owned(), "x1".to_owned());
        let scope = Scope::new(
            &info,
            EventType::Message,
            "send",
            &request,
            &vars,
            br#"{"action":"send","text":"hi"}"#,
        );
        let template = MappingTemplate::compile(
            r#"{"id":"$context.connectionId","route":"$context.routeKey","who":"$context.authorizer.principalId","ip":"$context.identity.sourceIp","text":$input.json('$.text'),"team":"$input.params('X-Team')","env":"$stageVariables.env"}"#,
        );
        let out: Json = serde_json::from_str(&scope.render(&template, scope.body).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"id":"c1=","route":"send","who":"ann","ip":"10.0.0.1","text":"hi","team":"blue","env":"test"})
        );
        assert_eq!(scope.variable("request.body.action").as_deref(), Some("send"));
        assert_eq!(scope.variable("request.querystring.room").as_deref(), Some("7"));
        assert_eq!(scope.variable("context.authorizer.tier").as_deref(), Some("gold"));
        assert_eq!(
            scope
                .parameter(&WsSource::parse("context.connectionId").unwrap())
                .as_deref(),
            Some("c1=")
        );
        assert_eq!(
            scope
                .parameter(&WsSource::parse("route.request.header.x-team").unwrap())
                .as_deref(),
            Some("blue")
        );
        let answer = Answer {
            status: 404,
            headers: &[],
            body: br#"{"errorMessage":"nope"}"#,
        };
        assert_eq!(
            scope
                .answer_variable(&answer, "integration.response.statuscode")
                .as_deref(),
            Some("404")
        );
        assert_eq!(
            scope
                .answer_variable(&answer, "integration.response.body.errorMessage")
                .as_deref(),
            Some("nope")
        );
    }
}
