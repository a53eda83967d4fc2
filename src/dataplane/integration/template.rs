//! Mapping templates at request time: the variables a template sees (`$input`, `$util`,
//! `$context`, `$stageVariables`) built from the method request, and what templates may change
//! through `$context.requestOverride` / `$context.responseOverride`.
//!
//! Template values are single-threaded (`Rc`), so nothing of them lives across an `.await`: the
//! overrides a template leaves behind are kept as plain JSON in the request's context and put
//! back into `$context` for the next template of the same request.

use std::rc::Rc;

use http::{HeaderName, HeaderValue};

use crate::compiler::MappingTemplate;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::{MethodRequest, context_value};
use crate::domain::enums::GatewayResponseType;
use crate::vtl::apigateway::{Input, Params, Util};
use crate::vtl::value::MapEntries;
use crate::vtl::{self, Limits, Value, Vars};

/// What templates of one request have set in `$context.requestOverride` and
/// `$context.responseOverride`.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub request: serde_json::Map<String, serde_json::Value>,
    pub response: serde_json::Map<String, serde_json::Value>,
}

impl Overrides {
    fn section<'a>(
        map: &'a serde_json::Map<String, serde_json::Value>,
        name: &str,
    ) -> Vec<(&'a str, String)> {
        map.get(name)
            .and_then(|v| v.as_object())
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), plain_string(v)?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn request_headers(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "header")
    }

    pub fn request_query(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "querystring")
    }

    pub fn request_path(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "path")
    }

    pub fn response_headers(&self) -> Vec<(&str, String)> {
        Self::section(&self.response, "header")
    }

    pub fn response_status(&self) -> Option<u16> {
        match self.response.get("status")? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s| (100..=599).contains(s))
    }

    /// Applies the response overrides to a method response.
    pub fn apply_to_response(&self, res: &mut http::Response<crate::dataplane::Body>) {
        if let Some(status) = self
            .response_status()
            .and_then(|s| http::StatusCode::from_u16(s).ok())
        {
            *res.status_mut() = status;
        }
        for (name, value) in self.response_headers() {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                res.headers_mut().insert(n, v);
            }
        }
    }
}

fn plain_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Renders `template` over `payload` (the method request's body, or the integration's answer).
pub fn render(
    template: &MappingTemplate,
    payload: &[u8],
    req: &MethodRequest<'_>,
    ctx: &mut RequestContext,
) -> Result<String, GatewayError> {
    let parsed = template.parsed.as_ref().map_err(|e| {
        tracing::debug!(error = %e, "mapping template does not parse");
        GatewayError::internal()
    })?;
    let mut vars = Vars::with_capacity(6);
    if parsed.uses("input") {
        let params = Params {
            path: req
                .path_params
                .iter()
                .map(|(k, v, _)| ((*k).to_owned(), v.clone()))
                .collect(),
            querystring: req.query.clone(),
            header: req
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
        };
        vars.insert(
            "input".into(),
            Value::Object(Rc::new(Input::new(payload, &params))),
        );
    }
    if parsed.uses("util") {
        vars.insert("util".into(), Value::Object(Rc::new(Util)));
    }
    if parsed.uses("stageVariables") {
        let map: MapEntries = req
            .variables
            .iter()
            .map(|(k, v)| (Rc::from(k.as_str()), Value::from(v.as_str())))
            .collect();
        vars.insert("stageVariables".into(), Value::map(map));
    }
    let context = parsed.uses("context").then(|| context_map(ctx));
    if let Some(c) = &context {
        vars.insert("context".into(), c.clone());
    }
    let out = parsed
        .render(&mut vars, &Limits::default())
        .map_err(|e| match e {
            vtl::Error::InvalidInput(message) => {
                GatewayError::new(GatewayResponseType::BadRequestBody, 400, message)
            }
            other => {
                tracing::debug!(error = %other, "mapping template failed");
                GatewayError::internal()
            }
        })?;
    if let Some(Value::Map(c)) = context {
        let c = c.entries.borrow();
        let overrides = ctx.overrides.get_or_insert_with(Default::default);
        if let Some(serde_json::Value::Object(o)) = c.get("requestOverride").map(to_json) {
            overrides.request = o;
        }
        if let Some(serde_json::Value::Object(o)) = c.get("responseOverride").map(to_json) {
            overrides.response = o;
        }
    }
    Ok(out)
}

/// `$context` as templates read it, with the overrides earlier templates of this request set.
fn context_map(ctx: &RequestContext) -> Value {
    let mut m = MapEntries::with_capacity(24);
    let put = |m: &mut MapEntries, k: &str, v: Option<String>| {
        m.insert(Rc::from(k), v.map(Value::from).unwrap_or_default());
    };
    for name in [
        "requestId",
        "extendedRequestId",
        "httpMethod",
        "path",
        "protocol",
        "stage",
        "apiId",
        "accountId",
        "deploymentId",
        "resourceId",
        "resourcePath",
        "domainName",
        "domainPrefix",
        "requestTime",
        "requestTimeEpoch",
    ] {
        put(&mut m, name, context_value(ctx, name));
    }
    let mut identity = MapEntries::with_capacity(4);
    put(&mut identity, "sourceIp", Some(ctx.source_ip.clone()));
    put(&mut identity, "userAgent", ctx.user_agent.clone());
    m.insert(Rc::from("identity"), Value::map(identity));
    m.insert(Rc::from("authorizer"), Value::empty_map());
    let overrides = ctx.overrides.as_deref();
    let section = |kept: Option<&serde_json::Map<String, serde_json::Value>>, names: &[&str]| {
        let mut s = MapEntries::with_capacity(names.len());
        for n in names {
            s.insert(Rc::from(*n), Value::empty_map());
        }
        for (k, v) in kept.into_iter().flatten() {
            s.insert(Rc::from(k.as_str()), Value::from_json(v));
        }
        Value::map(s)
    };
    m.insert(
        Rc::from("requestOverride"),
        section(overrides.map(|o| &o.request), &["header", "querystring", "path"]),
    );
    m.insert(
        Rc::from("responseOverride"),
        section(overrides.map(|o| &o.response), &["header"]),
    );
    Value::map(m)
}

/// A template value as plain JSON.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Define(_) => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(l.items.borrow().iter().map(to_json).collect()),
        Value::Map(m) => serde_json::Value::Object(
            m.entries
                .borrow()
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
        Value::Object(_) => serde_json::Value::String(v.to_java_string()),
    }
}
