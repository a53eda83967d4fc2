//! A REST API's authorizers, compiled once per deployment: where each reads the caller's
//! identity, the function it calls or the user pools it trusts, its token validation expression
//! and how long its results are cached. An authorizer that cannot be compiled (an ARN naming no
//! function) is kept as misconfigured: its methods answer AWS's 500 instead of failing the whole
//! deployment, as an authorizer's errors do in AWS.

use std::time::Duration;

use super::context::ContextVariable;
use super::{LambdaTarget, is_region, lambda_target};
use crate::domain::enums::AuthorizerType;
use crate::domain::rest_api::Authorizer;

#[derive(Debug)]
pub struct CompiledAuthorizer {
    pub id: String,
    pub kind: AuthorizerKind,
    /// Where the identity is read (a TOKEN authorizer's one header; a REQUEST authorizer's
    /// headers, query strings, stage variables and context values; a user pool's header). A
    /// request without every one of them is refused before anything is called.
    pub identity: Vec<IdentitySource>,
    /// `authorizerResultTtlInSeconds`; zero: never cached.
    pub ttl: Duration,
}

#[derive(Debug)]
pub enum AuthorizerKind {
    /// TOKEN and REQUEST authorizers: a Lambda function.
    Lambda(LambdaAuthorizer),
    /// COGNITO_USER_POOLS: a JWT from one of these pools.
    CognitoUserPools(Vec<UserPool>),
    /// An HTTP API's JWT authorizer: tokens of this issuer (its URL, whose OpenID discovery
    /// document names its keys) for one of these audiences.
    Jwt { issuer: String, audiences: Vec<String> },
    /// One that cannot run; why, for logs.
    Misconfigured(String),
}

#[derive(Debug)]
pub struct LambdaAuthorizer {
    pub function: LambdaTarget,
    /// TOKEN (the event carries `authorizationToken`) rather than REQUEST.
    pub token: bool,
    /// A TOKEN authorizer's `identityValidationExpression`: a token that does not match it
    /// whole is refused without calling the function.
    pub validation: Option<regex::Regex>,
    /// `authorizerCredentials`: the IAM role the function is invoked as.
    pub role_arn: Option<String>,
    /// An HTTP API's authorizer: its event's payload format and answer's shape.
    pub http: Option<HttpAuthorizerFormat>,
}

/// How an HTTP API's Lambda authorizer is called and answers.
#[derive(Debug, Clone, Copy)]
pub struct HttpAuthorizerFormat {
    /// Payload format 2.0 (else 1.0, REST's REQUEST event).
    pub payload_v2: bool,
    /// `enableSimpleResponses`: `{"isAuthorized": ..., "context": ...}` instead of a policy.
    pub simple: bool,
}

/// A Cognito user pool, from its ARN `arn:aws:cognito-idp:{region}:{account}:userpool/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    pub region: String,
    pub id: String,
}

impl UserPool {
    pub fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[..3] != ["arn", "aws", "cognito-idp"] || !is_region(parts[3]) {
            return None;
        }
        let id = parts[5].strip_prefix("userpool/").filter(|id| !id.is_empty())?;
        Some(Self {
            region: parts[3].to_owned(),
            id: id.to_owned(),
        })
    }

    /// The issuer of its tokens (`iss`).
    pub fn issuer(&self) -> String {
        format!("https://cognito-idp.{}.amazonaws.com/{}", self.region, self.id)
    }
}

/// Where an authorizer reads part of the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `method.request.header.{name}` (kept in lower case).
    Header(String),
    /// `method.request.querystring.{name}`.
    Query(String),
    /// `stageVariables.{name}`.
    StageVariable(String),
    /// `context.{name}`.
    Context(ContextVariable),
}

impl IdentitySource {
    /// A REST API's identity source: `method.request.header.{name}`, ...
    pub fn parse(raw: &str) -> Option<Self> {
        Self::parse_with(
            raw.trim(),
            [
                "method.request.header.",
                "method.request.querystring.",
                "stageVariables.",
                "context.",
            ],
        )
    }

    /// An identity source as an API kind spells it: its prefixes of a header, a query string
    /// parameter, a stage variable and a context variable (REST's `method.request.header.`,
    /// HTTP APIs' `$request.header.`, WebSocket APIs' `route.request.header.`, ...).
    pub fn parse_with(raw: &str, [header, query, stage, context]: [&str; 4]) -> Option<Self> {
        let named = |prefix: &str| raw.strip_prefix(prefix).filter(|n| !n.is_empty());
        if let Some(n) = named(header) {
            return Some(Self::Header(n.to_ascii_lowercase()));
        }
        if let Some(n) = named(query) {
            return Some(Self::Query(n.to_owned()));
        }
        if let Some(n) = named(stage) {
            return Some(Self::StageVariable(n.to_owned()));
        }
        named(context).and_then(ContextVariable::parse).map(Self::Context)
    }
}

