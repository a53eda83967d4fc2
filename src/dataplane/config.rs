//! The runtime configuration a worker serves from: every stage with its compiled deployment
//! (and canary), immutable once built and swapped whole, so a request sees one configuration
//! from start to end.

use std::collections::{BTreeMap, HashMap};

/// API id → stage name → stage; looked up twice per request, so hashed with foldhash.
type StageMap = HashMap<String, HashMap<String, Arc<StageRuntime>, Hasher>, Hasher>;
type Hasher = foldhash::fast::RandomState;
use std::sync::Arc;

use crate::compiler::access_log::AccessLogFormat;
use crate::compiler::{CompiledApi, CompiledMethod};
use crate::dataplane::cache::{ResponseCaches, StageCache};
use crate::dataplane::throttle::{Bucket, Limit, Limiters};
use crate::domain::caller::CallerConfig;
use crate::domain::domain_name::{ApiMapping, DomainRoute};
use crate::domain::enums::ApiProtocol;
use crate::domain::enums::UnauthorizedCacheControlHeaderStrategy;
use crate::domain::stage::{Stage, StageConfig};
use crate::domain::usage_plan::{QuotaSettings, StagePlan, ThrottleSettings};

#[derive(Debug, Default)]
pub struct RuntimeConfig {
    pub revision: i64,
    apis: StageMap,
    /// Callers of AWS_IAM methods, by access key id.
    callers: HashMap<String, Arc<Caller>, Hasher>,
    /// Custom domain names, by name (lowercase), and the wildcard ones (`*.{parent}`) by their
    /// parent: a request's host finds either without making a key.
    domains: HashMap<String, DomainRuntime, Hasher>,
    wildcards: HashMap<String, DomainRuntime, Hasher>,
}

/// A custom domain as a worker routes to it.
#[derive(Debug)]
pub struct DomainRuntime {
    /// Its name, lowercase (`*.{parent}` for a wildcard one).
    pub name: String,
    /// Its mappings, the longest base path first (the empty one last).
    pub mappings: Vec<ApiMapping>,
    /// Whether it takes only clients with a certificate its truststore vouches for.
    pub mutual_tls: bool,
}

impl DomainRuntime {
    /// The mapping whose base path starts `path` (whole segments), the longest, and the rest
    /// of the path after it (with its leading `/`, or `/` when none is left).
    pub fn mapping<'p>(&self, path: &'p str) -> Option<(&ApiMapping, &'p str)> {
        let inner = path.strip_prefix('/').unwrap_or(path);
        self.mappings.iter().find_map(|m| {
            if m.key.is_empty() {
                return Some((m, path));
            }
            let rest = inner.strip_prefix(m.key.as_str())?;
            match rest {
                "" => Some((m, "/")),
                r if r.starts_with('/') => Some((m, r)),
                _ => None,
            }
        })
    }
}

/// A caller of AWS_IAM methods: its key and principal, and its identity policies, parsed.
#[derive(Debug)]
pub struct Caller {
    pub config: CallerConfig,
    pub policies: Vec<crate::iam::Policy>,
}

impl Caller {
    /// What `$context.identity.caller` and `.user` say: the principal's name (a user's name,
    /// or `{role}:{session}`), where AWS gives its unique id, which Gatehouse does not keep.
    pub fn principal_id(&self) -> &str {
        let arn = self.config.principal_arn.as_str();
        arn.split_once(":user/")
            .or_else(|| arn.split_once(":assumed-role/"))
            .or_else(|| arn.split_once(":role/"))
            .map_or(arn, |(_, name)| name)
    }
}

