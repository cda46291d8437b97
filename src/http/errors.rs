//! The service's refusals as problem+json: each operation area's error type
//! mapped once, here. A failure of the storage beneath is logged (it names
//! tables and constraints, never values) and answered 503 when it passes,
//! 500 otherwise.

use super::problem::ApiError;
use super::request_log::current_id;
use crate::service::{KeyError, ScreeningError, Unexpected};

impl From<Unexpected> for ApiError {
    fn from(e: Unexpected) -> Self {
        if e.is_passing() {
            tracing::warn!(request_id = current_id().as_str(), error = %e, "database unavailable");
            ApiError::Unavailable
        } else {
            tracing::error!(request_id = current_id().as_str(), error = %e, "storage failed");
            ApiError::Internal
        }
    }
}

impl From<ScreeningError> for ApiError {
    fn from(e: ScreeningError) -> Self {
        match e {
            ScreeningError::InvalidAnswers(errors) => ApiError::InvalidAnswers(errors),
            ScreeningError::Invalid(errors) => ApiError::Invalid(errors),
            ScreeningError::NotFound => ApiError::NotFound("screening"),
            e @ (ScreeningError::AlreadyReviewed
            | ScreeningError::AnswersFrozen
            | ScreeningError::ChangedMeanwhile) => ApiError::Conflict(e.to_string()),
            ScreeningError::Changed(changed) => ApiError::PreconditionFailed(changed),
            ScreeningError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            ScreeningError::Unexpected(e) => e.into(),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::NotFound => ApiError::NotFound("key"),
            e @ (KeyError::OwnKey | KeyError::LastAdmin(_)) => ApiError::Conflict(e.to_string()),
            KeyError::Unexpected(e) => e.into(),
        }
    }
}
