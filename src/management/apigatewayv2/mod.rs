//! `apigatewayv2` (2018-11-29): HTTP and WebSocket APIs. One file per resource kind;
//! [`routes()`] lists every URI. What only v2's wire has lives here: `nextToken` / `maxResults`
//! paging ([`Paging`]) onto the store's pages, and ISO 8601 dates. AWS's error shape, SigV4 and
//! JSON extraction are shared with `apigateway` ([`super`]). Operations named as v1's are
//! (`CreateStage`, `GetDeployment`, ...) carry a `V2` suffix in the OpenAPI document, whose
//! operation ids must be unique; the wire knows them by their URIs.

pub mod apis;
pub mod authorizers;
pub mod deployments;
pub mod domain_names;
pub mod import_export;
pub mod integrations;
pub mod models;
pub mod openapi;
pub mod responses;
pub mod routes;
pub mod stages;
pub mod tags;
pub mod vpc_links;

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, OrNotFound};
use super::extract::form_pairs;
use crate::domain::http_api::HttpApi;
use crate::store::{Page, PageRequest, RowLock, Tenant, http_apis};

/// Every route of `apigatewayv2` Gatehouse answers, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            apis::create_api,
            apis::get_apis,
            import_export::import_api
        ))
        .routes(routes!(
            apis::get_api,
            apis::update_api,
            apis::delete_api,
            import_export::reimport_api
        ))
        .routes(routes!(import_export::export_api))
        .routes(routes!(apis::delete_cors_configuration))
        .routes(routes!(
            domain_names::create_domain_name,
            domain_names::get_domain_names
        ))
        .routes(routes!(
            domain_names::get_domain_name,
            domain_names::update_domain_name,
            domain_names::delete_domain_name
        ))
        .routes(routes!(
            domain_names::create_api_mapping,
            domain_names::get_api_mappings
        ))
        .routes(routes!(
            domain_names::get_api_mapping,
            domain_names::update_api_mapping,
            domain_names::delete_api_mapping
        ))
        .routes(routes!(routes::create_route, routes::get_routes))
        .routes(routes!(
            routes::get_route,
            routes::update_route,
            routes::delete_route
        ))
        .routes(routes!(routes::delete_route_request_parameter))
        .routes(routes!(
            responses::create_route_response,
            responses::get_route_responses
        ))
        .routes(routes!(
            responses::get_route_response,
            responses::update_route_response,
            responses::delete_route_response
        ))
        .routes(routes!(
            responses::create_integration_response,
            responses::get_integration_responses
        ))
        .routes(routes!(
            responses::get_integration_response,
            responses::update_integration_response,
            responses::delete_integration_response
        ))
        .routes(routes!(
            integrations::create_integration,
            integrations::get_integrations
        ))
        .routes(routes!(
            integrations::get_integration,
            integrations::update_integration,
            integrations::delete_integration
        ))
        .routes(routes!(stages::create_stage, stages::get_stages))
        .routes(routes!(
            stages::get_stage,
            stages::update_stage,
            stages::delete_stage
        ))
        .routes(routes!(stages::delete_access_log_settings))
        .routes(routes!(stages::delete_route_settings))
        .routes(routes!(stages::reset_authorizers_cache))
        .routes(routes!(tags::get_tags, tags::tag_resource, tags::untag_resource))
        .routes(routes!(vpc_links::create_vpc_link, vpc_links::get_vpc_links))
        .routes(routes!(
            vpc_links::get_vpc_link,
            vpc_links::update_vpc_link,
            vpc_links::delete_vpc_link
        ))
        .routes(routes!(models::create_model, models::get_models))
        .routes(routes!(
            models::get_model,
            models::update_model,
            models::delete_model
        ))
        .routes(routes!(models::get_model_template))
        .routes(routes!(
            authorizers::create_authorizer,
            authorizers::get_authorizers
        ))
        .routes(routes!(
            authorizers::get_authorizer,
            authorizers::update_authorizer,
            authorizers::delete_authorizer
        ))
        .routes(routes!(
            deployments::create_deployment,
            deployments::get_deployments
        ))
        .routes(routes!(
            deployments::get_deployment,
            deployments::update_deployment,
            deployments::delete_deployment
        ))
}

/// AWS's answer for an API id the tenant does not have.
pub fn api_not_found(tenant: &Tenant, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {}:{id}",
        tenant.account_id
    ))
}

/// The tenant's HTTP or WebSocket API `id`, its row locked as asked. Writers of its
/// definition lock it for update: each may redeploy the API's autoDeploy stages, which reads
/// the whole definition, so writes to one API take turns (they are few and quick).
pub async fn find_api(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> ApiResult<HttpApi> {
    http_apis::get(conn, tenant, id, lock)
        .await
        .or_not_found(|| api_not_found(tenant, id))
}

/// Checks a string field's length (`name` for messages).
pub fn check_len(name: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.len() > max {
        return Err(ApiError::bad_request(format!(
            "Invalid {name}: it must be at most {max} characters"
        )));
    }
    Ok(())
}

/// v2's `maxResults` (a string on the query string; at most 500, default 100 as the console's
/// pages) and `nextToken`.
#[derive(Debug, Clone, Copy)]
pub struct Paging(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut page = PageRequest {
            after_seq: 0,
            limit: 100,
        };
        for (k, v) in form_pairs(parts.uri.query().unwrap_or("")) {
            match k.as_str() {
                "nextToken" => {
                    page.after_seq = v
                        .parse()
                        .ok()
                        .filter(|n: &i64| *n >= 0)
                        .ok_or_else(|| ApiError::bad_request("Invalid nextToken specified"))?;
                }
                "maxResults" => {
                    page.limit = v.parse().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| {
                        ApiError::bad_request("Invalid maxResults specified: must be between 1 and 500")
                    })?;
                }
                _ => {}
            }
        }
        Ok(Paging(page))
    }
}

/// A v2 collection: `items` and, when there are more, `nextToken`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Items<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl<T> From<Page<T>> for Items<T> {
    fn from(page: Page<T>) -> Self {
        Self {
            items: page.items,
            next_token: page.next.map(|n| n.to_string()),
        }
    }
}
