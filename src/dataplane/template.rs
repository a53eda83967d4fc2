//! Mapping templates at request time: the variables a template sees (`$input`, `$util`,
//! `$context`, `$stageVariables`) built from the method request, and what templates may change
//! through `$context.requestOverride` / `$context.responseOverride`.
//!
//! Template values are single-threaded (`Rc`), so nothing of them lives across an `.await`: the
//! overrides a template leaves behind are kept as plain JSON in the request's context and put
//! back into `$context` for the next template of the same request.

use std::cell::RefCell;
use std::rc::Rc;

use crate::compiler::MappingTemplate;
use crate::compiler::context::ContextField;
use crate::dataplane::context::{Overrides, RequestContext};
use crate::dataplane::request::MethodRequest;
use crate::vtl::apigateway::{Input, Params, Util};
use crate::vtl::value::{MapEntries, Object};
use crate::vtl::{self, Limits, Value, Vars};

/// Why a template gave no output.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The request's input is not what the template reads (a body that is not JSON): AWS's
    /// 400.
    #[error("{0}")]
    InvalidInput(String),
    /// The template does not parse, or failed (a limit, a bad regular expression): AWS's 500.
    #[error("the mapping template failed: {0}")]
    Failed(String),
}

/// Renders `template` over `payload` (the method request's body, or the integration's answer).
pub fn render(
    template: &MappingTemplate,
    payload: &[u8],
    req: &MethodRequest<'_>,
    ctx: &mut RequestContext<'_>,
) -> Result<String, TemplateError> {
    let parsed = template
        .parsed
        .as_ref()
        .map_err(|e| TemplateError::Failed(format!("it does not parse: {e}")))?;
    let mut vars = Vars::with_capacity_and_hasher(8, Default::default());
    if parsed.uses("input") {
        let params = Params {
            path: req
                .path_params
                .iter()
                .map(|(k, v, _)| ((*k).to_owned(), v.to_string()))
                .collect(),
            querystring: req.query.clone(),
            header: header_params(req.fields),
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
        let mut map = crate::vtl::value::entries(req.variables.len());
        for (k, v) in req.variables {
            map.insert(Rc::from(k.as_str()), Value::from(v.as_str()));
        }
        vars.insert("stageVariables".into(), Value::map(map));
    }
    let context = parsed.uses("context").then(|| Rc::new(ContextVar::new(ctx)));
    if let Some(c) = &context {
        vars.insert("context".into(), Value::Object(c.clone()));
    }
    let out = parsed.render(&vars, &Limits::default()).map_err(|e| match e {
        vtl::Error::InvalidInput(message) => TemplateError::InvalidInput(message),
        other => TemplateError::Failed(other.to_string()),
    })?;
    if let Some(c) = context {
        c.keep_overrides(ctx);
    }
    Ok(out)
}

/// A gateway response's body template, with the request's `$context` (its `error.*` set by the
/// rescue: message, messageString, responseType, validationErrorString) and `$util`; nothing
/// when it fails (the rescue then answers AWS's default body: a failure must not fail again).
pub fn render_gateway(template: &MappingTemplate, ctx: &RequestContext<'_>) -> Option<String> {
    let parsed = template.parsed.as_ref().ok()?;
    let mut vars = Vars::with_capacity_and_hasher(2, Default::default());
    if parsed.uses("util") {
        vars.insert("util".into(), Value::Object(Rc::new(Util)));
    }
    if parsed.uses("context") {
        vars.insert("context".into(), Value::Object(Rc::new(ContextVar::new(ctx))));
    }
    parsed
        .render(&vars, &Limits::default())
        .inspect_err(|e| tracing::debug!(error = %e, "gateway response template failed"))
        .ok()
}

/// `$context`: the request's `$context` variables (as [`RequestContext::field`] answers them,
/// copied: a template's values outlive the borrow of the request), the groups of dotted ones
/// (`$context.identity`, `$context.error`) and the override maps, made when a template first
/// reads them, and what templates set.
struct ContextVar {
    values: Vec<(ContextField, Value)>,
    /// What the authorizer passed on (`$context.authorizer.*`).
    authorizer: Option<std::sync::Arc<crate::dataplane::identity::Authorization>>,
    /// What earlier templates of the request left in the override maps.
    kept: Option<Overrides>,
    /// Maps made when first read, and what templates set: kept, so that what a template sets
    /// in them stays.
    made: RefCell<MapEntries>,
}

impl ContextVar {
    fn new(ctx: &RequestContext<'_>) -> Self {
        let values = ContextField::ALL
            .iter()
            .copied()
            .filter(|f| f.in_templates())
            .filter_map(|f| {
                let v = ctx.field(f)?;
                let value = match f {
                    ContextField::IsCanaryRequest => Value::Bool(v == "true"),
                    f if f.is_number() => Value::Int(v.parse().ok()?),
                    _ => Value::from(v.as_ref()),
                };
                Some((f, value))
            })
            .collect();
        Self {
            values,
            authorizer: ctx.authorizer.clone(),
            kept: ctx.overrides.as_deref().cloned(),
            made: RefCell::new(MapEntries::default()),
        }
    }

    /// `requestOverride` / `responseOverride`: empty sections, plus what earlier templates of
    /// this request set.
    fn override_map(kept: Option<&serde_json::Map<String, serde_json::Value>>, sections: &[&str]) -> Value {
        let mut m = crate::vtl::value::entries(sections.len() + 2);
        for s in sections {
            m.insert(Rc::from(*s), Value::empty_map());
        }
        for (k, v) in kept.into_iter().flatten() {
            m.insert(Rc::from(k.as_str()), Value::from_json(v));
        }
        Value::map(m)
    }

    /// The variables named `{group}.*`, as a map; nothing when there are none.
    fn group(&self, group: &str) -> Value {
        let mut m = crate::vtl::value::entries(4);
        for (f, v) in &self.values {
            if let Some(name) = f.name().strip_prefix(group).and_then(|n| n.strip_prefix('.')) {
                m.insert(Rc::from(name), v.clone());
            }
        }
        if m.is_empty() { Value::Null } else { Value::map(m) }
    }

    /// `$context.authorizer`: the principal, the authorizer's latency, its context's values (as
    /// they came: strings, numbers, booleans) and a user pool token's claims; empty for a
    /// method without an authorizer.
    fn authorizer_map(&self) -> Value {
        let mut m = match self.group("authorizer") {
            Value::Map(m) => m.entries.borrow().clone(),
            _ => crate::vtl::value::entries(4),
        };
        if let Some(a) = &self.authorizer {
            for (k, v) in &a.context {
                m.insert(Rc::from(k.as_str()), Value::from_json(v));
            }
            if let Some(claims) = &a.claims {
                let mut c = crate::vtl::value::entries(claims.len());
                for (k, v) in claims {
                    c.insert(
                        Rc::from(k.as_str()),
                        Value::from(crate::dataplane::identity::text(v).as_ref()),
                    );
                }
                m.insert(Rc::from("claims"), Value::map(c));
            }
        }
        Value::map(m)
    }

    /// Puts what this template left in the override maps where the next template (and the
    /// response) will find it.
    fn keep_overrides(&self, ctx: &mut RequestContext<'_>) {
        let made = self.made.borrow();
        let request = made.get("requestOverride").map(to_json);
        let response = made.get("responseOverride").map(to_json);
        if request.is_none() && response.is_none() {
            return;
        }
        let overrides = ctx.overrides.get_or_insert_with(Default::default);
        if let Some(serde_json::Value::Object(o)) = request {
            overrides.request = o;
        }
        if let Some(serde_json::Value::Object(o)) = response {
            overrides.response = o;
        }
    }
}

impl Object for ContextVar {
    fn property(&self, name: &str) -> Result<Value, vtl::Error> {
        // The request's own variables first: a template cannot change what they say.
        if let Some(f) = ContextField::parse(name) {
            let value = self.values.iter().find(|(g, _)| *g == f).map(|(_, v)| v.clone());
            return Ok(value.unwrap_or_default());
        }
        if let Some(v) = self.made.borrow().get(name) {
            return Ok(v.clone());
        }
        let made = match name {
            "requestOverride" => Self::override_map(
                self.kept.as_ref().map(|k| &k.request),
                &["header", "querystring", "path"],
            ),
            "responseOverride" => Self::override_map(self.kept.as_ref().map(|k| &k.response), &["header"]),
            "authorizer" => self.authorizer_map(),
            group => match self.group(group) {
                Value::Null => return Ok(Value::Null),
                map => map,
            },
        };
        self.made.borrow_mut().insert(Rc::from(name), made.clone());
        Ok(made)
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Value, vtl::Error> {
        match (name, args) {
            ("get", [key]) => self.property(&key.to_java_string()),
            _ => Ok(Value::Null),
        }
    }

    fn set(&self, name: &str, value: Value) -> Result<(), vtl::Error> {
        self.made.borrow_mut().insert(Rc::from(name), value);
        Ok(())
    }
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

/// `$input.params().header`: each header under the name as the client spelled it (its first
/// spelling, as AWS keeps it), with its last value.
fn header_params(fields: &crate::dataplane::h1::RawFields) -> Vec<(String, String)> {
    let mut grouped = crate::dataplane::h1::TextFields::default();
    for (name, value) in fields.iter() {
        grouped.add(name, value);
    }
    grouped
        .iter()
        .filter_map(|(name, values)| Some((name.to_owned(), (*values.last()?).to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_keep_the_clients_spelling_and_the_last_value() {
        let mut head = bytes::BytesMut::from(
            "GET / HTTP/1.1\r\nHost: a\r\ntEsT-HEADeR: aValUE\r\nX-Many: 1\r\nx-many: 2\r\n\r\n",
        );
        let head = crate::dataplane::h1::server::parse_request(&mut head)
            .unwrap()
            .unwrap();
        let header = header_params(&head.fields);
        let pairs: Vec<(&str, &str)> = header.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("Host", "a"), ("tEsT-HEADeR", "aValUE"), ("X-Many", "2")]);
    }
}

#[cfg(test)]
mod context_tests {
    use super::*;
    use crate::dataplane::context::Peer;

    #[test]
    fn is_canary_request_reads_as_a_boolean_and_answer_values_are_not_offered() {
        static PEER: std::sync::LazyLock<Peer> =
            std::sync::LazyLock::new(|| Peer::new("10.0.0.1:5".parse().unwrap(), 8080));
        let uri = Box::leak(Box::new(http::Uri::from_static("/dev/x")));
        let mut ctx = RequestContext::new(
            &http::Method::GET,
            uri,
            Default::default(),
            &PEER,
            std::time::Instant::now(),
        );
        let render = |ctx: &RequestContext<'_>| {
            let t = vtl::Template::parse(
                "#if($context.isCanaryRequest)canary#{else}main#end $context.requestTimeEpoch.class.simpleName|$context.status|",
            )
            .unwrap();
            let mut vars = Vars::default();
            vars.insert("context".into(), Value::Object(Rc::new(ContextVar::new(ctx))));
            t.render(&vars, &Limits::default()).unwrap()
        };
        assert!(render(&ctx).starts_with("main "), "{}", render(&ctx));
        ctx.is_canary = true;
        assert!(render(&ctx).starts_with("canary "));
        assert!(
            render(&ctx).ends_with("||"),
            "no status while templates run: {}",
            render(&ctx)
        );
    }
}
