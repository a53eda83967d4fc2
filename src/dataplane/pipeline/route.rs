//! Step 4, route: the resource whose path matches (literal before `{param}` before `{greedy+}`)
//! and its method for the request's verb (or `ANY`); none is AWS's 403 Missing Authentication
//! Token. The method request (parameters decoded, query parsed) is made for the steps after.

use std::sync::Arc;

use crate::compiler::CompiledMethod;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::h1::RawFields;
use crate::dataplane::request::{MethodRequest, decode_param, parse_query};

use super::canary::Deployment;

pub fn method<'r>(
    deployment: Deployment<'r>,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    path: &'r str,
    ctx: &mut RequestContext<'r>,
) -> Result<(&'r Arc<CompiledMethod>, MethodRequest<'r>), GatewayError> {
    let matched = deployment
        .rest()
        .routes
        .lookup(path)
        .ok_or_else(GatewayError::missing_token)?;
    let method = matched
        .value
        .method(parts.method.as_str())
        .ok_or_else(GatewayError::missing_token)?;
    if let Some(g) = ctx.gateway_request.as_mut() {
        g.path_params = matched
            .params
            .iter()
            .map(|(k, raw)| ((*k).to_owned(), decode_param(raw).into_owned()))
            .collect();
    }
    ctx.method = Some(method);
    ctx.method_label = method.http_method.as_str();
    let request = MethodRequest {
        method: parts.method.clone(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        path_params: matched
            .params
            .iter()
            .map(|(k, raw)| (*k, decode_param(raw), *raw))
            .collect(),
        fields,
        header_map: std::sync::OnceLock::new(),
        variables: deployment.variables,
        body: None,
    };
    Ok((method, request))
}
