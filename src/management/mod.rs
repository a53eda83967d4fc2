//! The AWS-compatible management API. Routes are registered in [`router`]; every call passes
//! the SigV4 check ([`sigv4::authenticate`]) and reaches a handler in one file per resource kind
//! under [`apigateway`]. Handlers own their transaction and answer errors in AWS's shape
//! ([`error::ApiError`]).

pub mod apigateway;
pub mod apigatewayv2;
pub mod domains;
pub mod error;
pub mod extract;
pub mod sigv4;

use axum::Router;
use axum::middleware;
use tower_http::trace::TraceLayer;

use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub max_body_bytes: usize,
    /// A data plane of the control plane's own, serving no stage: TestInvoke* calls run
    /// authorizers (and later methods) on it, with the control plane's AWS settings.
    pub tester: std::sync::Arc<crate::dataplane::state::DataPlane>,
    /// Seals the private keys of generated client certificates.
    pub sealer: std::sync::Arc<crate::store::certificates::Sealer>,
}

/// The management API's OpenAPI document, built from the same route table the server uses.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = apigateway::routes()
        .merge(apigatewayv2::routes())
        .split_for_parts();
    doc.info = utoipa::openapi::InfoBuilder::new()
        .title("Gatehouse management API (apigateway 2015-07-09, apigatewayv2 2018-11-29)")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The AWS API Gateway management API as Gatehouse serves it. Every call is signed with AWS \
             Signature Version 4; errors carry the x-amzn-ErrorType header.",
        ))
        .build();
    doc
}

/// The whole management API, with its middleware in the order a request meets it.
pub fn router(state: AppState) -> Router {
    let (routes, _) = apigateway::routes()
        .merge(apigatewayv2::routes())
        .split_for_parts();
    Router::new()
        .merge(routes)
        .fallback(|| async { error::ApiError::unknown_operation() })
        // Innermost: every call is signed; the verified tenant is what handlers see. It also
        // bounds the body (the signature covers it, so it is read before any handler runs).
        .layer(middleware::from_fn_with_state(state.clone(), sigv4::authenticate))
        // The SigV4 layer already bounds the body (GATEHOUSE_MAX_BODY_BYTES); axum's own 2 MiB
        // default would otherwise refuse larger signed bodies after they were accepted.
        .layer(axum::extract::DefaultBodyLimit::disable())
        // Every answer, a refused signature's too, names its request.
        .layer(middleware::from_fn(request_id))
        // Outermost: one span per call, so the auth failure is traced too.
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Gives the call a request id: its answer's `x-amzn-RequestId` (which the AWS SDKs and CLI
/// report as the call's request id, errors included) and its log lines' `request.id`.
async fn request_id(req: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    use tracing::Instrument;
    let id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!("management", request.id = %id);
    let mut res = next.run(req).instrument(span).await;
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-amzn-requestid", value);
    }
    res
}
