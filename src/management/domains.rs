//! What `apigateway` and `apigatewayv2` share of custom domain names: one domain seen through
//! both (v1's DomainName and BasePathMapping, v2's DomainName and ApiMapping are views of the
//! same rows), the checks of a domain's certificate and truststore, and of what a mapping
//! names. Each API's module keeps its own wire shapes and messages.

use sqlx::PgConnection;

use super::error::{ApiError, ApiResult, OrNotFound};
use crate::domain::domain_name::{ApiMapping, DomainName, is_valid_domain_name};
use crate::store::{RowLock, StoreError, Tenant, certificates, domain_names as store};

pub fn domain_not_found() -> ApiError {
    ApiError::not_found("Invalid domain name identifier specified")
}

/// AWS's words for a name some domain has (v1 answers them as BadRequest, v2 as Conflict).
pub const DOMAIN_EXISTS: &str = "The domain name you provided already exists.";

/// v1's security policies (v2 takes the first two).
pub const SECURITY_POLICIES: &[&str] = &[
    "TLS_1_0",
    "TLS_1_2",
    "SecurityPolicy_TLS13_1_3_2025_09",
    "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
    "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_2021_06",
    "SecurityPolicy_TLS13_2025_EDGE",
    "SecurityPolicy_TLS12_PFS_2025_EDGE",
    "SecurityPolicy_TLS12_2018_EDGE",
];

/// The tenant's domain `name`, its row locked as asked.
pub async fn find_domain(
    conn: &mut PgConnection,
    tenant: &Tenant,
    name: &str,
    lock: RowLock,
) -> ApiResult<DomainName> {
    store::get(conn, tenant, &name.to_ascii_lowercase(), lock)
        .await
        .or_not_found(domain_not_found)
}

/// A new domain's `hosted` token: AWS's 10 lowercase characters.
pub fn hosted_token() -> String {
    crate::domain::ids::random_id(10)
}

/// Checks everything of a domain that its fields alone do not tell: the name, the certificate
/// (an ACM ARN of the tenant's account, in the region its endpoint type needs, covering the
/// name when it was imported), the security policy, and the truststore of mutual TLS.
pub async fn check_domain(conn: &mut PgConnection, tenant: &Tenant, d: &DomainName) -> ApiResult<()> {
    if !is_valid_domain_name(&d.domain_name) {
        return Err(ApiError::bad_request(format!(
            "Invalid domain name: {}. It must be a fully qualified domain name (labels of letters, digits and hyphens)",
            d.domain_name
        )));
    }
    if !SECURITY_POLICIES.contains(&d.security_policy.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid security policy: {}. It must be one of: {}",
            d.security_policy,
            SECURITY_POLICIES.join(", ")
        )));
    }
    let (arn, wanted_region) = match d.endpoint_type.as_str() {
        "REGIONAL" => {
            if d.certificate_arn.is_some() {
                return Err(ApiError::bad_request(
                    "A REGIONAL domain name takes regionalCertificateArn, not certificateArn",
                ));
            }
            (d.regional_certificate_arn.as_deref(), tenant.region.as_str())
        }
        "EDGE" | "PRIVATE" => {
            if d.regional_certificate_arn.is_some() {
                return Err(ApiError::bad_request(format!(
                    "An {} domain name takes certificateArn, not regionalCertificateArn",
                    d.endpoint_type
                )));
            }
            let region = if d.endpoint_type == "EDGE" {
                "us-east-1"
            } else {
                tenant.region.as_str()
            };
            (d.certificate_arn.as_deref(), region)
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid endpoint configuration type: {other}. It must be EDGE, REGIONAL or PRIVATE"
            )));
        }
    };
    let Some(arn) = arn else {
        let field = if d.is_regional() {
            "regionalCertificateArn"
        } else {
            "certificateArn"
        };
        return Err(ApiError::bad_request(format!(
            "A certificate was not provided: {} domain names need {field}",
            d.endpoint_type
        )));
    };
    // Names are the fleet's: one account's wildcard domain and another's names under it
    // would each take the other's traffic.
    if store::overlaps_another_account(conn, tenant, &d.domain_name).await? {
        return Err(ApiError::bad_request(
            "The domain name you provided overlaps a wildcard domain name of another account.",
        ));
    }
    check_certificate(conn, tenant, d, arn, wanted_region).await?;
    if let Some(m) = &d.mutual_tls_authentication {
        if !d.is_regional() {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication is only supported for REGIONAL domain names",
            ));
        }
        if d.security_policy == "TLS_1_0" {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication requires the TLS_1_2 security policy",
            ));
        }
        if !m.truststore_uri.starts_with("s3://") {
            return Err(ApiError::bad_request(format!(
                "Invalid truststore URI: {}. It must be an s3:// URI",
                m.truststore_uri
            )));
        }
        if certificates::truststore(conn, &tenant.account_id, &tenant.region, &m.truststore_uri)
            .await?
            .is_none()
        {
            return Err(ApiError::bad_request(format!(
                "Truststore not found at {}: import it with `gatehouse certificates import-truststore`",
                m.truststore_uri
            )));
        }
    }
    Ok(())
}

