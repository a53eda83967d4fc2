//! Parameter mapping expressions and integration URI templates, parsed once per deployment.

/// Where a mapped value comes from (`method.request.header.X`, `'static'`, `context.requestId`,
/// `stageVariables.name`, `integration.response.header.X`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamSource {
    Static(String),
    Path(String),
    QueryString(String),
    Header(String),
    MultiValueQueryString(String),
    MultiValueHeader(String),
    Body,
    /// `method.request.body.{JSONPath}` (`a.b[0]`, read as `$.a.b[0]`).
    BodyPath(String),
    /// `context.{name}`: `None` for a name Gatehouse does not know, which maps nothing (as an
    /// absent value maps nothing).
    Context(Option<super::context::ContextVariable>),
    StageVariable(String),
    IntegrationResponseHeader(String),
    IntegrationResponseBody,
    /// `integration.response.body.{JSONPath}`.
    IntegrationResponseBodyPath(String),
}

impl ParamSource {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
            return Ok(Self::Static(raw[1..raw.len() - 1].to_owned()));
        }
        let named = |prefix: &str| {
            raw.strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        };
        if let Some(n) = named("method.request.path.") {
            return Ok(Self::Path(n));
        }
        if let Some(n) = named("method.request.querystring.") {
            return Ok(Self::QueryString(n));
        }
        if let Some(n) = named("method.request.header.") {
            return Ok(Self::Header(n));
        }
        if let Some(n) = named("method.request.multivaluequerystring.") {
            return Ok(Self::MultiValueQueryString(n));
        }
        if let Some(n) = named("method.request.multivalueheader.") {
            return Ok(Self::MultiValueHeader(n));
        }
        if raw == "method.request.body" {
            return Ok(Self::Body);
        }
        if let Some(n) = named("method.request.body.") {
            return Ok(Self::BodyPath(n));
        }
        if let Some(n) = named("context.") {
            return Ok(Self::Context(super::context::ContextVariable::parse(&n)));
        }
        if let Some(n) = named("stageVariables.") {
            return Ok(Self::StageVariable(n));
        }
        if let Some(n) = named("integration.response.header.") {
            return Ok(Self::IntegrationResponseHeader(n));
        }
        if raw == "integration.response.body" {
            return Ok(Self::IntegrationResponseBody);
        }
        if let Some(n) = named("integration.response.body.") {
            return Ok(Self::IntegrationResponseBodyPath(n));
        }
        Err(format!("unsupported mapping expression {raw:?}"))
    }
}

/// Where a mapped value goes in the integration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamTarget {
    Header(String),
    QueryString(String),
    Path(String),
    MultiValueHeader(String),
    MultiValueQueryString(String),
}

impl ParamTarget {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let named = |prefix: &str| {
            raw.strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        };
        if let Some(n) = named("integration.request.header.") {
            return Ok(Self::Header(n));
        }
        if let Some(n) = named("integration.request.querystring.") {
            return Ok(Self::QueryString(n));
        }
        if let Some(n) = named("integration.request.path.") {
            return Ok(Self::Path(n));
        }
        if let Some(n) = named("integration.request.multivalueheader.") {
            return Ok(Self::MultiValueHeader(n));
        }
        if let Some(n) = named("integration.request.multivaluequerystring.") {
            return Ok(Self::MultiValueQueryString(n));
        }
        Err(format!("unsupported mapping target {raw:?}"))
    }
}

/// An integration URI with `{name}` path parameters and `${stageVariables.name}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    parts: Vec<UriPart>,
    /// The scheme and authority, parsed once, when the URI spells them out (no parameter or
    /// stage variable in them): a request then renders and checks only the path and query.
    origin: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub authority: http::uri::Authority,
    /// How many bytes of the first literal part the scheme and authority take.
    len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UriPart {
    Literal(String),
    Param(String),
    StageVariable(String),
}

