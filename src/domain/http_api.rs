//! An HTTP or WebSocket API (`apigatewayv2`): what the API is, on v2's wire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An `apigatewayv2` API, as GetApi answers it (field names are the model's `locationName`s;
/// dates are ISO 8601, as v2's wire has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpApi {
    pub api_id: String,
    pub name: String,
    /// `HTTP` or `WEBSOCKET`.
    pub protocol_type: String,
    pub api_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
    pub created_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    pub disable_execute_api_endpoint: bool,
    pub ip_address_type: String,
    pub route_selection_expression: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// An HTTP API's CORS configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i32>,
}

/// v2's timestamps: ISO 8601 in UTC.
pub fn iso_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `ts` (seconds since the epoch) as v2 dates are written.
pub fn iso(ts: super::Timestamp) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A route (`GET /pets/{id}`, `ANY /{proxy+}`, `$default`), as GetRoute answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(default)]
    pub api_gateway_managed: bool,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `JWT`.
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, ParameterConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<String>,
    /// `integrations/{integrationId}`, when the route has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Route {
    /// The id of the integration the route targets.
    pub fn integration_id(&self) -> Option<&str> {
        self.target.as_deref()?.strip_prefix("integrations/")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterConstraints {
    pub required: bool,
}

/// A route key taken apart: `$default`, or a verb (`ANY` for every one) and a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKey<'a> {
    Default,
    Path { verb: &'a str, path: &'a str },
}

impl<'a> RouteKey<'a> {
    /// Parses an HTTP API's route key, with AWS's rules: `$default`, or `VERB /path` where the
    /// verb is one of HTTP's (or `ANY`) and each path segment is a literal or a whole `{name}`,
    /// the last possibly greedy (`{name+}`).
    pub fn parse(raw: &'a str) -> Result<Self, String> {
        if raw == "$default" {
            return Ok(RouteKey::Default);
        }
        let bad = || {
            format!(
                "Invalid route key {raw:?}: expected $default or a method and a path, such as GET /pets/{{id}}"
            )
        };
        let (verb, path) = raw.split_once(' ').ok_or_else(bad)?;
        if super::enums::HttpMethod::parse(verb).is_none() || !path.starts_with('/') || path.contains(' ') {
            return Err(bad());
        }
        if path.len() > 1 {
            let segments: Vec<&str> = path[1..].split('/').collect();
            for (i, s) in segments.iter().enumerate() {
                let variable = s.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
                match variable {
                    Some(name) => {
                        let (name, greedy) = match name.strip_suffix('+') {
                            Some(n) => (n, true),
                            None => (name, false),
                        };
                        if name.is_empty()
                            || !name
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                            || (greedy && i + 1 != segments.len())
                        {
                            return Err(bad());
                        }
                    }
                    None if s.is_empty() || s.contains(['{', '}']) => return Err(bad()),
                    None => {}
                }
            }
        }
        Ok(RouteKey::Path { verb, path })
    }
}

/// A WebSocket route's response (what the route sends back to the client), as
/// GetRouteResponse answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponse {
    pub route_response_id: String,
    pub route_response_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, ParameterConstraints>,
}

/// A WebSocket integration's response (how an integration's answer is turned into the route's),
/// as GetIntegrationResponse answers it. Its key is `$default` or a `/regex/` over the answer's
/// status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub integration_response_id: String,
    pub integration_response_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_templates: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
}

/// An integration of an HTTP or WebSocket API, as GetIntegration answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub integration_id: String,
    /// `AWS`, `AWS_PROXY`, `HTTP`, `HTTP_PROXY` or `MOCK`.
    pub integration_type: String,
    #[serde(default)]
    pub api_gateway_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// `INTERNET` or `VPC_LINK`.
    pub connection_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_response_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_subtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<String>,
    /// `1.0` or `2.0` (HTTP APIs' Lambda events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    /// By status code, the mappings of the answer (`overwrite:statuscode`, `append:header.x`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
    pub timeout_in_millis: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name_to_verify: Option<String>,
}

