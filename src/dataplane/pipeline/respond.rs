//! Step 12, respond: the integration's answer (or the rescue's gateway response for a failure)
//! becomes the request's, with the ids AWS puts on every answer; the request is counted in the
//! metrics and written to the stage's access log.

use std::time::Instant;

use http::Response;

use crate::dataplane::Body;
use crate::dataplane::context::{InlineId, RequestContext};
use crate::dataplane::error::{GatewayError, rescue};
use crate::dataplane::h1::RawFields;
use crate::dataplane::integration::Reply;
use crate::dataplane::state::DataPlane;
use crate::dataplane::trace::TraceId;

/// A request's answer. The headers AWS adds to every answer are kept apart, for the server to
/// write after the response's own (which they replace): inserting them into the response's
/// header map cost more than writing them (hashing, growing the map, dropping it).
pub struct Answer {
    pub response: Response<Body>,
    /// When the answer was ready (its `Date`).
    pub ready: Instant,
    /// A backend's header fields passed through as they arrived (HTTP_PROXY).
    pub passed: Option<RawFields>,
    pub ids: Option<AnswerIds>,
}

/// `x-amzn-RequestId`, `x-amz-apigw-id` and, for the answers of integrations AWS traces,
/// `X-Amzn-Trace-Id`; an HTTP API's answers carry `apigw-requestid` alone, as AWS's do.
pub struct AnswerIds {
    /// `None` on an HTTP API's answer.
    request_id: Option<InlineId<36>>,
    extended_request_id: InlineId<16>,
    trace_id: Option<TraceId>,
}

impl AnswerIds {
    /// Their names, spelled as AWS spells them: a backend's fields of these names reach the
    /// client renamed (`x-amzn-Remapped-*`).
    pub const NAMES: [&'static str; 3] = ["x-amzn-RequestId", "x-amz-apigw-id", "X-Amzn-Trace-Id"];

    /// An HTTP API's one id header, in place of [`Self::NAMES`].
    pub const HTTP_API_NAME: &'static str = "apigw-requestid";

    /// The headers.
    pub fn headers(&self) -> smallvec::SmallVec<[(&'static str, &[u8]); 3]> {
        let [request_id, extended, trace] = Self::NAMES;
        let mut headers = smallvec::SmallVec::new();
        let Some(id) = &self.request_id else {
            headers.push((Self::HTTP_API_NAME, self.extended_request_id.as_bytes()));
            return headers;
        };
        headers.push((request_id, id.as_bytes()));
        headers.push((extended, self.extended_request_id.as_bytes()));
        if let Some(id) = &self.trace_id {
            headers.push((trace, id.as_bytes()));
        }
        headers
    }
}

/// The answer to a request whose steps ended with `outcome`.
/// (The context is lent, not moved: it is large, and a move copies it.)
pub fn answer(dp: &DataPlane, outcome: Result<Reply, GatewayError>, ctx: &mut RequestContext<'_>) -> Answer {
    let reply = match outcome {
        // An interim status (a Lambda function's, a mapping's) as the final answer would leave
        // the client waiting for another.
        Ok(reply) if reply.response.status().is_informational() => {
            Reply::from(rescue(GatewayError::internal(), ctx))
        }
        Ok(reply) => reply,
        Err(e) => Reply::from(rescue(e, ctx)),
    };
    let res = reply.response;
    ctx.status = res.status().as_u16();
    ctx.response_length = http_body::Body::size_hint(res.body()).exact().unwrap_or(0);
    let ready = Instant::now();
    ctx.finish(ready);
    dp.observe(ctx);
    let http_api = matches!(ctx.api.map(|a| &**a), Some(crate::compiler::CompiledApi::Http(_)));
    Answer {
        response: res,
        ready,
        passed: reply.passed,
        ids: Some(AnswerIds {
            request_id: (!http_api).then(|| *ctx.request_id()),
            extended_request_id: ctx.extended_request_id,
            trace_id: reply.traced.then(|| ctx.trace_id.take()),
        }),
    }
}
