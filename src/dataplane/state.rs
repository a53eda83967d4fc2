//! What a worker's requests share ([`DataPlane`]): the configuration they are served from, the
//! backend clients, the AWS settings, the authorizer cache, metrics and access logs. Every step
//! of the pipeline reads it; it imports no step, so the steps and the server that runs them
//! import it without a loop.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::authorizer::AuthorizerCache;
use super::client::{self, BackendClient};
use super::config::{RuntimeConfig, StageRuntime};
use super::context::RequestContext;
use super::jwt::Issuers;
use super::observe::{AccessLogSink, Metrics};
use super::settings::{AwsSettings, ClientTimeouts};
use crate::compiler::access_log::AccessLogFormat;

/// Everything a worker's requests share.
pub struct DataPlane {
    pub runtime: Arc<ArcSwap<RuntimeConfig>>,
    /// One pooled keep-alive client for every backend (HTTP integrations and Lambda), http:// and
    /// https:// alike.
    pub http: BackendClient,
    /// For integrations that skip certificate verification.
    pub http_insecure: BackendClient,
    pub aws: AwsSettings,
    pub metrics: Arc<Metrics>,
    access_logs: AccessLogSink,
    pub timeouts: ClientTimeouts,
    /// What the worker's threads share: authorizers' results, issuers' keys.
    pub shared: Arc<Shared>,
    /// Clients presenting a stage's client certificate or verifying another name, by what tells
    /// them apart: made when first needed and kept for the thread's life (they are few).
    presenting: std::sync::Mutex<Vec<(ClientKey, &'static BackendClient)>>,
}

/// How many clients of their own (presenting client certificates, verifying other names) a
/// data-plane thread keeps.
const MAX_PRESENTING: usize = 64;

/// What tells such clients apart: the certificate presented (its hash), whether backends are
/// verified, the name they are verified against.
type ClientKey = (Option<[u8; 32]>, bool, Option<Box<str>>);

/// Caches a worker's threads share, so that a TTL or a key fetch is once per worker, not once
/// per thread.
#[derive(Default)]
pub struct Shared {
    pub authorizers: AuthorizerCache,
    pub issuers: Issuers,
    /// Front proxies whose `X-Forwarded-For` (and `X-Gatehouse-Source-Vpc(e)`) headers are
    /// believed: a request from one of them is from the client it names.
    pub trusted_proxies: Vec<crate::iam::Cidr>,
    /// How API keys are hashed: as the control plane hashed the keys it sent.
    pub key_hasher: crate::domain::usage_plan::KeyHasher,
    /// The worker's rate-limit buckets and the fleet's size.
    pub limiters: Arc<crate::dataplane::throttle::Limiters>,
    /// What API keys used, until the next report to the control plane.
    pub usage: Arc<crate::dataplane::usage::UsageCounter>,
    /// The WebSocket connections the worker holds.
    pub websockets: Arc<crate::dataplane::websocket::Registry>,
    /// Turns true when the worker drains: its WebSocket sessions close and run `$disconnect`.
    pub draining: Option<tokio::sync::watch::Receiver<bool>>,
    /// The custom domains' TLS, when the worker has a TLS listener: a domain served over TLS
    /// is not served over plain HTTP, and a mutual-TLS connection's client is vouched for by
    /// its domain's truststore of the moment.
    pub tls: Option<Arc<arc_swap::ArcSwap<crate::tls::TlsDomains>>>,
}

impl Shared {
    /// Whether the address `ip` (text) is one of the trusted front proxies'.
    pub fn trusts(&self, ip: &str) -> bool {
        !self.trusted_proxies.is_empty()
            && ip
                .trim()
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| self.trusted_proxies.iter().any(|c| c.contains(ip)))
    }
}

impl DataPlane {
    /// One per data-plane thread: its own connection pool, the shared configuration, metrics and
    /// access-log writer.
    pub fn new(
        runtime: Arc<ArcSwap<RuntimeConfig>>,
        aws: AwsSettings,
        metrics: Arc<Metrics>,
        access_logs: AccessLogSink,
        timeouts: ClientTimeouts,
        shared: Arc<Shared>,
    ) -> Self {
        let (http, http_insecure) = (client::verifying(), client::insecure());
        Self {
            runtime,
            http,
            http_insecure,
            aws,
            metrics,
            access_logs,
            timeouts,
            shared,
            presenting: Default::default(),
        }
    }

    /// The client presenting `identity` to backends (when given), verifying them unless
    /// `insecure`, against `server_name` instead of their URI's host (when given); `None` when
    /// the certificate, key or name cannot be used (logged).
    pub fn client_with(
        &self,
        identity: Option<&crate::dataplane::config::StageIdentity>,
        insecure: bool,
        server_name: Option<&str>,
    ) -> Option<&'static BackendClient> {
        let certificate = identity.map(|i| i.key);
        let mut clients = self.presenting.lock().unwrap_or_else(|e| e.into_inner());
        // A few entries at most, compared without making a key: this runs per request.
        if let Some((_, c)) = clients
            .iter()
            .find(|((k, i, n), _)| *k == certificate && *i == insecure && n.as_deref() == server_name)
        {
            return Some(c);
        }
        // Certificates and names are few; a thread keeps at most this many clients for them.
        if clients.len() >= MAX_PRESENTING {
            tracing::warn!("too many client certificates and server names in use: this one is not used");
            return None;
        }
        match client::with(identity.map(|i| &i.identity), insecure, server_name) {
            Ok(c) => {
                let c: &'static BackendClient = Box::leak(Box::new(c));
                clients.push(((certificate, insecure, server_name.map(Box::from)), c));
                Some(c)
            }
            Err(e) => {
                tracing::warn!(error = %e, "the stage's client certificate or the integration's server name cannot be used");
                None
            }
        }
    }

    /// The same data plane with backend clients of its own, for another runtime (a pooled
    /// connection belongs to the runtime that opened it).
    pub fn with_own_clients(&self) -> Self {
        Self::new(
            self.runtime.clone(),
            self.aws.clone(),
            self.metrics.clone(),
            self.access_logs.clone(),
            self.timeouts,
            self.shared.clone(),
        )
    }

    /// Writes the line `render` makes of the stage's access log format, when the stage has
    /// an access log (a line the writer cannot take is counted as dropped).
    pub fn access_log(&self, stage: &StageRuntime, render: impl FnOnce(&AccessLogFormat) -> String) {
        if let Some(log) = &stage.access_log
            && !self.access_logs.write(&log.destination, render(log))
        {
            self.metrics
                .dropped_log_lines
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Called once per request when its answer is ready: metrics, then the stage's access log.
    pub fn observe(&self, ctx: &RequestContext<'_>) {
        self.metrics.record(ctx);
        if let Some(stage) = ctx.stage_runtime {
            self.access_log(stage, |log| log.render(ctx));
        }
        tracing::trace!(
            request.id = %ctx.request_id(),
            api.id = ctx.api_id().unwrap_or("-"),
            stage.name = ctx.stage_name().unwrap_or("-"),
            status = ctx.status,
            "request served"
        );
    }
}
