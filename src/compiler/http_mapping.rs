//! HTTP APIs' parameter mapping, parsed once per deployment: what an integration request's
//! headers, query string and path become (`append:`, `overwrite:`, `remove:` on
//! `header.{name}` and `querystring.{name}`; `overwrite:path`), and what an answer's headers and
//! status become, by status code (`header.{name}`, `overwrite:statuscode`). A value is a static
//! string or one selection: `$request.header.{name}`, `$request.querystring.{name}`,
//! `$request.path.{name}` or `$request.path`, `$request.body.{JSONPath}`, `$context.{name}`,
//! `$stageVariables.{name}`; in answers also `$response.header.{name}` and
//! `$response.body.{JSONPath}`. Text and selections mix with `${...}`:
//! `Bearer ${request.header.token}`. A header or query selection joins all its values with
//! commas, as AWS does.

use std::collections::BTreeMap;

use super::ParamSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Append,
    Overwrite,
    Remove,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A request value, static string, context or stage variable, as REST mappings read them.
    Request(ParamSource),
    /// `$request.path`: the whole path of the request.
    WholePath,
    /// `$response.header.{name}`: the integration's answer's header.
    ResponseHeader(String),
    /// `$response.body.{JSONPath}` (or the whole body): from the integration's answer.
    ResponseBody(Option<String>),
    /// Text with selections in it: its parts, each a static text or a selection.
    Mixed(Vec<Value>),
}

impl Value {
    /// Whether the value is read from the request's body.
    pub fn reads_body(&self) -> bool {
        match self {
            Value::Request(ParamSource::Body | ParamSource::BodyPath(_)) => true,
            Value::Mixed(parts) => parts.iter().any(Value::reads_body),
            _ => false,
        }
    }

    /// Whether the value is read from the integration's answer's body.
    pub fn reads_response_body(&self) -> bool {
        match self {
            Value::ResponseBody(_) => true,
            Value::Mixed(parts) => parts.iter().any(Value::reads_response_body),
            _ => false,
        }
    }
}

/// An integration's request mapping.
#[derive(Debug, Default)]
pub struct RequestMapping {
    pub headers: Vec<(Action, http::HeaderName, Value)>,
    pub query: Vec<(Action, String, Value)>,
    pub path: Option<Value>,
}

impl RequestMapping {
    /// Whether a value is read from the request's body (which must then be read first).
    pub fn reads_body(&self) -> bool {
        self.headers.iter().any(|(_, _, v)| v.reads_body())
            || self.query.iter().any(|(_, _, v)| v.reads_body())
            || self.path.as_ref().is_some_and(Value::reads_body)
    }
}

/// What an answer of one status becomes.
#[derive(Debug, Default)]
pub struct ResponseMapping {
    pub headers: Vec<(Action, http::HeaderName, Value)>,
    pub status: Option<Value>,
}

impl ResponseMapping {
    /// Whether a value is read from the answer's body (which must then be read first).
    pub fn reads_body(&self) -> bool {
        self.headers.iter().any(|(_, _, v)| v.reads_response_body())
            || self.status.as_ref().is_some_and(Value::reads_response_body)
    }
}

/// The headers a mapping may not set: the gateway's framing and connection are its own, and
/// so are the forwarding headers it writes (as AWS reserves them).
const KEPT: [&str; 14] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "host",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "expect",
    "x-forwarded-for",
    "x-forwarded-port",
    "x-forwarded-proto",
    "forwarded",
    "via",
];

fn action_and_target(key: &str) -> Result<(Action, &str), String> {
    let (action, target) = key.split_once(':').ok_or_else(|| {
        format!("Invalid mapping key {key:?}: expected append:, overwrite: or remove: and a target")
    })?;
    let action = match action {
        "append" => Action::Append,
        "overwrite" => Action::Overwrite,
        "remove" => Action::Remove,
        _ => {
            return Err(format!(
                "Invalid mapping key {key:?}: the action is append, overwrite or remove"
            ));
        }
    };
    Ok((action, target))
}

fn header_name(key: &str, name: &str) -> Result<http::HeaderName, String> {
    let n = http::HeaderName::try_from(name)
        .map_err(|_| format!("Invalid mapping key {key:?}: not a header name"))?;
    if KEPT.contains(&n.as_str()) || n.as_str().starts_with("x-amzn-") || n.as_str().starts_with("proxy-") {
        return Err(format!(
            "Invalid mapping key {key:?}: the gateway sets {name} itself"
        ));
    }
    Ok(n)
}

/// Parses a mapping's value: a static text, one selection, or text with `${...}` selections.
pub fn value(raw: &str, response: bool) -> Result<Value, String> {
    if !raw.contains("${") {
        return selection(raw, response);
    }
    let mut parts = Vec::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Value::Request(ParamSource::Static(rest[..start].to_owned())));
        }
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("Invalid mapping value {raw:?}: ${{ without its }}"))?;
        let inner = &rest[start + 2..start + end];
        if !inner.contains('.') || inner.contains(['$', '{']) {
            return Err(format!(
                "Invalid mapping value {raw:?}: ${{{inner}}} is not a selection"
            ));
        }
        parts.push(selection(&format!("${inner}"), response)?);
        rest = &rest[start + end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Value::Request(ParamSource::Static(rest.to_owned())));
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Value::Mixed(parts)
    })
}

