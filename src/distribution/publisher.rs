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
use crate::store::{Store, StoreError, deployments, live, revision};

/// What the internal endpoints share.
#[derive(Clone)]
pub struct Publisher {
    pub store: Store,
    pub token: Arc<str>,
    /// How API keys are hashed for the workers (from the cluster token they share).
    pub key_hasher: crate::domain::usage_plan::KeyHasher,
    /// Opens imported certificates' keys, for the workers serving their domains.
    pub sealer: Arc<crate::store::certificates::Sealer>,
    /// This replica's name in the fleet view.
    pub replica: Arc<str>,
    latest: watch::Receiver<i64>,
    /// The live fleet's size, counted every few seconds for every stream to send.
    fleet: watch::Receiver<u32>,
    /// Turns true when the control plane shuts down: streams end so connections can close.
    closing: watch::Receiver<bool>,
    /// Wakes the stream of a worker with @connections commands waiting (by worker id).
    wakers: Wakers,
}

type Wakers = Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Notify>>>>;

/// Forgets a worker's waker when its stream ends, unless another stream of it took it since.
struct Forget {
    wakers: Wakers,
    worker: String,
    wake: Arc<tokio::sync::Notify>,
}

impl Drop for Forget {
    fn drop(&mut self) {
        let mut map = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        // Two references: the map's and this one; a newer stream of the worker holds a third.
        if map.get(&self.worker).is_some_and(|w| Arc::ptr_eq(w, &self.wake))
            && Arc::strong_count(&self.wake) <= 3
        {
            map.remove(&self.worker);
        }
    }
}

/// The waker of `worker`'s stream.
fn waker(wakers: &Wakers, worker: &str) -> Arc<tokio::sync::Notify> {
    let mut map = wakers.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(worker.to_owned()).or_default().clone()
}

