//! Step 6, API key: a method with `apiKeyRequired` answers only a request with a key its stage
//! knows, read where the API says (`apiKeySource`): the `x-api-key` header, or the
//! `usageIdentifierKey` its Lambda authorizer returned. A missing or unknown key is AWS's 403
//! `Forbidden` (INVALID_API_KEY). Stages learn their keys from usage plans (the usage-plan step,
//! with quotas, comes after this one).

use crate::compiler::{CompiledMethod, CompiledRestApi};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::domain::enums::ApiKeySource;

pub fn check(
    api: &CompiledRestApi,
    method: &CompiledMethod,
    request: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
) -> Result<(), GatewayError> {
    if !method.method.api_key_required {
        return Ok(());
    }
    let key = match api.api_key_source {
        ApiKeySource::Header => request
            .fields
            .get(b"x-api-key")
            .and_then(crate::dataplane::h1::text),
        ApiKeySource::Authorizer => ctx
            .authorizer
            .as_deref()
            .and_then(|a| a.usage_identifier_key.as_deref()),
    };
    let known = key
        .filter(|k| !k.is_empty())
        .zip(ctx.stage_runtime)
        .is_some_and(|(key, stage)| stage.knows_api_key(key));
    if known {
        Ok(())
    } else {
        Err(GatewayError::invalid_api_key())
    }
}
