//! Every data-plane failure becomes one of AWS's gateway responses, here and only here: the
//! API's own customisation when it has one, AWS's default otherwise.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};

use super::Body;
use super::context::RequestContext;
use crate::compiler::CompiledApi;
use crate::domain::enums::GatewayResponseType;
use crate::domain::rest_api::GatewayResponse;

/// A failure of the pipeline, named by the gateway response type AWS uses for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub kind: GatewayResponseType,
    /// The status when the gateway response does not fix one (DEFAULT_4XX / DEFAULT_5XX).
    pub status: u16,
    pub message: String,
    /// What exactly was wrong (`$context.error.validationErrorString` for invalid bodies).
    pub detail: Option<String>,
    /// Where the failure came from and what it was, for logs (never for the client: it may
    /// name a backend's address).
    pub cause: Option<Box<Cause>>,
    /// Seconds until a throttled client may come back (`Retry-After`).
    pub retry_after: Option<u32>,
}

/// Which side of the gateway a failure came from, as a proxy tells them apart: the client's
/// request, the backend's answer (or its silence), or the gateway itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Backend,
    Gateway,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Backend => "backend",
            Side::Gateway => "gateway",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub side: Side,
    pub error: String,
}

impl GatewayError {
    pub fn new(kind: GatewayResponseType, status: u16, message: impl Into<String>) -> Self {
        Self {
            kind,
            status,
            message: message.into(),
            detail: None,
            cause: None,
            retry_after: None,
        }
    }

    /// The same failure, with where it came from and why.
    pub fn caused_by(mut self, side: Side, error: impl std::fmt::Display) -> Self {
        self.cause = Some(Box::new(Cause {
            side,
            error: error.to_string(),
        }));
        self
    }

    /// A backend request that got no answer: 504 past its timeout, 400 when the client's own
    /// body failed on the way, 502 else.
    pub fn from_backend(e: crate::dataplane::client::RequestError) -> Self {
        use crate::dataplane::client::RequestError;
        match e {
            RequestError::TimedOut => Self::timeout().caused_by(Side::Backend, &e),
            RequestError::Body(e) => Self::unreadable_body().caused_by(Side::Client, e),
            RequestError::Failed(e) => Self::bad_gateway().caused_by(Side::Backend, e),
        }
    }

    /// A request body that cannot be read: cut short, malformed (chunked), or too slow.
    pub fn unreadable_body() -> Self {
        Self::new(
            GatewayResponseType::Default4xx,
            400,
            "Unable to read the request body",
        )
    }

    /// Unknown API, stage, path or method: AWS's famous 403.
    pub fn missing_token() -> Self {
        Self::new(
            GatewayResponseType::MissingAuthenticationToken,
            403,
            "Missing Authentication Token",
        )
    }

    /// A request to a custom domain that no mapping takes (AWS has nowhere to send it).
    pub fn forbidden() -> Self {
        Self::new(GatewayResponseType::Default4xx, 403, "Forbidden")
    }

    /// A request no route of an HTTP API matches.
    pub fn not_found() -> Self {
        Self::new(GatewayResponseType::ResourceNotFound, 404, "Not Found")
    }

    /// A backend that answered badly or not at all (malformed Lambda response, refused connection).
    pub fn bad_gateway() -> Self {
        Self::new(GatewayResponseType::Default5xx, 502, "Internal server error")
    }

    pub fn timeout() -> Self {
        Self::new(
            GatewayResponseType::IntegrationTimeout,
            504,
            "Endpoint request timed out",
        )
    }

    /// A configuration that cannot serve (no integration, no integration response).
    pub fn internal() -> Self {
        Self::new(
            GatewayResponseType::ApiConfigurationError,
            500,
            "Internal server error",
        )
    }

    /// A request path with a `.` or `..` segment once decoded: no API path has one, and passed
    /// on it could climb out of an integration URI's path.
    pub fn invalid_path() -> Self {
        Self::new(GatewayResponseType::Default4xx, 400, "Invalid request path")
    }

