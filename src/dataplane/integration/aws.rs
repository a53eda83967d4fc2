//! Calling AWS: where each service is (AWS's regional endpoint, or one configured per service
//! with `--aws-endpoint svc=URL`), the credentials to sign with, SigV4 signing, and one signed
//! call within an integration's timeout. Shared by Lambda and AWS service integrations.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;

use crate::compiler::CompiledIntegration;
use crate::dataplane::client::{Budget, RequestError};
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::server::DataPlane;
use crate::dataplane::{MAX_PAYLOAD, full_body};

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
    fn get(&self, role: &str) -> Option<aws_credential_types::Credentials> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let creds = cache.get(role)?;
        let fresh = creds
            .expiry()
            .is_some_and(|e| e > SystemTime::now() + Duration::from_secs(300));
        fresh.then(|| creds.clone())
    }

    fn put(&self, role: &str, creds: aws_credential_types::Credentials) {
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

/// Parses `svc=URL` endpoint settings (from `--aws-endpoint` or comma-separated in
/// `GATEHOUSE_AWS_ENDPOINTS`).
pub fn parse_endpoint(raw: &str) -> Result<(String, String), String> {
    let (service, url) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: expected SERVICE=URL, e.g. sqs=http://localhost:4566"))?;
    let service = service.trim().to_ascii_lowercase();
    let url = url.trim();
    if service.is_empty() || !service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
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

/// Signs `request` for `service` in `region` with SigV4 (the payload hashed).
pub fn sign(
    request: &mut Request<Bytes>,
    creds: &aws_credential_types::Credentials,
    region: &str,
    service: &str,
) -> Result<(), GatewayError> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity: aws_smithy_runtime_api::client::identity::Identity = creds.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| GatewayError::internal())?
        .into();
    let uri = request.uri().to_string();
    let method = request.method().as_str().to_owned();
    let payload = request.body().clone();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(&method, &uri, headers.into_iter(), SignableBody::Bytes(&payload))
        .map_err(|_| GatewayError::internal())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|_| GatewayError::internal())?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// The credentials to call AWS with for `integration`: the worker's own, or, when the
/// integration names an IAM role (`credentials`), that role's, assumed through STS with the
/// worker's own and cached until shortly before they expire. No credentials at all means
/// unsigned calls (local emulators).
async fn credentials_for(
    dp: &DataPlane,
    integration: &CompiledIntegration,
    region: &str,
) -> Result<Option<aws_credential_types::Credentials>, GatewayError> {
    let Some(base) = &dp.aws.credentials else {
        return Ok(None);
    };
    let Some(role) = &integration.role_arn else {
        return Ok(Some(base.clone()));
    };
    if let Some(cached) = dp.aws.roles.get(role) {
        return Ok(Some(cached));
    }
    let assumed = assume_role(dp, base, role, region).await?;
    dp.aws.roles.put(role, assumed.clone());
    Ok(Some(assumed))
}

/// STS AssumeRole (query API) for `role`.
async fn assume_role(
    dp: &DataPlane,
    base: &aws_credential_types::Credentials,
    role: &str,
    region: &str,
) -> Result<aws_credential_types::Credentials, GatewayError> {
    let failed = |why: &str| {
        tracing::warn!(
            aws.role = role,
            error = why,
            "cannot assume the integration's role"
        );
        GatewayError::internal()
    };
    let enc =
        |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=gatehouse&DurationSeconds=3600&RoleArn={}",
        enc(role)
    );
    let mut request = Request::post(format!("{}/", dp.aws.endpoint("sts", region, None)))
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .map_err(|_| failed("bad request"))?;
    sign(&mut request, base, region, "sts")?;
    let budget = Budget::starting_now(Duration::from_secs(10));
    let res = match dp.http.request(request.map(full_body), budget).await {
        Ok(res) => res,
        Err(e) => return Err(failed(&e.to_string())),
    };
    let status = res.status;
    let xml = http_body_util::Limited::new(res.body, 64 << 10)
        .collect()
        .await
        .map_err(|_| failed("unreadable answer"))?
        .to_bytes();
    let xml = String::from_utf8_lossy(&xml);
    if !status.is_success() {
        return Err(failed(&format!("sts answered {status}")));
    }
    // The few fields of AssumeRoleResponse/AssumeRoleResult/Credentials Gatehouse needs.
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = start + xml[start..].find(&format!("</{name}>"))?;
        Some(xml[start..end].trim().to_owned())
    };
    let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
        return Err(failed("no credentials in the answer"));
    };
    let expiry = field("Expiration")
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
        .map(|e| SystemTime::from(e.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(900));
    Ok(aws_credential_types::Credentials::new(
        id,
        secret,
        field("SessionToken"),
        Some(expiry),
        "assume-role",
    ))
}

/// Sends `request` to AWS, signed with the integration's credentials when there are any, and
/// reads the whole answer, all within the integration's timeout (504 past it, 502 when the
/// endpoint cannot be reached).
pub async fn call(
    dp: &DataPlane,
    integration: &CompiledIntegration,
    mut request: Request<Bytes>,
    region: &str,
    service: &str,
) -> Result<(http::response::Parts, Bytes), GatewayError> {
    if let Some(creds) = credentials_for(dp, integration, region).await? {
        sign(&mut request, &creds, region, service)?;
    }
    let request = request.map(full_body);
    let budget = Budget::starting_now(integration.timeout);
    let deadline = budget.deadline;
    let res = match dp.http.request(request, budget).await {
        Err(RequestError::Failed(e)) => {
            tracing::warn!(error = %e, aws.service = service, "aws endpoint unreachable");
            return Err(GatewayError::bad_gateway().caused_by(Side::Backend, e));
        }
        Err(e) => return Err(GatewayError::from_backend(e)),
        Ok(res) => res,
    };
    let (parts, body) = res
        .into_response()
        .map_err(|_| GatewayError::bad_gateway())?
        .into_parts();
    let collect = http_body_util::Limited::new(body, MAX_PAYLOAD).collect();
    match tokio::time::timeout_at(deadline, collect).await {
        Err(_) => Err(GatewayError::timeout()),
        Ok(collected) => Ok((
            parts,
            collected.map_err(|_| GatewayError::bad_gateway())?.to_bytes(),
        )),
    }
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
