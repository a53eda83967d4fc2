//! Request validation, compiled once per deployment: the parameters a method requires and the
//! JSON Schema (draft 4) of its request models, `$ref`s between the API's models resolved from
//! the snapshot (never fetched).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::domain::rest_api::Method;
use crate::domain::snapshot::Snapshot;

/// Where a required parameter is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    Header,
    Path,
    QueryString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredParam {
    pub location: ParamLocation,
    pub name: String,
}

/// A model's compiled schema, or why it did not compile (answered as a 500 when a request
/// needs it, so one bad model does not refuse the whole deployment).
pub type Schema = Arc<Result<jsonschema::Validator, String>>;

#[derive(Debug)]
pub struct CompiledValidation {
    /// In AWS's order for its message: headers, then path, then query string, each by name.
    pub required_parameters: Vec<RequiredParam>,
    /// Schemas by request Content-Type (media type, lowercase).
    pub body_schemas: BTreeMap<String, Schema>,
}

/// The URL by which one model of an API refers to another in `$ref`.
pub fn model_url(api_id: &str, name: &str) -> String {
    format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}")
}

/// Compiles models on demand, each once per snapshot.
pub struct Models<'s> {
    /// The REST API's request validators (none for a WebSocket API's models).
    validators: Option<&'s Snapshot>,
    api_id: &'s str,
    /// Each model's schema, by name.
    schemas: BTreeMap<&'s str, &'s str>,
    compiled: HashMap<String, Schema>,
    /// Every model's schema by its URL, parsed once, for `$ref`s to resolve against.
    by_url: Option<Arc<HashMap<String, serde_json::Value>>>,
}

struct SnapshotModels(Arc<HashMap<String, serde_json::Value>>);

impl jsonschema::Retrieve for SnapshotModels {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("no model at {uri}").into())
    }
}

impl<'s> Models<'s> {
    /// A REST API's models and request validators.
    pub fn new(snapshot: &'s Snapshot) -> Self {
        let schemas = snapshot
            .models
            .values()
            .map(|m| (m.name.as_str(), m.schema.as_deref().unwrap_or("{}")));
        Self {
            validators: Some(snapshot),
            ..Self::of(&snapshot.rest_api.id, schemas)
        }
    }

    /// An API's models, as (name, schema).
    pub fn of(api_id: &'s str, models: impl IntoIterator<Item = (&'s str, &'s str)>) -> Self {
        Self {
            validators: None,
            api_id,
            schemas: models.into_iter().collect(),
            compiled: HashMap::new(),
            by_url: None,
        }
    }

    fn by_url(&mut self) -> Arc<HashMap<String, serde_json::Value>> {
        let (api_id, schemas) = (self.api_id, &self.schemas);
        self.by_url
            .get_or_insert_with(|| {
                Arc::new(
                    schemas
                        .iter()
                        .filter_map(|(name, schema)| {
                            Some((model_url(api_id, name), serde_json::from_str(schema).ok()?))
                        })
                        .collect(),
                )
            })
            .clone()
    }

    /// The model `name`'s schema, compiled once.
    pub fn schema(&mut self, name: &str) -> Schema {
        if let Some(s) = self.compiled.get(name) {
            return s.clone();
        }
        let by_url = self.by_url();
        let compiled = Arc::new(self.compile(name, by_url));
        self.compiled.insert(name.to_owned(), compiled.clone());
        compiled
    }

    fn compile(
        &self,
        name: &str,
        by_url: Arc<HashMap<String, serde_json::Value>>,
    ) -> Result<jsonschema::Validator, String> {
        let model = self
            .schemas
            .get(name)
            .ok_or_else(|| format!("model {name} does not exist"))?;
        let schema: serde_json::Value =
            serde_json::from_str(model).map_err(|e| format!("model {name}: {e}"))?;
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_retriever(SnapshotModels(by_url))
            .build(&schema)
            .map_err(|e| format!("model {name}: {e}"))
    }

    /// What the method's validator asks of its requests, if it has one that asks anything.
    pub fn for_method(&mut self, method: &Method) -> Option<CompiledValidation> {
        let validator = self
            .validators?
            .request_validators
            .get(method.request_validator_id.as_deref()?)?;
        let mut required_parameters = Vec::new();
        if validator.validate_request_parameters {
            // The map's key order (header < path < querystring, then by name) is AWS's.
            for (key, required) in &method.request_parameters {
                let Some(rest) = key.strip_prefix("method.request.").filter(|_| *required) else {
                    continue;
                };
                let (location, name) = if let Some(n) = rest.strip_prefix("header.") {
                    (ParamLocation::Header, n)
                } else if let Some(n) = rest.strip_prefix("path.") {
                    (ParamLocation::Path, n)
                } else if let Some(n) = rest.strip_prefix("querystring.") {
                    (ParamLocation::QueryString, n)
                } else {
                    continue;
                };
                required_parameters.push(RequiredParam {
                    location,
                    name: name.to_owned(),
                });
            }
        }
        let mut body_schemas = BTreeMap::new();
        if validator.validate_request_body {
            for (content_type, model) in &method.request_models {
                body_schemas.insert(content_type.to_ascii_lowercase(), self.schema(model));
            }
        }
        (!required_parameters.is_empty() || !body_schemas.is_empty()).then_some(CompiledValidation {
            required_parameters,
            body_schemas,
        })
    }
}