impl Publisher {
    /// Starts following revisions: LISTEN for other writers' NOTIFYs, and poll as a safety net
    /// (a NOTIFY sent while the listener reconnects would otherwise be missed).
    pub async fn start(
        store: Store,
        token: Arc<str>,
        sealer: Arc<crate::store::certificates::Sealer>,
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
        let wakers: Wakers = Arc::default();
        let waking = tokio::spawn(follow_commands(store.clone(), wakers.clone()));
        tokio::spawn(async move {
            let _ = until_closed.wait_for(|c| *c).await;
            follower.abort();
            pruner.abort();
            counter.abort();
            waking.abort();
        });
        Ok(Self {
            store,
            key_hasher: crate::domain::usage_plan::KeyHasher::from_secret(&token),
            sealer,
            token,
            replica,
            latest,
            fleet,
            closing,
            wakers,
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
            .route(protocol::CONNECTIONS_PATH, post(connections))
            .route(
                &format!("{}/{{id}}", protocol::CONNECTIONS_PATH),
                post(connection_call),
            )
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
            if let Err(e) = crate::store::websockets::sweep(&mut conn).await {
                tracing::warn!(error = %e, "cannot sweep WebSocket connections");
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
    tokio::spawn(produce(p, first, tx, worker));
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
    let full = live::full(&mut tx, &p.key_hasher, &p.sealer).await?;
    tx.commit().await?;
    Ok(Event::Full {
        revision: full.revision,
        stages: full.stages,
        callers: full.callers,
        domains: full.domains,
        fleet: Some(*p.fleet.borrow()),
    })
}

async fn produce(p: Publisher, first: Event, tx: mpsc::Sender<Bytes>, worker: String) {
    let mut sent = first.revision();
    if tx.send(line(&first)).await.is_err() {
        return;
    }
    let mut latest = p.latest.clone();
    let mut closing = p.closing.clone();
    let wake = waker(&p.wakers, &worker);
    // This stream's own name, for the commands it hands over.
    let stream_id = uuid::Uuid::new_v4().to_string();
    // The worker's waker goes with its last stream (worker ids change at every restart).
    let _forget = Forget {
        wakers: p.wakers.clone(),
        worker: worker.clone(),
        wake: wake.clone(),
    };
    // One heartbeat deadline, moved only when an event is sent: a stream busy with
    // @connections commands still carries heartbeats (the worker's liveness).
    let heartbeat = tokio::time::sleep(Duration::from_secs(protocol::HEARTBEAT_SECS));
    tokio::pin!(heartbeat);
    loop {
        // Woken by a revision, the heartbeat's timer, or @connections commands for the worker.
        let (commands, only_commands) = tokio::select! {
            _ = latest.changed() => (false, false),
            () = &mut heartbeat => (true, false),
            () = wake.notified() => (true, true),
            _ = tx.closed() => return,
            _ = closing.wait_for(|c| *c) => return,
        };
        // Commands are handed over as they come (and at every heartbeat, should a NOTIFY have
        // been missed); they are no configuration change: no heartbeat for them alone.
        if commands && !worker.is_empty() && !deliver(&p.store, &worker, &stream_id, sent, &tx).await {
            return;
        }
        if only_commands && *latest.borrow() <= sent {
            continue;
        }
        // Whatever woke us, the latest revision decides: a change that arrived together with the
        // heartbeat timer is never mistaken for idleness.
        let target = *latest.borrow_and_update();
        let event = if target > sent {
            match delta_event(&p, sent).await {
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
        heartbeat
            .as_mut()
            .reset(tokio::time::Instant::now() + Duration::from_secs(protocol::HEARTBEAT_SECS));
    }
}

/// Sends the worker the @connections commands waiting for it that `stream` has not sent yet;
/// false when its stream is gone.
async fn deliver(store: &Store, worker: &str, stream: &str, revision: i64, tx: &mpsc::Sender<Bytes>) -> bool {
    use base64::Engine;
    let taken = match store.pool().acquire().await {
        Ok(mut conn) => crate::store::websockets::pending(&mut conn, worker, stream).await,
        Err(e) => Err(e.into()),
    };
    let commands = match taken {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read @connections commands");
            return true;
        }
    };
    for (seq, connection_id, close, data) in commands {
        let event = Event::Deliver {
            revision,
            seq,
            connection_id,
            close,
            data: base64::engine::general_purpose::STANDARD.encode(data),
        };
        if tx.send(line(&event)).await.is_err() {
            return false;
        }
    }
    true
}

/// Wakes the streams of workers with @connections commands waiting (NOTIFY, from whichever
/// replica queued them).
async fn follow_commands(store: Store, wakers: Wakers) {
    loop {
        match sqlx::postgres::PgListener::connect_with(store.pool()).await {
            Ok(mut listener) => {
                if listener.listen(crate::store::websockets::CHANNEL).await.is_ok() {
                    while let Ok(n) = listener.recv().await {
                        // Only a worker this replica streams to has a waker here.
                        let known = wakers
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get(n.payload())
                            .cloned();
                        if let Some(w) = known {
                            w.notify_one();
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "the @connections listener cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A worker's connections opened and closed.
async fn connections(State(p): State<Publisher>, Json(c): Json<protocol::ConnectionChanges>) -> Response {
    if c.worker_id.is_empty() || c.opened.len() + c.closed.len() + c.delivered.len() > 10_000 {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let applied = async {
        let mut tx = p.store.begin().await?;
        if !c.opened.is_empty() {
            crate::store::websockets::register(&mut tx, &c.worker_id, &c.opened).await?;
        }
        if !c.closed.is_empty() {
            crate::store::websockets::unregister(&mut tx, &c.worker_id, &c.closed).await?;
        }
        if !c.delivered.is_empty() {
            crate::store::websockets::delivered(&mut tx, &c.worker_id, &c.delivered).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    match applied {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => internal_error(e),
    }
}

/// How long an @connections call for a connection the registry has not heard of waits for it
/// (a worker tells of a new connection within milliseconds of its handshake).
const UNKNOWN_CONNECTION_WAIT: Duration = Duration::from_millis(500);

/// How many calls may wait so at once on a replica; beyond, an unknown connection is gone at
/// once (calls for made-up ids cannot tie up the replica).
const MAX_WAITING: usize = 32;

static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One call waiting for an unknown connection, counted while it waits.
struct Waiting;

impl Waiting {
    fn start() -> Option<Self> {
        use std::sync::atomic::Ordering;
        if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            WAITING.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Waiting)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// An @connections call a worker could not answer itself: the connection's worker is sent the
/// message (or the close) through its stream; GetConnection is answered from the registry.
async fn connection_call(
    State(p): State<Publisher>,
    Path(id): Path<String>,
    Json(call): Json<protocol::ConnectionCall>,
) -> Response {
    use base64::Engine;
    use protocol::ConnectionOp;
    let data = match base64::engine::general_purpose::STANDARD.decode(&call.data) {
        Ok(d) if d.len() <= crate::dataplane::websocket::MAX_MESSAGE => d,
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let answered = async {
        use crate::store::websockets::{Found, find};
        // A connection not told of yet may be one whose handshake is: it has a moment, while
        // few calls wait so (each poll takes a pooled connection of its own, briefly).
        let deadline = tokio::time::Instant::now() + UNKNOWN_CONNECTION_WAIT;
        let mut waiting: Option<Waiting> = None;
        let (worker, record) = loop {
            let found = {
                let mut conn = p.store.pool().acquire().await?;
                find(&mut conn, &id, &call.api_id, &call.stage).await?
            };
            match found {
                Found::Open(worker, record) => break (worker, record),
                Found::Unknown if tokio::time::Instant::now() < deadline => {
                    if waiting.is_none() {
                        match Waiting::start() {
                            Some(w) => waiting = Some(w),
                            None => return Ok(StatusCode::GONE.into_response()),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Found::Gone | Found::Unknown => return Ok(StatusCode::GONE.into_response()),
            }
        };
        drop(waiting);
        let mut conn = p.store.pool().acquire().await?;
        Ok::<_, StoreError>(match call.op {
            // As recent as the worker's last report of the connection's activity.
            ConnectionOp::Get => {
                let last_active = record.last_active_at.unwrap_or(record.connected_at);
                Json(record.get_connection(last_active)).into_response()
            }
            ConnectionOp::Post => {
                match crate::store::websockets::enqueue(&mut conn, &worker, &id, false, &data).await? {
                    true => StatusCode::OK.into_response(),
                    false => StatusCode::TOO_MANY_REQUESTS.into_response(),
                }
            }
            ConnectionOp::Delete => {
                crate::store::websockets::enqueue(&mut conn, &worker, &id, true, &[]).await?;
                StatusCode::NO_CONTENT.into_response()
            }
        })
    }
    .await;
    answered.unwrap_or_else(internal_error)
}

async fn delta_event(p: &Publisher, since: i64) -> Result<Event, StoreError> {
    let mut tx = p.store.begin_snapshot_read().await?;
    let delta = live::since(&mut tx, &p.key_hasher, &p.sealer, since).await?;
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
            domains: d.domains,
        },
        None => {
            let full = live::full(&mut tx, &p.key_hasher, &p.sealer).await?;
            Event::Full {
                revision: full.revision,
                stages: full.stages,
                callers: full.callers,
                domains: full.domains,
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
