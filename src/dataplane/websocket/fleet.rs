//! The fleet's side of a worker's WebSocket connections: the connections it opens and closes
//! are told to the control plane's registry (batched, sent again until taken), and an
//! @connections call for a connection it does not hold goes to the control plane, which queues
//! it for the worker holding the connection ([`crate::distribution::protocol::Event::Deliver`]).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use tokio::sync::{mpsc, watch};

use super::Change;
use crate::dataplane::client::{BackendClient, Budget};
use crate::dataplane::full_body;
use crate::distribution::protocol::{CONNECTIONS_PATH, ConnectionCall, ConnectionChanges};

/// How a worker reaches the control plane's registry.
#[derive(Clone)]
pub struct Relay {
    pub client: BackendClient,
    pub control_plane: String,
    pub token: String,
    pub worker_id: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("control_plane", &self.control_plane)
            .finish_non_exhaustive()
    }
}

impl Relay {
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Bytes), String> {
        let req = http::Request::post(format!("{}{path}", self.control_plane))
            .header(http::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(full_body(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let res = self
            .client
            .request(req, Budget::starting_now(Duration::from_secs(5)))
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status;
        let body = http_body_util::Limited::new(res.body, 1 << 20)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    /// An @connections call for connection `id`, which another worker may hold: the control
    /// plane's status and answer.
    pub async fn call(&self, id: &str, call: &ConnectionCall) -> Result<(StatusCode, Bytes), String> {
        let id = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
        let body = serde_json::to_vec(call).map_err(|e| e.to_string())?;
        self.post(&format!("{CONNECTIONS_PATH}/{id}"), body).await
    }
}

/// Changes kept while the control plane cannot be reached; beyond this, the oldest go.
const MAX_PENDING: usize = 100_000;

/// Makes room in the changes waiting for the control plane: a connection's record told twice
/// (its activity) is told once, its latest; then, while there are still too many, the oldest
/// records go. Closes and acknowledgements are never dropped (a close dropped would leave a
/// gone connection answering, an acknowledgement dropped would have a command sent again).
fn compact(pending: &mut VecDeque<Change>) {
    use std::collections::HashMap;
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (i, c) in pending.iter().enumerate() {
        if let Change::Opened(r) = c {
            latest.insert(r.connection_id.as_str(), i);
        }
    }
    let keep: Vec<bool> = pending
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Change::Opened(r) => latest.get(r.connection_id.as_str()) == Some(&i),
            _ => true,
        })
        .collect();
    let mut i = 0;
    pending.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    let mut excess = pending.len().saturating_sub(MAX_PENDING);
    pending.retain(|c| {
        if excess > 0 && matches!(c, Change::Opened(_)) {
            excess -= 1;
            return false;
        }
        true
    });
}

/// Tells the control plane of the connections opened and closed, until `closed` turns true.
pub async fn report(
    relay: Relay,
    mut changes: mpsc::UnboundedReceiver<Change>,
    mut closed: watch::Receiver<bool>,
) {
    let mut pending: VecDeque<Change> = VecDeque::new();
    let mut backoff = Duration::from_millis(100);
    // Once the worker drains, what its closing sessions report is still told, for a while.
    let mut last_call: Option<tokio::time::Instant> = None;
    loop {
        if pending.is_empty() {
            let quiet = Duration::from_millis(300);
            tokio::select! {
                change = changes.recv() => match change {
                    Some(c) => pending.push_back(c),
                    None => return,
                },
                _ = closed.wait_for(|c| *c), if last_call.is_none() => {
                    last_call = Some(tokio::time::Instant::now() + Duration::from_secs(10));
                    continue;
                }
                () = tokio::time::sleep(quiet), if last_call.is_some() => return,
            }
            if last_call.is_some_and(|l| tokio::time::Instant::now() > l) {
                return;
            }
            // What else comes within a moment goes in the same report.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        while let Ok(c) = changes.try_recv() {
            pending.push_back(c);
        }
        if pending.len() > MAX_PENDING {
            compact(&mut pending);
        }
        let mut report = ConnectionChanges {
            worker_id: relay.worker_id.clone(),
            opened: Vec::new(),
            closed: Vec::new(),
            delivered: Vec::new(),
        };
        for c in pending.iter().take(1000) {
            match c {
                Change::Opened(r) => report.opened.push(r.clone()),
                Change::Closed(id) => report.closed.push(id.clone()),
                Change::Delivered(seq) => report.delivered.push(*seq),
            }
        }
        let sent = report.opened.len() + report.closed.len() + report.delivered.len();
        let body = serde_json::to_vec(&report).expect("reports serialise");
        match relay.post(CONNECTIONS_PATH, body).await {
            Ok((status, _)) if status.is_success() => {
                pending.drain(..sent);
                backoff = Duration::from_millis(100);
            }
            other => {
                tracing::debug!(answer = ?other.map(|(s, _)| s), "connection changes not taken; will retry");
                if last_call.is_some_and(|l| tokio::time::Instant::now() > l) {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(id: &str, active: u64) -> Change {
        Change::Opened(crate::store::websockets::ConnectionRecord {
            connection_id: id.into(),
            api_id: "api".into(),
            stage: "prod".into(),
            connected_at: 1,
            source_ip: "10.0.0.1".into(),
            user_agent: None,
            last_active_at: Some(active),
        })
    }

    #[test]
    fn compacting_keeps_each_connections_latest_record_and_every_close_and_ack() {
        let mut pending: VecDeque<Change> = VecDeque::new();
        for n in 0..MAX_PENDING as u64 {
            pending.push_back(opened("busy", n));
        }
        pending.push_back(Change::Closed("gone".into()));
        pending.push_back(Change::Delivered(7));
        pending.push_back(opened("new", 1));
        compact(&mut pending);
        let told: Vec<String> = pending
            .iter()
            .map(|c| match c {
                Change::Opened(r) => format!("+{}@{}", r.connection_id, r.last_active_at.unwrap()),
                Change::Closed(id) => format!("-{id}"),
                Change::Delivered(seq) => format!("={seq}"),
            })
            .collect();
        assert_eq!(
            told,
            [
                format!("+busy@{}", MAX_PENDING - 1),
                "-gone".into(),
                "=7".into(),
                "+new@1".into()
            ]
        );
    }
}
