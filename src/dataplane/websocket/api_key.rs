//! API keys of WebSocket APIs. A `$connect` route with `apiKeyRequired` admits only a client
//! presenting a key one of the stage's usage plans holds, enabled, read where the API key
//! selection expression says (`$request.header.x-api-key`, or the `usageIdentifierKey` the
//! Lambda authorizer returned); a missing or unknown key is 403 `Forbidden`. The key's plan
//! meters the connect (its throttle: 429 `Too Many Requests`; its quota: 429 `Limit
//! Exceeded`), and the messages of any other route with `apiKeyRequired`, counted against
//! the key the connection presented (an error frame when refused). The connection keeps the
//! key's keyed hash, never the key.

use super::event::ConnectionInfo;
use crate::compiler::websocket::CompiledWebSocketApi;
use crate::dataplane::config::StageRuntime;
use crate::dataplane::state::DataPlane;
use crate::domain::enums::ApiKeySource;

/// Why an event with a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No key, or one no usage plan of the stage holds (or disabled).
    Forbidden,
    /// The key's plan throttle has no token left.
    Throttled,
    /// The key's plan quota is spent.
    QuotaExceeded,
}

impl Refused {
    pub fn status(self) -> u16 {
        match self {
            Refused::Forbidden => 403,
            Refused::Throttled | Refused::QuotaExceeded => 429,
        }
    }

    /// AWS's message (the handshake's body, or an error frame's `message`).
    pub fn message(self) -> &'static str {
        match self {
            Refused::Forbidden => "Forbidden",
            Refused::Throttled => "Too Many Requests",
            Refused::QuotaExceeded => "Limit Exceeded",
        }
    }
}

/// The keyed hash of the key the client presents at `$connect`, when it presents one.
pub fn presented(
    dp: &DataPlane,
    api: &CompiledWebSocketApi,
    info: &ConnectionInfo,
    usage_key: Option<&str>,
) -> Option<[u8; 32]> {
    let key = match api.api_key_source {
        ApiKeySource::Header => info
            .headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-api-key"))
            .map(|(_, v)| v.as_str()),
        ApiKeySource::Authorizer => usage_key,
    };
    key.filter(|k| !k.is_empty())
        .map(|k| dp.shared.key_hasher.hash(k))
}

/// Meters one event against the key whose hash is `key`: refused when no usage plan of the
/// stage holds the key, or its plan's throttle or quota says no.
pub async fn meter(dp: &DataPlane, stage: &StageRuntime, key: Option<&[u8; 32]>) -> Result<(), Refused> {
    let grant = key.and_then(|k| stage.api_key(k)).ok_or(Refused::Forbidden)?;
    let limiters = &dp.shared.limiters;
    if let Some(bucket) = grant.bucket(limiters) {
        let bucket = std::slice::from_ref(bucket);
        limiters.take_all(bucket).await.map_err(|_| Refused::Throttled)?;
    }
    crate::dataplane::pipeline::quota::spend(dp, grant).map_err(|_| Refused::QuotaExceeded)
}