/// Compiles `a`; what cannot run is kept as [`AuthorizerKind::Misconfigured`].
pub fn compile(a: &Authorizer) -> CompiledAuthorizer {
    let ttl = Duration::from_secs(a.ttl().clamp(0, 3600) as u64);
    let identity: Result<Vec<IdentitySource>, String> = a
        .identity_source
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            IdentitySource::parse(s)
                .ok_or_else(|| format!("identity source {s:?} is not one API Gateway reads"))
        })
        .collect();
    let kind = match identity
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|identity| kind(a, identity))
    {
        Ok(kind) => kind,
        Err(why) => AuthorizerKind::Misconfigured(why),
    };
    CompiledAuthorizer {
        id: a.id.clone(),
        kind,
        identity: identity.unwrap_or_default(),
        ttl,
    }
}

fn kind(a: &Authorizer, identity: &[IdentitySource]) -> Result<AuthorizerKind, String> {
    match a.kind {
        AuthorizerType::Token | AuthorizerType::Request => {
            let uri = a.authorizer_uri.as_deref().unwrap_or_default();
            let function = lambda_target(uri)
                .ok_or_else(|| format!("authorizer URI {uri:?} names no Lambda function"))?;
            let token = a.kind == AuthorizerType::Token;
            if token && !matches!(identity, [IdentitySource::Header(_)]) {
                return Err("a TOKEN authorizer reads one header".into());
            }
            // Caching needs something to key the results by.
            if !token && identity.is_empty() && a.ttl() != 0 {
                return Err("a REQUEST authorizer that caches needs an identity source".into());
            }
            let validation = match a
                .identity_validation_expression
                .as_deref()
                .filter(|e| token && !e.is_empty())
            {
                None => None,
                Some(e) => Some(
                    regex::RegexBuilder::new(&format!("^(?:{e})$"))
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|err| format!("identity validation expression {e:?}: {err}"))?,
                ),
            };
            Ok(AuthorizerKind::Lambda(LambdaAuthorizer {
                function,
                token,
                validation,
                role_arn: a
                    .authorizer_credentials
                    .clone()
                    .filter(|c| c.starts_with("arn:") && c.contains(":role/")),
                http: None,
            }))
        }
        AuthorizerType::CognitoUserPools => {
            let pools = a
                .provider_arns
                .iter()
                .map(|arn| UserPool::parse(arn).ok_or_else(|| format!("{arn:?} is not a user pool ARN")))
                .collect::<Result<Vec<_>, _>>()?;
            if !matches!(identity, [IdentitySource::Header(_)]) {
                return Err("a user pool authorizer reads one header".into());
            }
            Ok(AuthorizerKind::CognitoUserPools(pools))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(kind: AuthorizerType, identity: &str) -> Authorizer {
        Authorizer {
            id: "a1".into(),
            name: "n".into(),
            kind,
            provider_arns: vec!["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc".into()],
            auth_type: None,
            authorizer_uri: Some(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:auth/invocations".into(),
            ),
            authorizer_credentials: None,
            identity_source: Some(identity.into()),
            identity_validation_expression: Some("Bearer .+".into()),
            authorizer_result_ttl_in_seconds: None,
        }
    }

    #[test]
    fn identity_sources_are_parsed_once() {
        let a = compile(&authorizer(
            AuthorizerType::Request,
            "method.request.header.X-Token, method.request.querystring.q,stageVariables.v, context.stage",
        ));
        assert!(matches!(a.kind, AuthorizerKind::Lambda(ref l) if !l.token && l.validation.is_none()));
        assert_eq!(
            a.identity,
            [
                IdentitySource::Header("x-token".into()),
                IdentitySource::Query("q".into()),
                IdentitySource::StageVariable("v".into()),
                IdentitySource::Context(ContextVariable::Field(
                    crate::compiler::context::ContextField::Stage
                )),
            ]
        );
    }

    #[test]
    fn token_authorizers_validate_the_whole_token() {
        let a = compile(&authorizer(
            AuthorizerType::Token,
            "method.request.header.Authorization",
        ));
        let AuthorizerKind::Lambda(l) = a.kind else {
            panic!()
        };
        let v = l.validation.unwrap();
        assert!(v.is_match("Bearer abc"));
        assert!(!v.is_match("xBearer abc"));
    }

    #[test]
    fn what_cannot_run_is_kept_as_misconfigured() {
        let mut a = authorizer(AuthorizerType::Token, "method.request.header.A");
        a.identity_validation_expression = Some("(".into());
        assert!(matches!(compile(&a).kind, AuthorizerKind::Misconfigured(_)));
        let a = authorizer(AuthorizerType::Request, "method.request.nonsense.x");
        assert!(matches!(compile(&a).kind, AuthorizerKind::Misconfigured(_)));
    }

    #[test]
    fn user_pools_name_their_issuer() {
        let a = compile(&authorizer(
            AuthorizerType::CognitoUserPools,
            "method.request.header.Authorization",
        ));
        let AuthorizerKind::CognitoUserPools(pools) = a.kind else {
            panic!()
        };
        assert_eq!(
            pools[0].issuer(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
        );
        assert_eq!(UserPool::parse("arn:aws:cognito-idp:nowhere:1:userpool/x"), None);
    }
}
