//! The control plane's side: a LISTEN task that tracks the latest revision (whichever replica
//! wrote it), and the internal endpoints workers use: the event stream, snapshots by hash, acks
//! and the fleet view.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use super::protocol::{self, Ack, Event, StageKey};
use crate::domain::usage_plan::KeyHasher;
use crate::store::{Store, StoreError, deployments, live, revision};

/// What the internal endpoints share.
#[derive(Clone)]
pub struct Publisher {
    pub store: Store,
    pub token: Arc<str>,
    /// How API keys are hashed for the workers (from the cluster token they share).
    pub key_hasher: crate::domain::usage_plan::KeyHasher,
    /// This replica's name in the fleet view.
    pub replica: Arc<str>,
    latest: watch::Receiver<i64>,
    /// The live fleet's size, counted every few seconds for every stream to send.
    fleet: watch::Receiver<u32>,
    /// Turns true when the control plane shuts down: streams end so connections can close.
    closing: watch::Receiver<bool>,
}

impl Publisher {
    /// Starts following revisions: LISTEN for other writers' NOTIFYs, and poll as a safety net
    /// (a NOTIFY sent while the listener reconnects would otherwise be missed).
    pub async fn start(
        store: Store,
        token: Arc<str>,
        replica: Arc<str>,
        closing: watch::Receiver<bool>,
    ) -> Result<Self, StoreError> {
        let current = revision::current(&mut *store.pool().acquire().await?).await?;
        let (tx, latest) = watch::channel(current);
        let mut until_closed = closing.clone();
        let follower = tokio::spawn(follow_revisions(store.clone(), tx));
        let pruner = tokio::spawn(prune_changes(store.clone()));
        let (fleet_tx, fleet) = watch::channel(1);
        let counter = tokio::spawn(count_fleet(store.clone(), fleet_tx));
        tokio::spawn(async move {
            let _ = until_closed.wait_for(|c| *c).await;
            follower.abort();
            pruner.abort();
            counter.abort();
        });
        Ok(Self {
            store,
            key_hasher: crate::domain::usage_plan::KeyHasher::from_secret(&token),
            token,
            replica,
            latest,
            fleet,
            closing,
        })
    }

    /// The internal endpoints, behind the cluster token.
    pub fn router(self) -> axum::Router {
        axum::Router::new()
            .route(protocol::STREAM_PATH, get(stream))
            .route(&format!("{}/{{hash}}", protocol::SNAPSHOTS_PATH), get(snapshot))
            .route(protocol::ACKS_PATH, post(ack))
            .route(protocol::FLEET_PATH, get(fleet))
            .route(protocol::USAGE_PATH, post(usage))
            .layer(middleware::from_fn_with_state(self.clone(), require_token))
            .with_state(self)
    }
}

impl Publisher {
    /// `/metrics` of the control plane (unauthenticated, like every Prometheus endpoint): the
    /// live-config revision and, per worker, the revision it serves and how far behind it is.
    pub fn metrics_router(self) -> axum::Router {
        axum::Router::new()
            .route("/metrics", get(metrics))
            .with_state(self)
    }
}

