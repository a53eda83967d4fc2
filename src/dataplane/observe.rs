//! What a worker tells about the requests it served: Prometheus metrics (per API, stage,
//! resource, method and canary) and per-stage access logs in the stage's `$context` format.
//! Both stay off the request's critical path: counters are per-thread atomics, found by the
//! stage and method that served the request (or, the first time, by a key built in a reused
//! buffer), and log lines go to a background writer through a bounded channel (dropped, and
//! counted, when it is full).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use super::config::StageRuntime;
use super::context::RequestContext;
use crate::compiler::CompiledMethod;
use crate::compiler::access_log::{AccessLogFormat, LogPart};
use crate::compiler::context::ContextVariable;

/// Latency buckets in milliseconds (API Gateway's own metrics are in ms).
const BUCKETS_MS: [u64; 12] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS_MS.len()],
    sum_ms: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, ms: u64) {
        if let Some(i) = BUCKETS_MS.iter().position(|b| ms <= *b) {
            add(&self.buckets[i], 1);
        }
        add(&self.sum_ms, ms);
        add(&self.count, 1);
    }
}

/// Counts a request into this thread's `series`.
fn count(series: &Series, served: &Served) {
    add(&series.count, 1);
    match served.status {
        400..=499 => add(&series.errors_4xx, 1),
        500..=599 => add(&series.errors_5xx, 1),
        _ => {}
    }
    match served.cache_hit {
        Some(true) => add(&series.cache_hits, 1),
        Some(false) => add(&series.cache_misses, 1),
        None => {}
    }
    series.latency.observe(served.latency_ms);
    if let Some(ms) = served.integration_latency_ms {
        series.integration_latency.observe(ms);
    }
}

/// What is counted of a served request.
struct Served {
    canary: bool,
    status: u16,
    latency_ms: u64,
    integration_latency_ms: Option<u64>,
    cache_hit: Option<bool>,
}

#[derive(Default)]
struct Series {
    count: AtomicU64,
    errors_4xx: AtomicU64,
    errors_5xx: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    latency: Histogram,
    integration_latency: Histogram,
}

/// Series by key: `api \0 stage \0 resource \0 method \0 canary`. Keys come from the
/// configuration, not from requests: hashed with foldhash.
type Shard = RwLock<HashMap<String, Arc<Series>, foldhash::fast::RandomState>>;

/// The worker's request metrics, in one shard per data-plane thread: a thread counts into
/// atomics no other thread writes (no cache line bouncing between cores on every request), and
/// a scrape adds the shards up.
pub struct Metrics {
    /// Tells this instance's shards apart in a thread's [`SHARDS`] (tests run several workers
    /// in one process).
    id: usize,
    shards: Mutex<Vec<Arc<Shard>>>,
    pub dropped_log_lines: AtomicU64,
    /// WebSocket APIs' counts, by API and stage.
    websocket: Mutex<std::collections::BTreeMap<(String, String), WsCounts>>,
}

/// AWS's WebSocket metrics: connections asked for, messages in and out, integrations that
/// failed, and what clients got wrong (refused connections, messages no route takes).
#[derive(Debug, Default, Clone, Copy)]
pub struct WsCounts {
    pub connect: u64,
    pub message: u64,
    pub integration_error: u64,
    pub client_error: u64,
}

/// Which WebSocket count goes up.
#[derive(Debug, Clone, Copy)]
pub enum WsMetric {
    Connect,
    Message,
    IntegrationError,
    ClientError,
}

impl Default for Metrics {
    fn default() -> Self {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shards: Mutex::default(),
            dropped_log_lines: AtomicU64::new(0),
            websocket: Mutex::default(),
        }
    }
}

/// Adds to a counter of this thread's shard. Only the thread that owns a shard writes to it, so
/// a load and a store do, without a locked instruction; a scrape on another thread still reads
/// whole values.
fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

