//! OpenAPI documents as API Gateway imports and exports them: read from JSON or YAML (a
//! document is JSON when it starts with `{`), written as either. The document's size is the
//! management API's body limit; YAML's aliases, nesting and node counts are bounded by the
//! parser's budget, so an alias bomb is refused rather than expanded.

use serde_json::Value;

/// Reads a document, JSON or YAML.
pub fn parse(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| format!("the document is not valid JSON: {e}"));
    }
    serde_saphyr::from_str::<Value>(trimmed).map_err(|e| {
        // The parser's messages can quote the document at length: the first line says enough.
        let e = e.to_string();
        format!(
            "the document is neither valid JSON nor valid YAML: {}",
            e.lines().next().unwrap_or("")
        )
    })
}

/// How an exported document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
}

impl Output {
    pub fn content_type(self) -> &'static str {
        match self {
            Output::Json => "application/json",
            Output::Yaml => "application/yaml",
        }
    }
}

/// Writes a document: JSON pretty-printed, or YAML.
pub fn render(doc: &Value, output: Output) -> Result<String, String> {
    match output {
        Output::Json => serde_json::to_string_pretty(doc).map_err(|e| e.to_string()),
        Output::Yaml => serde_saphyr::to_string(doc).map_err(|e| e.to_string()),
    }
}

/// What `basepath` does with a document's base path (Swagger's `basePath`, or the path of
/// OpenAPI 3's first server, its variables at their defaults): nothing, put it before every
/// path, or put all but its first segment there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasePath {
    #[default]
    Ignore,
    Prepend,
    Split,
}

impl BasePath {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw {
            None | Some("ignore") => Ok(BasePath::Ignore),
            Some("prepend") => Ok(BasePath::Prepend),
            Some("split") => Ok(BasePath::Split),
            Some(other) => Err(format!(
                "Invalid basepath {other}: expected ignore, prepend or split"
            )),
        }
    }
}

/// A string field, or a number written as one (`version: 1.0` in YAML).
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 => format!("{f:.1}"),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The base path a document's `basePath` (Swagger) or first server (OpenAPI 3) gives, as
/// `basepath` asks to keep it.
pub fn base_path(doc: &Value, mode: BasePath) -> String {
    if mode == BasePath::Ignore {
        return String::new();
    }
    let raw = match doc.get("basePath").and_then(Value::as_str) {
        Some(b) => b.to_owned(),
        None => {
            let Some(server) = doc.pointer("/servers/0") else {
                return String::new();
            };
            let url = server.get("url").and_then(Value::as_str).unwrap_or_default();
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
            // `/{basePath}` takes its variable's default.
            let mut path = path.to_owned();
            if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                for (name, var) in vars {
                    if let Some(d) = var.get("default").and_then(Value::as_str) {
                        path = path.replace(&format!("{{{name}}}"), d.trim_matches('/'));
                    }
                }
            }
            path
        }
    };
    let segments: Vec<&str> = raw
        .split('/')
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .collect();
    let kept = match mode {
        BasePath::Split => segments.get(1..).unwrap_or_default(),
        _ => &segments[..],
    };
    kept.iter().map(|s| format!("/{s}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_read_alike_and_round_trip() {
        let json = parse(r#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1.0"}}"#).unwrap();
        let yaml = parse("openapi: 3.0.1\ninfo:\n  title: t\n  version: '1.0'\n").unwrap();
        assert_eq!(json, yaml);
        let written = render(&json, Output::Yaml).unwrap();
        assert_eq!(parse(&written).unwrap(), json);
        assert!(parse("{ nope").is_err());
        assert!(parse("a: [b").is_err());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = if i == 1 {
                "a".to_owned()
            } else {
                format!("a{}", i - 1)
            };
            doc.push_str(&format!(
                "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(parse(&doc).is_err());
    }
}