/// A stage of an HTTP or WebSocket API, as GetStage answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default)]
    pub api_gateway_managed: bool,
    #[serde(default)]
    pub auto_deploy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    pub created_date: String,
    pub default_route_settings: RouteSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_deployment_status_message: Option<String>,
    pub last_updated_date: String,
    #[serde(default)]
    pub route_settings: BTreeMap<String, RouteSettings>,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A stage's settings for its routes (`defaultRouteSettings`) or one route (`routeSettings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_metrics_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
}

impl RouteSettings {
    /// Fields set in `other` replace this one's (UpdateStage merges route settings).
    pub fn merge(&mut self, other: RouteSettings) {
        let RouteSettings {
            data_trace_enabled,
            detailed_metrics_enabled,
            logging_level,
            throttling_burst_limit,
            throttling_rate_limit,
        } = other;
        self.data_trace_enabled = data_trace_enabled.or(self.data_trace_enabled);
        self.detailed_metrics_enabled = detailed_metrics_enabled.or(self.detailed_metrics_enabled);
        self.logging_level = logging_level.or(self.logging_level.take());
        self.throttling_burst_limit = throttling_burst_limit.or(self.throttling_burst_limit);
        self.throttling_rate_limit = throttling_rate_limit.or(self.throttling_rate_limit);
    }

    /// The throttle as a REST method setting states it. A rate without a burst lets through
    /// bursts of one second's worth; a burst without a rate, or neither, is no limit.
    fn method_setting(&self) -> Option<super::stage::MethodSetting> {
        let rate = self.throttling_rate_limit?;
        let burst = self
            .throttling_burst_limit
            .unwrap_or_else(|| rate.ceil().clamp(1.0, i32::MAX as f64) as i32);
        Some(super::stage::MethodSetting {
            throttling_rate_limit: rate,
            throttling_burst_limit: burst,
            ..super::stage::MethodSetting::default()
        })
    }
}

/// The key under which a REST stage's `methodSettings` hold a route's settings, as the data
/// plane looks a method's up: `{path without its leading /}/{VERB}`, and `$default/ANY` for
/// the `$default` route (whose compiled method has that path and verb).
pub fn method_setting_key(route_key: &str) -> Option<String> {
    match RouteKey::parse(route_key) {
        Ok(RouteKey::Default) => Some(format!("{DEFAULT_ROUTE}/ANY")),
        Ok(RouteKey::Path { verb, path }) => Some(format!("{}/{verb}", &path[1..])),
        // A WebSocket API's route key (`$connect`, `sendmessage`): settings of the key, any verb.
        Err(_) if !route_key.is_empty() && !route_key.contains([' ', '/']) => {
            Some(format!("{route_key}/ANY"))
        }
        Err(_) => None,
    }
}

/// The route key, and the resource path the data plane gives the `$default` route.
pub const DEFAULT_ROUTE: &str = "$default";

impl Stage {
    /// A new stage with AWS's defaults, created now, serving no deployment yet.
    pub fn new(stage_name: String) -> Self {
        let now = iso_now();
        Self {
            stage_name,
            access_log_settings: None,
            api_gateway_managed: false,
            auto_deploy: false,
            client_certificate_id: None,
            created_date: now.clone(),
            default_route_settings: RouteSettings::default(),
            deployment_id: None,
            description: None,
            last_deployment_status_message: None,
            last_updated_date: now,
            route_settings: BTreeMap::new(),
            stage_variables: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }

    /// The stage as the data plane serves it: the same runtime settings a REST stage has
    /// (variables, throttles by method, access log), so that every step after routing serves
    /// both kinds of API alike.
    pub fn runtime(&self) -> super::stage::Stage {
        let mut method_settings = BTreeMap::new();
        if let Some(s) = self.default_route_settings.method_setting() {
            method_settings.insert("*/*".to_owned(), s);
        }
        for (key, settings) in &self.route_settings {
            let mut merged = self.default_route_settings.clone();
            merged.merge(settings.clone());
            if let (Some(k), Some(s)) = (method_setting_key(key), merged.method_setting()) {
                method_settings.insert(k, s);
            }
        }
        super::stage::Stage {
            stage_name: self.stage_name.clone(),
            deployment_id: self.deployment_id.clone().unwrap_or_default(),
            description: None,
            client_certificate_id: self.client_certificate_id.clone(),
            cache_cluster_enabled: false,
            cache_cluster_size: None,
            cache_cluster_status: super::stage::Stage::cache_status(false),
            method_settings,
            variables: self.stage_variables.clone(),
            documentation_version: None,
            access_log_settings: self
                .access_log_settings
                .as_ref()
                .map(|a| super::stage::AccessLogSettings {
                    format: a.format.clone(),
                    destination_arn: a.destination_arn.clone(),
                }),
            canary_settings: None,
            tracing_enabled: false,
            web_acl_arn: None,
            tags: BTreeMap::new(),
            created_date: 0,
            last_updated_date: 0,
        }
    }
}

/// An authorizer of an HTTP or WebSocket API, as GetAuthorizer answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub authorizer_id: String,
    pub name: String,
    /// `JWT` or `REQUEST`.
    pub authorizer_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_source: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<JwtConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
}