#[derive(Debug)]
pub struct StageRuntime {
    pub api_id: String,
    pub account_id: String,
    pub region: String,
    pub stage: Stage,
    pub api: Arc<CompiledApi>,
    pub canary: Option<CanaryRuntime>,
    /// The stage's access log, when it has a format and a destination.
    pub access_log: Option<AccessLogFormat>,
    /// The enabled API keys of the stage's usage plans, by their keyed hash (workers never
    /// hold key values), each with the plan that admits it.
    pub api_keys: HashMap<[u8; 32], Arc<KeyGrant>, Hasher>,
    /// The stage's per-method buckets (its `methodSettings` throttles), by method, made when
    /// a method is first called.
    pub method_buckets: MethodBuckets,
    /// The generation of the stage's cached authorizer results: flushing the cache starts a
    /// new one, and results of another generation are never found.
    pub authorizers_flushed: i64,
    /// The account's own limit (UpdateAccount's), when it has one.
    pub account_throttle: Option<ThrottleSettings>,
    /// The account's bucket, shared by all its stages, made when first needed.
    pub account_bucket: std::sync::OnceLock<Option<Arc<Bucket>>>,
    /// The stage's cache, when its cache cluster is enabled.
    pub cache: Option<Arc<StageCache>>,
    /// How each method's answers are cached (`None`: they are not), by method, worked out
    /// from the stage's `methodSettings` when a method is first called.
    pub cache_policies: MethodMemo<Option<CachePolicy>>,
    /// The client certificate the stage's HTTP integrations present to their backends.
    pub client_identity: Option<Arc<StageIdentity>>,
}

/// A stage's client certificate, and what tells it from others (a hash of the certificate
/// and its key).
#[derive(Debug)]
pub struct StageIdentity {
    pub key: [u8; 32],
    pub identity: crate::domain::client_certificate::ClientIdentity,
}

impl StageIdentity {
    pub fn new(identity: crate::domain::client_certificate::ClientIdentity) -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(identity.certificate_pem.as_bytes());
        hasher.update(identity.private_key_pem.as_bytes());
        Self {
            key: hasher.finalize().into(),
            identity,
        }
    }
}

/// How a method's answers are cached on a stage: for how long, and what a request that asks
/// for a fresh answer (`Cache-Control: max-age=0`) needs.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub ttl: std::time::Duration,
    pub require_authorization: bool,
    pub unauthorized: UnauthorizedCacheControlHeaderStrategy,
    /// Whether only GET requests are cached (the stage's `*/*` settings, which AWS applies to
    /// GET alone).
    pub get_only: bool,
}

/// What a usage plan admits an API key to on a stage: the plan's limits.
#[derive(Debug)]
pub struct PlanRuntime {
    pub id: Arc<str>,
    pub throttle: Option<ThrottleSettings>,
    /// Per-method throttles of this stage, keyed `{resourcePath}/{METHOD}`.
    pub method_throttles: BTreeMap<String, ThrottleSettings>,
    pub quota: Option<QuotaSettings>,
}

/// A key a stage knows: its id and the plan that admits it.
#[derive(Debug)]
pub struct KeyGrant {
    pub key_id: Arc<str>,
    pub plan: Arc<PlanRuntime>,
    /// The key's bucket of its plan's throttle, made when first needed.
    pub bucket: std::sync::OnceLock<Option<Arc<Bucket>>>,
    /// The key's buckets of its plan's per-method throttles, by method, made when a method
    /// is first called.
    pub method_buckets: MethodBuckets,
    /// The key's quota in the current period, when its plan has one.
    pub quota: Option<QuotaState>,
}

/// What a worker knows of a key's quota: what was left when its configuration was built, until
/// when, and what it admitted since.
#[derive(Debug)]
pub struct QuotaState {
    pub remaining: i64,
    /// Seconds since the epoch.
    pub period_ends: i64,
    pub used: std::sync::atomic::AtomicI64,
}

/// What is worked out per method, by method (the address of its compiled form, which the
/// configuration holding them keeps alive).
pub type MethodMemo<T> = std::sync::RwLock<HashMap<usize, T, Hasher>>;

/// Buckets by method, `None` for a method without a limit.
pub type MethodBuckets = MethodMemo<Option<Arc<Bucket>>>;

