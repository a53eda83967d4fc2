//! The `$context` vocabulary: every context variable Gatehouse answers, by AWS's name, in one
//! enum. Names are parsed once, when an API is compiled (`context.x` in parameter mappings,
//! `$context.x` in access-log formats) or when a template first reads one; the request's
//! `RequestContext::field` answers them all, for templates, access logs and mappings alike. A
//! new variable (an authorizer's, a usage plan's) is one variant here and one arm there.

/// Declares [`ContextField`] from one list of variants and AWS's names for them, so that the
/// list of every variable ([`ContextField::ALL`]) and the names cannot drift apart.
macro_rules! context_fields {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// A `$context` variable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ContextField {
            $($(#[$doc])* $variant,)*
        }

        impl ContextField {
            /// Every variable.
            pub const ALL: &'static [ContextField] = &[$(ContextField::$variant,)*];

            /// AWS's name, after `$context.` (dotted for the nested ones).
            pub fn name(self) -> &'static str {
                match self {
                    $(ContextField::$variant => $name,)*
                }
            }
        }
    };
}

context_fields! {
    RequestId => "requestId",
    ExtendedRequestId => "extendedRequestId",
    HttpMethod => "httpMethod",
    Path => "path",
    Protocol => "protocol",
    Stage => "stage",
    ApiId => "apiId",
    AccountId => "accountId",
    DeploymentId => "deploymentId",
    ResourceId => "resourceId",
    ResourcePath => "resourcePath",
    /// An HTTP API route's key (`GET /pets/{id}`, `$default`).
    RouteKey => "routeKey",
    DomainName => "domainName",
    DomainPrefix => "domainPrefix",
    /// The base path of the custom domain mapping that took the request.
    CustomDomainBasePathMatched => "customDomain.basePathMatched",
    RequestTime => "requestTime",
    RequestTimeEpoch => "requestTimeEpoch",
    IdentitySourceIp => "identity.sourceIp",
    IdentityUserAgent => "identity.userAgent",
    /// Known for a SigV4-signed caller (AWS_IAM methods).
    IdentityAccountId => "identity.accountId",
    IdentityAccessKey => "identity.accessKey",
    IdentityCaller => "identity.caller",
    IdentityUser => "identity.user",
    IdentityUserArn => "identity.userArn",
    /// Known for a method that requires an API key, once the key is accepted.
    IdentityApiKey => "identity.apiKey",
    IdentityApiKeyId => "identity.apiKeyId",
    IsCanaryRequest => "isCanaryRequest",
    /// Known once a method's authorizer has run.
    AuthorizerPrincipalId => "authorizer.principalId",
    AuthorizerIntegrationLatency => "authorizer.integrationLatency",
    /// Known once the answer is: access logs read it.
    Status => "status",
    ResponseLength => "responseLength",
    ResponseLatency => "responseLatency",
    IntegrationLatency => "integrationLatency",
    /// Known once a step has failed: gateway responses and access logs read it.
    ErrorMessage => "error.message",
    ErrorMessageString => "error.messageString",
    ErrorResponseType => "error.responseType",
    ErrorValidationErrorString => "error.validationErrorString",
    /// A WebSocket event's (none in REST and HTTP API requests).
    ConnectionId => "connectionId",
    EventType => "eventType",
    MessageId => "messageId",
    ConnectedAt => "connectedAt",
    MessageDirection => "messageDirection",
}

use ContextField::*;

impl ContextField {
    /// The variable named `name` (what follows `$context.`); `integration.latency` is AWS's
    /// other name for `integrationLatency`.
    pub fn parse(name: &str) -> Option<Self> {
        if name == "integration.latency" {
            return Some(IntegrationLatency);
        }
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether templates and parameter mappings may read it: the answer's own values are not
    /// known yet while they run (AWS does not offer them there either).
    pub fn in_templates(self) -> bool {
        !matches!(
            self,
            Status | ResponseLength | ResponseLatency | IntegrationLatency
        )
    }

    /// Whether the variable is a number (a template reads `requestTimeEpoch` as one).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            RequestTimeEpoch
                | ConnectedAt
                | Status
                | ResponseLength
                | ResponseLatency
                | IntegrationLatency
                | AuthorizerIntegrationLatency
        )
    }
}

/// A `$context` name as parameter mappings and access logs read it: one of the fixed variables,
/// or a value an authorizer returned, which no list can name in advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextVariable {
    Field(ContextField),
    /// `authorizer.{key}`: a key of a Lambda authorizer's `context`.
    Authorizer(String),
    /// `authorizer.claims.{name}`: a claim of a Cognito user pool's token.
    Claim(String),
}

impl ContextVariable {
    /// The variable named `name` (what follows `$context.` or `context.`); `None` for a name
    /// Gatehouse does not know.
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(f) = ContextField::parse(name) {
            return Some(Self::Field(f));
        }
        let key = name.strip_prefix("authorizer.").filter(|k| !k.is_empty())?;
        Some(match key.strip_prefix("claims.") {
            Some(claim) if !claim.is_empty() => Self::Claim(claim.to_owned()),
            _ => Self::Authorizer(key.to_owned()),
        })
    }

    /// Its name, as it follows `$context.`.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Field(f) => f.name().into(),
            Self::Authorizer(key) => format!("authorizer.{key}").into(),
            Self::Claim(name) => format!("authorizer.claims.{name}").into(),
        }
    }

    /// Whether templates and parameter mappings may read it (see [`ContextField::in_templates`]).
    pub fn in_templates(&self) -> bool {
        match self {
            Self::Field(f) => f.in_templates(),
            Self::Authorizer(_) | Self::Claim(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_variable() {
        for &f in ContextField::ALL {
            assert_eq!(ContextField::parse(f.name()), Some(f), "{}", f.name());
        }
        assert_eq!(
            ContextField::parse("integration.latency"),
            Some(IntegrationLatency)
        );
        assert_eq!(ContextField::parse("identity"), None, "a group, not a variable");
        assert_eq!(ContextField::parse("nonsense"), None);
    }

    #[test]
    fn authorizer_names_are_its_fixed_values_its_context_keys_or_claims() {
        use ContextVariable as V;
        assert_eq!(
            V::parse("authorizer.principalId"),
            Some(V::Field(AuthorizerPrincipalId))
        );
        assert_eq!(V::parse("authorizer.tier"), Some(V::Authorizer("tier".into())));
        assert_eq!(V::parse("authorizer.claims.sub"), Some(V::Claim("sub".into())));
        assert_eq!(V::parse("authorizer."), None);
        assert_eq!(V::parse("stage"), Some(V::Field(Stage)));
    }
}
