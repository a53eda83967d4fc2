//! A stage's access log format (`accessLogSettings.format`), parsed once when a worker builds
//! its configuration: literal text and `$context` variables, and the log group lines go to.

use super::context::ContextVariable;

/// A stage's access log format, parsed once per configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogFormat {
    pub parts: Vec<LogPart>,
    /// Where the lines go: the log group named by the destination ARN.
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogPart {
    Literal(String),
    /// A `$context` variable (`None`: one Gatehouse does not know, logged as `-`).
    Context(Option<ContextVariable>),
}

impl AccessLogFormat {
    pub fn parse(format: &str, destination_arn: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = format;
        while let Some(i) = rest.find("$context.") {
            if i > 0 {
                parts.push(LogPart::Literal(rest[..i].to_owned()));
            }
            let after = &rest[i + "$context.".len()..];
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(after.len());
            let name = after[..end].trim_end_matches('.');
            parts.push(LogPart::Context(ContextVariable::parse(name)));
            rest = &after[name.len()..];
        }
        if !rest.is_empty() {
            parts.push(LogPart::Literal(rest.to_owned()));
        }
        // `arn:aws:logs:{region}:{account}:log-group:{name}` → `{name}`.
        let destination = destination_arn
            .split(":log-group:")
            .nth(1)
            .map(|n| n.trim_end_matches(":*").to_owned())
            .unwrap_or_else(|| destination_arn.to_owned());
        Self { parts, destination }
    }
}
