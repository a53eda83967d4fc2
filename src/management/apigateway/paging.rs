//! `apigateway`'s paging: `position` and `limit` on the query string, onto the store's pages
//! (`apigatewayv2` has `nextToken` and `maxResults` onto the same pages).

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::management::error::ApiError;
use crate::management::extract::form_pairs;
use crate::store::PageRequest;

/// AWS's `position` and `limit` (default 25, at most 500).
#[derive(Debug, Clone, Copy)]
pub struct Pagination(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut page = PageRequest {
            after_seq: 0,
            limit: 25,
        };
        for (k, v) in form_pairs(parts.uri.query().unwrap_or("")) {
            match k.as_str() {
                "position" => {
                    page.after_seq = v
                        .parse()
                        .ok()
                        .filter(|n: &i64| *n >= 0)
                        .ok_or_else(|| ApiError::bad_request("Invalid position specified"))?;
                }
                // AWS answers an empty page to a limit below 1 (as recorded for -1).
                "limit" => {
                    page.limit = v
                        .parse()
                        .ok()
                        .filter(|n: &i64| *n <= 500)
                        .ok_or_else(|| {
                            ApiError::bad_request("Invalid limit specified: must be between 1 and 500")
                        })?
                        .max(0);
                }
                _ => {}
            }
        }
        Ok(Pagination(page))
    }
}
