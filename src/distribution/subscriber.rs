//! The worker's side: one long-lived stream to a control plane, applied event by event. Each
//! snapshot is fetched by hash once, verified, compiled once, and the runtime configuration is
//! swapped whole. A bad revision is refused (nacked) and the last good configuration keeps
//! serving; with the control plane gone the worker keeps serving and reconnects with backoff and
//! jitter; with a cache directory it can start from its last configuration.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::protocol::{self, Ack, CallerConfig, DomainRoute, Event, StageKey};
use crate::compiler::CompiledApi;
use crate::dataplane::client::{BackendClient, Budget, RequestError};
use crate::dataplane::config::RuntimeConfig;
use crate::dataplane::full_body;
use crate::domain::snapshot::AnySnapshot;
use crate::domain::stage::StageConfig;

/// Largest event line accepted from the control plane (a full config of many stages).
const MAX_LINE: usize = 64 << 20;
/// Largest snapshot accepted.
const MAX_SNAPSHOT: usize = 256 << 20;

#[derive(Debug, Clone)]
pub struct SubscriberConfig {
    /// Base URL of a control plane, e.g. `http://127.0.0.1:9000`.
    pub control_plane: String,
    pub token: String,
    pub worker_id: String,
    /// The data-plane address this worker serves on (shown in the fleet view).
    pub address: String,
    pub cache_dir: Option<PathBuf>,
}

pub struct Subscriber {
    cfg: SubscriberConfig,
    /// http:// or https:// (a control plane across a network should be reached over TLS).
    client: BackendClient,
    runtime: Arc<ArcSwap<RuntimeConfig>>,
    revision: i64,
    stages: BTreeMap<StageKey, StageConfig>,
    /// The callers of AWS_IAM methods.
    callers: Vec<CallerConfig>,
    /// The custom domain names.
    domains: Vec<DomainRoute>,
    compiled: HashMap<String, Arc<CompiledApi>>,
    /// Snapshots that did not compile, and why: not fetched again while stages still name them.
    broken: HashMap<String, String>,
    /// Told the fleet's size, so each worker enforces its share of rate limits.
    limiters: Option<Arc<crate::dataplane::throttle::Limiters>>,
    /// The stage caches, kept across configurations.
    caches: Arc<crate::dataplane::cache::ResponseCaches>,
    /// The WebSocket connections the worker holds, for messages other workers deliver.
    websockets: Option<Arc<crate::dataplane::websocket::Registry>>,
    /// The TLS configurations of the custom domains, for a worker with a TLS listener.
    tls: Option<Arc<ArcSwap<crate::tls::TlsDomains>>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CachedConfig {
    revision: i64,
    stages: Vec<StageConfig>,
    #[serde(default)]
    callers: Vec<CallerConfig>,
    #[serde(default)]
    domains: Vec<DomainRoute>,
}

fn key(s: &StageConfig) -> StageKey {
    StageKey {
        api_id: s.api_id.clone(),
        stage_name: s.stage.stage_name.clone(),
    }
}

impl Subscriber {
    pub fn new(cfg: SubscriberConfig, runtime: Arc<ArcSwap<RuntimeConfig>>) -> Self {
        let client = crate::dataplane::client::verifying();
        if cfg.control_plane.starts_with("http://")
            && !cfg.control_plane.starts_with("http://127.")
            && !cfg.control_plane.starts_with("http://localhost")
            && !cfg.control_plane.starts_with("http://[::1]")
        {
            tracing::warn!(control_plane = %cfg.control_plane, "the cluster token and configuration travel in clear text: use https:// across networks");
        }
        Self {
            cfg,
            client,
            runtime,
            revision: 0,
            stages: BTreeMap::new(),
            callers: Vec::new(),
            domains: Vec::new(),
            compiled: HashMap::new(),
            broken: HashMap::new(),
            limiters: None,
            caches: Arc::default(),
            websockets: None,
            tls: None,
        }
    }

