//! Screenings: create, read, the review queue, review, correct, history.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::extract::{AnswersBody, JsonBody};
use super::openapi::AnswersSchema;
use super::problem::{ApiError, Problem};
use crate::auth::{Action, Caller};
use crate::questionnaire::{Answers, FieldError};
use crate::rules::Outcome;
use crate::screening::record::{
    Event, EventKind, IdempotencyKey, ReviewRequest, ScreeningSummary, timestamp,
};
use crate::screening::{Screening, ScreeningId, Status, evaluate};
use crate::store::{ListFilter, NewScreening, StoreError};

const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("screening"),
            StoreError::Conflict(why) => ApiError::Conflict(why.into()),
            StoreError::IdempotencyMismatch => ApiError::IdempotencyKeyReused,
            StoreError::Db(_) | StoreError::Corrupt(_) => {
                // The error names tables and constraints, never values.
                tracing::error!(error = %e, "storage failed");
                ApiError::Internal
            }
        }
    }
}

fn location(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("/v1/screenings/{id}")).expect("a uuid is a valid header")
}

/// A screening id from the path; anything that is not one does not exist.
fn screening_id(raw: &str) -> Result<String, ApiError> {
    ScreeningId::parse(raw)
        .map(|id| id.to_string())
        .ok_or(ApiError::NotFound("screening"))
}

/// The caller's clinic's screening with this id; another clinic's is 404,
/// exactly as if it did not exist.
async fn find(app: &AppState, caller: &Caller, raw_id: &str) -> Result<Screening, ApiError> {
    let id = screening_id(raw_id)?;
    app.store
        .get(&caller.clinic, &id)
        .await?
        .ok_or(ApiError::NotFound("screening"))
}

/// As `find`, and still pending review (409 otherwise, saying `why`).
async fn find_pending(
    app: &AppState,
    caller: &Caller,
    raw_id: &str,
    why: &str,
) -> Result<Screening, ApiError> {
    let screening = find(app, caller, raw_id).await?;
    if screening.status != Status::PendingReview {
        return Err(ApiError::Conflict(why.into()));
    }
    Ok(screening)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(IdempotencyKey::parse)
            .map(Some)
            .ok_or(ApiError::InvalidHeader(
                "Idempotency-Key",
                "expected 1 to 128 visible ASCII characters",
            )),
    }
}

/// Parses and evaluates answers: the stored JSON of each, and the outcome.
fn evaluate_json(
    app: &AppState,
    json: &serde_json::Value,
) -> Result<(String, String, Outcome), ApiError> {
    let answers = Answers::parse(&app.rules.fields, json).map_err(ApiError::InvalidAnswers)?;
    let evaluation = evaluate(&app.rules, &answers, chrono::Utc::now());
    let answers_json = answers.to_json(&app.rules.fields).to_string();
    let evaluation_json = serde_json::to_string(&evaluation).map_err(|_| ApiError::Internal)?;
    Ok((answers_json, evaluation_json, evaluation.outcome))
}

