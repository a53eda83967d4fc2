//! A worker's usage reports: every second, what API keys used since the last report goes to the
//! control plane as a batch with an id of its own. A batch that is not acknowledged is sent again,
//! as it was, until it is (the control plane applies each batch id once, so a retry after a lost
//! answer counts nothing twice). A worker cut off from the control plane keeps counting and
//! keeps its batches, up to [`MAX_PENDING`], and reports them when it is back.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::protocol::{self, UsageReport};
use crate::dataplane::client::{BackendClient, Budget};
use crate::dataplane::full_body;
use crate::dataplane::usage::UsageCounter;

/// How often a worker reports.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Batches kept while the control plane cannot be reached (an hour of reports); older ones
/// are dropped, with a warning.
pub const MAX_PENDING: usize = 3600;

pub struct Reporter {
    pub client: BackendClient,
    pub control_plane: String,
    pub token: String,
    pub worker_id: String,
    pub usage: Arc<UsageCounter>,
}

impl Reporter {
    /// Reports until `closed` turns true, then once more.
    pub async fn run(self, mut closed: watch::Receiver<bool>) {
        let mut pending = VecDeque::new();
        loop {
            let closing = tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => false,
                _ = closed.wait_for(|c| *c) => true,
            };
            self.report(&mut pending).await;
            if closing {
                if !pending.is_empty() {
                    tracing::warn!(batches = pending.len(), "usage not reported before shutdown");
                }
                return;
            }
        }
    }

    async fn report(&self, pending: &mut VecDeque<UsageReport>) {
        let counts = self.usage.drain();
        // Batches small enough for the control plane's body limit.
        for chunk in counts.chunks(BATCH_COUNTS) {
            pending.push_back(UsageReport {
                batch_id: uuid::Uuid::new_v4().to_string(),
                worker_id: self.worker_id.clone(),
                counts: chunk.to_vec(),
            });
        }
        while pending.len() > MAX_PENDING {
            pending.pop_front();
            tracing::warn!("the control plane has been away too long: the oldest usage batch is dropped");
        }
        while let Some(batch) = pending.front() {
            match self.send(batch).await {
                Sent::Applied => {}
                Sent::Refused => {
                    // Sent again it would be refused again, and hold up every batch after it.
                    tracing::warn!(batch = %batch.batch_id, "the control plane refused a usage batch; dropped");
                }
                Sent::NotYet => return,
            }
            pending.pop_front();
        }
    }

    async fn send(&self, batch: &UsageReport) -> Sent {
        let req = hyper::Request::post(format!("{}{}", self.control_plane, protocol::USAGE_PATH))
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(full_body(Bytes::from(
                serde_json::to_vec(batch).expect("reports serialise"),
            )));
        let Ok(req) = req else { return Sent::Refused };
        match self
            .client
            .request(req, Budget::starting_now(Duration::from_secs(5)))
            .await
        {
            Ok(res) if res.status.is_success() => Sent::Applied,
            Ok(res) if res.status.is_client_error() && res.status != hyper::StatusCode::UNAUTHORIZED => {
                Sent::Refused
            }
            Ok(res) => {
                tracing::debug!(status = %res.status, "usage report not applied; will retry");
                Sent::NotYet
            }
            Err(e) => {
                tracing::debug!(error = %e, "usage report not delivered; will retry");
                Sent::NotYet
            }
        }
    }
}

/// What became of a batch sent.
enum Sent {
    Applied,
    /// The control plane will never take it.
    Refused,
    /// To be sent again.
    NotYet,
}

/// Counts per batch: well within the control plane's 2 MB body limit.
const BATCH_COUNTS: usize = 10_000;
