//! The `$context` vocabulary: every context variable Gatehouse answers, by AWS's name, in one
//! enum. Names are parsed once, when an API is compiled (`context.x` in parameter mappings,
//! `$context.x` in access-log formats) or when a template first reads one; the request's
//! `RequestContext::field` answers them all, for templates, access logs and mappings alike. A
//! new variable (an authorizer's, a usage plan's) is one variant here and one arm there.

/// A `$context` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextField {
    RequestId,
    ExtendedRequestId,
    HttpMethod,
    Path,
    Protocol,
    Stage,
    ApiId,
    AccountId,
    DeploymentId,
    ResourceId,
    ResourcePath,
    DomainName,
    DomainPrefix,
    RequestTime,
    RequestTimeEpoch,
    IdentitySourceIp,
    IdentityUserAgent,
    IsCanaryRequest,
    /// Known once the answer is: access logs read them.
    Status,
    ResponseLength,
    ResponseLatency,
    IntegrationLatency,
    /// Known once a step has failed: gateway responses and access logs read them.
    ErrorMessage,
    ErrorMessageString,
    ErrorResponseType,
    ErrorValidationErrorString,
}

use ContextField::*;

impl ContextField {
    /// Every variable, in the order AWS's documentation lists them (roughly).
    pub const ALL: [ContextField; 26] = [
        RequestId,
        ExtendedRequestId,
        HttpMethod,
        Path,
        Protocol,
        Stage,
        ApiId,
        AccountId,
        DeploymentId,
        ResourceId,
        ResourcePath,
        DomainName,
        DomainPrefix,
        RequestTime,
        RequestTimeEpoch,
        IdentitySourceIp,
        IdentityUserAgent,
        IsCanaryRequest,
        Status,
        ResponseLength,
        ResponseLatency,
        IntegrationLatency,
        ErrorMessage,
        ErrorMessageString,
        ErrorResponseType,
        ErrorValidationErrorString,
    ];

    /// AWS's name, after `$context.` (dotted for the nested ones).
    pub fn name(self) -> &'static str {
        match self {
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
            DomainName => "domainName",
            DomainPrefix => "domainPrefix",
            RequestTime => "requestTime",
            RequestTimeEpoch => "requestTimeEpoch",
            IdentitySourceIp => "identity.sourceIp",
            IdentityUserAgent => "identity.userAgent",
            IsCanaryRequest => "isCanaryRequest",
            Status => "status",
            ResponseLength => "responseLength",
            ResponseLatency => "responseLatency",
            IntegrationLatency => "integrationLatency",
            ErrorMessage => "error.message",
            ErrorMessageString => "error.messageString",
            ErrorResponseType => "error.responseType",
            ErrorValidationErrorString => "error.validationErrorString",
        }
    }

    /// The variable named `name` (what follows `$context.`); `integration.latency` is AWS's
    /// other name for `integrationLatency`.
    pub fn parse(name: &str) -> Option<Self> {
        if name == "integration.latency" {
            return Some(IntegrationLatency);
        }
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether a mapping template may read it: the answer's own values are not known yet
    /// while templates run (AWS does not offer them there either).
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
            RequestTimeEpoch | Status | ResponseLength | ResponseLatency | IntegrationLatency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_variable() {
        for f in ContextField::ALL {
            assert_eq!(ContextField::parse(f.name()), Some(f), "{}", f.name());
        }
        assert_eq!(
            ContextField::parse("integration.latency"),
            Some(IntegrationLatency)
        );
        assert_eq!(ContextField::parse("identity"), None, "a group, not a variable");
        assert_eq!(ContextField::parse("nonsense"), None);
    }
}
