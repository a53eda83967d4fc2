//! WebSocket selection expressions, in AWS's language: text with variables
//! (`$request.body.action`, `${request.body.version}-beta`), a backslash before a dollar for a
//! literal one (`\$default`), evaluated once to a key. Routes, request templates, integration
//! responses and their templates are each picked by one. The keys integration responses are
//! picked by are `$default`, a `/regex/` over the evaluated value, or the value itself.

/// A parsed selection expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionExpression {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A variable's name, without its `$` and braces (`request.body.action`).
    Variable(String),
}

/// Characters of a variable's name written without braces (a JSON path's included).
fn in_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']')
}

impl SelectionExpression {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("Invalid selection expression {raw:?}: {why}");
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("\\$") {
                text.push('$');
                rest = after;
                continue;
            }
            if c != '$' {
                text.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let (name, after) = match rest[1..].strip_prefix('{') {
                Some(braced) => {
                    let end = braced.find('}').ok_or_else(|| bad("a ${ is not closed"))?;
                    (&braced[..end], &braced[end + 1..])
                }
                None => {
                    let end = rest[1..].find(|c| !in_name(c)).unwrap_or(rest.len() - 1);
                    (&rest[1..1 + end], &rest[1 + end..])
                }
            };
            if name.is_empty() {
                return Err(bad("a $ names no variable (write \\$ for a dollar sign)"));
            }
            // `$default` is the reserved key, not a variable (AWS's own examples write it so).
            if name == "default" {
                text.push_str("$default");
            } else {
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Variable(name.to_owned()));
            }
            rest = after;
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self { parts })
    }

    /// Checks that every variable starts with one of `prefixes` (or is one of them).
    pub fn check(&self, prefixes: &[&str]) -> Result<(), String> {
        for name in self.variables() {
            if !prefixes.iter().any(|p| {
                name == p.trim_end_matches('.')
                    || (p.ends_with('.') && name.starts_with(p) && name.len() > p.len())
            }) {
                return Err(format!(
                    "Invalid selection expression: ${name} is not a variable it can read (expected {})",
                    prefixes.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(v) => Some(v.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The key: the text with each variable's value; nothing when a variable has none.
    pub fn evaluate(&self, mut lookup: impl FnMut(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Variable(v) => out.push_str(&lookup(v)?),
            }
        }
        Some(out)
    }
}

/// The key of an integration response: what values of its selection expression pick it.
#[derive(Debug, Clone)]
pub enum ResponseKey {
    /// `$default`: any value no other key picks.
    Default,
    /// `/regex/`: a value the expression matches whole.
    Pattern(regex::Regex),
    /// Anything else: that value.
    Exact(String),
}

impl ResponseKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "$default" {
            return Ok(Self::Default);
        }
        match raw.strip_prefix('/').and_then(|r| r.strip_suffix('/')) {
            Some(pattern) if raw.len() >= 2 => regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .dot_matches_new_line(true)
                .size_limit(1 << 20)
                .build()
                .map(Self::Pattern)
                .map_err(|e| format!("Invalid integration response key {raw}: {e}")),
            _ => Ok(Self::Exact(raw.to_owned())),
        }
    }

    pub fn picks(&self, value: &str) -> bool {
        match self {
            Self::Default => true,
            Self::Pattern(re) => re.is_match(value),
            Self::Exact(key) => key == value,
        }
    }

    pub fn is_default(&self) -> bool {
        matches!(self, Self::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(raw: &str, vars: &[(&str, &str)]) -> Option<String> {
        SelectionExpression::parse(raw)
            .unwrap()
            .evaluate(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn expressions_evaluate_their_variables_once() {
        let vars = [("request.body.action", "join"), ("request.body.version", "2")];
        assert_eq!(eval("$request.body.action", &vars).as_deref(), Some("join"));
        assert_eq!(
            eval("${request.body.version}-beta", &vars).as_deref(),
            Some("2-beta")
        );
        assert_eq!(eval("v$request.body.version/x", &vars).as_deref(), Some("v2/x"));
        assert_eq!(eval("\\$default", &vars).as_deref(), Some("$default"));
        assert_eq!(eval("$default", &vars).as_deref(), Some("$default"));
        assert_eq!(eval("$request.body.missing", &vars), None);
        // A value that looks like a variable is not evaluated again.
        assert_eq!(
            eval(
                "$request.body.action",
                &[("request.body.action", "$request.body.version")]
            )
            .as_deref(),
            Some("$request.body.version")
        );
        assert!(SelectionExpression::parse("${request.body").is_err());
        assert!(SelectionExpression::parse("a $ b").is_err());
    }

    #[test]
    fn variables_are_checked_against_what_an_expression_may_read() {
        let e = SelectionExpression::parse("${integration.response.statuscode}").unwrap();
        assert!(e.check(&["integration.response.statuscode"]).is_ok());
        assert!(e.check(&["request.body."]).is_err());
        let e = SelectionExpression::parse("$request.body.").unwrap();
        assert!(e.check(&["request.body."]).is_err(), "a path is needed");
    }

    #[test]
    fn response_keys_pick_values() {
        let two = ResponseKey::parse("/2\\d\\d/").unwrap();
        assert!(two.picks("200") && !two.picks("404") && !two.picks("2000"));
        assert!(ResponseKey::parse("$default").unwrap().picks("anything"));
        assert!(ResponseKey::parse("404").unwrap().picks("404"));
        assert!(ResponseKey::parse("/(/").is_err());
    }
}
