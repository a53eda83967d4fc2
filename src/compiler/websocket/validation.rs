//! What a WebSocket route validates, compiled once per deployment: the handshake's required
//! headers and query string parameters (`route.request.header.{name}`,
//! `route.request.querystring.{name}` with `required: true`, checked at `$connect`), and the
//! model a message must match: the one its route's model selection expression picks among the
//! route's request models, else the `$default` one (none: the message is refused).

use std::collections::BTreeMap;

use super::selection::SelectionExpression;
use crate::compiler::validation::{Models, ParamLocation, RequiredParam, Schema};
use crate::domain::http_api::Route;

/// What a model selection expression may read: the message.
pub const MODEL_SELECTION_VARIABLES: &[&str] = &["request.body."];

#[derive(Debug)]
pub struct WsValidation {
    /// Headers first, then query string parameters, each by name (AWS's order).
    pub required_parameters: Vec<RequiredParam>,
    pub model_selection: Option<SelectionExpression>,
    /// Schemas by request model key.
    pub models: BTreeMap<String, Schema>,
}

/// Where a route request parameter is read: `route.request.header.{name}` or
/// `route.request.querystring.{name}`.
pub fn parameter(key: &str) -> Result<RequiredParam, String> {
    let rest = key.strip_prefix("route.request.").unwrap_or_default();
    let found = if let Some(name) = rest.strip_prefix("header.") {
        Some((ParamLocation::Header, name))
    } else {
        rest.strip_prefix("querystring.")
            .map(|name| (ParamLocation::QueryString, name))
    };
    match found {
        Some((location, name)) if !name.is_empty() => Ok(RequiredParam {
            location,
            name: name.to_owned(),
        }),
        _ => Err(format!(
            "Invalid request parameter {key}: expected route.request.header.{{name}} or route.request.querystring.{{name}}"
        )),
    }
}

/// A message no request model of its route is for (and no `$default` one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoModel;

impl WsValidation {
    /// The route's validation, when it asks anything.
    pub fn compile(route: &Route, models: &mut Models<'_>) -> Result<Option<Self>, String> {
        let mut required_parameters = Vec::new();
        for (key, constraints) in &route.request_parameters {
            let p = parameter(key)?;
            if constraints.required {
                required_parameters.push(p);
            }
        }
        required_parameters.sort_by_key(|p| p.location != ParamLocation::Header);
        let model_selection = route
            .model_selection_expression
            .as_deref()
            .map(SelectionExpression::parse)
            .transpose()?;
        let models: BTreeMap<String, Schema> = route
            .request_models
            .iter()
            .map(|(key, model)| (key.clone(), models.schema(model)))
            .collect();
        if required_parameters.is_empty() && models.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            required_parameters,
            model_selection,
            models,
        }))
    }

    /// The schema a message must match, when the route has request models: the one whose key
    /// the model selection expression gives, else `$default`'s; `Err` when there is none.
    pub fn schema(&self, lookup: impl FnMut(&str) -> Option<String>) -> Option<Result<&Schema, NoModel>> {
        if self.models.is_empty() {
            return None;
        }
        let key = self.model_selection.as_ref().and_then(|e| e.evaluate(lookup));
        let found = key
            .and_then(|k| self.models.get(&k))
            .or_else(|| self.models.get("$default"));
        Some(found.ok_or(NoModel))
    }
}
