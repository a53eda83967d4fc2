//! Step 8, validate: the method's required parameters, then the body against the model for its
//! Content-Type, when the method has a request validator. Failures are AWS's
//! BAD_REQUEST_PARAMETERS / BAD_REQUEST_BODY gateway responses; no backend is called.

use crate::compiler::validation::{CompiledValidation, ParamLocation, RequiredParam};
use crate::dataplane::error::GatewayError;
use crate::dataplane::integration::{Payload, media_type};
use crate::dataplane::request::MethodRequest;
use crate::domain::enums::GatewayResponseType;

/// Checks the method request against the method's validator `v`: its required parameters,
/// then its body (read whole for that) against the model for its Content-Type.
pub async fn check(
    v: &CompiledValidation,
    req: &MethodRequest<'_>,
    body: Payload,
) -> Result<Payload, GatewayError> {
    let missing: Vec<&str> = v
        .required_parameters
        .iter()
        .filter(|p| !present(p, req))
        .map(|p| p.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(GatewayError::new(
            GatewayResponseType::BadRequestParameters,
            400,
            format!("Missing required request parameters: [{}]", missing.join(", ")),
        ));
    }
    // No Content-Type reads as `application/json`, as for request templates.
    let content_type = req
        .header("content-type")
        .map(media_type)
        .unwrap_or_else(|| "application/json".to_owned());
    let Some(schema) = v.body_schemas.get(&content_type) else {
        return Ok(body);
    };
    let bytes = body.collect().await?;
    let schema = schema.as_ref().as_ref().map_err(|e| {
        tracing::warn!(error = %e, "request model does not compile");
        GatewayError::internal()
    })?;
    // An empty body is validated as `{}`, so a model that requires properties refuses it.
    let instance = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| invalid_body(format!("[{e}]")))?
    };
    if !schema.is_valid(&instance) {
        let errors: Vec<String> = schema
            .iter_errors(&instance)
            .take(10)
            .map(|e| e.to_string())
            .collect();
        return Err(invalid_body(format!("[{}]", errors.join(", "))));
    }
    Ok(Payload::Buffered(bytes))
}

fn present(p: &RequiredParam, req: &MethodRequest<'_>) -> bool {
    match p.location {
        ParamLocation::Header => req.headers().contains_key(p.name.as_str()),
        ParamLocation::Path => req.path_param(&p.name).is_some(),
        ParamLocation::QueryString => req.query_value(&p.name).is_some(),
    }
}

/// AWS's 400, with what was wrong for `$context.error.validationErrorString`.
fn invalid_body(detail: String) -> GatewayError {
    let mut err = GatewayError::new(GatewayResponseType::BadRequestBody, 400, "Invalid request body");
    err.detail = Some(detail);
    err
}
