//! Custom domain names and their mappings, as AWS keeps them: one domain seen through both
//! management APIs (`apigateway`'s DomainName and BasePathMapping, `apigatewayv2`'s DomainName
//! and ApiMapping), each mapping a base path (`''` for none, several levels in v2) to an API's
//! stage. Workers route a request whose Host is the domain to the mapping with the longest
//! base path that starts its path ([`DomainRoute`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A domain as Gatehouse stores it; [`DomainName::v1`] and [`DomainName::v2`] are its two
/// wire shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    /// `REGIONAL`, `EDGE` or `PRIVATE`.
    pub endpoint_type: String,
    /// An edge (or private) domain's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    /// A regional domain's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    pub certificate_upload_date: Timestamp,
    pub security_policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_id: Option<String>,
    #[serde(default = "ipv4")]
    pub ip_address_type: String,
    /// The random part of the names AWS gives the domain's endpoint (`d-{hosted}.execute-api...`).
    pub hosted: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn ipv4() -> String {
    "ipv4".into()
}

/// A domain's truststore: the client certificates it accepts are those issued by the CAs in
/// the PEM bundle imported under `truststoreUri` (`gatehouse certificates import-truststore`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutualTls {
    pub truststore_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truststore_warnings: Vec<String>,
}

/// The CloudFront zone every edge distribution is in.
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

/// The Route 53 zone of API Gateway's regional endpoints in `region`, where AWS publishes it
/// (the few below); other regions get none.
fn regional_zone(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "Z1UJRXOUMOOFQ8",
        "us-east-2" => "ZOJJZC49E0EPZ",
        "us-west-1" => "Z2MUQ32089INYE",
        "us-west-2" => "Z2OJLYMUO9EFXC",
        "eu-west-1" => "ZLY8HYME6SFDD",
        "eu-central-1" => "Z1U9ULNL0V5AJ3",
        _ => return None,
    })
}

impl DomainName {
    pub fn is_regional(&self) -> bool {
        self.endpoint_type == "REGIONAL"
    }

    /// The ARN of the certificate the domain presents.
    pub fn certificate(&self) -> Option<&str> {
        if self.is_regional() {
            self.regional_certificate_arn.as_deref()
        } else {
            self.certificate_arn.as_deref()
        }
    }

    /// Its ARN: a private domain's names its account and id, as AWS's do.
    pub fn arn(&self, region: &str, account: &str) -> String {
        match &self.domain_name_id {
            Some(id) => format!(
                "arn:aws:apigateway:{region}:{account}:/domainnames/{}+{id}",
                self.domain_name
            ),
            None => format!("arn:aws:apigateway:{region}::/domainnames/{}", self.domain_name),
        }
    }

    /// The name AWS would give the domain's endpoint: where its DNS record points.
    fn endpoint_name(&self, region: &str) -> String {
        if self.is_regional() {
            format!("d-{}.execute-api.{region}.amazonaws.com", self.hosted)
        } else {
            format!("d{}.cloudfront.net", self.hosted)
        }
    }

    /// `apigateway`'s shape.
    pub fn v1(&self, region: &str, account: &str) -> RestDomainName {
        let regional = self.is_regional();
        RestDomainName {
            domain_name: self.domain_name.clone(),
            domain_name_id: self.domain_name_id.clone(),
            domain_name_arn: self.arn(region, account),
            certificate_name: self.certificate_name.clone(),
            certificate_arn: self.certificate_arn.clone(),
            certificate_upload_date: Some(self.certificate_upload_date),
            regional_domain_name: regional.then(|| self.endpoint_name(region)),
            regional_hosted_zone_id: regional
                .then(|| regional_zone(region).map(str::to_owned))
                .flatten(),
            regional_certificate_name: self.regional_certificate_name.clone(),
            regional_certificate_arn: self.regional_certificate_arn.clone(),
            distribution_domain_name: (self.endpoint_type == "EDGE").then(|| self.endpoint_name(region)),
            distribution_hosted_zone_id: (self.endpoint_type == "EDGE").then(|| CLOUDFRONT_ZONE.to_owned()),
            endpoint_configuration: RestEndpointConfiguration {
                types: vec![self.endpoint_type.clone()],
                ip_address_type: Some(self.ip_address_type.clone()),
            },
            domain_name_status: "AVAILABLE".into(),
            security_policy: self.security_policy.clone(),
            endpoint_access_mode: self.endpoint_access_mode.clone(),
            mutual_tls_authentication: self.mutual_tls_authentication.clone(),
            ownership_verification_certificate_arn: self.ownership_verification_certificate_arn.clone(),
            policy: self.policy.clone(),
            routing_mode: "BASE_PATH_MAPPING_ONLY".into(),
            tags: self.tags.clone(),
        }
    }