/// A JWT authorizer's issuer and the audiences it accepts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JwtConfiguration {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// A model of an HTTP or WebSocket API, as GetModel answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub model_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// A deployment of an HTTP or WebSocket API, as GetDeployment answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub deployment_id: String,
    #[serde(default)]
    pub auto_deployed: bool,
    pub created_date: String,
    /// `PENDING`, `FAILED` or `DEPLOYED`.
    pub deployment_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_follow_aws_rules() {
        assert_eq!(RouteKey::parse("$default"), Ok(RouteKey::Default));
        assert_eq!(
            RouteKey::parse("GET /pets/{id}"),
            Ok(RouteKey::Path {
                verb: "GET",
                path: "/pets/{id}"
            })
        );
        assert!(RouteKey::parse("ANY /{proxy+}").is_ok());
        assert!(RouteKey::parse("GET /").is_ok());
        for bad in [
            "GET",
            "get /x",
            "GET pets",
            "GET /{a+}/b",
            "GET /a//b",
            "GET /a{b}",
            "FETCH /x",
            "GET /{}",
        ] {
            assert!(RouteKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stage_serves_its_route_settings_as_method_settings() {
        let stage = Stage {
            stage_name: "$default".into(),
            access_log_settings: None,
            api_gateway_managed: false,
            auto_deploy: true,
            client_certificate_id: None,
            created_date: String::new(),
            default_route_settings: RouteSettings {
                throttling_rate_limit: Some(1.0),
                throttling_burst_limit: Some(2),
                ..Default::default()
            },
            deployment_id: Some("d".into()),
            description: None,
            last_deployment_status_message: None,
            last_updated_date: String::new(),
            route_settings: BTreeMap::from([(
                "GET /pets/{id}".to_owned(),
                RouteSettings {
                    throttling_rate_limit: Some(5.0),
                    ..Default::default()
                },
            )]),
            stage_variables: BTreeMap::from([("v".to_owned(), "1".to_owned())]),
            tags: BTreeMap::new(),
        };
        let runtime = stage.runtime();
        assert_eq!(runtime.method_settings["*/*"].throttling_rate_limit, 1.0);
        assert_eq!(runtime.method_settings["*/*"].throttling_burst_limit, 2);
        let own = &runtime.method_settings["pets/{id}/GET"];
        assert_eq!((own.throttling_rate_limit, own.throttling_burst_limit), (5.0, 2));
        assert_eq!(runtime.variables["v"], "1");
        assert_eq!(method_setting_key("$default").unwrap(), "$default/ANY");
    }
}

/// A VPC link of HTTP APIs (v2), as GetVpcLink answers it: the private network an integration
/// with `connectionType: VPC_LINK` reaches its target through. Gatehouse has nothing to
/// provision, so a link is `AVAILABLE` from its creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub vpc_link_id: String,
    pub name: String,
    pub created_date: String,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `PENDING`, `AVAILABLE`, `DELETING`, `FAILED` or `INACTIVE`.
    pub vpc_link_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_link_status_message: Option<String>,
    /// `V2`.
    pub vpc_link_version: String,
}
