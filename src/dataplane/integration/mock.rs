//! MOCK: the request template's `statusCode` picks the integration response; nothing is called.

use bytes::Bytes;
use http::Response;
use hyper::body::Incoming;

use super::{RequestBody, choose_request_template, collect_limited, integration_response};
use crate::compiler::CompiledIntegration;
use crate::dataplane::Body;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;

pub async fn invoke(
    req: &MethodRequest<'_>,
    body: Incoming,
    integration: &CompiledIntegration,
    ctx: &RequestContext,
) -> Result<Response<Body>, GatewayError> {
    let body = collect_limited(body).await?;
    let status = match choose_request_template(integration, req)? {
        RequestBody::Template(t) => status_code_of(t.as_bytes()),
        // Passed through, the body is what the template would have produced.
        RequestBody::Passthrough => status_code_of(&body),
    };
    integration_response(integration, &status.to_string(), None, Bytes::new(), req, ctx)
}

/// The `statusCode` of a MOCK request (a number or a numeric string); 200 when there is none.
fn status_code_of(output: &[u8]) -> u16 {
    serde_json::from_slice::<serde_json::Value>(output)
        .ok()
        .and_then(|v| {
            let code = v.get("statusCode")?;
            code.as_u64().or_else(|| code.as_str()?.trim().parse().ok())
        })
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_come_from_the_template() {
        assert_eq!(status_code_of(br#"{"statusCode": 404}"#), 404);
        assert_eq!(status_code_of(br#"{"statusCode": "201"}"#), 201);
        assert_eq!(status_code_of(b"not json"), 200);
    }
}