    /// No identity, one the authorizer refused, or a function that said `Unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(GatewayResponseType::Unauthorized, 401, "Unauthorized")
    }

    /// A policy that does not allow the request (`message` says whose, and how).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(GatewayResponseType::AccessDenied, 403, message)
    }

    /// An authorizer that failed or answered what AWS refuses: AWS's 500 with a null message.
    pub fn authorizer_configuration() -> Self {
        Self::new(GatewayResponseType::AuthorizerConfigurationError, 500, "")
    }

    /// A method that requires an API key, called without a valid one.
    pub fn invalid_api_key() -> Self {
        Self::new(GatewayResponseType::InvalidApiKey, 403, "Forbidden")
    }

    pub fn too_large() -> Self {
        Self::new(GatewayResponseType::RequestTooLarge, 413, "Request Too Long")
    }

    /// AWS's 429 for a request past a rate limit, with when to come back.
    pub fn throttled(retry_after_secs: u32) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(GatewayResponseType::Throttled, 429, "Too Many Requests")
        }
    }

    /// AWS's 429 for a key past its usage plan's quota.
    pub fn quota_exceeded() -> Self {
        Self::new(GatewayResponseType::QuotaExceeded, 429, "Limit Exceeded")
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            GatewayResponseType::UnsupportedMediaType,
            415,
            "Unsupported Media Type",
        )
    }

    /// The `x-amzn-ErrorType` AWS sends with some gateway responses.
    fn error_type(&self) -> Option<&'static str> {
        match self.kind {
            GatewayResponseType::MissingAuthenticationToken => Some("MissingAuthenticationTokenException"),
            GatewayResponseType::AccessDenied => Some("AccessDeniedException"),
            GatewayResponseType::Unauthorized => Some("UnauthorizedException"),
            GatewayResponseType::Throttled | GatewayResponseType::QuotaExceeded => {
                Some("TooManyRequestsException")
            }
            GatewayResponseType::ApiConfigurationError => Some("InternalServerErrorException"),
            GatewayResponseType::AuthorizerConfigurationError => Some("AuthorizerConfigurationException"),
            GatewayResponseType::InvalidApiKey => Some("ForbiddenException"),
            GatewayResponseType::InvalidSignature => Some("InvalidSignatureException"),
            _ => None,
        }
    }
}

impl From<super::template::TemplateError> for GatewayError {
    /// Input a template cannot read is the client's 400 (AWS's BAD_REQUEST_BODY); a template
    /// that fails is the API's 500.
    fn from(e: super::template::TemplateError) -> Self {
        use super::template::TemplateError;
        match e {
            TemplateError::InvalidInput(message) => {
                Self::new(GatewayResponseType::BadRequestBody, 400, message)
            }
            TemplateError::Failed(_) => Self::internal().caused_by(Side::Gateway, e),
        }
    }
}

