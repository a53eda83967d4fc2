//! `apigateway` (2015-07-09): REST APIs. One file per resource kind; [`routes`] lists every URI.

pub mod account;
pub mod authorizers;
pub mod deployments;
pub mod gateway_responses;
pub mod integrations;
pub mod methods;
pub mod models;
pub mod request_validators;
pub mod resources;
pub mod rest_apis;
pub mod stages;
pub mod tags;

use axum::Router;
use axum::routing::{get, post, put};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use crate::domain::rest_api::RestApi;
use crate::store::{Page, RowLock, Tenant};

pub fn routes() -> Router<AppState> {
    use {
        authorizers as au, deployments as d, gateway_responses as g, integrations as i, methods as m,
        models as mo, request_validators as v, resources as r, rest_apis as a, stages as s,
    };
    const METHOD: &str = "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}";
    Router::new()
        .route("/restapis", post(a::create_rest_api).get(a::get_rest_apis))
        .route(
            "/restapis/{restapi_id}",
            get(a::get_rest_api)
                .patch(a::update_rest_api)
                .delete(a::delete_rest_api),
        )
        .route("/restapis/{restapi_id}/resources", get(r::get_resources))
        .route(
            "/restapis/{restapi_id}/resources/{resource_id}",
            post(r::create_resource)
                .get(r::get_resource)
                .patch(r::update_resource)
                .delete(r::delete_resource),
        )
        .route(
            METHOD,
            put(m::put_method)
                .get(m::get_method)
                .patch(m::update_method)
                .delete(m::delete_method),
        )
        .route(
            &format!("{METHOD}/responses/{{status_code}}"),
            put(m::put_method_response)
                .get(m::get_method_response)
                .patch(m::update_method_response)
                .delete(m::delete_method_response),
        )
        .route(
            &format!("{METHOD}/integration"),
            put(i::put_integration)
                .get(i::get_integration)
                .patch(i::update_integration)
                .delete(i::delete_integration),
        )
        .route(
            &format!("{METHOD}/integration/responses/{{status_code}}"),
            put(i::put_integration_response)
                .get(i::get_integration_response)
                .patch(i::update_integration_response)
                .delete(i::delete_integration_response),
        )
        .route(
            "/restapis/{restapi_id}/deployments",
            post(d::create_deployment).get(d::get_deployments),
        )
        .route(
            "/restapis/{restapi_id}/deployments/{deployment_id}",
            get(d::get_deployment)
                .patch(d::update_deployment)
                .delete(d::delete_deployment),
        )
        .route(
            "/restapis/{restapi_id}/stages",
            post(s::create_stage).get(s::get_stages),
        )
        .route(
            "/restapis/{restapi_id}/stages/{stage_name}",
            get(s::get_stage).patch(s::update_stage).delete(s::delete_stage),
        )
        .route(
            "/restapis/{restapi_id}/models",
            post(mo::create_model).get(mo::get_models),
        )
        .route(
            "/restapis/{restapi_id}/models/{model_name}",
            get(mo::get_model)
                .patch(mo::update_model)
                .delete(mo::delete_model),
        )
        .route(
            "/restapis/{restapi_id}/models/{model_name}/default_template",
            get(mo::get_model_template),
        )
        .route(
            "/restapis/{restapi_id}/requestvalidators",
            post(v::create_request_validator).get(v::get_request_validators),
        )
        .route(
            "/restapis/{restapi_id}/requestvalidators/{requestvalidator_id}",
            get(v::get_request_validator)
                .patch(v::update_request_validator)
                .delete(v::delete_request_validator),
        )
        .route(
            "/restapis/{restapi_id}/authorizers",
            post(au::create_authorizer).get(au::get_authorizers),
        )
        .route(
            "/restapis/{restapi_id}/authorizers/{authorizer_id}",
            get(au::get_authorizer)
                .patch(au::update_authorizer)
                .delete(au::delete_authorizer),
        )
        .route(
            "/restapis/{restapi_id}/gatewayresponses",
            get(g::get_gateway_responses),
        )
        .route(
            "/restapis/{restapi_id}/gatewayresponses/{response_type}",
            put(g::put_gateway_response)
                .get(g::get_gateway_response)
                .patch(g::update_gateway_response)
                .delete(g::delete_gateway_response),
        )
        .route(
            "/account",
            get(account::get_account).patch(account::update_account),
        )
        .route(
            "/tags/{resource_arn}",
            get(tags::get_tags)
                .put(tags::tag_resource)
                .delete(tags::untag_resource),
        )
}

/// A page of a `Get*s` listing in AWS's wire shape: `{"position": ..., "item": [...]}` (the
/// SDKs call the member `items`; on the wire it is `item`).
#[derive(Serialize)]
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
