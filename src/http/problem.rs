//! One error type, rendered the same way everywhere: RFC 9457
//! `application/problem+json`. Messages name fields and what was expected,
//! never the values sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::questionnaire::FieldError;
use crate::screening::events::EventKind;
use crate::service::Changed;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "/problems/invalid-answers")]
    pub type_: String,
    #[schema(example = "Some answers are not valid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    /// For validation problems: each bad field, by path (at most
    /// `MAX_ERRORS`, in path order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many more bad fields there are than `errors` lists.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_errors: usize,
    /// For 412: what the screening is now, and who changed it when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Changed>,
}

/// A problem lists this many bad fields at most: a request of 64 KiB can
/// name thousands, and the answer must stay small.
pub const MAX_ERRORS: usize = 50;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug)]
pub enum ApiError {
    InvalidAnswers(Vec<FieldError>),
    Invalid(Vec<FieldError>),
    MalformedJson(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    NotFound(&'static str),
    MethodNotAllowed,
    Conflict(String),
    /// `If-Match` names no version the screening is at now.
    PreconditionFailed(Box<Changed>),
    IdempotencyKeyReused,
    InvalidHeader(&'static str, &'static str),
    Unavailable,
    Unauthorized(&'static str),
    Forbidden(&'static str),
    TooManyRequests(u64),
    /// As many exports as may run at once are running: retry in so many seconds.
    TooManyExports(u64),
    Internal,
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        let (status, slug, title, detail, errors) = match self {
            ApiError::InvalidAnswers(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-answers",
                "Some answers are not valid",
                format!(
                    "{} answer(s) do not match the questionnaire: see `errors`. Leave an answer out, or send null, when it is unknown.",
                    errors.len()
                ),
                errors.clone(),
            ),
            ApiError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "The request is not valid",
                format!("{} field(s) are not valid: see `errors`.", errors.len()),
                errors.clone(),
            ),
            ApiError::MalformedJson(why) => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
                why.clone(),
                vec![],
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as JSON with `Content-Type: application/json`.".into(),
                vec![],
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The body is too large",
                body_limit_text(),
                vec![],
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("No {what} here."),
                vec![],
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "This route does not accept this method: see /openapi.json.".into(),
                vec![],
            ),
            ApiError::Conflict(why) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                why.clone(),
                vec![],
            ),
            ApiError::PreconditionFailed(changed) => (
                StatusCode::PRECONDITION_FAILED,
                "changed-since-read",
                "The screening changed since it was read",
                changed_text(changed),
                vec![],
            ),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused with other answers",
                "This Idempotency-Key was already used for a request with other answers. Use a new key for a new screening.".into(),
                vec![],
            ),
            ApiError::InvalidHeader(name, expected) => (
                StatusCode::BAD_REQUEST,
                "invalid-header",
                "Invalid request header",
                format!("{name}: {expected}."),
                vec![],
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "The database cannot take the request now. Try again shortly.".into(),
                vec![],
            ),
            ApiError::Unauthorized(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Credentials needed",
                format!("This route needs a valid API key: {why}."),
                vec![],
            ),
            ApiError::Forbidden(role) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this role",
                format!("A key with the {role} role may not do this."),
                vec![],
            ),
            ApiError::TooManyRequests(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                format!("This key is over its request rate limit: retry in {secs} s."),
                vec![],
            ),
            ApiError::TooManyExports(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-exports",
                "Too many exports at once",
                format!(
                    "As many exports as this service runs at once are running: retry in {secs} s."
                ),
                vec![],
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "Something went wrong on our side; nothing was changed by this request. Quote the x-request-id header when you report it.".into(),
                vec![],
            ),
        };
        let more_errors = errors.len().saturating_sub(MAX_ERRORS);
        let mut errors = errors;
        errors.truncate(MAX_ERRORS);
        Problem {
            type_: format!("/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            more_errors,
            changed: match self {
                ApiError::PreconditionFailed(changed) => Some((**changed).clone()),
                _ => None,
            },
        }
    }

    /// A problem for a bare status answered by the framework (408, 413, ...).
    pub fn for_status(status: StatusCode) -> Problem {
        let reason = status.canonical_reason().unwrap_or("Error");
        Problem {
            type_: format!(
                "/problems/{}",
                reason.to_ascii_lowercase().replace(' ', "-")
            ),
            title: reason.into(),
            status: status.as_u16(),
            detail: match status {
                StatusCode::REQUEST_TIMEOUT => {
                    "The request took too long and was abandoned.".into()
                }
                StatusCode::PAYLOAD_TOO_LARGE => body_limit_text(),
                _ => reason.into(),
            },
            errors: vec![],
            more_errors: 0,
            changed: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, super::json::Json(self)).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.problem().into_response();
        let headers = res.headers_mut();
        match &self {
            ApiError::Unauthorized(why) => {
                let value = if why.starts_with("send") {
                    HeaderValue::from_static("Bearer")
                } else {
                    HeaderValue::from_static("Bearer error=\"invalid_token\"")
                };
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
            ApiError::TooManyRequests(secs) | ApiError::TooManyExports(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from((*secs).max(1)));
            }
            ApiError::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        res
    }
}

/// What a 412 says: the change, by whom and when (a key's label and role,
/// a clinician's name: never patient data), and what to do.
fn changed_text(c: &Changed) -> String {
    let mut who = format!("the key \u{201c}{}\u{201d}", c.by.label);
    if let Some(role) = c.role {
        who.push_str(&format!(" ({})", role.as_str()));
    }
    if let Some(clinician) = &c.by.clinician {
        who = format!("{clinician}, through {who}");
    }
    let what = match c.kind {
        EventKind::AnswersCorrected => format!(
            "its answers were corrected by {who} at {}, and the suggestion is now {}",
            c.at,
            c.suggested_outcome.as_str()
        ),
        EventKind::Reviewed => format!("it was reviewed by {who} at {}", c.at),
        _ => format!(
            "If-Match names none of its versions (it was created by {who} at {}, and has not changed since)",
            c.at
        ),
    };
    format!(
        "The screening is no longer as it was read: {what}. Nothing was recorded: read it again (its ETag is now {}) and decide on what it says now.",
        c.etag
    )
}

/// What a 413 says: the limit, from the one constant.
fn body_limit_text() -> String {
    format!(
        "Request bodies are limited to {} KiB.",
        super::BODY_LIMIT / 1024
    )
}