    /// Keeps `tls` holding the custom domains' TLS configurations.
    pub fn with_tls(mut self, tls: Arc<ArcSwap<crate::tls::TlsDomains>>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Makes the domains' TLS configurations again, when they changed (or `always`).
    fn refresh_tls(&self, domains: &[DomainRoute], always: bool) {
        if let Some(tls) = &self.tls
            && (always || domains != self.domains.as_slice())
        {
            let built = crate::tls::TlsDomains::build(domains, &tls.load());
            tls.store(Arc::new(built));
        }
    }

    /// Tells `limiters` the fleet's size whenever the control plane does.
    pub fn with_limiters(mut self, limiters: Arc<crate::dataplane::throttle::Limiters>) -> Self {
        self.limiters = Some(limiters);
        self
    }

    /// Keeps the stage caches in `caches` (the workers' threads serve from them).
    pub fn with_caches(mut self, caches: Arc<crate::dataplane::cache::ResponseCaches>) -> Self {
        self.caches = caches;
        self
    }

    pub fn with_websockets(mut self, registry: Arc<crate::dataplane::websocket::Registry>) -> Self {
        self.websockets = Some(registry);
        self
    }

    /// Loads the last configuration from the cache directory, if there is one; returns its revision.
    pub fn load_cache(&mut self) -> Result<Option<i64>, String> {
        let Some(dir) = &self.cfg.cache_dir else {
            return Ok(None);
        };
        let path = dir.join("live.json");
        let Ok(raw) = std::fs::read(&path) else {
            return Ok(None);
        };
        let cached: CachedConfig =
            serde_json::from_slice(&raw).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut compiled = HashMap::new();
        let mut missing = std::collections::HashSet::new();
        for hash in cached
            .stages
            .iter()
            .flat_map(|s| std::iter::once(&s.snapshot).chain(&s.canary_snapshot))
        {
            if compiled.contains_key(hash) || missing.contains(hash) {
                continue;
            }
            // A stage the worker left out (its deployment did not compile) has no snapshot
            // here: it is left out again, the rest served.
            let api = std::fs::read(dir.join("snapshots").join(format!("{hash}.json")))
                .map_err(|e| format!("cached snapshot {hash}: {e}"))
                .and_then(|bytes| compile_verified(hash, &bytes));
            match api {
                Ok(api) => {
                    compiled.insert(hash.clone(), Arc::new(api));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a cached stage is left out");
                    missing.insert(hash.clone());
                }
            }
        }
        let servable = cached.stages.iter().filter(|s| {
            !std::iter::once(&s.snapshot)
                .chain(&s.canary_snapshot)
                .any(|h| missing.contains(h))
        });
        let runtime = RuntimeConfig::build(
            cached.revision,
            servable,
            &compiled,
            &cached.callers,
            &cached.domains,
            &self.caches,
        )?;
        // TLS first: a domain new to TLS is then never served over plain HTTP meanwhile.
        self.refresh_tls(&cached.domains, true);
        self.runtime.store(Arc::new(runtime));
        self.compiled = compiled;
        self.callers = cached.callers;
        self.domains = cached.domains;
        self.stages = cached.stages.into_iter().map(|s| (key(&s), s)).collect();
        self.revision = cached.revision;
        tracing::info!(revision = self.revision, "serving the cached configuration");
        Ok(Some(self.revision))
    }

    /// Follows the control plane forever, reconnecting with exponential backoff and jitter.
    pub async fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.session().await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(error = %e, control_plane = %self.cfg.control_plane, "config stream interrupted")
                }
            }
            let jitter = rand::rng().random_range(0.5..1.5);
            tokio::time::sleep(backoff.mul_f64(jitter)).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn session(&mut self) -> Result<(), String> {
        let uri = format!(
            "{}{}?worker_id={}&revision={}",
            self.cfg.control_plane,
            protocol::STREAM_PATH,
            percent_encoding::utf8_percent_encode(&self.cfg.worker_id, percent_encoding::NON_ALPHANUMERIC),
            self.revision
        );
        let req = hyper::Request::get(uri)
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", self.cfg.token))
            .body(full_body(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let budget = Budget::starting_now(Duration::from_secs(10));
        let res = self.client.request(req, budget).await.map_err(|e| match e {
            RequestError::TimedOut => "the control plane did not answer within 10 s".to_owned(),
            RequestError::Failed(e) | RequestError::Body(e) => e.to_string(),
        })?;
        if !res.status.is_success() {
            return Err(format!("stream answered {}", res.status));
        }
        // A new stream: the control plane is told again of the connections held.
        if let Some(registry) = &self.websockets {
            registry.resync();
        }
        let mut body = res.body;
        let mut buf = BytesMut::new();
        // How far `buf` was already searched for a newline.
        let mut scanned = 0;
        // A silent connection for three heartbeats is a dead one.
        let idle = Duration::from_secs(protocol::HEARTBEAT_SECS * 3);
        loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => return Err("no heartbeat from the control plane".into()),
                Ok(None) => return Err("stream ended".into()),
                Ok(Some(f)) => f.map_err(|e| e.to_string())?,
            };
            let Ok(data) = frame.into_data() else { continue };
            buf.extend_from_slice(&data);
            while let Some(offset) = buf[scanned..].iter().position(|b| *b == b'\n') {
                let i = scanned + offset;
                let line = buf.split_to(i + 1);
                scanned = 0;
                let event: Event =
                    serde_json::from_slice(&line[..i]).map_err(|e| format!("bad event: {e}"))?;
                self.apply(event).await?;
            }
            scanned = buf.len();
            if buf.len() > MAX_LINE {
                return Err("event line too long".into());
            }
        }
    }

