//! Step 6, API key: a method with `apiKeyRequired` answers only a request with a key one of its
//! stage's usage plans holds, enabled, read where the API says (`apiKeySource`): the
//! `x-api-key` header, or the `usageIdentifierKey` its Lambda authorizer returned. A missing or
//! unknown key is AWS's 403 `Forbidden` (INVALID_API_KEY). The key and its plan are kept in the
//! request's context for the throttle and quota steps after this one.

use crate::compiler::{CompiledMethod, CompiledRestApi};
use crate::dataplane::context::{ApiKeyUse, RequestContext};
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::domain::enums::ApiKeySource;

pub fn check(
    dp: &DataPlane,
    api: &CompiledRestApi,
    method: &CompiledMethod,
    request: &MethodRequest<'_>,
    ctx: &mut RequestContext<'_>,
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
    let (Some(key), Some(stage)) = (key.filter(|k| !k.is_empty()), ctx.stage_runtime) else {
        return Err(GatewayError::invalid_api_key());
    };
    if stage.api_keys.is_empty() {
        return Err(GatewayError::invalid_api_key());
    }
    let grant = stage
        .api_key(&dp.shared.key_hasher.hash(key))
        .ok_or_else(GatewayError::invalid_api_key)?
        .clone();
    ctx.api_key = Some(Box::new(ApiKeyUse {
        value: key.into(),
        grant,
    }));
    Ok(())
}
