//! Settings of every role, loaded from an injectable environment map so tests pass a `HashMap`
//! instead of mutating the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default management API address: loopback only, like every default of Gatehouse.
pub const DEFAULT_MANAGEMENT_ADDR: &str = "127.0.0.1:9000";

/// Default data-plane address.
pub const DEFAULT_DATA_PLANE_ADDR: &str = "127.0.0.1:8080";

/// Default address of a worker's Prometheus metrics: loopback, and apart from API traffic (the
/// metrics name every API, stage and resource the worker serves).
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9102";

/// The access key `serve` bootstraps on loopback, as LocalStack users expect.
pub const LOOPBACK_ACCESS_KEY_ID: &str = "test";
pub const LOOPBACK_SECRET_ACCESS_KEY: &str = "test";
pub const LOOPBACK_ACCOUNT_ID: &str = "000000000000";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Credentials given explicitly (environment or flags) and created on start.
#[derive(Clone)]
pub struct BootstrapCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Config {
    /// Postgres URL; `None` means the embedded cluster under `data_dir`.
    pub database_url: Option<String>,
    /// Where the management API listens.
    pub management_addr: SocketAddr,
    /// Root of Gatehouse's local state (the embedded cluster lives in `data_dir/pg`).
    pub data_dir: PathBuf,
    /// Credentials created (or kept) on start.
    pub bootstrap_credentials: Option<BootstrapCredentials>,
    /// Largest management request body accepted.
    pub max_body_bytes: usize,
    /// Largest Postgres connection pool.
    pub max_db_connections: u32,
    /// Where the data plane (a worker, or `serve`'s embedded one) listens.
    pub data_plane_addr: SocketAddr,
    /// Where a worker serves custom domains over TLS (none: no TLS listener).
    pub data_plane_tls_addr: Option<SocketAddr>,
    /// Where a worker serves its Prometheus metrics (`None`: nowhere), and whether that address
    /// was given (a default one already taken is skipped with a warning, as when two workers
    /// run on one machine).
    pub metrics_addr: Option<SocketAddr>,
    pub metrics_addr_given: bool,
    /// Data-plane threads, each with its own listener and backend connections (default: one
    /// per core).
    pub data_plane_threads: Option<usize>,
    /// The most one stage's cache may hold on a worker, in bytes (AWS's cacheClusterSize of the
    /// stage bounds it too).
    pub cache_max_bytes: u64,
    /// The Redis server rate limits are kept at, for limits exact across the fleet; none:
    /// each worker enforces its share.
    pub rate_limit_redis: Option<String>,
    /// The token that authenticates workers to the control plane's internal endpoints.
    pub cluster_token: Option<String>,
    /// The key imported certificates' private keys are sealed under (64 hex digits or the
    /// base64 of 32 bytes); none: the one kept in `data_dir/certificate-key`.
    pub certificate_key: Option<String>,
    /// Base URLs of AWS services by name (`lambda`, `sqs`, ...); a service not here is called
    /// at AWS's regional endpoint.
    pub aws_endpoints: std::collections::BTreeMap<String, String>,
    /// A worker's control plane (base URL).
    pub control_plane_url: Option<String>,
    /// A worker's configuration cache directory.
    pub config_cache: Option<PathBuf>,
    /// Where access logs are written (one file per log group); stdout when unset.
    pub access_log_dir: Option<PathBuf>,
    /// Front proxies (CIDR blocks) whose `X-Forwarded-For` a worker believes.
    pub trusted_proxies: Vec<crate::iam::Cidr>,
    /// The process environment as given (Lambda reads AWS credentials from it).
    pub env: HashMap<String, String>,
}

