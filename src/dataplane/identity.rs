//! What authorization established about a request's caller: the principal an authorizer named,
//! the values it passed on (a Lambda authorizer's `context`, a user pool token's claims) and the
//! API key it chose. Read by `$context.authorizer.*` (templates, mappings, access logs), Lambda
//! proxy events and the API key step. Imports nothing of the data plane, so the context and the
//! authorizers both import it without a loop.

use std::borrow::Cow;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authorization {
    pub principal_id: Option<String>,
    /// A Lambda authorizer's `context`: string, number and boolean values, in its order.
    pub context: Vec<(String, Value)>,
    /// A Cognito user pool token's claims.
    pub claims: Option<Map<String, Value>>,
    /// `usageIdentifierKey`: the API key, for APIs whose apiKeySource is AUTHORIZER.
    pub usage_identifier_key: Option<String>,
}

impl Authorization {
    /// `$context.authorizer.{key}`: a context value as text.
    pub fn value(&self, key: &str) -> Option<Cow<'_, str>> {
        if key == "principalId" {
            return self.principal_id.as_deref().map(Cow::Borrowed);
        }
        self.context.iter().find(|(k, _)| k == key).map(|(_, v)| text(v))
    }

    /// `$context.authorizer.claims.{name}`.
    pub fn claim(&self, name: &str) -> Option<Cow<'_, str>> {
        self.claims.as_ref()?.get(name).map(text)
    }
}

/// A JSON value as the text API Gateway passes on: strings as they are, other values as JSON.
pub fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}