    /// Applies one event: refused whole if any snapshot cannot be fetched or compiled.
    /// Applies one event. A refused revision ends the session: deltas are relative to what the
    /// control plane sent, so after a refusal only a fresh full configuration is a safe base.
    async fn apply(&mut self, event: Event) -> Result<(), String> {
        let revision = event.revision();
        let mut stages = self.stages.clone();
        let mut callers = self.callers.clone();
        let mut domains = self.domains.clone();
        match event {
            Event::Deliver {
                seq,
                connection_id,
                close,
                data,
                ..
            } => {
                if let Some(registry) = &self.websockets {
                    registry.deliver(seq, &connection_id, close, &data);
                }
                return Ok(());
            }
            Event::Heartbeat { fleet, .. } => {
                if let (Some(n), Some(l)) = (fleet, &self.limiters) {
                    l.set_fleet(n);
                }
                self.ack(self.revision, true, None).await;
                return Ok(());
            }
            Event::Full {
                stages: all,
                callers: all_callers,
                domains: all_domains,
                fleet,
                ..
            } => {
                domains = all_domains;
                if let (Some(n), Some(l)) = (fleet, &self.limiters) {
                    l.set_fleet(n);
                }
                stages = all.into_iter().map(|s| (key(&s), s)).collect();
                callers = all_callers;
            }
            Event::Delta {
                upserts,
                removed,
                removed_apis,
                callers: changed_callers,
                domains: changed_domains,
                ..
            } => {
                if let Some(d) = changed_domains {
                    domains = d;
                }
                if let Some(c) = changed_callers {
                    callers = c;
                }
                stages.retain(|k, _| !removed_apis.contains(&k.api_id) && !removed.contains(k));
                for s in upserts {
                    stages.insert(key(&s), s);
                }
            }
        }
        match self.prepare(revision, &stages, &callers, &domains).await {
            Ok((runtime, compiled, left_out, kept, broken)) => {
                // TLS first: a domain new to TLS is then never served over plain HTTP meanwhile.
                self.refresh_tls(&domains, self.revision == 0);
                self.runtime.store(Arc::new(runtime));
                self.compiled = compiled;
                self.broken = broken;
                // A stage kept on its last good deployment stays so until the control plane
                // sends it again (then its new deployment is tried again).
                stages.extend(kept);
                self.stages = stages;
                self.callers = callers;
                self.domains = domains;
                self.revision = revision;
                tracing::info!(revision, stages = self.stages.len(), "configuration applied");
                if let Err(e) = self.write_cache() {
                    tracing::warn!(error = %e, "cannot write the config cache");
                }
                self.ack(revision, true, left_out).await;
                Ok(())
            }
            Err(e) => {
                tracing::error!(revision, error = %e, "revision refused; serving the last good configuration");
                self.ack(revision, false, Some(e.clone())).await;
                Err(format!("revision {revision} refused: {e}"))
            }
        }
    }