impl std::fmt::Debug for Config {
    // Secrets (the cluster token, the environment's AWS keys) never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("management_addr", &self.management_addr)
            .field("data_plane_addr", &self.data_plane_addr)
            .field("data_plane_tls_addr", &self.data_plane_tls_addr)
            .field("data_plane_threads", &self.data_plane_threads)
            .field("metrics_addr", &self.metrics_addr)
            .field("data_dir", &self.data_dir)
            .field("bootstrap_credentials", &self.bootstrap_credentials)
            .field("cluster_token", &self.cluster_token.as_ref().map(|_| "<set>"))
            .field("certificate_key", &self.certificate_key.as_ref().map(|_| "<set>"))
            .field("aws_endpoints", &self.aws_endpoints)
            .field("control_plane_url", &self.control_plane_url)
            .field("config_cache", &self.config_cache)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads `DATABASE_URL`, `GATEHOUSE_MANAGEMENT_ADDR`, `GATEHOUSE_DATA_DIR`,
    /// `GATEHOUSE_ACCESS_KEY_ID` / `GATEHOUSE_SECRET_ACCESS_KEY` / `GATEHOUSE_ACCOUNT_ID`,
    /// `GATEHOUSE_MAX_BODY_BYTES` and `GATEHOUSE_DB_MAX_CONNECTIONS`.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| env.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let management_addr = get("GATEHOUSE_MANAGEMENT_ADDR")
            .unwrap_or(DEFAULT_MANAGEMENT_ADDR)
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                name: "GATEHOUSE_MANAGEMENT_ADDR",
                reason: e.to_string(),
            })?;
        let bootstrap_credentials = match (get("GATEHOUSE_ACCESS_KEY_ID"), get("GATEHOUSE_SECRET_ACCESS_KEY"))
        {
            (Some(id), Some(secret)) => Some(BootstrapCredentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
                account_id: parse_account_id(get("GATEHOUSE_ACCOUNT_ID").unwrap_or(LOOPBACK_ACCOUNT_ID))?,
            }),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "GATEHOUSE_ACCESS_KEY_ID",
                    reason: "set both GATEHOUSE_ACCESS_KEY_ID and GATEHOUSE_SECRET_ACCESS_KEY, or neither"
                        .into(),
                });
            }
        };
        Ok(Self {
            database_url: get("DATABASE_URL").map(str::to_owned),
            management_addr,
            data_dir: PathBuf::from(get("GATEHOUSE_DATA_DIR").unwrap_or(".gatehouse")),
            bootstrap_credentials,
            max_body_bytes: parse_num(
                get("GATEHOUSE_MAX_BODY_BYTES"),
                "GATEHOUSE_MAX_BODY_BYTES",
                10 << 20,
            )?,
            max_db_connections: parse_num(
                get("GATEHOUSE_DB_MAX_CONNECTIONS"),
                "GATEHOUSE_DB_MAX_CONNECTIONS",
                16,
            )?,
            data_plane_addr: get("GATEHOUSE_DATA_PLANE_ADDR")
                .unwrap_or(DEFAULT_DATA_PLANE_ADDR)
                .parse()
                .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                    name: "GATEHOUSE_DATA_PLANE_ADDR",
                    reason: e.to_string(),
                })?,
            data_plane_tls_addr: get("GATEHOUSE_DATA_PLANE_TLS_ADDR")
                .map(str::parse)
                .transpose()
                .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                    name: "GATEHOUSE_DATA_PLANE_TLS_ADDR",
                    reason: e.to_string(),
                })?,
            metrics_addr: match get("GATEHOUSE_METRICS_ADDR") {
                Some("off") => None,
                given => Some(given.unwrap_or(DEFAULT_METRICS_ADDR).parse().map_err(
                    |e: std::net::AddrParseError| ConfigError::Invalid {
                        name: "GATEHOUSE_METRICS_ADDR",
                        reason: format!("{e} (an address such as 127.0.0.1:9102, or `off`)"),
                    },
                )?),
            },
            metrics_addr_given: get("GATEHOUSE_METRICS_ADDR").is_some(),
            data_plane_threads: match parse_num(
                get("GATEHOUSE_DATA_PLANE_THREADS"),
                "GATEHOUSE_DATA_PLANE_THREADS",
                0,
            )? {
                0 => None,
                n => Some(n),
            },
            rate_limit_redis: rate_limit_backend(get("GATEHOUSE_RATE_LIMIT_BACKEND"))?,
            cache_max_bytes: parse_num(
                get("GATEHOUSE_CACHE_MAX_BYTES"),
                "GATEHOUSE_CACHE_MAX_BYTES",
                crate::dataplane::cache::DEFAULT_STAGE_LIMIT,
            )?,
            cluster_token: get("GATEHOUSE_CLUSTER_TOKEN").map(str::to_owned),
            certificate_key: get("GATEHOUSE_CERTIFICATE_KEY").map(str::to_owned),
            aws_endpoints: aws_endpoints(get("GATEHOUSE_AWS_ENDPOINTS"), get("GATEHOUSE_LAMBDA_ENDPOINT"))?,
            control_plane_url: get("GATEHOUSE_CONTROL_PLANE").map(str::to_owned),
            config_cache: get("GATEHOUSE_CONFIG_CACHE").map(PathBuf::from),
            access_log_dir: get("GATEHOUSE_ACCESS_LOG_DIR").map(PathBuf::from),
            trusted_proxies: get("GATEHOUSE_TRUSTED_PROXIES")
                .into_iter()
                .flat_map(|l| l.split(','))
                .filter(|c| !c.trim().is_empty())
                .map(|c| {
                    crate::iam::Cidr::parse(c.trim()).map_err(|e| ConfigError::Invalid {
                        name: "GATEHOUSE_TRUSTED_PROXIES",
                        reason: e.to_string(),
                    })
                })
                .collect::<Result<_, _>>()?,
            env: env.clone(),
        })
    }

    /// The rate-limit backend given on the command line, if any.
    pub fn set_rate_limit_backend(&mut self, given: Option<String>) -> Result<(), ConfigError> {
        if given.is_some() {
            self.rate_limit_redis = rate_limit_backend(given.as_deref())?;
        }
        Ok(())
    }

    /// The metrics address given on the command line, if any.
    pub fn set_metrics_addr(&mut self, given: Option<SocketAddr>) {
        if let Some(addr) = given {
            self.metrics_addr = Some(addr);
            self.metrics_addr_given = true;
        }
    }

    /// Loads from the process environment.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// Refuses what would expose an open management API: a non-loopback bind with no credentials
    /// (or no cluster token) configured explicitly.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if !self.management_addr.ip().is_loopback() && self.cluster_token.is_none() {
            return Err(ConfigError::Invalid {
                name: "GATEHOUSE_CLUSTER_TOKEN",
                reason: format!(
                    "{} is not a loopback address: set GATEHOUSE_CLUSTER_TOKEN so only your workers can follow the configuration",
                    self.management_addr
                ),
            });
        }
        if !self.management_addr.ip().is_loopback() && self.bootstrap_credentials.is_none() {
            return Err(ConfigError::Invalid {
                name: "GATEHOUSE_MANAGEMENT_ADDR",
                reason: format!(
                    "{} is not a loopback address: set GATEHOUSE_ACCESS_KEY_ID and GATEHOUSE_SECRET_ACCESS_KEY \
                     (the built-in test/test credentials are only for loopback)",
                    self.management_addr
                ),
            });
        }
        Ok(())
    }
}