/// A series this thread counted into lately, by the stage and method that served the request:
/// found again without building or hashing its key. The weak references keep those stages'
/// and methods' addresses from being taken by others while they are here, without keeping a
/// replaced configuration alive.
struct Recent {
    metrics: usize,
    stage: Option<Weak<StageRuntime>>,
    method: Option<Weak<CompiledMethod>>,
    canary: bool,
    series: Arc<Series>,
}

impl Recent {
    fn serves(&self, metrics: usize, ctx: &RequestContext<'_>) -> bool {
        fn same<T>(weak: &Option<Weak<T>>, arc: Option<&Arc<T>>) -> bool {
            match (weak, arc) {
                (None, None) => true,
                (Some(w), Some(a)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(a)),
                _ => false,
            }
        }
        self.metrics == metrics
            && self.canary == ctx.is_canary
            && same(&self.stage, ctx.stage_runtime)
            && same(&self.method, ctx.method)
    }
}

/// How many series a thread keeps at hand.
const RECENT_SERIES: usize = 32;

thread_local! {
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
    /// Most recently used first.
    static RECENT: RefCell<Vec<Recent>> = const { RefCell::new(Vec::new()) };
    /// This thread's shard of each [`Metrics`] it has recorded into.
    static SHARDS: RefCell<Vec<(usize, Arc<Shard>)>> = const { RefCell::new(Vec::new()) };
}

impl Metrics {
    /// Runs `f` on this thread's shard, made on first use.
    fn with_shard<R>(&self, f: impl FnOnce(&Shard) -> R) -> R {
        SHARDS.with_borrow_mut(|shards| {
            if let Some((_, shard)) = shards.iter().find(|(id, _)| *id == self.id) {
                return f(shard);
            }
            let shard = Arc::new(Shard::default());
            self.shards.lock().expect("metrics lock").push(shard.clone());
            shards.push((self.id, shard.clone()));
            f(&shard)
        })
    }

    pub fn record(&self, ctx: &RequestContext<'_>) {
        let served = Served {
            canary: ctx.is_canary,
            status: ctx.status,
            latency_ms: ctx.latency_ms,
            integration_latency_ms: ctx.integration_latency_ms.map(|ms| ms as u64),
            cache_hit: ctx.cache_hit,
        };
        RECENT.with_borrow_mut(|recent| {
            if let Some(i) = recent.iter().position(|r| r.serves(self.id, ctx)) {
                recent.swap(0, i);
                return count(&recent[0].series, &served);
            }
            let labels = [
                ctx.api_id().unwrap_or("-"),
                ctx.stage_name().unwrap_or("-"),
                ctx.resource_path().unwrap_or("-"),
                ctx.method_label,
            ];
            let series = self.series(labels, served.canary);
            count(&series, &served);
            recent.truncate(RECENT_SERIES - 1);
            recent.insert(
                0,
                Recent {
                    metrics: self.id,
                    stage: ctx.stage_runtime.map(Arc::downgrade),
                    method: ctx.method.map(Arc::downgrade),
                    canary: ctx.is_canary,
                    series,
                },
            );
        });
    }

    /// Counts a request into its series: API id, stage, resource path and method.
    #[cfg(test)]
    fn record_served(&self, labels: [&str; 4], served: &Served) {
        count(&self.series(labels, served.canary), served);
    }

    /// This thread's series for `labels` and `canary`, made on first use.
    fn series(&self, labels: [&str; 4], canary: bool) -> Arc<Series> {
        KEY.with_borrow_mut(|key| {
            key.clear();
            for part in labels {
                key.push_str(part);
                key.push('\0');
            }
            key.push_str(if canary { "true" } else { "false" });
            self.with_shard(|shard| {
                if let Some(s) = shard.read().expect("metrics lock").get(key.as_str()) {
                    return s.clone();
                }
                shard
                    .write()
                    .expect("metrics lock")
                    .entry(key.clone())
                    .or_default()
                    .clone()
            })
        })
    }

