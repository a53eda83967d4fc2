//! WebSocket APIs on the worker: a client's upgrade request to a WebSocket API's stage leaves
//! the HTTP/1 connection loop for a [`session`] of its own (framing by tungstenite), which runs
//! `$connect` before the handshake is answered, routes each message by the API's route
//! selection expression, and runs `$disconnect` when either side closes. The worker's
//! [`Registry`] knows the connections it holds, for the `@connections` API ([`connections`]).

pub mod access_log;
pub mod api_key;
pub mod authorize;
pub mod connections;
pub mod event;
pub mod fleet;
pub mod integrate;
pub mod mapping;
pub mod session;
pub mod validate;

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
/// How often, at most, a connection's activity is told to the control plane (what other
/// workers answer as its `lastActiveAt` is at most this old).
pub const ACTIVITY_REPORT: Duration = Duration::from_secs(10);

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
    // The key: a nonce of 16 bytes, base64.
    let key_ok = || {
        fields.get(b"sec-websocket-key").is_some_and(|k| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(k)
                .is_ok_and(|nonce| nonce.len() == 16)
        })
    };
    method == Method::GET
        && has_token(b"upgrade", "websocket")
        && has_token(b"connection", "upgrade")
        && fields.get(b"sec-websocket-version") == Some(b"13")
        && key_ok()
}

/// What is sent to a connection from elsewhere (the `@connections` API).
#[derive(Debug)]
pub enum Outgoing {
    Message(Bytes),
    Close,
}

/// What a connection's outbox holds at most: messages beyond it are refused (429 to a local
/// POST; dropped, with a warning, when another worker's POST was already answered).
pub const OUTBOX_BYTES: usize = 4 << 20;

/// Why a message was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Full,
    Closed,
}

impl Handle {
    /// The connection as the fleet's registry keeps it.
    pub fn record(&self, id: &str) -> crate::store::websockets::ConnectionRecord {
        crate::store::websockets::ConnectionRecord {
            connection_id: id.to_owned(),
            api_id: self.api_id.clone(),
            stage: self.stage.clone(),
            connected_at: epoch_ms(self.connected_at),
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            last_active_at: Some(self.last_active.load(Ordering::Relaxed)),
        }
    }

    /// Queues a message (or the close) for the client, within the outbox's budget.
    pub fn offer(&self, out: Outgoing) -> Result<(), Refused> {
        use std::sync::atomic::Ordering;
        let size = match &out {
            Outgoing::Message(b) => b.len().max(1),
            Outgoing::Close => 0,
        };
        if size > 0 && self.queued.fetch_add(size, Ordering::Relaxed) + size > OUTBOX_BYTES {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            return Err(Refused::Full);
        }
        self.outbox.send(out).map_err(|_| Refused::Closed)
    }

    /// A message taken from the outbox was sent.
    pub fn sent(&self, size: usize) {
        self.queued
            .fetch_sub(size.max(1), std::sync::atomic::Ordering::Relaxed);
    }
}

/// A connection this worker holds.
#[derive(Debug)]
pub struct Handle {
    pub api_id: String,
    pub stage: String,
    pub outbox: tokio::sync::mpsc::UnboundedSender<Outgoing>,
    /// Bytes waiting in the outbox: bounded by [`OUTBOX_BYTES`], not by a count of messages,
    /// so that a burst of small messages is not dropped while a slow client is still bounded.
    pub queued: std::sync::atomic::AtomicUsize,
    pub connected_at: SystemTime,
    /// When the client last sent a message (epoch milliseconds).
    pub last_active: std::sync::Arc<AtomicU64>,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

/// The connections a worker holds, by connection id; shared by its threads. Each one opened
/// or closed is told to the fleet's registry (the control plane), through [`Registry::report_to`].
#[derive(Debug, Default)]
pub struct Registry {
    map: Mutex<HashMap<String, std::sync::Arc<Handle>>>,
    changes: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Change>>,
    /// How to reach connections other workers hold.
    relay: std::sync::OnceLock<fleet::Relay>,
    /// The relayed commands delivered lately.
    delivered: Mutex<Delivered>,
}

/// The relayed commands a worker delivered lately (by `seq`): a command sent again (its
/// acknowledgement not taken before the stream it came on died) is not delivered twice.
#[derive(Debug, Default)]
struct Delivered {
    seen: std::collections::HashSet<i64>,
    order: std::collections::VecDeque<i64>,
}

impl Delivered {
    /// Commands remembered: far more than can wait unacknowledged (they are forgotten by the
    /// control plane within a minute).
    const KEPT: usize = 100_000;

    /// Whether `seq` is new (and now remembered).
    fn insert(&mut self, seq: i64) -> bool {
        if !self.seen.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > Self::KEPT
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// A connection opened or closed, for the control plane's registry.
#[derive(Debug)]
pub enum Change {
    Opened(crate::store::websockets::ConnectionRecord),
    Closed(String),
    /// An @connections command relayed by the control plane was delivered (or its connection
    /// is gone): it may be forgotten.
    Delivered(i64),
}

impl Registry {
    /// Where the registry tells of connections opened and closed, and asks for the ones other
    /// workers hold (set once, at startup).
    pub fn report_to(&self, changes: tokio::sync::mpsc::UnboundedSender<Change>, relay: fleet::Relay) {
        let _ = self.changes.set(changes);
        let _ = self.relay.set(relay);
    }

    // Changes are sent while the map is locked, so that they reach the control plane in the
    // order the map saw them (a resync never tells of a connection after its close).
    pub fn insert(&self, id: String, handle: std::sync::Arc<Handle>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(changes) = self.changes.get() {
            let _ = changes.send(Change::Opened(handle.record(&id)));
        }
        map.insert(id, handle);
    }

    pub fn remove(&self, id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.remove(id).is_some()
            && let Some(changes) = self.changes.get()
        {
            let _ = changes.send(Change::Closed(id.to_owned()));
        }
    }

    /// Tells the control plane that connection `id` was active (its record again, with when),
    /// for GetConnection calls answered by other workers.
    pub fn active(&self, id: &str) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(changes), Some(handle)) = (self.changes.get(), map.get(id)) {
            let _ = changes.send(Change::Opened(handle.record(id)));
        }
    }