/// `local` (or nothing): each worker its share; a `redis://` URL: limits kept in Redis.
fn rate_limit_backend(raw: Option<&str>) -> Result<Option<String>, ConfigError> {
    match raw.map(str::trim) {
        None | Some("" | "local") => Ok(None),
        Some(url) if url.starts_with("redis://") || url.starts_with("redis+unix://") => {
            Ok(Some(url.to_owned()))
        }
        Some(other) => Err(ConfigError::Invalid {
            name: "GATEHOUSE_RATE_LIMIT_BACKEND",
            reason: format!("{other:?}: expected `local` or a redis:// URL"),
        }),
    }
}

fn parse_num<T: std::str::FromStr>(
    raw: Option<&str>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    raw.map_or(Ok(default), |v| {
        v.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        })
    })
}

/// An AWS account id: twelve digits.
pub fn parse_account_id(raw: &str) -> Result<String, ConfigError> {
    if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_owned())
    } else {
        Err(ConfigError::Invalid {
            name: "account id",
            reason: format!("{raw:?} is not twelve digits"),
        })
    }
}

/// `GATEHOUSE_AWS_ENDPOINTS` (`sqs=URL,s3=URL`), with `GATEHOUSE_LAMBDA_ENDPOINT` as the
/// `lambda` one.
fn aws_endpoints(
    list: Option<&str>,
    lambda: Option<&str>,
) -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
    let mut endpoints = std::collections::BTreeMap::new();
    for item in list
        .into_iter()
        .flat_map(|l| l.split(','))
        .filter(|i| !i.trim().is_empty())
    {
        let (service, url) =
            crate::dataplane::settings::parse_endpoint(item).map_err(|reason| ConfigError::Invalid {
                name: "GATEHOUSE_AWS_ENDPOINTS",
                reason,
            })?;
        endpoints.insert(service, url);
    }
    if let Some(url) = lambda {
        endpoints.insert("lambda".to_owned(), url.to_owned());
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_bind_loopback() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.management_addr.to_string(), DEFAULT_MANAGEMENT_ADDR);
        assert!(c.database_url.is_none());
        assert_eq!(c.data_plane_threads, None);
        c.check_exposure().unwrap();
    }

    #[test]
    fn rate_limits_are_local_unless_a_redis_url_is_given() {
        let backend =
            |v| Config::from_env(&env(&[("GATEHOUSE_RATE_LIMIT_BACKEND", v)])).map(|c| c.rate_limit_redis);
        assert_eq!(backend("local").unwrap(), None);
        assert_eq!(
            backend("redis://127.0.0.1:6379").unwrap().as_deref(),
            Some("redis://127.0.0.1:6379")
        );
        assert!(backend("memcached://x").is_err());
        let mut c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.rate_limit_redis, None);
        c.set_rate_limit_backend(Some("redis://r:6379/2".into())).unwrap();
        assert_eq!(c.rate_limit_redis.as_deref(), Some("redis://r:6379/2"));
    }

    #[test]
    fn data_plane_threads_are_a_positive_count() {
        let threads =
            |v| Config::from_env(&env(&[("GATEHOUSE_DATA_PLANE_THREADS", v)])).map(|c| c.data_plane_threads);
        assert_eq!(threads("3").unwrap(), Some(3));
        assert_eq!(threads("0").unwrap(), None);
        assert!(threads("-1").is_err());
        assert!(threads("many").is_err());
    }

    #[test]
    fn a_public_bind_without_credentials_is_refused() {
        let c = Config::from_env(&env(&[("GATEHOUSE_MANAGEMENT_ADDR", "0.0.0.0:9000")])).unwrap();
        assert!(c.check_exposure().is_err());
        let c = Config::from_env(&env(&[
            ("GATEHOUSE_MANAGEMENT_ADDR", "0.0.0.0:9000"),
            ("GATEHOUSE_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("GATEHOUSE_SECRET_ACCESS_KEY", "s3cret"),
            ("GATEHOUSE_ACCOUNT_ID", "123456789012"),
            ("GATEHOUSE_CLUSTER_TOKEN", "t0ken"),
        ]))
        .unwrap();
        c.check_exposure().unwrap();
        assert!(!format!("{:?}", c.bootstrap_credentials).contains("s3cret"));
    }

    #[test]
    fn half_a_credential_is_an_error() {
        assert!(Config::from_env(&env(&[("GATEHOUSE_ACCESS_KEY_ID", "x")])).is_err());
        assert!(parse_account_id("12345").is_err());
    }
}
