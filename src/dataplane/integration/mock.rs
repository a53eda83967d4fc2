//! MOCK: the request template's `statusCode` picks the integration response; nothing is called.

use bytes::Bytes;
use http::Response;

use super::{Payload, Selection, integration_response, request_payload};
use crate::compiler::CompiledIntegration;
use crate::dataplane::Body;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;

pub async fn invoke(
    req: &MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
) -> Result<Response<Body>, GatewayError> {
    let body = body.collect().await?;
    // Passed through, the body is what the template would have produced.
    let (payload, _) = request_payload(integration, req, body, ctx)?;
    let status = status_code_of(&payload);
    integration_response(
        integration,
        Selection::Status(&status.to_string()),
        None,
        Bytes::new(),
        req,
        ctx,
    )
}

/// The `statusCode` of a MOCK request; 200 when there is none. API Gateway reads it leniently:
/// `{statusCode: 200}` (not JSON, as CDK's CORS preflight writes it) works too.
pub(crate) fn status_code_of(output: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(output);
    let Some(at) = text.find("statusCode") else {
        return 200;
    };
    let rest = text[at + "statusCode".len()..]
        .trim_start_matches(['"', '\''])
        .trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return 200;
    };
    let digits: String = rest
        .trim_start()
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .ok()
        .filter(|s| (100..=599).contains(s))
        .unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_come_from_the_template() {
        assert_eq!(status_code_of(br#"{"statusCode": 404}"#), 404);
        assert_eq!(status_code_of(br#"{"statusCode": "201"}"#), 201);
        assert_eq!(status_code_of(b"{statusCode: 204}"), 204);
        assert_eq!(status_code_of(b"not json"), 200);
    }
}
