//! A REST API and its parts, in the shape AWS returns them (and Gatehouse stores them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::enums::*;

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    pub types: Vec<EndpointType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<IpAddressType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_endpoint_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i32>,
    pub api_key_source: ApiKeySource,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Not shown when empty by CreateRestApi and GetRestApis; GetRestApi, UpdateRestApi and
    /// PutRestApi show them always ([`RestApi::with_tags`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
}

/// A REST API as GetRestApi, UpdateRestApi and PutRestApi answer it: with its `tags`, `{}`
/// when it has none (as AWS's recordings show; its other answers leave empty tags out).
#[derive(Serialize, utoipa::ToSchema)]
pub struct WithTags {
    #[serde(flatten)]
    pub api: RestApi,
    #[serde(rename = "tags")]
    all_tags: BTreeMap<String, String>,
}

impl RestApi {
    pub fn with_tags(mut self) -> WithTags {
        let all_tags = std::mem::take(&mut self.tags);
        WithTags { api: self, all_tags }
    }
}

/// A node of the resource tree. `path` is derived from the ancestors and filled in on read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_methods: Option<BTreeMap<String, Method>>,
}

/// A path part as AWS distinguishes them: literal, `{param}`, or greedy `{param+}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPartKind {
    Literal,
    Param,
    Greedy,
}

impl PathPartKind {
    pub fn of(part: &str) -> Self {
        if part.starts_with('{') && part.ends_with("+}") {
            Self::Greedy
        } else if part.starts_with('{') && part.ends_with('}') {
            Self::Param
        } else {
            Self::Literal
        }
    }

    pub fn is_variable(self) -> bool {
        self != Self::Literal
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: HttpMethod,
    pub authorization_type: AuthorizationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    pub status_code: String,
    /// Shown when given, empty or not (as AWS shows them); read through [`Self::parameters`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, bool>>,
    /// Shown when given; read through [`Self::models`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_models: Option<BTreeMap<String, String>>,
}

static NO_PARAMETERS: BTreeMap<String, bool> = BTreeMap::new();
static NO_MODELS: BTreeMap<String, String> = BTreeMap::new();

impl MethodResponse {
    pub fn parameters(&self) -> &BTreeMap<String, bool> {
        self.response_parameters.as_ref().unwrap_or(&NO_PARAMETERS)
    }

    pub fn models(&self) -> &BTreeMap<String, String> {
        self.response_models.as_ref().unwrap_or(&NO_MODELS)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure_skip_verification: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub kind: IntegrationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<ConnectionType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<PassthroughBehavior>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<ContentHandling>,
    pub timeout_in_millis: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_namespace: Option<String>,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, String>,
    /// Shown when given, empty too (as AWS shows them); read through [`Self::templates`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_templates: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<ContentHandling>,
}

static NO_TEMPLATES: BTreeMap<String, Option<String>> = BTreeMap::new();

impl IntegrationResponse {
    /// Its templates by content type (`None`: an empty template, kept as AWS keeps it).
    pub fn templates(&self) -> &BTreeMap<String, Option<String>> {
        self.response_templates.as_ref().unwrap_or(&NO_TEMPLATES)
    }
}

/// `apiSummary`: for each resource path, each method's authorization type and API-key flag.
pub type ApiSummary = BTreeMap<String, BTreeMap<String, MethodSnapshot>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodSnapshot {
    pub authorization_type: AuthorizationType,
    pub api_key_required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_summary: Option<ApiSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidator {
    pub id: String,
    pub name: String,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AuthorizerType,
    #[serde(default, rename = "providerARNs", skip_serializing_if = "Vec::is_empty")]
    pub provider_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    /// Unset (and not shown, as AWS shows none) means AWS's default, [`Authorizer::ttl`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
}

impl Authorizer {
    /// How long the authorizer's results are cached, in seconds: 300 unless set.
    pub fn ttl(&self) -> i32 {
        self.authorizer_result_ttl_in_seconds.unwrap_or(300)
    }
}

/// A gateway response as GetGatewayResponse shows it (customised or AWS's default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    pub response_type: GatewayResponseType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
    pub default_response: bool,
}

/// The template every default gateway response renders.
pub const DEFAULT_GATEWAY_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

impl GatewayResponse {
    /// What AWS answers for `kind` given the API's customised responses: the type's own
    /// customisation, else its family default's (DEFAULT_4XX / DEFAULT_5XX), else AWS's default.
    pub fn effective(
        kind: GatewayResponseType,
        customised: &BTreeMap<GatewayResponseType, GatewayResponse>,
    ) -> Self {
        if let Some(own) = customised.get(&kind) {
            return own.clone();
        }
        if let Some(family) = kind.family().and_then(|f| customised.get(&f)) {
            return GatewayResponse {
                response_type: kind,
                status_code: family
                    .status_code
                    .clone()
                    .or_else(|| kind.default_status().map(str::to_owned)),
                response_parameters: family.response_parameters.clone(),
                response_templates: family.response_templates.clone(),
                default_response: true,
            };
        }
        GatewayResponse {
            response_type: kind,
            status_code: kind.default_status().map(str::to_owned),
            response_parameters: BTreeMap::new(),
            response_templates: BTreeMap::from([(
                "application/json".to_owned(),
                DEFAULT_GATEWAY_TEMPLATE.to_owned(),
            )]),
            default_response: true,
        }
    }
}

/// A resource policy as AWS stores and returns it: the document without the whitespace between
/// its tokens, then escaped (`\` → `\\`, `"` → `\"`, `/` → `\/`), so that GetRestApi
/// answers `{\"Version\":\"2012-10-17\",...}`, the form Terraform and the SDKs unescape.
/// `None` when `document` is not JSON.
pub fn stored_policy(document: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(document).ok()?;
    let mut out = String::with_capacity(document.len() + document.len() / 4);
    let mut in_string = false;
    let mut escaped = false;
    for c in document.chars() {
        if !in_string && c.is_whitespace() {
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    Some(out)
}

/// The policy document a stored policy (see [`stored_policy`]) was made from.
pub fn policy_document(stored: &str) -> String {
    let mut out = String::with_capacity(stored.len());
    let mut chars = stored.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('\\' | '"' | '/'))) => {
                out.push(next);
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    out
}

/// Status codes as AWS accepts them for method and integration responses.
pub fn is_valid_status_code(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_are_classified_like_aws() {
        assert_eq!(PathPartKind::of("pets"), PathPartKind::Literal);
        assert_eq!(PathPartKind::of("{id}"), PathPartKind::Param);
        assert_eq!(PathPartKind::of("{proxy+}"), PathPartKind::Greedy);
    }

    #[test]
    fn policies_are_stored_compact_and_escaped_as_aws_returns_them() {
        let doc = "{ \"Version\": \"2012-10-17\",\n \"Statement\": [{\"Resource\": \"arn:a/b c\", \"Sid\": \"q\\\"x\"}]}";
        let stored = stored_policy(doc).unwrap();
        assert_eq!(
            stored,
            r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Resource\":\"arn:a\/b c\",\"Sid\":\"q\\\"x\"}]}"#
        );
        let back: serde_json::Value = serde_json::from_str(&policy_document(&stored)).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(doc).unwrap());
        assert_eq!(stored_policy("{not json"), None);
    }

    #[test]
    fn status_codes_follow_aws_pattern() {
        assert!(is_valid_status_code("200"));
        assert!(!is_valid_status_code("600"));
        assert!(!is_valid_status_code("wrong"));
    }
}