    /// Tells the control plane of every connection held again (it registers them anew), as
    /// when the worker's stream to it starts: whatever it forgot while the worker could not
    /// reach it (a long outage sweeps a silent worker's connections) is known again.
    pub fn resync(&self) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(changes) = self.changes.get() {
            for (id, handle) in map.iter() {
                let _ = changes.send(Change::Opened(handle.record(id)));
            }
        }
    }

    /// The connection `id` of the API `api_id`'s stage `stage`.
    pub fn get(&self, id: &str, api_id: &str, stage: &str) -> Option<std::sync::Arc<Handle>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|h| h.api_id == api_id && h.stage == stage)
            .cloned()
    }

    /// A message (base64) for, or the close of, a connection this worker holds, from another
    /// worker's @connections API: delivered once, however often the control plane sends it
    /// (a command is sent again on a new stream until the worker's acknowledgement is taken).
    pub fn deliver(&self, seq: i64, id: &str, close: bool, data: &str) {
        use base64::Engine;
        // A command without a number (a control plane of before acknowledgements) is
        // delivered as it comes.
        if seq > 0 {
            let fresh = self
                .delivered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(seq);
            if let Some(changes) = self.changes.get() {
                let _ = changes.send(Change::Delivered(seq));
            }
            if !fresh {
                return;
            }
        }
        let handle = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        let Some(handle) = handle else {
            return;
        };
        let out = if close {
            Outgoing::Close
        } else {
            match base64::engine::general_purpose::STANDARD.decode(data) {
                Ok(bytes) => Outgoing::Message(Bytes::from(bytes)),
                Err(_) => return,
            }
        };
        if handle.offer(out) == Err(Refused::Full) {
            // Its caller was already answered 200: say so where an operator will see it.
            tracing::warn!(
                connection.id = id,
                "a message relayed from another worker was dropped: the connection's outbox is full"
            );
        }
    }

    pub fn relay(&self) -> Option<&fleet::Relay> {
        self.relay.get()
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

    fn handle(api: &str) -> std::sync::Arc<Handle> {
        std::sync::Arc::new(Handle {
            api_id: api.into(),
            stage: "prod".into(),
            outbox: tokio::sync::mpsc::unbounded_channel().0,
            queued: Default::default(),
            connected_at: SystemTime::UNIX_EPOCH,
            last_active: Default::default(),
            source_ip: "10.0.0.1".into(),
            user_agent: None,
        })
    }

    #[test]
    fn a_resync_tells_again_of_the_connections_held_and_of_none_closed() {
        let registry = Registry::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let relay = fleet::Relay {
            client: crate::dataplane::client::verifying(),
            control_plane: "http://127.0.0.1:1".into(),
            token: "t".into(),
            worker_id: "w".into(),
        };
        registry.report_to(tx, relay);
        registry.insert("a".into(), handle("api"));
        registry.insert("b".into(), handle("api"));
        registry.remove("a");
        registry.resync();
        let mut told = Vec::new();
        while let Ok(c) = rx.try_recv() {
            told.push(match c {
                Change::Opened(r) => format!("+{}", r.connection_id),
                Change::Closed(id) => format!("-{id}"),
                Change::Delivered(seq) => format!("={seq}"),
            });
        }
        assert_eq!(told, ["+a", "+b", "-a", "+b"]);
    }

    #[test]
    fn a_relayed_command_is_delivered_once_and_acknowledged_each_time() {
        let registry = Registry::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let relay = fleet::Relay {
            client: crate::dataplane::client::verifying(),
            control_plane: "http://127.0.0.1:1".into(),
            token: "t".into(),
            worker_id: "w".into(),
        };
        registry.report_to(tx, relay);
        let (outbox, mut inbox) = tokio::sync::mpsc::unbounded_channel();
        let h = Handle {
            outbox,
            ..std::sync::Arc::into_inner(handle("api")).unwrap()
        };
        registry.insert("c".into(), std::sync::Arc::new(h));
        // "aGk=" is "hi"; the second comes again on a new stream.
        registry.deliver(7, "c", false, "aGk=");
        registry.deliver(7, "c", false, "aGk=");
        registry.deliver(8, "gone", false, "aGk=");
        let mut messages = 0;
        while let Ok(Outgoing::Message(m)) = inbox.try_recv() {
            assert_eq!(&m[..], b"hi");
            messages += 1;
        }
        assert_eq!(messages, 1);
        let acks: Vec<i64> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|c| match c {
                Change::Delivered(seq) => Some(seq),
                _ => None,
            })
            .collect();
        assert_eq!(acks, [7, 7, 8]);
    }

    #[test]
    fn connection_ids_look_like_aws() {
        let id = connection_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
    }
}
