//! WebSocket APIs on the worker: a client's upgrade request to a WebSocket API's stage leaves
//! the HTTP/1 connection loop for a [`session`] of its own (framing by tungstenite), which runs
//! `$connect` before the handshake is answered, routes each message by the API's route
//! selection expression, and runs `$disconnect` when either side closes. The worker's
//! [`Registry`] knows the connections it holds, for the `@connections` API ([`connections`]).

pub mod connections;
pub mod event;
pub mod session;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Method;

use super::h1::RawFields;

/// AWS's limits: a message of 128 KB, in frames of 32 KB at most.
pub const MAX_MESSAGE: usize = 128 << 10;
pub const MAX_FRAME: usize = 32 << 10;
/// AWS's timers: a connection idle for 10 minutes is closed, and every one after 2 hours.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
pub const MAX_LIFETIME: Duration = Duration::from_secs(7200);

/// Whether a request asks to become a WebSocket (RFC 6455 §4.2.1): a GET with `Upgrade:
/// websocket`, `Connection: upgrade`, a key and version 13.
pub fn is_upgrade(method: &Method, fields: &RawFields) -> bool {
    let has_token = |name: &[u8], token: &str| {
        fields
            .iter()
            .filter(|(n, _)| super::h1::is_name(n, name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    method == Method::GET
        && has_token(b"upgrade", "websocket")
        && has_token(b"connection", "upgrade")
        && fields.get(b"sec-websocket-key").is_some()
        && fields.get(b"sec-websocket-version") == Some(b"13")
}

/// What is sent to a connection from elsewhere (the `@connections` API).
#[derive(Debug)]
pub enum Outgoing {
    Message(Bytes),
    Close,
}

/// A connection this worker holds.
#[derive(Debug)]
pub struct Handle {
    pub api_id: String,
    pub stage: String,
    pub outbox: tokio::sync::mpsc::Sender<Outgoing>,
    pub connected_at: SystemTime,
    /// When the client last sent a message (epoch milliseconds).
    pub last_active: std::sync::Arc<AtomicU64>,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

/// The connections a worker holds, by connection id; shared by its threads.
#[derive(Debug, Default)]
pub struct Registry(Mutex<HashMap<String, std::sync::Arc<Handle>>>);

impl Registry {
    pub fn insert(&self, id: String, handle: std::sync::Arc<Handle>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, handle);
    }

    pub fn remove(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// The connection `id` of the API `api_id`'s stage `stage`.
    pub fn get(&self, id: &str, api_id: &str, stage: &str) -> Option<std::sync::Arc<Handle>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|h| h.api_id == api_id && h.stage == stage)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Milliseconds since the epoch.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Marks a connection active now.
pub fn touch(last_active: &AtomicU64) {
    last_active.store(epoch_ms(SystemTime::now()), Ordering::Relaxed);
}

/// A new connection id, shaped like AWS's (`L0SM9cOFvHcCIhw=`): 11 random bytes, base64.
pub fn connection_id() -> String {
    use base64::Engine;
    let bytes: [u8; 11] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_look_like_aws() {
        let id = connection_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
    }
}
