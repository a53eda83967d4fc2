//! The method request as mapping expressions see it: path parameters (decoded), query string,
//! headers, stage variables and `$context`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use http::HeaderMap;

use super::context::RequestContext;
use super::h1::RawFields;
use crate::compiler::ParamSource;

pub struct MethodRequest<'a> {
    pub method: http::Method,
    /// The request's header fields, as they arrived.
    pub fields: &'a RawFields,
    /// The same in a header map, made when first asked for ([`MethodRequest::headers`]): a
    /// proxied request passes its fields on without one.
    pub header_map: OnceLock<HeaderMap>,
    /// The raw query string (without `?`), as received.
    pub raw_query: Option<String>,
    /// Decoded `key=value` pairs of the query string, in order.
    pub query: Vec<(String, String)>,
    /// Path parameters: name, decoded value (borrowed when nothing needed decoding), raw value.
    pub path_params: Vec<(&'a str, Cow<'a, str>, &'a str)>,
    pub variables: &'a BTreeMap<String, String>,
    /// The body, once an integration has read it (for `method.request.body` mappings).
    pub body: Option<bytes::Bytes>,
}

impl<'a> MethodRequest<'a> {
    /// A request known by its head alone (no route, no body read): an upgrade, or a call of the
    /// @connections API.
    pub fn of_head(
        parts: &http::request::Parts,
        fields: &'a RawFields,
        variables: &'a BTreeMap<String, String>,
    ) -> Self {
        MethodRequest {
            method: parts.method.clone(),
            raw_query: parts.uri.query().map(str::to_owned),
            query: Vec::new(),
            path_params: Vec::new(),
            fields,
            header_map: OnceLock::new(),
            variables,
            body: None,
        }
    }
}

impl MethodRequest<'_> {
    /// The request's headers (with room for two more, which a backend request may add).
    pub fn headers(&self) -> &HeaderMap {
        self.header_map.get_or_init(|| self.fields.to_header_map_lossy(2))
    }

    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| v.as_ref())
    }

    pub fn raw_path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, _, raw)| *raw)
    }

    /// Evaluates a mapping source against this request (body sources need the body; `None` here).
    pub fn source<'s>(&'s self, src: &'s ParamSource, ctx: &'s RequestContext) -> Option<Cow<'s, str>> {
        Some(match src {
            ParamSource::Static(v) => Cow::Borrowed(v.as_str()),
            ParamSource::Path(n) => Cow::Borrowed(self.path_param(n)?),
            ParamSource::QueryString(n) => Cow::Borrowed(self.query_value(n)?),
            ParamSource::Header(n) => Cow::Borrowed(self.header(n)?),
            ParamSource::MultiValueQueryString(n) => {
                let all: Vec<&str> = self
                    .query
                    .iter()
                    .filter(|(k, _)| k == n)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if all.is_empty() {
                    return None;
                }
                Cow::Owned(all.join(","))
            }
            ParamSource::MultiValueHeader(n) => {
                let all: Vec<&str> = self
                    .headers()
                    .get_all(n.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                if all.is_empty() {
                    return None;
                }
                Cow::Owned(all.join(","))
            }
            ParamSource::StageVariable(n) => Cow::Borrowed(self.variables.get(n)?.as_str()),
            ParamSource::Context(v) => ctx.variable(v.as_ref().filter(|v| v.in_templates())?)?,
            ParamSource::Body => String::from_utf8_lossy(self.body.as_ref()?),
            ParamSource::BodyPath(path) => Cow::Owned(body_path(self.body.as_ref()?, path)?),
            ParamSource::IntegrationResponseHeader(_)
            | ParamSource::IntegrationResponseBody
            | ParamSource::IntegrationResponseBodyPath(_) => {
                return None;
            }
        })
    }
}

/// The value at `path` (JSONPath without its `$.`) in a JSON body: strings as they are, other
/// values as JSON; nothing when the body is not JSON or holds nothing there.
pub fn body_path(body: &[u8], path: &str) -> Option<String> {
    let doc = crate::vtl::apigateway::parse_json(std::str::from_utf8(body).ok()?).ok()?;
    let path = if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    };
    match crate::vtl::jsonpath::select(&doc, &path).ok()?.into_value() {
        crate::vtl::Value::Null => None,
        crate::vtl::Value::Str(s) => Some(s.to_string()),
        other => Some(other.to_json()),
    }
}

/// Whether a decoded path (or path value) has a `.` or `..` segment, split at `/` or `\\` (which
/// some servers take for a separator too), and with any `;parameters` left out (which some
/// servers strip before they resolve dot segments: `..;/`).
pub fn has_dot_segment(decoded: &str) -> bool {
    decoded.contains('.')
        && decoded
            .split(['/', '\\'])
            .map(|s| s.split(';').next().unwrap_or(s))
            .any(|s| s == "." || s == "..")
}

/// Percent-decodes a path parameter.
pub fn decode_param(raw: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy()
}

pub use crate::domain::query::parse as parse_query;

#[cfg(test)]
mod tests {
    use super::has_dot_segment;

    #[test]
    fn dot_segments_are_found_wherever_a_server_would_resolve_them() {
        for climbing in [
            "..",
            ".",
            "x/../admin",
            "x/./y",
            "/a/..",
            "a\\..\\b",
            "..;/admin",
            "a/..;x/b",
        ] {
            assert!(has_dot_segment(climbing), "{climbing}");
        }
        for fine in ["", "/", "a.b", "...", "/a/.well-known/b", "v1.2/x", "..a", "a.."] {
            assert!(!has_dot_segment(fine), "{fine}");
        }
    }
}
