//! `apigatewayv2` (2018-11-29): HTTP and WebSocket APIs. One file per resource kind; [`routes`]
//! lists every URI. What only v2's wire has lives here: `nextToken` / `maxResults` paging
//! ([`Paging`]) onto the store's pages, and ISO 8601 dates. AWS's error shape, SigV4 and JSON
//! extraction are shared with `apigateway` ([`super`]).

pub mod apis;

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use super::extract::form_pairs;
use crate::store::{Page, PageRequest};

/// Every route of `apigatewayv2` Gatehouse answers, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apis::create_api, apis::get_apis))
        .routes(routes!(apis::get_api, apis::update_api, apis::delete_api))
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