/// `arn` names an ACM certificate of the tenant's account in `region`; one imported into
/// Gatehouse must cover the domain's name. One not imported is taken (the domain is served
/// without TLS until it is, see the README).
async fn check_certificate(
    conn: &mut PgConnection,
    tenant: &Tenant,
    d: &DomainName,
    arn: &str,
    region: &str,
) -> ApiResult<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "acm", cert_region, account, resource] = parts[..] else {
        return Err(ApiError::bad_request(format!("Invalid certificate ARN: {arn}")));
    };
    if !resource.starts_with("certificate/") {
        return Err(ApiError::bad_request(format!("Invalid certificate ARN: {arn}")));
    }
    if account != tenant.account_id {
        return Err(ApiError::bad_request(
            "Cross-account certificate references are not allowed.",
        ));
    }
    if cert_region != region {
        return Err(ApiError::bad_request(format!(
            "Invalid certificate ARN: {arn}. Certificate must be in '{region}'."
        )));
    }
    match certificates::get(conn, &tenant.account_id, arn).await {
        Ok(cert) if !covers(&cert.domain_names, &d.domain_name) => Err(ApiError::bad_request(
            "The domain name to be created is not covered by the provided certificate.",
        )),
        Ok(_) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether a certificate for `names` covers `domain` (a `*.` name covers one label).
pub fn covers(names: &[String], domain: &str) -> bool {
    names.iter().any(|n| {
        n.eq_ignore_ascii_case(domain)
            || n.strip_prefix("*.").is_some_and(|parent| {
                domain
                    .split_once('.')
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(parent))
            })
    })
}

/// Stores a new domain; `exists` is the API's error for a taken name.
pub async fn insert_domain(
    conn: &mut PgConnection,
    tenant: &Tenant,
    d: &DomainName,
    exists: fn() -> ApiError,
) -> ApiResult<()> {
    match store::insert(conn, tenant, d).await {
        Err(StoreError::AlreadyExists(_)) => Err(exists()),
        other => Ok(other?),
    }
}

/// What a mapping may name, as the API that makes it sees APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapper {
    /// `apigateway`: REST APIs only.
    V1,
    V2,
}

/// AWS's error for REST and HTTP APIs mixed through v1, or WebSocket APIs mixed with others.
const MIXING: &str = "Mixing of REST APIs and HTTP APIs on the same domain name can only be accomplished through API Gateway's V2 DomainName interface. Currently, WebSocket APIs can only be attached to a domain name with other WebSocket APIs. This must also occur through API Gateway's V2 DomainName interface.";

/// Checks that mapping `m` of domain `d` names an API of the tenant that `mapper` may map, and
/// a stage of it (v1 may leave the stage to the request: `''`).
pub async fn check_target(
    conn: &mut PgConnection,
    tenant: &Tenant,
    d: &DomainName,
    m: &ApiMapping,
    mapper: Mapper,
) -> ApiResult<()> {
    let protocol = store::api_protocol(conn, tenant, &m.api_id).await?;
    let Some(protocol) = protocol else {
        return Err(match mapper {
            Mapper::V1 => ApiError::bad_request("Invalid REST API identifier specified"),
            Mapper::V2 => super::apigatewayv2::api_not_found(tenant, &m.api_id),
        });
    };
    if mapper == Mapper::V1 && protocol != "REST" {
        return Err(ApiError::bad_request(MIXING));
    }
    if protocol != "REST" && !d.is_regional() {
        return Err(ApiError::bad_request(
            "Only REST APIs can be attached to EDGE domain names.",
        ));
    }
    // WebSocket APIs share a domain only with each other.
    let others = store::mapped_protocols(conn, &d.domain_name, &m.id).await?;
    let websocket = protocol == "WEBSOCKET";
    if others.iter().any(|p| (p == "WEBSOCKET") != websocket) {
        return Err(ApiError::bad_request(MIXING));
    }
    if (mapper == Mapper::V2 || !m.stage.is_empty())
        && !store::stage_exists(conn, &m.api_id, &m.stage).await?
    {
        return Err(ApiError::bad_request("Invalid stage identifier specified"));
    }
    Ok(())
}

/// Stores mapping `m`, or replaces the one of its id; `taken` is the API's error for a key
/// the domain maps already.
pub async fn save_mapping(
    conn: &mut PgConnection,
    domain: &str,
    m: &ApiMapping,
    new: bool,
    taken: fn() -> ApiError,
) -> ApiResult<()> {
    let saved = if new {
        store::insert_mapping(conn, domain, m).await
    } else {
        store::update_mapping(conn, m).await
    };
    match saved {
        Err(StoreError::AlreadyExists(_)) => Err(taken()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_certificates_cover_one_label() {
        let names = vec!["*.example.com".to_owned(), "example.org".to_owned()];
        assert!(covers(&names, "api.example.com"));
        assert!(covers(&names, "API.Example.com"));
        assert!(!covers(&names, "a.b.example.com"));
        assert!(!covers(&names, "example.com"));
        assert!(covers(&names, "example.org"));
        assert!(!covers(&names, "api.example.org"));
    }
}