    /// Every series, the shards added up, in key order.
    fn totals(&self) -> BTreeMap<String, Totals> {
        let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
        for shard in self.shards.lock().expect("metrics lock").iter() {
            for (key, s) in shard.read().expect("metrics lock").iter() {
                let t = totals.entry(key.clone()).or_default();
                t.counts[0] += s.count.load(Ordering::Relaxed);
                t.counts[1] += s.errors_4xx.load(Ordering::Relaxed);
                t.counts[2] += s.errors_5xx.load(Ordering::Relaxed);
                t.counts[3] += s.cache_hits.load(Ordering::Relaxed);
                t.counts[4] += s.cache_misses.load(Ordering::Relaxed);
                t.latency.add(&s.latency);
                t.integration_latency.add(&s.integration_latency);
            }
        }
        totals
    }

    /// The Prometheus text exposition.
    /// Counts one WebSocket event of an API's stage.
    pub fn websocket(&self, api: &str, stage: &str, metric: WsMetric) {
        let mut map = self.websocket.lock().unwrap_or_else(|e| e.into_inner());
        let counts = map.entry((api.to_owned(), stage.to_owned())).or_default();
        match metric {
            WsMetric::Connect => counts.connect += 1,
            WsMetric::Message => counts.message += 1,
            WsMetric::IntegrationError => counts.integration_error += 1,
            WsMetric::ClientError => counts.client_error += 1,
        }
    }

