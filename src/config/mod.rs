//! Settings of every role, loaded from an injectable environment map so tests pass a `HashMap`
//! instead of mutating the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default management API address: loopback only, like every default of Gatehouse.
pub const DEFAULT_MANAGEMENT_ADDR: &str = "127.0.0.1:9000";

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

#[derive(Debug, Clone)]
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
        })
    }

    /// Loads from the process environment.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// Refuses what would expose an open management API: a non-loopback bind with no credentials
    /// configured explicitly.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
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
        c.check_exposure().unwrap();
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
