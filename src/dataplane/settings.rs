//! What a worker is started with that its requests share: where AWS services are (AWS's
//! regional endpoints, or one configured per service with `--aws-endpoint svc=URL`) and the
//! credentials to sign calls to them with, found where AWS's tools look.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long clients get: to send a whole request head once the connection is idle (also how
/// long an idle keep-alive connection stays open) and a small body after its head; to send a
/// streamed body (one too large to read with its head, or chunked) from its head on; and for a
/// write to make progress while the client does not read.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    pub head: Duration,
    pub body: Duration,
    pub write: Duration,
    /// How long a WebSocket connection may go without a message from its client (AWS's 10
    /// minutes).
    pub websocket_idle: Duration,
    /// How often, at most, a WebSocket connection's activity is told to the control plane
    /// (how old, at most, the `lastActiveAt` other workers answer is).
    pub websocket_activity: Duration,
}

impl Default for ClientTimeouts {
    /// 30 s for a head, 60 s for a body (10 MB in that time is 1.4 Mbit/s), 30 s for a write.
    fn default() -> Self {
        Self {
            head: Duration::from_secs(30),
            body: Duration::from_secs(60),
            write: Duration::from_secs(30),
            websocket_idle: crate::dataplane::websocket::IDLE_TIMEOUT,
            websocket_activity: crate::dataplane::websocket::ACTIVITY_REPORT,
        }
    }
}

/// Where AWS services are and how to sign for them.
#[derive(Clone, Default)]
pub struct AwsSettings {
    /// Base URLs by service name (`lambda`, `sqs`, `s3`, ...), e.g. a LocalStack or
    /// `sam local start-lambda`; a service not here is called at AWS's regional endpoint.
    pub endpoints: BTreeMap<String, String>,
    pub credentials: Option<aws_credential_types::Credentials>,
    /// Temporary credentials of the roles integrations name, shared by the worker's threads.
    pub roles: RoleCache,
}

/// Assumed roles' credentials by role ARN, until shortly before they expire.
#[derive(Clone, Default)]
pub struct RoleCache(Arc<Mutex<HashMap<String, aws_credential_types::Credentials>>>);

impl RoleCache {
    pub(crate) fn get(&self, role: &str) -> Option<aws_credential_types::Credentials> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let creds = cache.get(role)?;
        let fresh = creds
            .expiry()
            .is_some_and(|e| e > SystemTime::now() + Duration::from_secs(300));
        fresh.then(|| creds.clone())
    }

    pub(crate) fn put(&self, role: &str, creds: aws_credential_types::Credentials) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(role.to_owned(), creds);
    }
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("endpoints", &self.endpoints)
            .field("signed", &self.credentials.is_some())
            .finish()
    }
}

impl AwsSettings {
    /// Credentials from the standard sources, in AWS's order: the environment variables, then the
    /// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile
    /// `AWS_PROFILE` or `default`). None found means unsigned calls (fine for local emulators).
    pub fn from_env(endpoints: BTreeMap<String, String>, env: &HashMap<String, String>) -> Self {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let credentials = match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(aws_credential_types::Credentials::new(
                id,
                secret,
                get("AWS_SESSION_TOKEN"),
                None,
                "environment",
            )),
            _ => {
                let file = get("AWS_SHARED_CREDENTIALS_FILE")
                    .map(std::path::PathBuf::from)
                    .or_else(|| {
                        get("HOME").map(|h| std::path::Path::new(&h).join(".aws").join("credentials"))
                    });
                let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
                file.and_then(|f| std::fs::read_to_string(f).ok())
                    .and_then(|text| profile_credentials(&text, &profile))
            }
        };
        Self {
            endpoints,
            credentials,
            roles: RoleCache::default(),
        }
    }

    /// The base URL of `service` in `region` (`subdomain` for services addressed as
    /// `{subdomain}.{service}`, such as IoT data endpoints).
    pub fn endpoint(&self, service: &str, region: &str, subdomain: Option<&str>) -> String {
        match self.endpoints.get(service) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => match subdomain {
                Some(sub) => format!("https://{sub}.{service}.{region}.amazonaws.com"),
                None => format!("https://{service}.{region}.amazonaws.com"),
            },
        }
    }
}

impl AwsSettings {
    /// The issuer of a Cognito user pool's tokens: `cognito-idp/{poolId}=URL` names one pool's
    /// issuer exactly (a local OpenID provider); `cognito-idp=URL` puts every pool below it
    /// (`{URL}/{poolId}`, as local Cognito emulators do); else AWS's
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    pub fn user_pool_issuer(&self, region: &str, pool_id: &str) -> String {
        if let Some(url) = self.endpoints.get(&format!("cognito-idp/{pool_id}")) {
            return url.trim_end_matches('/').to_owned();
        }
        format!("{}/{pool_id}", self.endpoint("cognito-idp", region, None))
    }
}