    /// The runtime configuration of `stages`, with every snapshot they need. A snapshot that
    /// cannot be fetched refuses the revision (it may be fetched later); one that cannot be
    /// compiled (it never will be) leaves its stages out, so that one bad deployment does not
    /// freeze the configuration of every API: what was left out, and why, is returned for the
    /// ack.
    async fn prepare(
        &self,
        revision: i64,
        stages: &BTreeMap<StageKey, StageConfig>,
        callers: &[CallerConfig],
        domains: &[DomainRoute],
    ) -> Result<Prepared, String> {
        let mut compiled = HashMap::new();
        let mut broken: HashMap<String, String> = HashMap::new();
        let hashes: Vec<String> = stages
            .values()
            .flat_map(|s| std::iter::once(s.snapshot.clone()).chain(s.canary_snapshot.clone()))
            .collect();
        for hash in hashes {
            if compiled.contains_key(&hash) || broken.contains_key(&hash) {
                continue;
            }
            if let Some(why) = self.broken.get(&hash) {
                broken.insert(hash, why.clone());
                continue;
            }
            let api = match self.compiled.get(&hash) {
                Some(api) => api.clone(),
                None => match self.fetch_snapshot(&hash).await {
                    Ok(api) => Arc::new(api),
                    Err(SnapshotError::Fetch(e)) => return Err(e),
                    Err(SnapshotError::Compile(e)) => {
                        broken.insert(hash, e);
                        continue;
                    }
                },
            };
            compiled.insert(hash, api);
        }
        // A stage whose new deployment does not compile keeps serving its last good one, when
        // this worker has it; else it is left out.
        let mut served: Vec<&StageConfig> = Vec::with_capacity(stages.len());
        let mut kept: Vec<(StageKey, StageConfig)> = Vec::new();
        for (k, s) in stages {
            let Some(why) = snapshots_of(s).find_map(|h| broken.get(h)) else {
                served.push(s);
                continue;
            };
            let previous = self
                .stages
                .get(k)
                .filter(|p| snapshots_of(p).all(|h| self.compiled.contains_key(h)));
            match previous {
                Some(p) => {
                    for h in snapshots_of(p) {
                        compiled.insert(h.clone(), self.compiled[h].clone());
                    }
                    tracing::error!(api.id = %s.api_id, stage.name = %s.stage.stage_name, error = %why, "stage keeps its last good deployment: the new one does not compile");
                    kept.push((k.clone(), p.clone()));
                    served.push(p);
                }
                None => {
                    tracing::error!(api.id = %s.api_id, stage.name = %s.stage.stage_name, error = %why, "stage left out: its deployment does not compile");
                }
            }
        }
        let runtime = RuntimeConfig::build(revision, served, &compiled, callers, domains, &self.caches)?;
        let left_out = (!broken.is_empty()).then(|| {
            let mut why: Vec<&str> = broken.values().map(String::as_str).collect();
            why.sort_unstable();
            format!(
                "stages left out, their deployments do not compile: {}",
                why.join("; ")
            )
        });
        Ok((runtime, compiled, left_out, kept, broken))
    }