    pub fn render(&self, revision: i64) -> String {
        let mut out = String::with_capacity(4096);
        {
            let map = self.websocket.lock().unwrap_or_else(|e| e.into_inner());
            for (name, pick) in [
                (
                    "connect_count",
                    (|c: &WsCounts| c.connect) as fn(&WsCounts) -> u64,
                ),
                ("message_count", |c| c.message),
                ("integration_error", |c| c.integration_error),
                ("client_error", |c| c.client_error),
            ] {
                let _ = writeln!(out, "# TYPE gatehouse_websocket_{name}_total counter");
                for ((api, stage), counts) in map.iter() {
                    let _ = writeln!(
                        out,
                        "gatehouse_websocket_{name}_total{{api=\"{}\",stage=\"{}\"}} {}",
                        escape(api),
                        escape(stage),
                        pick(counts)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP gatehouse_config_revision The configuration revision this worker serves."
        );
        let _ = writeln!(
            out,
            "# TYPE gatehouse_config_revision gauge\ngatehouse_config_revision {revision}"
        );
        let _ = writeln!(out, "# TYPE gatehouse_access_log_lines_dropped_total counter");
        let _ = writeln!(
            out,
            "gatehouse_access_log_lines_dropped_total {}",
            self.dropped_log_lines.load(Ordering::Relaxed)
        );
        let series = self.totals();
        let labels = |key: &str| {
            let p: Vec<&str> = key.split('\0').collect();
            format!(
                "api=\"{}\",stage=\"{}\",resource=\"{}\",method=\"{}\",canary=\"{}\"",
                escape(p[0]),
                escape(p[1]),
                escape(p[2]),
                escape(p[3]),
                p[4]
            )
        };
        for (name, help, pick) in [
            ("gatehouse_requests_total", "Requests (API Gateway's Count).", 0),
            ("gatehouse_4xx_errors_total", "Client errors (4XXError).", 1),
            ("gatehouse_5xx_errors_total", "Server errors (5XXError).", 2),
            (
                "gatehouse_cache_hits_total",
                "Requests served from the stage cache (CacheHitCount).",
                3,
            ),
            (
                "gatehouse_cache_misses_total",
                "Requests of cached methods the cache did not serve (CacheMissCount).",
                4,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (k, t) in &series {
                let _ = writeln!(out, "{name}{{{}}} {}", labels(k), t.counts[pick]);
            }
        }
        for (name, help, integration) in [
            ("gatehouse_latency_ms", "Request latency in ms (Latency).", false),
            (
                "gatehouse_integration_latency_ms",
                "Backend latency in ms (IntegrationLatency).",
                true,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for (k, t) in &series {
                let h = if integration {
                    &t.integration_latency
                } else {
                    &t.latency
                };
                let l = labels(k);
                let mut cumulative = 0;
                for (i, b) in BUCKETS_MS.iter().enumerate() {
                    cumulative += h.buckets[i];
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"{b}\"}} {cumulative}");
                }
                let count = h.count;
                let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {count}");
                let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum_ms);
                let _ = writeln!(out, "{name}_count{{{l}}} {count}");
            }
        }
        out
    }
}

/// A series summed over the shards: requests, 4XX, 5XX, and the two histograms.
#[derive(Default)]
struct Totals {
    counts: [u64; 5],
    latency: HistogramTotals,
    integration_latency: HistogramTotals,
}

#[derive(Default)]
struct HistogramTotals {
    buckets: [u64; BUCKETS_MS.len()],
    sum_ms: u64,
    count: u64,
}

impl HistogramTotals {
    fn add(&mut self, h: &Histogram) {
        for (total, b) in self.buckets.iter_mut().zip(&h.buckets) {
            *total += b.load(Ordering::Relaxed);
        }
        self.sum_ms += h.sum_ms.load(Ordering::Relaxed);
        self.count += h.count.load(Ordering::Relaxed);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

// Rendering a stage's access log format (parsed when its configuration is built) for a request:
// here, beside the metrics, where the data plane observes requests.
impl AccessLogFormat {
    pub fn render(&self, ctx: &RequestContext<'_>) -> String {
        self.render_with(|v| ctx.variable(v))
    }

    /// The line, with each variable's value as `lookup` gives it (`-` for none).
    pub fn render_with<'a>(&self, lookup: impl Fn(&ContextVariable) -> Option<Cow<'a, str>>) -> String {
        let mut out = String::with_capacity(256);
        for p in &self.parts {
            match p {
                LogPart::Literal(s) => out.push_str(s),
                LogPart::Context(v) => match v.as_ref().and_then(&lookup) {
                    Some(v) => out.push_str(&v),
                    None => out.push('-'),
                },
            }
        }
        out
    }
}

/// Lines a worker holds for its writer before it drops them.
const QUEUED_LINES: usize = 32_768;

/// How long the access-log writer rests once it has written what was queued (lines reach their
/// file within about this long).
const BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Where access log lines are written: stdout, or one file per log group in a directory.
#[derive(Clone)]
pub struct AccessLogSink {
    tx: tokio::sync::mpsc::Sender<(String, String)>,
}

impl AccessLogSink {
    pub fn start(dir: Option<PathBuf>) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, String)>(QUEUED_LINES);
        tokio::task::spawn_blocking(move || {
            let mut files: HashMap<String, std::io::BufWriter<std::fs::File>> = HashMap::new();
            let stdout = std::io::stdout();
            // Lines are taken in batches: after writing what was queued, the writer rests
            // for a moment instead of waiting on the queue, so that under load a request's
            // line is queued without waking it (a futex call and a context switch each).
            // When idle (nothing came during a rest), it waits on the queue instead.
            let mut rested = false;
            loop {
                let next = match rx.try_recv() {
                    Ok(entry) => Some(entry),
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                        for file in files.values_mut() {
                            let _ = file.flush();
                        }
                        if !rested {
                            std::thread::sleep(BATCH_PAUSE);
                            rested = true;
                            continue;
                        }
                        rx.blocking_recv()
                    }
                };
                rested = false;
                let Some((group, line)) = next else {
                    break;
                };
                match &dir {
                    None => {
                        let mut out = stdout.lock();
                        let _ = writeln!(out, "{line}");
                    }
                    Some(dir) => {
                        if !files.contains_key(&group) {
                            let safe: String = group
                                .chars()
                                .map(|c| {
                                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                                        c
                                    } else {
                                        '_'
                                    }
                                })
                                .collect();
                            let opened = std::fs::create_dir_all(dir).and_then(|_| {
                                std::fs::OpenOptions::new()
                                    .create(true)
                                    .append(true)
                                    .open(dir.join(format!("{safe}.log")))
                            });
                            match opened {
                                Ok(f) => {
                                    files.insert(group.clone(), std::io::BufWriter::new(f));
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, log.group = %group, "cannot open the access log");
                                    continue;
                                }
                            }
                        }
                        let file = files.get_mut(&group).expect("just opened");
                        let _ = writeln!(file, "{line}");
                    }
                }
            }
        });
        Self { tx }
    }

    /// Queues a line; `false` when the writer is behind and the line was dropped.
    pub fn write(&self, group: &str, line: String) -> bool {
        self.tx.try_send((group.to_owned(), line)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::context::Peer;

    /// A GET of `path` from 10.0.0.1, arrived now. (What a context borrows lives as long as
    /// the test: a few bytes leaked.)
    fn context(path: &'static str) -> RequestContext<'static> {
        static PEER: std::sync::LazyLock<Peer> =
            std::sync::LazyLock::new(|| Peer::new("10.0.0.1:5".parse().unwrap(), 8080));
        let uri = Box::leak(Box::new(http::Uri::from_static(path)));
        RequestContext::new(
            &http::Method::GET,
            uri,
            Default::default(),
            &PEER,
            std::time::Instant::now(),
        )
    }

    #[test]
    fn formats_substitute_context_variables() {
        let f = AccessLogFormat::parse(
            r#"{"requestId":"$context.requestId","status":"$context.status","ip":"$context.identity.sourceIp"}"#,
            "arn:aws:logs:us-east-1:000000000000:log-group:my-group",
        );
        assert_eq!(f.destination, "my-group");
        let mut ctx = context("/dev/x");
        ctx.status = 204;
        let line = f.render(&ctx);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["status"], "204");
        assert_eq!(v["ip"], "10.0.0.1");
        assert_eq!(v["requestId"], ctx.request_id().as_str());
        let clf = AccessLogFormat::parse(
            "$context.identity.sourceIp - [$context.requestTime] \"$context.httpMethod\" $context.status",
            "g",
        );
        assert!(clf.render(&ctx).starts_with("10.0.0.1 - ["));
    }

    #[test]
    fn requests_count_into_the_series_of_their_stage_method_and_canary() {
        let m = Metrics::default();
        let mut ctx = context("/nowhere");
        ctx.status = 403;
        for canary in [false, true, false, false, true] {
            ctx.is_canary = canary;
            m.record(&ctx);
        }
        // Another Metrics on the same thread keeps its own series.
        let other = Metrics::default();
        other.record(&ctx);
        let text = m.render(1);
        let labels = |canary| format!(r#"api="-",stage="-",resource="-",method="-",canary="{canary}""#);
        assert!(
            text.contains(&format!("gatehouse_4xx_errors_total{{{}}} 3", labels(false))),
            "{text}"
        );
        assert!(
            text.contains(&format!("gatehouse_4xx_errors_total{{{}}} 2", labels(true))),
            "{text}"
        );
        let text = other.render(1);
        assert!(
            text.contains(&format!("gatehouse_4xx_errors_total{{{}}} 1", labels(true))),
            "{text}"
        );
    }

    #[test]
    fn metrics_render_prometheus_text() {
        let m = Metrics::default();
        let labels = ["abc", "dev", "/x", "GET"];
        let served = Served {
            canary: false,
            status: 502,
            latency_ms: 3,
            integration_latency_ms: None,
            cache_hit: Some(true),
        };
        m.record_served(labels, &served);
        // Another thread counts into its own shard; the scrape adds them up.
        std::thread::scope(|s| {
            s.spawn(|| m.record_served(labels, &served));
        });
        m.record_served(labels, &served);
        let text = m.render(7);
        assert!(text.contains("gatehouse_config_revision 7"));
        let labels = r#"api="abc",stage="dev",resource="/x",method="GET",canary="false""#;
        assert!(
            text.contains(&format!("gatehouse_requests_total{{{labels}}} 3")),
            "{text}"
        );
        assert!(text.contains(&format!("gatehouse_5xx_errors_total{{{labels}}} 3")));
        assert!(text.contains(&format!("gatehouse_latency_ms_count{{{labels}}} 3")));
        assert!(text.contains(&format!("gatehouse_latency_ms_bucket{{{labels},le=\"+Inf\"}} 3")));
    }
}