impl UriTemplate {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while !rest.is_empty() {
            let next = rest.find(['{', '$']).unwrap_or(rest.len());
            if next > 0 {
                parts.push(UriPart::Literal(rest[..next].to_owned()));
                rest = &rest[next..];
                continue;
            }
            if let Some(after) = rest.strip_prefix("${") {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("unclosed ${{ in {raw:?}"))?;
                let name = after[..end]
                    .strip_prefix("stageVariables.")
                    .ok_or_else(|| format!("only stageVariables may be referenced in a uri: {raw:?}"))?;
                parts.push(UriPart::StageVariable(name.to_owned()));
                rest = &after[end + 1..];
            } else if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or_else(|| format!("unclosed {{ in {raw:?}"))?;
                parts.push(UriPart::Param(after[..end].trim_end_matches('+').to_owned()));
                rest = &after[end + 1..];
            } else {
                // A lone `$` is literal.
                parts.push(UriPart::Literal(rest[..1].to_owned()));
                rest = &rest[1..];
            }
        }
        let origin = match parts.first() {
            Some(UriPart::Literal(first)) => literal_origin(first),
            _ => None,
        };
        Ok(Self { parts, origin })
    }

    /// The URI's scheme and authority, when it spells them out.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// Renders the URI, asking `param` and `stage_var` for the values it references.
    pub fn render<'a>(
        &self,
        mut param: impl FnMut(&str) -> Option<&'a str>,
        mut stage_var: impl FnMut(&str) -> Option<&'a str>,
    ) -> String {
        let mut out = String::with_capacity(64);
        self.render_into(
            &mut out,
            false,
            |n, out| out.push_str(param(n).unwrap_or("")),
            |n, out| out.push_str(stage_var(n).unwrap_or("")),
        );
        out
    }

    /// Renders the URI onto `out` (without its [`origin`](Self::origin) when `path_only`);
    /// `param` and `stage_var` write the values it references.
    pub fn render_into(
        &self,
        out: &mut String,
        path_only: bool,
        mut param: impl FnMut(&str, &mut String),
        mut stage_var: impl FnMut(&str, &mut String),
    ) {
        let skip = match &self.origin {
            Some(o) if path_only => o.len,
            _ => 0,
        };
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                UriPart::Literal(s) if i == 0 => out.push_str(&s[skip..]),
                UriPart::Literal(s) => out.push_str(s),
                UriPart::Param(n) => param(n, out),
                UriPart::StageVariable(n) => stage_var(n, out),
            }
        }
    }
}

/// The scheme and authority `literal` starts with, when a path follows them in it.
fn literal_origin(literal: &str) -> Option<Origin> {
    let (https, rest) = if let Some(rest) = literal.strip_prefix("https://") {
        (true, rest)
    } else {
        (false, literal.strip_prefix("http://")?)
    };
    let end = rest.find(['/', '?', '#'])?;
    if rest.as_bytes()[end] != b'/' {
        return None;
    }
    let authority = http::uri::Authority::try_from(&rest[..end]).ok()?;
    Some(Origin {
        https,
        authority,
        len: literal.len() - rest.len() + end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spelled_out_origin_is_parsed_once() {
        let t = UriTemplate::parse("https://api.example:8443/v1/{id}?x=1").unwrap();
        let o = t.origin().unwrap();
        assert!(o.https);
        assert_eq!(o.authority.as_str(), "api.example:8443");
        let mut path = String::new();
        t.render_into(&mut path, true, |_, out| out.push('7'), |_, _| {});
        assert_eq!(path, "/v1/7?x=1");
        for no_origin in [
            "http://${stageVariables.host}/a",
            "http://example.com",
            "http://example.com?x=1",
            "{proxy}",
            "ftp://example.com/",
        ] {
            assert!(
                UriTemplate::parse(no_origin).unwrap().origin().is_none(),
                "{no_origin}"
            );
        }
    }

    #[test]
    fn sources_and_targets_parse() {
        assert_eq!(
            ParamSource::parse("'abc'").unwrap(),
            ParamSource::Static("abc".into())
        );
        assert_eq!(
            ParamSource::parse("method.request.header.X-A").unwrap(),
            ParamSource::Header("X-A".into())
        );
        assert_eq!(
            ParamSource::parse("stageVariables.v").unwrap(),
            ParamSource::StageVariable("v".into())
        );
        assert_eq!(
            ParamSource::parse("context.requestId").unwrap(),
            ParamSource::Context(Some(crate::compiler::context::ContextVariable::Field(
                crate::compiler::context::ContextField::RequestId
            )))
        );
        assert!(ParamSource::parse("nonsense").is_err());
        assert_eq!(
            ParamTarget::parse("integration.request.path.id").unwrap(),
            ParamTarget::Path("id".into())
        );
    }

    #[test]
    fn uri_templates_substitute_params_and_stage_variables() {
        let t = UriTemplate::parse("http://${stageVariables.host}:8080/items/{proxy}?x=1").unwrap();
        let url = t.render(
            |n| (n == "proxy").then_some("a/b"),
            |n| (n == "host").then_some("backend"),
        );
        assert_eq!(url, "http://backend:8080/items/a/b?x=1");
        let greedy = UriTemplate::parse("http://h/{proxy+}").unwrap();
        assert_eq!(greedy.render(|_| Some("z"), |_| None), "http://h/z");
    }
}
