//! Calling AWS: SigV4 signing, the credentials to sign with (the worker's own, or an assumed
//! role's), and one signed call within an integration's timeout, at the endpoint
//! [`crate::dataplane::settings::AwsSettings`] says. Shared by Lambda and AWS service
//! integrations.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;

use crate::compiler::CompiledIntegration;
use crate::dataplane::client::{Budget, RequestError};
use crate::dataplane::error::{GatewayError, Side};
use crate::dataplane::state::DataPlane;
use crate::dataplane::{MAX_PAYLOAD, full_body};

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

/// The credentials to call AWS with: the worker's own, or, when the integration (or
/// authorizer) names an IAM role (`credentials`), that role's, assumed through STS with the
/// worker's own and cached until shortly before they expire. No credentials at all means
/// unsigned calls (local emulators).
async fn credentials_for(
    dp: &DataPlane,
    role: Option<&str>,
    region: &str,
) -> Result<Option<aws_credential_types::Credentials>, GatewayError> {
    let Some(base) = &dp.aws.credentials else {
        return Ok(None);
    };
    let Some(role) = role else {
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

/// Who calls AWS, and for how long: an integration, or an authorizer.
#[derive(Debug, Clone, Copy)]
pub struct CallAs<'a> {
    /// The IAM role to call as (else the worker's own credentials).
    pub role_arn: Option<&'a str>,
    pub timeout: Duration,
}

impl<'a> From<&'a CompiledIntegration> for CallAs<'a> {
    fn from(i: &'a CompiledIntegration) -> Self {
        Self {
            role_arn: i.role_arn.as_deref(),
            timeout: i.timeout,
        }
    }
}

/// Sends `request` to AWS, signed with the caller's credentials when there are any, and reads
/// the whole answer, all within the caller's timeout (504 past it, 502 when the endpoint
/// cannot be reached).
pub async fn call(
    dp: &DataPlane,
    call_as: CallAs<'_>,
    mut request: Request<Bytes>,
    region: &str,
    service: &str,
) -> Result<(http::response::Parts, Bytes), GatewayError> {
    if let Some(creds) = credentials_for(dp, call_as.role_arn, region).await? {
        sign(&mut request, &creds, region, service)?;
    }
    let request = request.map(full_body);
    let budget = Budget::starting_now(call_as.timeout);
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