/// What `memo` holds for `method`, made by `make` when the method is first called.
fn memoized<T: Clone>(memo: &MethodMemo<T>, method: &Arc<CompiledMethod>, make: impl FnOnce() -> T) -> T {
    let id = Arc::as_ptr(method) as usize;
    if let Some(b) = memo.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return b.clone();
    }
    let made = make();
    memo.write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, made.clone());
    made
}

impl StageRuntime {
    /// The grant of the API key whose keyed hash is `hash`, when a usage plan of the stage
    /// holds it and it is enabled.
    pub fn api_key(&self, hash: &[u8; 32]) -> Option<&Arc<KeyGrant>> {
        self.api_keys.get(hash)
    }

    /// The bucket of `method` on this stage: its own `methodSettings` throttle, else the
    /// stage's (`*/*`), else none.
    pub fn method_bucket(&self, limiters: &Limiters, method: &Arc<CompiledMethod>) -> Option<Arc<Bucket>> {
        memoized(&self.method_buckets, method, || {
            let own = setting_key(method);
            let s = self
                .stage
                .method_settings
                .get(&own)
                .or_else(|| self.stage.method_settings.get("*/*"))?;
            let limit = Limit::of_method_setting(s.throttling_rate_limit, s.throttling_burst_limit)?;
            let name = format!("method/{}/{}/{own}", self.api_id, self.stage.stage_name);
            Some(limiters.bucket(&name, limit))
        })
    }

    /// The bucket of the stage's account, when the account has a limit of its own.
    pub fn account_bucket(&self, limiters: &Limiters) -> Option<&Arc<Bucket>> {
        self.account_bucket
            .get_or_init(|| {
                let t = self.account_throttle?;
                let limit = Limit::of(t.rate_limit, t.burst_limit)?;
                Some(limiters.bucket(&format!("account/{}/{}", self.account_id, self.region), limit))
            })
            .as_ref()
    }

    /// How `method`'s answers are cached on this stage: its own `methodSettings` say, else
    /// the stage's (`*/*`), which AWS applies to GET requests only; not at all without a cache
    /// cluster, caching enabled, or with a TTL of 0.
    pub fn cache_policy(&self, method: &Arc<CompiledMethod>) -> Option<CachePolicy> {
        self.cache.as_ref()?;
        memoized(&self.cache_policies, method, || {
            let settings = &self.stage.method_settings;
            let (s, get_only) = match settings.get(&setting_key(method)) {
                Some(own) => (own, false),
                None => (settings.get("*/*")?, true),
            };
            let ttl = u64::try_from(s.cache_ttl_in_seconds.min(3600)).unwrap_or(0);
            (s.caching_enabled && ttl > 0).then_some(CachePolicy {
                ttl: std::time::Duration::from_secs(ttl),
                require_authorization: s.require_authorization_for_cache_control,
                unauthorized: s.unauthorized_cache_control_header_strategy,
                get_only,
            })
        })
    }
}

/// The key of `method`'s own settings in a stage's `methodSettings`: `{resourcePath}/{METHOD}`
/// without the path's leading `/` (`pets/GET`, and `/GET` for the root resource).
fn setting_key(method: &CompiledMethod) -> String {
    let path = method
        .resource_path
        .strip_prefix('/')
        .unwrap_or(&method.resource_path);
    format!("{path}/{}", method.http_method.as_str())
}

impl KeyGrant {
    /// The key's bucket of its plan's throttle, when the plan has one.
    pub fn bucket(&self, limiters: &Limiters) -> Option<&Arc<Bucket>> {
        self.bucket
            .get_or_init(|| {
                let t = self.plan.throttle?;
                let limit = Limit::of(t.rate_limit, t.burst_limit)?;
                Some(limiters.bucket(&format!("plan/{}/{}", self.plan.id, self.key_id), limit))
            })
            .as_ref()
    }

