//! The API's one error type. Each variant names its HTTP status; 500s hide internals (they are
//! logged by the middleware, not sent).

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::sync::ApiError;

use crate::store::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 401: missing or wrong credentials.
    #[error("unknown kiosk or wrong secret: enrol the kiosk again with a new code")]
    Unauthorised,
    /// 401 with code `revoked`: the kiosk keeps its data and shows "revoked" to staff.
    #[error("this kiosk was revoked by staff; its records stay on the kiosk")]
    Revoked,
    /// 400: the request is malformed; the message says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// 403: a form's CSRF token did not match.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 413: the body is too large; the kiosk halves its batch.
    #[error("the request body is too large: send smaller batches")]
    PayloadTooLarge,
    /// 403 for an enrolment code that does not exist, was used, or expired.
    #[error("this enrolment code is unknown, expired or already used: ask staff for a new one")]
    BadCode,
    /// 429 with `Retry-After`: this client asked too often.
    #[error("too many requests from this address: retry after {0} s")]
    TooMany(u64),
    /// 503 with `Retry-After`: busy, try later.
    #[error("the server is busy: retry after {0} s")]
    Busy(u64),
    /// 500: logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::BadCode => AppError::BadCode,
            StorageError::Unauthorised => AppError::Unauthorised,
            StorageError::Revoked => AppError::Revoked,
            StorageError::Invalid(m) => AppError::BadRequest(m),
            StorageError::NotFound => AppError::NotFound,
            StorageError::Full => {
                tracing::error!(
                    "the database's disk is full: pushes and forms wait until space is freed"
                );
                AppError::Busy(60)
            }
            StorageError::Conflict => AppError::Busy(1),
            StorageError::Db(m) => AppError::Internal(m),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthorised => (StatusCode::UNAUTHORIZED, "unauthorised"),
            AppError::Revoked => (StatusCode::UNAUTHORIZED, "revoked"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::BadCode => (StatusCode::FORBIDDEN, "bad_code"),
            AppError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
            AppError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AppError::Internal(_) => "internal error; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let mut resp = (
            status,
            Json(ApiError {
                code: code.to_owned(),
                message,
            }),
        )
            .into_response();
        if let AppError::Busy(s) | AppError::TooMany(s) = self
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        if let AppError::Internal(detail) = &self {
            resp.extensions_mut().insert(InternalDetail(detail.clone()));
        }
        resp
    }
}

/// The hidden detail of a 500, read by the logging middleware.
#[derive(Clone, Debug)]
pub struct InternalDetail(pub String);