async fn metrics(State(p): State<Publisher>) -> Response {
    use std::fmt::Write as _;
    let revision = *p.latest.borrow();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP gatehouse_config_revision The latest live-config revision."
    );
    let _ = writeln!(
        out,
        "# TYPE gatehouse_config_revision gauge\ngatehouse_config_revision {revision}"
    );
    let workers = match p.store.pool().acquire().await {
        Ok(mut conn) => live::fleet(&mut conn).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let _ = writeln!(
        out,
        "# TYPE gatehouse_fleet_workers gauge\ngatehouse_fleet_workers {}",
        workers.len()
    );
    let _ = writeln!(
        out,
        "# HELP gatehouse_worker_revision_lag Revisions a worker is behind."
    );
    let _ = writeln!(out, "# TYPE gatehouse_worker_revision_lag gauge");
    for w in &workers {
        let _ = writeln!(
            out,
            "gatehouse_worker_revision_lag{{worker=\"{}\"}} {}",
            w.worker_id.replace('"', ""),
            w.lag
        );
    }
    let _ = writeln!(
        out,
        "# HELP gatehouse_worker_last_seen_seconds Seconds since a worker was last heard of."
    );
    let _ = writeln!(out, "# TYPE gatehouse_worker_last_seen_seconds gauge");
    for w in &workers {
        let _ = writeln!(
            out,
            "gatehouse_worker_last_seen_seconds{{worker=\"{}\"}} {:.1}",
            w.worker_id.replace('"', ""),
            w.last_seen_secs
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn follow_revisions(store: Store, tx: watch::Sender<i64>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match sqlx::postgres::PgListener::connect_with(store.pool()).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(revision::CHANNEL).await {
                    tracing::warn!(error = %e, "listen failed");
                } else {
                    backoff = Duration::from_millis(100);
                    // Catch up on anything written while not listening.
                    poll_once(&store, &tx).await;
                    loop {
                        tokio::select! {
                            n = listener.recv() => match n {
                                Ok(n) => {
                                    if let Ok(r) = n.payload().parse::<i64>() {
                                        tx.send_if_modified(|cur| if r > *cur { *cur = r; true } else { false });
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "config listener lost");
                                    break;
                                }
                            },
                            _ = tokio::time::sleep(Duration::from_secs(5)) => poll_once(&store, &tx).await,
                        }
                        if tx.is_closed() {
                            return;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "config listener cannot connect"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Keeps storage bounded: once a minute, any replica may prune the change log and collect the
/// snapshots no deployment uses any more (both idempotent).
/// Counts the live workers twice a heartbeat, for the streams to tell them.
async fn count_fleet(store: Store, tx: watch::Sender<u32>) {
    loop {
        if let Ok(mut conn) = store.pool().acquire().await
            && let Ok(n) = live::fleet_size(&mut conn).await
        {
            tx.send_if_modified(|old| std::mem::replace(old, n) != n);
        }
        tokio::time::sleep(Duration::from_secs(protocol::HEARTBEAT_SECS) / 2).await;
    }
}

async fn prune_changes(store: Store) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        if let Ok(mut conn) = store.pool().acquire().await {
            match revision::prune(&mut conn).await {
                Ok(n) if n > 0 => tracing::debug!(pruned = n, "old config changes pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune config changes"),
            }
            match deployments::collect_garbage(&mut conn, SNAPSHOT_GRACE).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "unused snapshots collected"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot collect snapshots"),
            }
            if let Err(e) = crate::store::usage::prune_batches(&mut conn).await {
                tracing::warn!(error = %e, "cannot prune usage batch ids");
            }
        }
    }
}

/// How long an unreferenced snapshot is kept (a deployment being created references it within
/// its own transaction, long before this).
const SNAPSHOT_GRACE: Duration = Duration::from_secs(3600);

async fn poll_once(store: &Store, tx: &watch::Sender<i64>) {
    if let Ok(mut conn) = store.pool().acquire().await
        && let Ok(r) = revision::current(&mut conn).await
    {
        tx.send_if_modified(|cur| {
            if r > *cur {
                *cur = r;
                true
            } else {
                false
            }
        });
    }
}

async fn require_token(State(p): State<Publisher>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if protocol::token_matches(presented, &p.token) {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "cluster token required").into_response()
    }
}

fn internal_error(e: StoreError) -> Response {
    tracing::error!(error = %e, "distribution store error");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

#[derive(Deserialize)]
struct StreamQuery {
    worker_id: Option<String>,
}

/// The event stream: the full config, then a delta per revision, heartbeats when idle.
async fn stream(State(p): State<Publisher>, Query(q): Query<StreamQuery>) -> Response {
    let first = match full_event(&p).await {
        Ok(e) => e,
        Err(e) => return internal_error(e),
    };
    let worker = q.worker_id.unwrap_or_default();
    tracing::info!(worker.id = %worker, revision = first.revision(), "worker subscribed");
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(produce(p, first, tx));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

fn line(e: &Event) -> Bytes {
    let mut v = serde_json::to_vec(e).expect("events serialise");
    v.push(b'\n');
    Bytes::from(v)
}

async fn full_event(p: &Publisher) -> Result<Event, StoreError> {
    let mut tx = p.store.begin_snapshot_read().await?;
    let full = live::full(&mut tx, &p.key_hasher).await?;
    tx.commit().await?;
    Ok(Event::Full {
        revision: full.revision,
        stages: full.stages,
        callers: full.callers,
        fleet: Some(*p.fleet.borrow()),
    })
}

async fn produce(p: Publisher, first: Event, tx: mpsc::Sender<Bytes>) {
    let mut sent = first.revision();
    if tx.send(line(&first)).await.is_err() {
        return;
    }
    let mut latest = p.latest.clone();
    let mut closing = p.closing.clone();
    loop {
        tokio::select! {
            _ = latest.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(protocol::HEARTBEAT_SECS)) => {}
            _ = tx.closed() => return,
            _ = closing.wait_for(|c| *c) => return,
        };
        // Whatever woke us, the latest revision decides: a change that arrived together with the
        // heartbeat timer is never mistaken for idleness.
        let target = *latest.borrow_and_update();
        let event = if target > sent {
            match delta_event(&p.store, &p.key_hasher, sent).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot compute delta; closing stream");
                    return;
                }
            }
        } else {
            Event::Heartbeat {
                revision: sent,
                fleet: Some(*p.fleet.borrow()),
            }
        };
        sent = sent.max(event.revision());
        if tx.send(line(&event)).await.is_err() {
            return;
        }
    }
}

async fn delta_event(store: &Store, hasher: &KeyHasher, since: i64) -> Result<Event, StoreError> {
    let mut tx = store.begin_snapshot_read().await?;
    let delta = live::since(&mut tx, hasher, since).await?;
    let event = match delta {
        Some(d) => Event::Delta {
            revision: d.revision,
            upserts: d.upserts,
            removed: d
                .removed
                .into_iter()
                .map(|(api_id, stage_name)| StageKey { api_id, stage_name })
                .collect(),
            removed_apis: d.removed_apis,
            callers: d.callers,
        },
        None => {
            let full = live::full(&mut tx, hasher).await?;
            Event::Full {
                revision: full.revision,
                stages: full.stages,
                callers: full.callers,
                fleet: None,
            }
        }
    };
    tx.commit().await?;
    Ok(event)
}

async fn snapshot(State(p): State<Publisher>, Path(hash): Path<String>) -> Response {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let mut conn = match p.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return internal_error(e.into()),
    };
    match deployments::get_snapshot(&mut conn, &hash).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(StoreError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal_error(e),
    }
}

async fn ack(State(p): State<Publisher>, Json(a): Json<Ack>) -> Response {
    if !a.applied {
        tracing::warn!(worker.id = %a.worker_id, revision = a.revision, error = ?a.error, "worker refused a revision");
    }
    let mut conn = match p.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return internal_error(e.into()),
    };
    match live::record_ack(
        &mut conn,
        &a.worker_id,
        &a.address,
        a.revision,
        a.applied,
        a.error.as_deref(),
        &p.replica,
    )
    .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => internal_error(e),
    }
}

/// A worker's usage report: applied once per batch, in one transaction.
async fn usage(State(p): State<Publisher>, Json(r): Json<protocol::UsageReport>) -> Response {
    if r.batch_id.is_empty() || r.batch_id.len() > 64 || r.counts.len() > 100_000 {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let applied = async {
        let mut tx = p.store.begin().await?;
        let fresh = crate::store::usage::record(&mut tx, &r.batch_id, &r.counts).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(fresh)
    }
    .await;
    match applied {
        Ok(fresh) => {
            if !fresh {
                tracing::debug!(worker.id = %r.worker_id, batch = %r.batch_id, "usage batch already applied");
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => internal_error(e),
    }
}

async fn fleet(State(p): State<Publisher>) -> Response {
    let mut conn = match p.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return internal_error(e.into()),
    };
    match live::fleet(&mut conn).await {
        Ok(workers) => Json(workers).into_response(),
        Err(e) => internal_error(e),
    }
}