    /// `apigatewayv2`'s shape.
    pub fn v2(&self, region: &str, account: &str) -> DomainNameV2 {
        DomainNameV2 {
            api_mapping_selection_expression: "$request.basepath".into(),
            domain_name: self.domain_name.clone(),
            domain_name_arn: self.arn(region, account),
            domain_name_configurations: vec![DomainNameConfiguration {
                api_gateway_domain_name: Some(self.endpoint_name(region)),
                certificate_arn: self.certificate().map(str::to_owned),
                certificate_name: if self.is_regional() {
                    self.regional_certificate_name.clone()
                } else {
                    self.certificate_name.clone()
                },
                certificate_upload_date: Some(super::http_api::iso(self.certificate_upload_date)),
                domain_name_status: Some("AVAILABLE".into()),
                domain_name_status_message: None,
                endpoint_type: Some(self.endpoint_type.clone()),
                hosted_zone_id: if self.is_regional() {
                    regional_zone(region).map(str::to_owned)
                } else {
                    Some(CLOUDFRONT_ZONE.to_owned())
                },
                ip_address_type: Some(self.ip_address_type.clone()),
                security_policy: Some(self.security_policy.clone()),
                ownership_verification_certificate_arn: self.ownership_verification_certificate_arn.clone(),
            }],
            mutual_tls_authentication: self.mutual_tls_authentication.clone(),
            routing_mode: "API_MAPPING_ONLY".into(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestEndpointConfiguration {
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

/// `apigateway`'s DomainName.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestDomainName {
    pub domain_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name_id: Option<String>,
    pub domain_name_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_upload_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_hosted_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_hosted_zone_id: Option<String>,
    pub endpoint_configuration: RestEndpointConfiguration,
    pub domain_name_status: String,
    pub security_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub routing_mode: String,
    pub tags: BTreeMap<String, String>,
}

/// `apigatewayv2`'s DomainNameConfiguration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_gateway_domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_upload_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
}

/// `apigatewayv2`'s DomainName.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameV2 {
    pub api_mapping_selection_expression: String,
    pub domain_name: String,
    pub domain_name_arn: String,
    pub domain_name_configurations: Vec<DomainNameConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTls>,
    pub routing_mode: String,
    pub tags: BTreeMap<String, String>,
}

/// A domain's mapping of a base path to an API's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMapping {
    pub id: String,
    /// The base path, without slashes at its ends; `''` for none.
    pub key: String,
    pub api_id: String,
    pub stage: String,
}

/// `(none)`: v1's name for the empty base path.
pub const NO_BASE_PATH: &str = "(none)";

/// v1's BasePathMapping.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasePathMapping {
    pub base_path: String,
    pub rest_api_id: String,
    pub stage: String,
}

impl From<&ApiMapping> for BasePathMapping {
    fn from(m: &ApiMapping) -> Self {
        Self {
            base_path: if m.key.is_empty() {
                NO_BASE_PATH.into()
            } else {
                m.key.clone()
            },
            rest_api_id: m.api_id.clone(),
            stage: m.stage.clone(),
        }
    }
}

/// v2's ApiMapping.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiMappingV2 {
    pub api_id: String,
    pub api_mapping_id: String,
    pub api_mapping_key: String,
    pub stage: String,
}

impl From<&ApiMapping> for ApiMappingV2 {
    fn from(m: &ApiMapping) -> Self {
        Self {
            api_id: m.api_id.clone(),
            api_mapping_id: m.id.clone(),
            api_mapping_key: m.key.clone(),
            stage: m.stage.clone(),
        }
    }
}

/// A VPC endpoint's access to a private domain (stored and answered; private APIs are not
/// served).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameAccessAssociation {
    pub domain_name_access_association_arn: String,
    pub domain_name_arn: String,
    pub access_association_source_type: String,
    pub access_association_source: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Whether `name` is a domain name AWS accepts: labels of letters, digits and hyphens (not at
/// a label's ends), at least two of them, 253 characters at most; the first may be `*`.
pub fn is_valid_domain_name(name: &str) -> bool {
    if name.len() > 253 || !name.contains('.') {
        return false;
    }
    name.split('.').enumerate().all(|(i, label)| {
        (i == 0 && label == "*")
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    })
}

/// Whether `key` is a base path: segments of letters, digits and `$-_.+!*'()`, separated by
/// single slashes, at most `levels` of them (v1 takes one, v2 several).
pub fn is_valid_mapping_key(key: &str, levels: usize) -> bool {
    let segments: Vec<&str> = key.split('/').collect();
    segments.len() <= levels
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"$-_.+!*'()".contains(&b))
        })
}

/// What a worker needs of a domain: its mappings, its certificate and its TLS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainRoute {
    /// Lowercase.
    pub domain_name: String,
    pub account_id: String,
    pub mappings: Vec<ApiMapping>,
    pub security_policy: String,
    /// The certificate the domain presents over TLS, when it was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertifiedKey>,
    /// Whether the domain takes only clients with a certificate its truststore vouches for
    /// (true even when the truststore cannot be found: the domain then takes none).
    #[serde(default)]
    pub mutual_tls: bool,
    /// The CAs whose client certificates the domain accepts (mutual TLS), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore: Option<String>,
}

/// A certificate chain and its private key, PEM, as a worker needs them to serve TLS.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertifiedKey {
    pub arn: String,
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never written to logs.
        f.debug_struct("CertifiedKey")
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_hostnames() {
        assert!(is_valid_domain_name("api.example.com"));
        assert!(is_valid_domain_name("*.example.com"));
        assert!(is_valid_domain_name("a-b.example.co.uk"));
        assert!(!is_valid_domain_name("localhost"));
        assert!(!is_valid_domain_name("api..example.com"));
        assert!(!is_valid_domain_name("-api.example.com"));
        assert!(!is_valid_domain_name("api.*.example.com"));
        assert!(!is_valid_domain_name("api example.com"));
    }

    #[test]
    fn base_paths_have_levels() {
        assert!(is_valid_mapping_key("v1", 1));
        assert!(!is_valid_mapping_key("v1/orders", 1));
        assert!(is_valid_mapping_key("v1/orders", 8));
        assert!(!is_valid_mapping_key("v1//orders", 8));
        assert!(!is_valid_mapping_key("/v1", 8));
        assert!(!is_valid_mapping_key("v1?x", 8));
    }
}
