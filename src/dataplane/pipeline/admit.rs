//! Step 3, admit: what is refused before routing, in this order: a body declared larger than
//! AWS's 10 MB (413, before any of it is read); then, once what a gateway response may map from
//! the request is kept (when the API has such a response), a path with a `.` or `..` segment
//! once decoded (400) and the execute-api endpoint of an API that disables it (403; its custom
//! domains still serve it).

use crate::compiler::CompiledApi;
use crate::dataplane::body::RequestBody;
use crate::dataplane::context::{GatewayRequest, RequestContext};
use crate::dataplane::error::GatewayError;
use crate::dataplane::h1::RawFields;
use crate::dataplane::request::{has_dot_segment, parse_query};
use crate::domain::enums::GatewayResponseType;

use super::canary::Deployment;

pub fn check(
    deployment: Deployment<'_>,
    parts: &http::request::Parts,
    fields: &RawFields,
    path: &str,
    body: &RequestBody,
    ctx: &mut RequestContext<'_>,
) -> Result<(), GatewayError> {
    let (reads_request, disabled) = match &**deployment.api {
        CompiledApi::Rest(api) => (
            api.gateway_responses_read_request,
            api.disable_execute_api_endpoint,
        ),
        CompiledApi::Http(api) => (false, api.disable_execute_api_endpoint),
        CompiledApi::WebSocket(api) => (false, api.disable_execute_api_endpoint),
    };
    if http_body::Body::size_hint(body).lower() > crate::dataplane::MAX_PAYLOAD as u64 {
        return Err(GatewayError::too_large());
    }
    if reads_request {
        ctx.gateway_request = Some(Box::new(GatewayRequest {
            headers: fields.to_header_map_lossy(0),
            query: parts.uri.query().map(parse_query).unwrap_or_default(),
            path_params: Vec::new(),
            variables: deployment.variables.clone(),
        }));
    }
    // Dot segments would let a path climb out of a backend URI's prefix once a server
    // normalises it; no API path needs them. Looked for in the decoded path: a `%2F` inside a
    // parameter is a `/` once the value is decoded and passed on.
    if path.bytes().any(|b| b == b'.' || b == b'%')
        && has_dot_segment(&percent_encoding::percent_decode_str(path).decode_utf8_lossy())
    {
        return Err(GatewayError::invalid_path());
    }
    // A custom domain still serves an API whose execute-api endpoint is disabled.
    if disabled && ctx.base_path_matched.is_none() {
        return Err(GatewayError::new(
            GatewayResponseType::AccessDenied,
            403,
            "Forbidden",
        ));
    }
    Ok(())
}