    /// The key's bucket of its plan's limit for `method` on the stage `(api, stage)`, when the
    /// plan has one.
    pub fn method_bucket(
        &self,
        limiters: &Limiters,
        method: &Arc<CompiledMethod>,
        (api, stage): (&str, &str),
    ) -> Option<Arc<Bucket>> {
        if self.plan.method_throttles.is_empty() {
            return None;
        }
        memoized(&self.method_buckets, method, || {
            let own = format!("{}/{}", method.resource_path, method.http_method.as_str());
            let t = self.plan.method_throttles.get(&own)?;
            let limit = Limit::of(t.rate_limit, t.burst_limit)?;
            let name = format!("plan/{}/{}/{api}/{stage}/{own}", self.plan.id, self.key_id);
            Some(limiters.bucket(&name, limit))
        })
    }
}

/// The stage's keys, by hash, from its plans (a key in two plans of one stage, which the
/// control plane refuses, goes with the first).
fn key_grants(plans: &[StagePlan]) -> HashMap<[u8; 32], Arc<KeyGrant>, Hasher> {
    let mut grants = HashMap::default();
    for p in plans {
        let plan = Arc::new(PlanRuntime {
            id: p.id.as_str().into(),
            throttle: p.throttle,
            method_throttles: p.method_throttles.clone(),
            quota: p.quota,
        });
        for k in &p.keys {
            let Some(hash) = crate::domain::usage_plan::parse_hash(&k.hash) else {
                tracing::warn!(key.id = %k.id, "an API key's hash is not 32 bytes of hex; left out");
                continue;
            };
            grants.entry(hash).or_insert_with(|| {
                Arc::new(KeyGrant {
                    key_id: k.id.as_str().into(),
                    plan: plan.clone(),
                    bucket: Default::default(),
                    method_buckets: Default::default(),
                    quota: k
                        .remaining
                        .zip(k.period_ends)
                        .map(|(remaining, period_ends)| QuotaState {
                            remaining,
                            period_ends,
                            used: Default::default(),
                        }),
                })
            });
        }
    }
    grants
}

#[derive(Debug)]
pub struct CanaryRuntime {
    pub api: Arc<CompiledApi>,
    /// Share of requests, 0.0 to 100.0.
    pub percent: f64,
    /// The stage's variables with the canary's overrides applied.
    pub variables: BTreeMap<String, String>,
}