/// Create a screening.
///
/// Evaluates the answers and stores them with the evaluation exactly as
/// issued; the screening waits for a clinician's review. Send an
/// `Idempotency-Key` to retry safely: the same key with the same answers
/// returns the same screening; with other answers it is refused.
#[utoipa::path(post, path = "/v1/screenings", tag = "screenings",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 128 visible ASCII characters, unique per request; kept for at least 24 hours")),
    request_body(content = AnswersSchema, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored, pending review (or the screening an earlier request with this key created)", body = Screening,
            headers(("Location" = String, description = "/v1/screenings/{id}"))),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers, or an idempotency key reused with other answers", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "create_screening", skip_all)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AnswersBody(json): AnswersBody,
) -> Result<Response, ApiError> {
    caller.may(Action::CreateScreening)?;
    let key = idempotency_key(&headers)?;
    let (answers, evaluation, suggested) = evaluate_json(&app, &json)?;
    let request_hash = hex::encode(Sha256::digest(answers.as_bytes()));
    let created = app
        .store
        .create(
            NewScreening {
                clinic: caller.clinic.clone(),
                suggested,
                answers,
                evaluation,
                request_hash,
                at: timestamp(chrono::Utc::now()),
                actor: caller.actor(),
            },
            key.as_ref(),
        )
        .await?;
    tracing::info!(
        outcome = suggested.as_str(),
        replayed = created.replayed,
        "screening created"
    );
    let mut res = (StatusCode::CREATED, Json(&created.screening)).into_response();
    res.headers_mut()
        .insert(header::LOCATION, location(&created.screening.id));
    if created.replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// Read a screening as stored.
///
/// The evaluation is the one issued when the answers were given: it is never
/// recomputed with newer rules.
#[utoipa::path(get, path = "/v1/screenings/{id}", tag = "screenings",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = Screening),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Screening>, ApiError> {
    caller.may(Action::ReadScreening)?;
    let screening = find(&app, &caller, &id).await?;
    // Who looked at which record, and when.
    let at = timestamp(chrono::Utc::now());
    app.store
        .record_event(&screening.id, EventKind::Viewed, &at, &caller.actor(), "{}")
        .await?;
    Ok(Json(screening))
}

/// Filters of the review queue.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; `list_filter` parses them, naming each bad one
pub struct ListParams {
    /// `pending_review` for the review queue.
    status: Option<Status>,
    /// The suggested outcome.
    outcome: Option<Outcome>,
    /// Created at or after this time (RFC 3339).
    created_from: Option<String>,
    /// Created before this time (RFC 3339).
    created_before: Option<String>,
    /// Page size, 1 to 100 (default 50).
    limit: Option<u32>,
    /// From the `next` link of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScreeningPage {
    /// Oldest first.
    pub items: Vec<ScreeningSummary>,
    /// The next page, or null on the last one.
    pub next: Option<String>,
}

fn parse_time(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(timestamp(t.to_utc())),
        Err(_) => {
            errors.push(FieldError {
                field: field.into(),
                message: "expected an RFC 3339 time such as 2026-11-25T09:00:00Z".into(),
            });
            None
        }
    }
}

fn encode_cursor(created_at: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at}\n{id}"))
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once('\n')?;
    ScreeningId::parse(id)?;
    chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some((at.to_string(), id.to_string()))
}

