//! AWS's string enums, each parsed once at the edge and carried as a Rust enum afterwards.

/// Declares a string enum with AWS's spelling, `parse`, `as_str`, `ALL` and serde both ways.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted spellings, comma-separated, for error messages.
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{raw:?} is not one of [{}]", Self::choices()
                    ))
                })
            }
        }
    };
}

aws_enum!(ApiKeySource { Header = "HEADER", Authorizer = "AUTHORIZER" });

aws_enum!(
    /// The kind of an API: `apigateway`'s REST APIs, `apigatewayv2`'s HTTP and WebSocket APIs.
    ApiProtocol {
        Rest = "REST",
        Http = "HTTP",
        WebSocket = "WEBSOCKET",
    }
);

impl Default for ApiProtocol {
    /// REST: what a stage is when nothing says otherwise (streams and config caches from
    /// before HTTP APIs existed).
    fn default() -> Self {
        ApiProtocol::Rest
    }
}

aws_enum!(EndpointType { Edge = "EDGE", Regional = "REGIONAL", Private = "PRIVATE" });

aws_enum!(IpAddressType { Ipv4 = "ipv4", Dualstack = "dualstack" });

aws_enum!(
    /// A method's verb; `ANY` matches every verb.
    HttpMethod {
        Get = "GET",
        Put = "PUT",
        Post = "POST",
        Delete = "DELETE",
        Patch = "PATCH",
        Options = "OPTIONS",
        Head = "HEAD",
        Any = "ANY",
    }
);

aws_enum!(AuthorizationType {
    None = "NONE",
    AwsIam = "AWS_IAM",
    Custom = "CUSTOM",
    CognitoUserPools = "COGNITO_USER_POOLS",
});

aws_enum!(IntegrationType {
    Http = "HTTP",
    Mock = "MOCK",
    AwsProxy = "AWS_PROXY",
    HttpProxy = "HTTP_PROXY",
    Aws = "AWS",
});

aws_enum!(ConnectionType { Internet = "INTERNET", VpcLink = "VPC_LINK" });

aws_enum!(PassthroughBehavior {
    WhenNoMatch = "WHEN_NO_MATCH",
    WhenNoTemplates = "WHEN_NO_TEMPLATES",
    Never = "NEVER",
});

aws_enum!(ContentHandling { ConvertToBinary = "CONVERT_TO_BINARY", ConvertToText = "CONVERT_TO_TEXT" });

aws_enum!(CacheClusterSize {
    S0_5 = "0.5",
    S1_6 = "1.6",
    S6_1 = "6.1",
    S13_5 = "13.5",
    S28_4 = "28.4",
    S58_2 = "58.2",
    S118 = "118",
    S237 = "237",
});

aws_enum!(UnauthorizedCacheControlHeaderStrategy {
    FailWith403 = "FAIL_WITH_403",
    SucceedWithResponseHeader = "SUCCEED_WITH_RESPONSE_HEADER",
    SucceedWithoutResponseHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER",
});

aws_enum!(AuthorizerType { Token = "TOKEN", Request = "REQUEST", CognitoUserPools = "COGNITO_USER_POOLS" });

aws_enum!(
    /// Gateway response types, declared in the order AWS lists them in its validation message.
    GatewayResponseType {
        RequestTooLarge = "REQUEST_TOO_LARGE",
        ResourceNotFound = "RESOURCE_NOT_FOUND",
        AuthorizerConfigurationError = "AUTHORIZER_CONFIGURATION_ERROR",
        MissingAuthenticationToken = "MISSING_AUTHENTICATION_TOKEN",
        BadRequestBody = "BAD_REQUEST_BODY",
        InvalidSignature = "INVALID_SIGNATURE",
        InvalidApiKey = "INVALID_API_KEY",
        BadRequestParameters = "BAD_REQUEST_PARAMETERS",
        AuthorizerFailure = "AUTHORIZER_FAILURE",
        Unauthorized = "UNAUTHORIZED",
        IntegrationTimeout = "INTEGRATION_TIMEOUT",
        AccessDenied = "ACCESS_DENIED",
        Default4xx = "DEFAULT_4XX",
        Default5xx = "DEFAULT_5XX",
        WafFiltered = "WAF_FILTERED",
        QuotaExceeded = "QUOTA_EXCEEDED",
        Throttled = "THROTTLED",
        ApiConfigurationError = "API_CONFIGURATION_ERROR",
        UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
        IntegrationFailure = "INTEGRATION_FAILURE",
        ExpiredToken = "EXPIRED_TOKEN",
    }
);

impl GatewayResponseType {
    /// AWS's status code for the type when nothing is customised (none for the two defaults).
    pub fn default_status(self) -> Option<&'static str> {
        use GatewayResponseType::*;
        Some(match self {
            AccessDenied
            | ExpiredToken
            | InvalidApiKey
            | InvalidSignature
            | MissingAuthenticationToken
            | WafFiltered => "403",
            ApiConfigurationError | AuthorizerConfigurationError | AuthorizerFailure => "500",
            BadRequestBody | BadRequestParameters => "400",
            IntegrationFailure | IntegrationTimeout => "504",
            QuotaExceeded | Throttled => "429",
            RequestTooLarge => "413",
            ResourceNotFound => "404",
            Unauthorized => "401",
            UnsupportedMediaType => "415",
            Default4xx | Default5xx => return None,
        })
    }

    /// The default type a type inherits from when it is not customised itself.
    pub fn family(self) -> Option<Self> {
        use GatewayResponseType::*;
        match self {
            Default4xx | Default5xx => None,
            ApiConfigurationError
            | AuthorizerConfigurationError
            | AuthorizerFailure
            | IntegrationFailure
            | IntegrationTimeout => Some(Default5xx),
            _ => Some(Default4xx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_aws_spelling() {
        for m in HttpMethod::ALL {
            assert_eq!(HttpMethod::parse(m.as_str()), Some(*m));
        }
        assert_eq!(
            serde_json::to_string(&IpAddressType::Dualstack).unwrap(),
            "\"dualstack\""
        );
        assert!(serde_json::from_str::<IntegrationType>("\"HTTPS_PROXY\"").is_err());
        assert_eq!(CacheClusterSize::parse("0.5"), Some(CacheClusterSize::S0_5));
    }
}