/// Parses one selection (or a static text).
fn selection(raw: &str, response: bool) -> Result<Value, String> {
    let named = |prefix: &str| {
        raw.strip_prefix(prefix)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    };
    if !raw.starts_with('$') {
        return Ok(Value::Request(ParamSource::Static(raw.to_owned())));
    }
    if raw == "$request.path" {
        return Ok(Value::WholePath);
    }
    if raw == "$request.body" {
        return Ok(Value::Request(ParamSource::Body));
    }
    if response && raw == "$response.body" {
        return Ok(Value::ResponseBody(None));
    }
    let source = if let Some(n) = named("$request.header.") {
        ParamSource::MultiValueHeader(n.to_ascii_lowercase())
    } else if let Some(n) = named("$request.querystring.") {
        ParamSource::MultiValueQueryString(n)
    } else if let Some(n) = named("$request.path.") {
        ParamSource::Path(n)
    } else if let Some(n) = named("$request.body.") {
        ParamSource::BodyPath(n.trim_start_matches("$.").to_owned())
    } else if let Some(n) = named("$context.") {
        ParamSource::Context(Some(super::context::ContextVariable::parse(&n).ok_or_else(
            || format!("Invalid mapping value {raw:?}: no such context variable"),
        )?))
    } else if let Some(n) = named("$stageVariables.") {
        ParamSource::StageVariable(n)
    } else if let (true, Some(n)) = (response, named("$response.header.")) {
        return Ok(Value::ResponseHeader(n.to_ascii_lowercase()));
    } else if let (true, Some(n)) = (response, named("$response.body.")) {
        return Ok(Value::ResponseBody(Some(n.trim_start_matches("$.").to_owned())));
    } else {
        return Err(format!(
            "Invalid mapping value {raw:?}: expected a static value or $request.header, $request.querystring, $request.path, $request.body, $context, $stageVariables{}",
            if response {
                ", $response.header, $response.body"
            } else {
                ""
            }
        ));
    };
    Ok(Value::Request(source))
}

/// Parses an integration's `requestParameters`.
pub fn request(params: &BTreeMap<String, String>) -> Result<RequestMapping, String> {
    let mut m = RequestMapping::default();
    for (key, raw) in params {
        let (action, target) = action_and_target(key)?;
        let v = value(raw, false)?;
        if let Some(name) = target.strip_prefix("header.") {
            m.headers.push((action, header_name(key, name)?, v));
        } else if let Some(name) = target.strip_prefix("querystring.").filter(|n| !n.is_empty()) {
            m.query.push((action, name.to_owned(), v));
        } else if target == "path" && action == Action::Overwrite {
            m.path = Some(v);
        } else {
            return Err(format!(
                "Invalid mapping key {key:?}: expected header.{{name}}, querystring.{{name}} or overwrite:path"
            ));
        }
    }
    Ok(m)
}

/// Parses an integration's `responseParameters`: by status code, each answer's mapping.
pub fn response(
    params: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<(u16, ResponseMapping)>, String> {
    let mut all = Vec::new();
    for (status, params) in params {
        let code: u16 = status
            .parse()
            .ok()
            .filter(|c| (200..600).contains(c))
            .ok_or_else(|| format!("Invalid status code {status:?} in responseParameters"))?;
        let mut m = ResponseMapping::default();
        for (key, raw) in params {
            let (action, target) = action_and_target(key)?;
            let v = value(raw, true)?;
            if v.reads_body() {
                return Err(format!(
                    "Invalid mapping value {raw:?}: answers cannot read the request's body"
                ));
            }
            if let Some(name) = target.strip_prefix("header.") {
                m.headers.push((action, header_name(key, name)?, v));
            } else if target == "statuscode" && action == Action::Overwrite {
                m.status = Some(v);
            } else {
                return Err(format!(
                    "Invalid mapping key {key:?}: expected header.{{name}} or overwrite:statuscode"
                ));
            }
        }
        all.push((code, m));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn request_mappings_parse_as_aws_documents_them() {
        let m = request(&map(&[
            ("append:header.x-tenant", "$request.querystring.tenant"),
            ("overwrite:querystring.page", "1"),
            ("remove:header.cookie", "''"),
            ("overwrite:path", "$request.path"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.headers.len(), 2);
        assert_eq!(
            m.query[0],
            (
                Action::Overwrite,
                "page".into(),
                Value::Request(ParamSource::Static("1".into()))
            )
        );
        assert!(m.path.is_some());
        for bad in [
            ("overwrite:header.content-length", "1"),
            ("replace:header.x", "1"),
            ("append:path", "/x"),
            ("overwrite:header.x", "$request.nope"),
            ("overwrite:header.x", "$context.nope"),
            ("overwrite:header.x", "Bearer ${request.header.${x}}"),
            ("overwrite:header.x", "Bearer ${request.header.x"),
        ] {
            assert!(request(&map(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn response_mappings_are_by_status_code() {
        let params = BTreeMap::from([(
            "500".to_owned(),
            map(&[
                ("overwrite:statuscode", "503"),
                ("append:header.x-from", "$response.header.server"),
            ]),
        )]);
        let m = response(&params).unwrap();
        assert_eq!(m[0].0, 500);
        assert_eq!(m[0].1.headers[0].2, Value::ResponseHeader("server".into()));
        assert!(response(&BTreeMap::from([("abc".to_owned(), map(&[]))])).is_err());
    }
}