/// The one rescue: turns a failure into the gateway response the API answers for it.
pub fn rescue(err: GatewayError, ctx: &mut RequestContext<'_>) -> Response<Body> {
    if let Some(cause) = &err.cause {
        tracing::debug!(
            request.id = %ctx.request_id(),
            error.side = cause.side.as_str(),
            error.cause = %cause.error,
            status = err.status,
            "request failed"
        );
    }
    let default;
    // Gateway responses are REST APIs'; HTTP and WebSocket APIs answer theirs.
    let api = match ctx.api.map(|api| &**api) {
        Some(CompiledApi::Rest(api)) => Some(api),
        Some(CompiledApi::Http(_) | CompiledApi::WebSocket(_)) => return http_api_answer(&err, ctx),
        None => None,
    };
    let gw: &GatewayResponse = match api {
        Some(api) => api.gateway_response(err.kind),
        None => {
            default = GatewayResponse::effective(err.kind, &Default::default());
            &default
        }
    };
    let status = gw
        .status_code
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(err.status);
    // What `$context.error.*` says, for the template and the access log.
    ctx.error_message = Some(err.message.clone());
    ctx.error_response_type = Some(err.kind.as_str());
    ctx.error_detail = err.detail.clone();
    let body = match api.and_then(|api| api.gateway_template(err.kind)) {
        Some(t) => super::template::render_gateway(t, ctx).unwrap_or_else(|| default_body(&err)),
        None => default_body(&err),
    };
    let mut res = Response::new(super::full_body(Bytes::from(body)));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = res.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(t) = err.error_type() {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(t));
    }
    if let Some(secs) = err.retry_after {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    for (target, source) in &gw.response_parameters {
        let Some(name) = target.strip_prefix("gatewayresponse.header.") else {
            continue;
        };
        let Some(value) = gateway_value(source, ctx) else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(n, v);
        }
    }
    super::remap_framing_headers(headers);
    res
}

/// An HTTP API's answer to a failure: `{"message": ...}` with the status, in HTTP APIs' own
/// words (`Not Found`, `Internal Server Error`, `Service Unavailable` for a timeout), and no
/// `x-amzn-ErrorType`.
fn http_api_answer(err: &GatewayError, ctx: &mut RequestContext<'_>) -> Response<Body> {
    let (status, message) = match err.kind {
        GatewayResponseType::IntegrationTimeout => (503, "Service Unavailable"),
        GatewayResponseType::RequestTooLarge => (413, "Request Entity Too Large"),
        _ => match err.status {
            400 => (400, "Bad Request"),
            401 => (401, "Unauthorized"),
            403 => (403, "Forbidden"),
            404 => (404, "Not Found"),
            429 => (429, "Too Many Requests"),
            s if s < 500 => (s, err.message.as_str()),
            _ => (500, "Internal Server Error"),
        },
    };
    ctx.error_message = Some(message.to_owned());
    ctx.error_response_type = Some(err.kind.as_str());
    ctx.error_detail = err.detail.clone();
    let body = default_body(&GatewayError::new(err.kind, status, message));
    let mut res = Response::new(super::full_body(Bytes::from(body)));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = res.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = err.retry_after {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

/// The value of a gateway-response mapping: `'static'`, or a request value the pipeline kept.
fn gateway_value(source: &str, ctx: &RequestContext<'_>) -> Option<String> {
    use crate::compiler::ParamSource;
    if let Some(v) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(v.to_owned());
    }
    let req = ctx.gateway_request.as_deref();
    match ParamSource::parse(source).ok()? {
        ParamSource::Header(n) => req?.headers.get(n.as_str())?.to_str().ok().map(str::to_owned),
        ParamSource::QueryString(n) => req?
            .query
            .iter()
            .rev()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone()),
        ParamSource::Path(n) => req?
            .path_params
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone()),
        ParamSource::StageVariable(n) => req?.variables.get(&n).cloned(),
        ParamSource::Context(v) => ctx
            .variable(v.as_ref().filter(|v| v.in_templates())?)
            .map(|v| v.into_owned()),
        _ => None,
    }
}

/// AWS's default gateway response body, `{"message":$context.error.messageString}`, without
/// the template engine: most failures answer it.
pub(crate) fn default_body(err: &GatewayError) -> String {
    if err.message.is_empty() {
        // An authorizer's failure: AWS says `{"message":null}`.
        return "{\"message\":null}".to_owned();
    }
    let quoted = serde_json::to_string(&err.message).expect("strings serialise");
    format!("{{\"message\":{quoted}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_quotes_the_message() {
        let body = default_body(&GatewayError::missing_token());
        assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
        let quoted = default_body(&GatewayError::new(
            GatewayResponseType::Default4xx,
            400,
            "a \"b\"",
        ));
        assert_eq!(quoted, r#"{"message":"a \"b\""}"#);
    }
}
