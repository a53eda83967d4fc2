//! A REST API's documentation (`apigateway`): parts, each the properties (a JSON object) of
//! one place of the API (the API, a resource, a method, a parameter, a response, ...), and
//! versions, each the parts as they were when it was made.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A documentation part as GetDocumentationPart answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPart {
    pub id: String,
    pub location: Location,
    /// A JSON object, as text.
    pub properties: String,
}

/// Where a part documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Which fields a location of each type has: (path, method, status code, name); `Some` with
/// a default when it may be left out, `None` when it must not be given. A name is required
/// where the type has one.
type Fields = (
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);

fn fields(kind: &str) -> Option<Fields> {
    Some(match kind {
        "API" => (None, None, None, false),
        "AUTHORIZER" | "MODEL" => (None, None, None, true),
        "RESOURCE" => (Some("/"), None, None, false),
        "METHOD" | "REQUEST_BODY" => (Some("/"), Some("*"), None, false),
        "PATH_PARAMETER" | "QUERY_PARAMETER" | "REQUEST_HEADER" => (Some("/"), Some("*"), None, true),
        "RESPONSE" | "RESPONSE_BODY" => (Some("/"), Some("*"), Some("*"), false),
        "RESPONSE_HEADER" => (Some("/"), Some("*"), Some("*"), true),
        _ => return None,
    })
}

impl Location {
    /// The location as AWS keeps it (defaults filled in), or why it is not one.
    pub fn normalized(mut self) -> Result<Self, String> {
        let Some((path, method, status, named)) = fields(&self.kind) else {
            return Err(format!(
                "Invalid documentation part type {}: expected API, AUTHORIZER, MODEL, RESOURCE, METHOD, PATH_PARAMETER, QUERY_PARAMETER, REQUEST_HEADER, REQUEST_BODY, RESPONSE, RESPONSE_HEADER or RESPONSE_BODY",
                self.kind
            ));
        };
        let kind = self.kind.clone();
        let fill = |value: &mut Option<String>, default: Option<&str>, field: &str| match default {
            Some(d) => {
                value.get_or_insert_with(|| d.to_owned());
                Ok(())
            }
            None if value.is_some() => Err(format!(
                "Invalid documentation part location: a {kind} location has no {field}"
            )),
            None => Ok(()),
        };
        fill(&mut self.path, path, "path")?;
        fill(&mut self.method, method, "method")?;
        fill(&mut self.status_code, status, "statusCode")?;
        match (&self.name, named) {
            (None, true) => {
                return Err(format!(
                    "Invalid documentation part location: a {kind} location needs a name"
                ));
            }
            (Some(_), false) => {
                return Err(format!(
                    "Invalid documentation part location: a {kind} location has no name"
                ));
            }
            _ => {}
        }
        if let Some(p) = &self.path
            && !p.starts_with('/')
        {
            return Err(format!("Invalid documentation part location path {p}"));
        }
        if let Some(m) = &mut self.method {
            *m = m.to_ascii_uppercase();
        }
        Ok(self)
    }
}

/// Properties are a JSON object (as text), of at most 32 KB.
pub fn check_properties(properties: &str) -> Result<(), String> {
    if properties.len() > 32 << 10 {
        return Err("Documentation part properties must be at most 32 KB".into());
    }
    match serde_json::from_str::<serde_json::Value>(properties) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err("Documentation part properties must be a JSON object".into()),
    }
}

/// A documentation version as GetDocumentationVersion answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationVersion {
    pub version: String,
    pub created_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A version as stored: the version and the parts it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredVersion {
    #[serde(flatten)]
    pub version: DocumentationVersion,
    #[serde(default)]
    pub parts: Vec<DocumentationPart>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(kind: &str) -> Location {
        Location {
            kind: kind.into(),
            ..Location::default()
        }
    }

    #[test]
    fn locations_take_their_types_defaults_and_refuse_what_they_do_not_have() {
        let m = at("METHOD").normalized().unwrap();
        assert_eq!((m.path.as_deref(), m.method.as_deref()), (Some("/"), Some("*")));
        assert!(at("API").normalized().is_ok());
        let api_with_path = Location {
            path: Some("/pets".into()),
            ..at("API")
        };
        assert!(api_with_path.normalized().is_err());
        assert!(at("MODEL").normalized().is_err(), "a model needs a name");
        let header = Location {
            name: Some("x-id".into()),
            method: Some("get".into()),
            ..at("RESPONSE_HEADER")
        }
        .normalized()
        .unwrap();
        assert_eq!(header.status_code.as_deref(), Some("*"));
        assert_eq!(header.method.as_deref(), Some("GET"));
        assert!(at("NOPE").normalized().is_err());
        assert!(check_properties(r#"{"description": "hi"}"#).is_ok());
        assert!(check_properties("[1]").is_err());
    }
}