fn list_filter(
    clinic: &str,
    pairs: &[(String, String)],
) -> Result<(ListFilter, Vec<(String, String)>), ApiError> {
    let mut errors = Vec::new();
    let mut f = ListFilter {
        clinic: clinic.into(),
        limit: DEFAULT_PAGE,
        ..ListFilter::default()
    };
    let mut kept = Vec::new();
    for (name, value) in pairs {
        let mut bad = |message: String| {
            errors.push(FieldError {
                field: name.clone(),
                message,
            })
        };
        match name.as_str() {
            "status" => match Status::parse(value) {
                Some(s) => f.status = Some(s),
                None => bad("expected pending_review, confirmed or overridden".into()),
            },
            "outcome" => match value.parse::<Outcome>() {
                Ok(o) => f.outcome = Some(o),
                Err(()) => bad(format!(
                    "expected one of: {}",
                    Outcome::ALL.map(Outcome::as_str).join(", ")
                )),
            },
            "created_from" => f.created_from = parse_time(name, value, &mut errors),
            "created_before" => f.created_before = parse_time(name, value, &mut errors),
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => f.limit = n,
                _ => bad(format!("expected a page size from 1 to {MAX_PAGE}")),
            },
            "cursor" => match decode_cursor(value) {
                Some(c) => f.after = Some(c),
                None => bad("expected the cursor of a `next` link".into()),
            },
            _ => bad("unknown parameter; expected status, outcome, created_from, created_before, limit or cursor".into()),
        }
        if name != "cursor" {
            kept.push((name.clone(), value.clone()));
        }
    }
    if errors.is_empty() {
        Ok((f, kept))
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// The review queue: screenings oldest first.
///
/// Filter by status (`pending_review` for the queue), suggested outcome and
/// creation time; follow `next` for the following page.
#[utoipa::path(get, path = "/v1/screenings", tag = "screenings",
    params(ListParams),
    responses(
        (status = 200, body = ScreeningPage),
        (status = 422, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<ScreeningPage>, ApiError> {
    caller.may(Action::ListScreenings)?;
    let Query(pairs) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let (mut filter, kept) = list_filter(&caller.clinic, &pairs)?;
    let page = filter.limit;
    filter.limit = page + 1;
    let mut items = app.store.list(&filter).await?;
    let next = if items.len() > page as usize {
        items.truncate(page as usize);
        let last = items.last().expect("a full page has a last item");
        let mut params = kept;
        params.push(("cursor".into(), encode_cursor(&last.created_at, &last.id)));
        let query = serde_urlencoded::to_string(&params).map_err(|_| ApiError::Internal)?;
        Some(format!("/v1/screenings?{query}"))
    } else {
        None
    };
    Ok(Json(ScreeningPage { items, next }))
}

/// Confirm or override a suggestion.
///
/// A named clinician confirms the suggested outcome, or overrides it with
/// the final outcome and a reason. A screening is reviewed once: a second
/// review is refused with 409.
#[utoipa::path(post, path = "/v1/screenings/{id}/review", tag = "screenings",
    params(("id" = String, Path, format = Uuid)),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "Reviewed", body = Screening),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid review", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "review_screening", skip_all)]
pub async fn review(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(json): JsonBody,
) -> Result<Json<Screening>, ApiError> {
    caller.may(Action::Review)?;
    let current = find_pending(
        &app,
        &caller,
        &id,
        "the screening has already been reviewed",
    )
    .await?;
    let review = ReviewRequest::parse(
        json,
        current.suggested_outcome,
        timestamp(chrono::Utc::now()),
    )
    .map_err(ApiError::Invalid)?;
    let mut who = caller.actor();
    who.clinician = Some(review.clinician.clone());
    let reviewed = app.store.review(&current, &review, &who).await?;
    tracing::info!(status = reviewed.status.as_str(), "screening reviewed");
    Ok(Json(reviewed))
}

/// Correct the answers before review.
///
/// Replaces the answers and evaluates them again; the previous answers and
/// evaluation stay in the history. Refused with 409 once reviewed.
#[utoipa::path(put, path = "/v1/screenings/{id}/answers", tag = "screenings",
    params(("id" = String, Path, format = Uuid)),
    request_body(content = AnswersSchema, content_type = "application/json"),
    responses(
        (status = 200, description = "Corrected and evaluated again", body = Screening),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "correct_answers", skip_all)]
pub async fn correct(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AnswersBody(json): AnswersBody,
) -> Result<Json<Screening>, ApiError> {
    caller.may(Action::CorrectAnswers)?;
    let current = find_pending(
        &app,
        &caller,
        &id,
        "the screening has been reviewed: its answers can no longer change",
    )
    .await?;
    let (answers, evaluation, suggested) = evaluate_json(&app, &json)?;
    let at = timestamp(chrono::Utc::now());
    let updated = app
        .store
        .correct_answers(
            &current,
            suggested,
            &answers,
            &evaluation,
            &at,
            &caller.actor(),
        )
        .await?;
    Ok(Json(updated))
}

#[derive(Serialize, ToSchema)]
pub struct History {
    /// Oldest first. Events are append-only.
    pub events: Vec<Event>,
}

/// The audit trail of a screening.
#[utoipa::path(get, path = "/v1/screenings/{id}/history", tag = "screenings",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = History),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<History>, ApiError> {
    caller.may(Action::ReadHistory)?;
    let id = screening_id(&id)?;
    let events = app
        .store
        .history(&caller.clinic, &id)
        .await?
        .ok_or(ApiError::NotFound("screening"))?;
    Ok(Json(History { events }))
}