    async fn fetch_snapshot(&self, hash: &str) -> Result<CompiledApi, SnapshotError> {
        let uri = format!("{}{}/{hash}", self.cfg.control_plane, protocol::SNAPSHOTS_PATH);
        let req = hyper::Request::get(uri)
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", self.cfg.token))
            .body(full_body(Bytes::new()))
            .map_err(|e| SnapshotError::Fetch(e.to_string()))?;
        let res = self
            .client
            .request(req, Budget::starting_now(Duration::from_secs(30)))
            .await
            .map_err(|e| SnapshotError::Fetch(format!("snapshot {hash}: {e}")))?;
        if !res.status.is_success() {
            return Err(SnapshotError::Fetch(format!("snapshot {hash}: {}", res.status)));
        }
        let body = http_body_util::Limited::new(res.body, MAX_SNAPSHOT)
            .collect()
            .await
            .map_err(|e| SnapshotError::Fetch(format!("snapshot {hash}: {e}")))?
            .to_bytes();
        // Bytes that do not match their hash were damaged on the way: fetched again later.
        let actual = hex::encode(Sha256::digest(&body));
        if actual != hash {
            return Err(SnapshotError::Fetch(format!(
                "snapshot {hash} does not match its content (hash {actual})"
            )));
        }
        let api = compile_verified(hash, &body).map_err(SnapshotError::Compile)?;
        if let Some(dir) = &self.cfg.cache_dir {
            let dir = dir.join("snapshots");
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = write_atomically(&dir.join(format!("{hash}.json")), &body) {
                tracing::warn!(error = %e, "cannot cache snapshot");
            }
        }
        tracing::debug!(snapshot.hash = %hash, "snapshot fetched and compiled");
        Ok(api)
    }

    fn write_cache(&self) -> std::io::Result<()> {
        let Some(dir) = &self.cfg.cache_dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)?;
        let cached = CachedConfig {
            revision: self.revision,
            stages: self.stages.values().cloned().collect(),
            callers: self.callers.clone(),
            domains: self.domains.clone(),
        };
        write_atomically(
            &dir.join("live.json"),
            &serde_json::to_vec(&cached).expect("configs serialise"),
        )
    }

    async fn ack(&self, revision: i64, applied: bool, error: Option<String>) {
        let ack = Ack {
            worker_id: self.cfg.worker_id.clone(),
            address: self.cfg.address.clone(),
            revision,
            applied,
            error,
        };
        let req = hyper::Request::post(format!("{}{}", self.cfg.control_plane, protocol::ACKS_PATH))
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", self.cfg.token))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(full_body(Bytes::from(
                serde_json::to_vec(&ack).expect("acks serialise"),
            )));
        let Ok(req) = req else { return };
        if let Err(e) = self
            .client
            .request(req, Budget::starting_now(Duration::from_secs(5)))
            .await
        {
            tracing::debug!(error = %e, "ack not delivered");
        }
    }
}

/// The snapshots a stage serves: its deployment's, and its canary's.
fn snapshots_of(c: &StageConfig) -> impl Iterator<Item = &String> {
    std::iter::once(&c.snapshot).chain(&c.canary_snapshot)
}

/// A revision ready to apply: the runtime, the compiled snapshots it uses, what was left out
/// (for the ack), the stages kept on their last good configuration, and the snapshots that
/// did not compile.
type Prepared = (
    RuntimeConfig,
    HashMap<String, Arc<CompiledApi>>,
    Option<String>,
    Vec<(StageKey, StageConfig)>,
    HashMap<String, String>,
);

/// Why a snapshot is not served: it could not be fetched (now), or it does not compile (ever;
/// a snapshot whose bytes do not match its hash counts as a fetch that failed).
enum SnapshotError {
    Fetch(String),
    Compile(String),
}

/// Checks a snapshot's bytes against its hash, then parses and compiles it.
fn compile_verified(hash: &str, bytes: &[u8]) -> Result<CompiledApi, String> {
    let actual = hex::encode(Sha256::digest(bytes));
    if actual != hash {
        return Err(format!(
            "snapshot {hash} does not match its content (hash {actual})"
        ));
    }
    let snapshot: AnySnapshot = serde_json::from_slice(bytes).map_err(|e| format!("snapshot {hash}: {e}"))?;
    CompiledApi::compile(&snapshot, hash).map_err(|e| format!("snapshot {hash}: {e}"))
}

/// Writes `bytes` to `path` whole or not at all, readable by this user only (the live
/// configuration holds callers' secrets).
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    // A leftover from an interrupted write would keep its own permissions.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(tmp, path)
}