/// Parses `svc=URL` endpoint settings (from `--aws-endpoint` or comma-separated in
/// `GATEHOUSE_AWS_ENDPOINTS`); `ARN=URL` says where a private integration's target (a load
/// balancer listener or Cloud Map service, by ARN) is reached.
pub fn parse_endpoint(raw: &str) -> Result<(String, String), String> {
    if raw.starts_with("arn:") {
        let at = raw
            .rfind("=http")
            .ok_or_else(|| format!("{raw:?}: expected ARN=URL"))?;
        let (arn, url) = (&raw[..at], raw[at + 1..].trim());
        if !crate::compiler::http_api::private_target_arn(arn)
            && !crate::domain::vpc_link::is_load_balancer_arn(arn)
        {
            return Err(format!(
                "{raw:?}: {arn:?} is not a load balancer's, a load balancer listener's or a Cloud Map service's ARN"
            ));
        }
        return Ok((arn.to_owned(), url.to_owned()));
    }
    let (service, url) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: expected SERVICE=URL, e.g. sqs=http://localhost:4566"))?;
    let url = url.trim();
    // `cognito-idp/{poolId}`: one user pool's issuer (pool ids keep their case).
    let service = match service.trim().split_once('/') {
        Some((svc, pool)) if svc.eq_ignore_ascii_case("cognito-idp") => {
            if pool.is_empty()
                || !pool
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!("{raw:?}: {pool:?} is not a user pool id"));
            }
            format!("cognito-idp/{pool}")
        }
        _ => service.trim().to_ascii_lowercase(),
    };
    if service.is_empty()
        || !(service.starts_with("cognito-idp/")
            || service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(format!("{raw:?}: {service:?} is not a service name"));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "{raw:?}: the endpoint must be an http:// or https:// URL"
        ));
    }
    Ok((service, url.to_owned()))
}

/// The keys of `[profile]` in a shared credentials file (INI).
fn profile_credentials(text: &str, profile: &str) -> Option<aws_credential_types::Credentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            in_profile = line[1..line.len() - 1].trim() == profile;
            continue;
        }
        if !in_profile || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            match k.trim() {
                "aws_access_key_id" => id = v,
                "aws_secret_access_key" => secret = v,
                "aws_session_token" => token = v,
                _ => {}
            }
        }
    }
    Some(aws_credential_types::Credentials::new(
        id?,
        secret?,
        token,
        None,
        "shared-credentials-file",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_default_to_aws() {
        assert_eq!(
            parse_endpoint("SQS=http://localhost:4566").unwrap(),
            ("sqs".into(), "http://localhost:4566".into())
        );
        assert!(parse_endpoint("sqs").is_err());
        assert!(parse_endpoint("sqs=ftp://x").is_err());
        assert!(parse_endpoint("s q=http://x").is_err());
        let (key, _) = parse_endpoint("cognito-idp/us-east-1_AbC=http://127.0.0.1:9/issuer").unwrap();
        assert_eq!(key, "cognito-idp/us-east-1_AbC");
        assert!(parse_endpoint("cognito-idp/a.b=http://x").is_err());
        let listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/50dc6c495c0c9188/0467ef3c8400ae65";
        assert_eq!(
            parse_endpoint(&format!("{listener}=http://10.0.1.5:8080")).unwrap(),
            (listener.to_owned(), "http://10.0.1.5:8080".to_owned())
        );
        let cloud_map = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abc?stage=prod";
        assert_eq!(
            parse_endpoint(&format!("{cloud_map}=https://orders.internal"))
                .unwrap()
                .0,
            cloud_map
        );
        assert!(parse_endpoint("arn:aws:sqs:us-east-1:123456789012:q=http://x").is_err());
        let mut aws = AwsSettings::default();
        assert_eq!(
            aws.user_pool_issuer("eu-west-1", "eu-west-1_x"),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x"
        );
        aws.endpoints
            .insert("cognito-idp".into(), "http://localhost:9229/".into());
        assert_eq!(aws.user_pool_issuer("eu-west-1", "p"), "http://localhost:9229/p");
        aws.endpoints.insert(key, "http://127.0.0.1:9/issuer".into());
        assert_eq!(
            aws.user_pool_issuer("us-east-1", "us-east-1_AbC"),
            "http://127.0.0.1:9/issuer"
        );
        let settings = AwsSettings {
            endpoints: BTreeMap::from([("sqs".into(), "http://q:1/".into())]),
            ..AwsSettings::default()
        };
        assert_eq!(settings.endpoint("sqs", "eu-west-1", None), "http://q:1");
        assert_eq!(
            settings.endpoint("s3", "eu-west-1", None),
            "https://s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            settings.endpoint("iotdata", "us-east-1", Some("abc")),
            "https://abc.iotdata.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn credentials_come_from_the_environment_then_the_shared_file() {
        let file = std::env::temp_dir().join(format!("gh-creds-{}", std::process::id()));
        std::fs::write(&file, "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=s2\naws_session_token=t\n").unwrap();
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let path = file.to_str().unwrap();
        let from_file =
            AwsSettings::from_env(BTreeMap::new(), &env(&[("AWS_SHARED_CREDENTIALS_FILE", path)]));
        assert_eq!(from_file.credentials.unwrap().access_key_id(), "AKIADEFAULT");
        let profile = AwsSettings::from_env(
            BTreeMap::new(),
            &env(&[("AWS_SHARED_CREDENTIALS_FILE", path), ("AWS_PROFILE", "work")]),
        );
        assert_eq!(profile.credentials.as_ref().unwrap().session_token(), Some("t"));
        let vars = AwsSettings::from_env(
            BTreeMap::new(),
            &env(&[
                ("AWS_SHARED_CREDENTIALS_FILE", path),
                ("AWS_ACCESS_KEY_ID", "AKIAENV"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
            ]),
        );
        assert_eq!(vars.credentials.unwrap().access_key_id(), "AKIAENV");
        assert!(
            AwsSettings::from_env(
                BTreeMap::new(),
                &env(&[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")])
            )
            .credentials
            .is_none()
        );
        let _ = std::fs::remove_file(file);
    }
}
