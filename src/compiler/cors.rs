//! An HTTP API's CORS configuration, compiled once per deployment: which origins it allows
//! (`*`, exact origins, and `https://*.example.com` for any subdomain), and the header values
//! its answers carry, made once.

use http::HeaderValue;

use crate::domain::http_api::Cors;

#[derive(Debug)]
pub struct CompiledCors {
    any_origin: bool,
    origins: Vec<OriginPattern>,
    pub allow_credentials: bool,
    pub allow_methods: Option<HeaderValue>,
    pub allow_headers: Option<HeaderValue>,
    pub expose_headers: Option<HeaderValue>,
    pub max_age: Option<HeaderValue>,
}

#[derive(Debug)]
enum OriginPattern {
    Exact(String),
    /// `scheme://*.domain`: any subdomain of `domain` on `scheme`.
    Subdomains {
        scheme: String,
        domain: String,
    },
}

impl CompiledCors {
    pub fn compile(cors: &Cors) -> Self {
        let origins = cors.allow_origins.as_deref().unwrap_or_default();
        let joined = |values: Option<&Vec<String>>| {
            values
                .filter(|v| !v.is_empty())
                .and_then(|v| HeaderValue::try_from(v.join(",")).ok())
        };
        Self {
            any_origin: origins.iter().any(|o| o == "*"),
            origins: origins
                .iter()
                .filter(|o| *o != "*")
                .map(|o| match o.split_once("://*.") {
                    Some((scheme, domain)) => OriginPattern::Subdomains {
                        scheme: scheme.to_ascii_lowercase(),
                        domain: domain.to_ascii_lowercase(),
                    },
                    None => OriginPattern::Exact(o.to_ascii_lowercase()),
                })
                .collect(),
            allow_credentials: cors.allow_credentials.unwrap_or(false),
            allow_methods: joined(cors.allow_methods.as_ref()),
            allow_headers: joined(cors.allow_headers.as_ref()),
            expose_headers: joined(cors.expose_headers.as_ref()),
            max_age: cors.max_age.map(HeaderValue::from),
        }
    }

    /// What `Access-Control-Allow-Origin` says to a request from `origin`: `*` when any
    /// origin is allowed (and credentials are not), the origin itself when it is allowed,
    /// nothing otherwise.
    pub fn allow_origin(&self, origin: &[u8]) -> Option<HeaderValue> {
        if self.any_origin && !self.allow_credentials {
            return Some(HeaderValue::from_static("*"));
        }
        let text = std::str::from_utf8(origin).ok()?.to_ascii_lowercase();
        let allowed = self.any_origin
            || self.origins.iter().any(|p| match p {
                OriginPattern::Exact(o) => *o == text,
                OriginPattern::Subdomains { scheme, domain } => text
                    .strip_prefix(scheme.as_str())
                    .and_then(|rest| rest.strip_prefix("://"))
                    .and_then(|host| host.strip_suffix(domain.as_str()))
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            });
        allowed.then(|| HeaderValue::from_bytes(origin).ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> CompiledCors {
        CompiledCors::compile(&Cors {
            allow_origins: Some(origins.iter().map(|o| o.to_string()).collect()),
            allow_credentials: Some(credentials),
            ..Cors::default()
        })
    }

    #[test]
    fn origins_match_exactly_by_wildcard_or_by_subdomain() {
        let c = cors(&["https://app.example.com", "https://*.example.org"], false);
        assert_eq!(
            c.allow_origin(b"https://app.example.com").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            c.allow_origin(b"https://a.b.example.org").unwrap(),
            "https://a.b.example.org"
        );
        assert!(c.allow_origin(b"https://example.org").is_none());
        assert!(c.allow_origin(b"http://a.example.org").is_none());
        assert!(c.allow_origin(b"https://evil.com").is_none());
        assert!(c.allow_origin(b"https://notexample.org").is_none());
        assert_eq!(cors(&["*"], false).allow_origin(b"https://x").unwrap(), "*");
        // With credentials, a browser refuses `*`: the origin itself is named.
        assert_eq!(
            cors(&["*"], true).allow_origin(b"https://x").unwrap(),
            "https://x"
        );
    }
}
