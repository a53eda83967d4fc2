//! AWS's error shape for the management API: status code, `x-amzn-ErrorType` header and a
//! `{"message": ...}` body. Every handler error ends here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestException", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundException", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "ConflictException", message)
    }

    /// AWS's input-validation error (enum and pattern constraints), e.g.
    /// `1 validation error detected: Value 'x' at 'y' failed to satisfy constraint: ...`.
    pub fn validation(errors: &[String]) -> Self {
        let n = errors.len();
        let plural = if n == 1 { "error" } else { "errors" };
        Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            format!("{n} validation {plural} detected: {}", errors.join("; ")),
        )
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "SerializationException", message)
    }

    pub fn forbidden(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, kind, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "Internal server error",
        )
    }

    pub fn unknown_operation() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "Unknown operation",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(serde_json::json!({ "message": self.message }))).into_response();
        res.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        res
    }
}

/// Store failures no handler maps itself: a concurrent writer is AWS's ConflictException; anything
/// else is logged and becomes a 500 with no detail.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::conflict(
                "Unable to complete operation due to concurrent modification. Please try again later.",
            ),
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Maps `StoreError::NotFound` to the given error and everything else through `From`.
pub trait OrNotFound<T> {
    fn or_not_found(self, err: impl FnOnce() -> ApiError) -> ApiResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, err: impl FnOnce() -> ApiError) -> ApiResult<T> {
        match self {
            Ok(v) => Ok(v),
            Err(StoreError::NotFound) => Err(err()),
            Err(e) => Err(e.into()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// The body of every error answer (for the OpenAPI document).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub message: String,
}
