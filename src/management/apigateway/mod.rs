//! `apigateway` (2015-07-09): REST APIs. One file per resource kind; [`routes`] lists every URI.
//! What only this API's wire has lives here too: `patchOperations` ([`patch`]), `position` /
//! `limit` paging ([`paging`]) and finding a tenant's REST API ([`find_api`]). What every
//! management API shares is in [`super`]: AWS's error shape, SigV4, JSON extraction, and the
//! store's pages.

pub mod account;
pub mod api_keys;
pub mod authorizers;
pub mod client_certificates;
pub mod deployments;
pub mod documentation;
pub mod domain_access;
pub mod domain_names;
pub mod gateway_responses;
pub mod import_export;
pub mod integrations;
pub mod methods;
pub mod models;
pub mod openapi;
pub mod paging;
pub mod patch;
pub mod request_validators;
pub mod resources;
pub mod rest_apis;
pub mod sdks;
pub mod stages;
pub mod tags;
pub mod test_invoke;
pub mod usage;
pub mod usage_plans;
pub mod vpc_links;

use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use crate::domain::rest_api::RestApi;
use crate::store::{Page, RowLock, Tenant};

/// Every route of `apigateway`, each registered with its OpenAPI operation (the `#[utoipa::path]`
/// on its handler gives both the URI and the document), so the two cannot drift apart.
pub fn routes() -> OpenApiRouter<AppState> {
    use {
        api_keys as k, authorizers as au, client_certificates as cc, deployments as d, documentation as doc,
        domain_names as dn, gateway_responses as g, integrations as i, methods as m, models as mo,
        request_validators as v, resources as r, rest_apis as a, stages as s, usage_plans as up,
        vpc_links as vl,
    };
    OpenApiRouter::new()
        .routes(routes!(a::create_rest_api, a::get_rest_apis))
        .routes(routes!(
            a::get_rest_api,
            a::update_rest_api,
            a::delete_rest_api,
            import_export::put_rest_api
        ))
        .routes(routes!(import_export::get_export))
        .routes(routes!(r::get_resources))
        .routes(routes!(
            r::create_resource,
            r::get_resource,
            r::update_resource,
            r::delete_resource
        ))
        .routes(routes!(
            m::put_method,
            m::get_method,
            m::update_method,
            m::delete_method,
            test_invoke::test_invoke_method
        ))
        .routes(routes!(
            m::put_method_response,
            m::get_method_response,
            m::update_method_response,
            m::delete_method_response
        ))
        .routes(routes!(
            i::put_integration,
            i::get_integration,
            i::update_integration,
            i::delete_integration
        ))
        .routes(routes!(
            i::put_integration_response,
            i::get_integration_response,
            i::update_integration_response,
            i::delete_integration_response
        ))
        .routes(routes!(d::create_deployment, d::get_deployments))
        .routes(routes!(
            d::get_deployment,
            d::update_deployment,
            d::delete_deployment
        ))
        .routes(routes!(s::create_stage, s::get_stages))
        .routes(routes!(s::get_stage, s::update_stage, s::delete_stage))
        .routes(routes!(s::flush_stage_authorizers_cache))
        .routes(routes!(s::flush_stage_cache))
        .routes(routes!(mo::create_model, mo::get_models))
        .routes(routes!(mo::get_model, mo::update_model, mo::delete_model))
        .routes(routes!(mo::get_model_template))
        .routes(routes!(v::create_request_validator, v::get_request_validators))
        .routes(routes!(
            v::get_request_validator,
            v::update_request_validator,
            v::delete_request_validator
        ))
        .routes(routes!(au::create_authorizer, au::get_authorizers))
        .routes(routes!(
            au::get_authorizer,
            au::update_authorizer,
            au::delete_authorizer,
            au::test_invoke_authorizer
        ))
        .routes(routes!(g::get_gateway_responses))
        .routes(routes!(
            g::put_gateway_response,
            g::get_gateway_response,
            g::update_gateway_response,
            g::delete_gateway_response
        ))
        .routes(routes!(account::get_account, account::update_account))
        .routes(routes!(tags::get_tags, tags::tag_resource, tags::untag_resource))
        .routes(routes!(k::create_api_key, k::get_api_keys))
        .routes(routes!(k::get_api_key, k::update_api_key, k::delete_api_key))
        .routes(routes!(up::create_usage_plan, up::get_usage_plans))
        .routes(routes!(
            up::get_usage_plan,
            up::update_usage_plan,
            up::delete_usage_plan
        ))
        .routes(routes!(up::create_usage_plan_key, up::get_usage_plan_keys))
        .routes(routes!(up::get_usage_plan_key, up::delete_usage_plan_key))
        .routes(routes!(usage::get_usage))
        .routes(routes!(usage::update_usage))
        .routes(routes!(
            doc::create_documentation_part,
            doc::get_documentation_parts,
            doc::import_documentation_parts
        ))
        .routes(routes!(
            doc::get_documentation_part,
            doc::update_documentation_part,
            doc::delete_documentation_part
        ))
        .routes(routes!(
            doc::create_documentation_version,
            doc::get_documentation_versions
        ))
        .routes(routes!(
            doc::get_documentation_version,
            doc::update_documentation_version,
            doc::delete_documentation_version
        ))
        .routes(routes!(
            cc::generate_client_certificate,
            cc::get_client_certificates
        ))
        .routes(routes!(
            cc::get_client_certificate,
            cc::update_client_certificate,
            cc::delete_client_certificate
        ))
        .routes(routes!(dn::create_domain_name, dn::get_domain_names))
        .routes(routes!(
            dn::get_domain_name,
            dn::update_domain_name,
            dn::delete_domain_name
        ))
        .routes(routes!(dn::create_base_path_mapping, dn::get_base_path_mappings))
        .routes(routes!(
            dn::get_base_path_mapping,
            dn::update_base_path_mapping,
            dn::delete_base_path_mapping
        ))
        .routes(routes!(
            domain_access::create_domain_name_access_association,
            domain_access::get_domain_name_access_associations
        ))
        .routes(routes!(domain_access::delete_domain_name_access_association))
        .routes(routes!(domain_access::reject_domain_name_access_association))
        .routes(routes!(sdks::get_sdk_types))
        .routes(routes!(sdks::get_sdk_type))
        .routes(routes!(sdks::get_sdk))
        .routes(routes!(vl::create_vpc_link, vl::get_vpc_links))
        .routes(routes!(
            vl::get_vpc_link,
            vl::update_vpc_link,
            vl::delete_vpc_link
        ))
}