impl RuntimeConfig {
    /// Builds the configuration for `stages`, whose snapshots must all be in `compiled`.
    pub fn build<'a>(
        revision: i64,
        stages: impl IntoIterator<Item = &'a StageConfig>,
        compiled: &HashMap<String, Arc<CompiledApi>>,
        callers: &[CallerConfig],
        domains: &[DomainRoute],
        caches: &ResponseCaches,
    ) -> Result<Self, String> {
        let stages: Vec<&StageConfig> = stages.into_iter().collect();
        let mut stage_caches = caches.refresh(stages.iter().copied());
        let mut apis = StageMap::default();
        for s in stages {
            let api = compiled
                .get(&s.snapshot)
                .ok_or_else(|| format!("snapshot {} is missing", s.snapshot))?;
            of_its_kind(s, api)?;
            let canary = match (&s.stage.canary_settings, &s.canary_snapshot) {
                (Some(settings), Some(hash)) => {
                    let api = compiled
                        .get(hash)
                        .ok_or_else(|| format!("snapshot {hash} is missing"))?;
                    of_its_kind(s, api)?;
                    let mut variables = s.stage.variables.clone();
                    variables.extend(settings.stage_variable_overrides.clone());
                    Some(CanaryRuntime {
                        api: api.clone(),
                        percent: settings.percent_traffic,
                        variables,
                    })
                }
                // A canary on the stage's own deployment still applies its overrides.
                (Some(settings), None) => {
                    let mut variables = s.stage.variables.clone();
                    variables.extend(settings.stage_variable_overrides.clone());
                    Some(CanaryRuntime {
                        api: api.clone(),
                        percent: settings.percent_traffic,
                        variables,
                    })
                }
                _ => None,
            };
            let runtime = StageRuntime {
                api_id: s.api_id.clone(),
                account_id: s.account_id.clone(),
                region: s.region.clone(),
                stage: s.stage.clone(),
                api: api.clone(),
                canary,
                api_keys: key_grants(&s.usage_plans),
                method_buckets: Default::default(),
                authorizers_flushed: s.authorizers_flushed,
                account_throttle: s.account_throttle,
                account_bucket: Default::default(),
                cache: stage_caches.remove(&(s.api_id.clone(), s.stage.stage_name.clone())),
                cache_policies: Default::default(),
                client_identity: s.client_identity.clone().map(|i| Arc::new(StageIdentity::new(i))),
                access_log: s.stage.access_log_settings.as_ref().and_then(|a| {
                    Some(AccessLogFormat::parse(
                        a.format.as_deref()?,
                        a.destination_arn.as_deref()?,
                    ))
                }),
            };
            apis.entry(s.api_id.clone())
                .or_default()
                .insert(s.stage.stage_name.clone(), Arc::new(runtime));
        }
        // A caller whose policies cannot be evaluated is left out (its calls are refused),
        // rather than refusing the revision and keeping callers revoked since.
        let callers = callers
            .iter()
            .filter_map(|c| {
                let policies = c
                    .policies
                    .iter()
                    .map(|p| crate::iam::Policy::parse(p))
                    .collect::<Result<Vec<_>, _>>()
                    .inspect_err(|e| {
                        tracing::warn!(access_key.id = %c.access_key_id, error = %e, "caller left out: an identity policy does not parse")
                    })
                    .ok()?;
                let caller = Caller {
                    config: c.clone(),
                    policies,
                };
                Some((c.access_key_id.clone(), Arc::new(caller)))
            })
            .collect();
        let (mut exact, mut wildcards) = (HashMap::default(), HashMap::default());
        for d in domains {
            let mut mappings = d.mappings.clone();
            mappings.sort_by_key(|m| std::cmp::Reverse(m.key.len()));
            let name = d.domain_name.to_ascii_lowercase();
            let runtime = DomainRuntime {
                name: name.clone(),
                mappings,
                mutual_tls: d.mutual_tls,
            };
            match name.strip_prefix("*.") {
                Some(parent) => wildcards.insert(parent.to_owned(), runtime),
                None => exact.insert(name, runtime),
            };
        }
        Ok(Self {
            revision,
            apis,
            callers,
            domains: exact,
            wildcards,
        })
    }

    /// The custom domain `host` names (lowercase, without its port): its own, else the
    /// wildcard one of its parent; with its name (`*.{parent}` for a wildcard one).
    pub fn domain(&self, host: &str) -> Option<(&str, &DomainRuntime)> {
        let d = self.domains.get(host).or_else(|| {
            let (_, parent) = host.split_once('.')?;
            self.wildcards.get(parent)
        })?;
        Some((&d.name, d))
    }

    /// Whether any custom domain is served.
    pub fn has_domains(&self) -> bool {
        !self.domains.is_empty() || !self.wildcards.is_empty()
    }

    /// The caller whose access key id is `key`.
    pub fn caller(&self, key: &str) -> Option<&Arc<Caller>> {
        self.callers.get(key)
    }

    pub fn stage(&self, api_id: &str, stage: &str) -> Option<&Arc<StageRuntime>> {
        self.apis.get(api_id)?.get(stage)
    }

    /// An API's stages, by name.
    pub fn stages(&self, api_id: &str) -> Option<&HashMap<String, Arc<StageRuntime>, Hasher>> {
        self.apis.get(api_id)
    }
}

/// A stage's snapshots compile to its API's kind; anything else is a corrupt configuration.
fn of_its_kind(s: &StageConfig, api: &CompiledApi) -> Result<(), String> {
    let matches = match api {
        CompiledApi::Rest(_) => s.protocol == ApiProtocol::Rest,
        CompiledApi::Http(_) => s.protocol == ApiProtocol::Http,
        CompiledApi::WebSocket(_) => s.protocol == ApiProtocol::WebSocket,
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "stage {} of API {} ({}) has a snapshot of another kind of API",
            s.stage.stage_name, s.api_id, s.protocol
        ))
    }
}