/// A page of a `Get*s` listing in AWS's wire shape: `{"position": ..., "item": [...]}` (the
/// SDKs call the member `items`; on the wire it is `item`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<T>,
}

impl<T> From<Page<T>> for Listing<T> {
    fn from(p: Page<T>) -> Self {
        Self {
            position: p.next.map(|n| n.to_string()),
            items: p.items,
        }
    }
}

/// `Invalid API identifier specified {account}:{id}`, AWS's 404 for an API the caller cannot see.
pub fn api_not_found(tenant: &Tenant, api_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {}:{api_id}",
        tenant.account_id
    ))
}

pub fn resource_not_found() -> ApiError {
    ApiError::not_found("Invalid Resource identifier specified")
}

pub fn method_not_found() -> ApiError {
    ApiError::not_found("Invalid Method identifier specified")
}

/// The tenant's API `api_id`, locked as asked, or `not_found` (calls on the parts of an API
/// answer an unknown API with the part's own error, as AWS does).
pub async fn find_api_or(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    api_id: &str,
    lock: RowLock,
    not_found: impl FnOnce() -> ApiError,
) -> Result<RestApi, ApiError> {
    use crate::management::error::OrNotFound;
    crate::store::rest_apis::get(conn, tenant, api_id, lock)
        .await
        .or_not_found(not_found)
}

/// The tenant's API `api_id`, locked as asked, or AWS's 404 for it.
pub async fn find_api(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    api_id: &str,
    lock: RowLock,
) -> Result<RestApi, ApiError> {
    use crate::management::error::OrNotFound;
    crate::store::rest_apis::get(conn, tenant, api_id, lock)
        .await
        .or_not_found(|| api_not_found(tenant, api_id))
}
