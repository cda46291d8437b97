//! Screenings: create, read, the review queue, review, correct (the
//! history is `super::history`).
//! Each handler parses, calls `crate::service`, and maps the result.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::answers_schema::AnswersSchema;
use super::extract::{AnswersBody, JsonBody};
use super::json::Json;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use super::{AppState, LoggedOutcome};
use crate::auth::{Action, Caller, Clinic};
use crate::questionnaire::FieldError;
use crate::rules::Outcome;
use crate::screening::queue::{Cursor, ListFilter, Order};
use crate::screening::review::ReviewRequest;
use crate::screening::version::{IfMatch, Version};
use crate::screening::{IdempotencyKey, ScreeningSummary, timestamp};
use crate::screening::{Screening, ScreeningId, Status};
use crate::service::Submitted;

const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

// PANIC SAFETY: a path and a uuid are visible ASCII, valid in a header.
#[allow(clippy::expect_used)]
fn location(id: ScreeningId) -> HeaderValue {
    HeaderValue::from_str(&format!("/v1/screenings/{id}")).expect("a uuid is a valid header")
}

/// A screening id from the path; anything that is not one does not exist.
fn screening_id(raw: &str) -> Result<ScreeningId, ApiError> {
    ScreeningId::parse(raw).ok_or(ApiError::NotFound("screening"))
}

/// The screening as JSON, with its `ETag`: what a client sends back in
/// `If-Match` to change the version it read, and only that one.
// PANIC SAFETY: a tag is a number in quotes, valid in a header.
#[allow(clippy::expect_used)]
fn with_etag(status: StatusCode, screening: &Screening) -> Response {
    let mut res = (status, Json(screening)).into_response();
    let tag = Version::of(screening).etag();
    res.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&tag).expect("a tag is a valid header"),
    );
    res
}

/// The request's `If-Match` condition; 400 when it is malformed.
fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    IfMatch::parse(headers.get_all(header::IF_MATCH).iter().map(|v| v.as_bytes())).map_err(|_| {
        ApiError::InvalidHeader(
            "If-Match",
            "expected the ETag of the screening as it was read, quotes included (such as \"2\"), a comma-separated list of them, or *",
        )
    })
}

/// How `If-Match` is documented on the operations that honour it.
pub(super) const IF_MATCH_DOC: &str = "The `ETag` of the screening as it was read (quotes included). Send it: the request is then refused with 412, and nothing recorded, if the screening has changed since. Strong comparison (a weak tag never matches); a list matches if any tag does; `*` matches any version; a malformed one is refused with 400. Without it the request applies to the screening as it is now.";

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

/// Create a screening.
///
/// Evaluates the answers and stores them with the evaluation exactly as
/// issued; the screening waits for a clinician's review. Send an
/// `Idempotency-Key` to retry safely: the same key with the same answers
/// returns the same screening; with other answers it is refused.
///
/// Deprecated input: a FHIR QuestionnaireResponse sent here
/// (`Content-Type: application/fhir+json`) is still answered as before for
/// a deprecation period, with `Deprecation` and
/// `Link: </v1/screenings/fhir>; rel="successor-version"` headers. Send it
/// to `POST /v1/screenings/fhir` instead.
#[utoipa::path(post, path = "/v1/screenings", operation_id = "createScreening", tag = "screenings", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = r"^[!-~]{1,128}$", description = "1 to 128 visible ASCII characters, unique per request; kept for 24 hours")),
    request_body(content = AnswersSchema, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored, pending review (or the screening an earlier request with this key created, as it is now)", body = Screening,
            headers(("Location" = String, description = "/v1/screenings/{id}"),
                ("ETag" = String, description = "The screening's entity tag: send it as `If-Match` to correct or review this version"))),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers, or an idempotency key reused with other answers", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AnswersBody(submitted): AnswersBody,
) -> Result<Response, ApiError> {
    created(&app, &caller, &headers, submitted).await
}

/// A screening created from answers however they were sent.
pub(super) async fn created(
    app: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    submitted: Submitted,
) -> Result<Response, ApiError> {
    caller.may(Action::CreateScreening)?;
    let key = idempotency_key(headers)?;
    let created = app
        .screenings
        .create(&caller.clinic, caller.actor(), submitted, key)
        .await?;
    let mut res = with_etag(StatusCode::CREATED, &created.screening);
    res.extensions_mut()
        .insert(LoggedOutcome(created.screening.suggested_outcome.as_str()));
    res.headers_mut()
        .insert(header::LOCATION, location(created.screening.id));
    if created.replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// Read a screening as stored.
///
/// The evaluation is the one issued when the answers were given: it is never
/// recomputed with newer rules. The `ETag` names this version: send it as
/// `If-Match` with a review or a correction.
#[utoipa::path(get, path = "/v1/screenings/{id}", operation_id = "getScreening", tag = "screenings", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The screening as stored", body = Screening,
            headers(("ETag" = String, description = "The screening's entity tag: `\"2\"` for answers version 2 pending review, another once reviewed; opaque to clients"))),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.may(Action::ReadScreening)?;
    let id = screening_id(&id)?;
    let screening = app
        .screenings
        .read(&caller.clinic, id, &caller.actor())
        .await?;
    Ok(with_etag(StatusCode::OK, &screening))
}

/// Filters of the review queue: documented and parsed from this one struct.
/// Every value is read as text first, so that each bad one is named.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `pending_review` for the review queue.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// The suggested outcome.
    #[param(value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_from: Option<String>,
    /// Created before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_before: Option<String>,
    /// The clinic's patient reference, exactly: a patient's screenings, for
    /// a records request.
    #[param(value_type = Option<String>, min_length = 1, max_length = 64)]
    external_ref: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `created` (oldest first, the default) or `priority` (urgent first,
    /// then by the suggestion's precedence, then oldest).
    #[param(value_type = Option<String>, pattern = "^(created|priority)$")]
    sort: Option<String>,
    /// From the `next` link of the previous page.
    cursor: Option<String>,
    /// Anything else is refused, by name.
    #[serde(flatten)]
    #[param(ignore)]
    unknown: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScreeningPage {
    /// Oldest first.
    pub items: Vec<ScreeningSummary>,
    /// The next page, or null on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// Where a page ended: the row's priority, creation time and id, opaque to
/// the client.
fn encode_cursor(next: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}\n{}\n{}",
        next.priority, next.created_at, next.id
    ))
}

fn decode_cursor(cursor: &str) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(3, '\n');
    let priority = parts.next()?.parse().ok()?;
    let (at, id) = (parts.next()?, parts.next()?);
    ScreeningId::parse(id)?;
    chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some(Cursor {
        priority,
        created_at: at.to_string(),
        id: id.to_string(),
    })
}

impl ListParams {
    /// The store's filter for `clinic`, and the query to repeat in `next`;
    /// each bad parameter named.
    fn filter(self, clinic: Clinic) -> Result<(ListFilter, Vec<(String, String)>), ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let mut f = ListFilter::for_clinic(clinic, DEFAULT_PAGE);
        let mut kept = Vec::new();
        if let Some(v) = &self.status {
            match v.parse::<Status>() {
                Ok(s) => f.status = Some(s),
                Err(_) => bad(
                    "status",
                    "expected pending_review, confirmed or overridden".into(),
                ),
            }
            kept.push(("status".to_string(), v.clone()));
        }
        if let Some(v) = &self.outcome {
            match v.parse::<Outcome>() {
                Ok(o) => f.outcome = Some(o),
                Err(_) => bad(
                    "outcome",
                    format!(
                        "expected one of: {}",
                        Outcome::ALL.map(Outcome::as_str).join(", ")
                    ),
                ),
            }
            kept.push(("outcome".to_string(), v.clone()));
        }
        for (name, value, slot) in [
            ("created_from", &self.created_from, &mut f.created_from),
            (
                "created_before",
                &self.created_before,
                &mut f.created_before,
            ),
        ] {
            if let Some(v) = value {
                match chrono::DateTime::parse_from_rfc3339(v) {
                    Ok(t) => *slot = Some(timestamp(t.to_utc())),
                    Err(_) => bad(
                        name,
                        "expected an RFC 3339 time such as 2026-11-25T09:00:00Z".into(),
                    ),
                }
                kept.push((name.to_string(), v.clone()));
            }
        }
        if let Some(v) = &self.external_ref {
            if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
                bad(
                    "external_ref",
                    "expected the patient's reference: 1 to 64 printable characters".into(),
                );
            } else {
                f.external_ref = Some(v.clone());
            }
            kept.push(("external_ref".to_string(), v.clone()));
        }
        if let Some(v) = &self.limit {
            match v.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => f.limit = n,
                _ => bad(
                    "limit",
                    format!("expected a page size from 1 to {MAX_PAGE}"),
                ),
            }
            kept.push(("limit".to_string(), v.clone()));
        }
        if let Some(v) = &self.sort {
            match v.as_str() {
                "created" => f.order = Order::Created,
                "priority" => f.order = Order::Priority,
                _ => bad("sort", "expected created or priority".into()),
            }
            kept.push(("sort".to_string(), v.clone()));
        }
        if let Some(v) = &self.cursor {
            match decode_cursor(v) {
                Some(c) => f.after = Some(c),
                None => bad("cursor", "expected the cursor of a `next` link".into()),
            }
        }
        for name in self.unknown.keys() {
            bad(
                name,
                "unknown parameter; expected status, outcome, created_from, created_before, external_ref, sort, limit or cursor".into(),
            );
        }
        if errors.is_empty() {
            Ok((f, kept))
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

/// The review queue: screenings oldest first.
///
/// Filter by status (`pending_review` for the queue), suggested outcome and
/// creation time; follow `next` for the following page.
#[utoipa::path(get, path = "/v1/screenings", operation_id = "listScreenings", tag = "screenings", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of screenings", body = ScreeningPage),
        (status = 400, description = "Malformed JSON, query or header", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ScreeningPage>, ApiError> {
    caller.may(Action::ListScreenings)?;
    let Query(params) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let (filter, mut params) = params.filter(caller.clinic)?;
    let page = app.screenings.list(filter).await?;
    let next = match page.next {
        Some(cursor) => {
            params.push(("cursor".into(), encode_cursor(&cursor)));
            let query = serde_urlencoded::to_string(&params).map_err(|_| ApiError::Internal)?;
            Some(format!("/v1/screenings?{query}"))
        }
        None => None,
    };
    Ok(Json(ScreeningPage {
        items: page.items,
        next,
    }))
}

/// Confirm or override a suggestion.
///
/// A named clinician confirms the suggested outcome, or overrides it with
/// the final outcome and a reason. A screening is reviewed once: a second
/// review is refused with 409. Send the `ETag` of the screening the
/// clinician read as `If-Match`: if its answers were corrected since, the
/// review is refused with 412 and nothing is recorded.
#[utoipa::path(post, path = "/v1/screenings/{id}/review", operation_id = "reviewScreening", tag = "screenings", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("If-Match" = Option<String>, Header, description = IF_MATCH_DOC)),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "Reviewed", body = Screening,
            headers(("ETag" = String, description = "The screening's entity tag, now reviewed"))),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or changed meanwhile (without `If-Match`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read (`If-Match` names another version): nothing recorded. `changed` says by whom, when, and the `ETag` now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid review", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "review_screening", skip_all)]
pub async fn review(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(json): JsonBody,
) -> Result<Response, ApiError> {
    caller.may(Action::Review)?;
    let id = screening_id(&id)?;
    let if_match = if_match(&headers)?;
    let reviewed = app
        .screenings
        .review(&caller.clinic, id, json, &caller.actor(), if_match.as_ref())
        .await?;
    tracing::info!(
        request_id = current_id().as_str(),
        status = reviewed.status.as_str(),
        "screening reviewed"
    );
    Ok(with_etag(StatusCode::OK, &reviewed))
}

/// Correct the answers before review.
///
/// Replaces the answers and evaluates them again; the previous answers and
/// evaluation stay in the history. Refused with 409 once reviewed. Send the
/// `ETag` of the screening as it was read as `If-Match`: if someone else
/// changed it since, the correction is refused with 412 instead of
/// replacing their answers unseen.
///
/// Deprecated input: a FHIR QuestionnaireResponse sent here
/// (`Content-Type: application/fhir+json`) is still answered as before for
/// a deprecation period, with `Deprecation` and
/// `Link: </v1/screenings/{id}/answers/fhir>; rel="successor-version"`
/// headers. Send it to `PUT /v1/screenings/{id}/answers/fhir` instead.
#[utoipa::path(put, path = "/v1/screenings/{id}/answers", operation_id = "correctAnswers", tag = "screenings", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("If-Match" = Option<String>, Header, description = IF_MATCH_DOC)),
    request_body(content = AnswersSchema, content_type = "application/json"),
    responses(
        (status = 200, description = "Corrected and evaluated again", body = Screening,
            headers(("ETag" = String, description = "The screening's entity tag, for the next change"))),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or changed meanwhile (without `If-Match`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read (`If-Match` names another version): nothing recorded. `changed` says by whom, when, and the `ETag` now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "correct_answers", skip_all)]
pub async fn correct(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    AnswersBody(submitted): AnswersBody,
) -> Result<Response, ApiError> {
    corrected(&app, &caller, &id, &headers, submitted).await
}

/// A screening's answers corrected, however they were sent.
pub(super) async fn corrected(
    app: &AppState,
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    submitted: Submitted,
) -> Result<Response, ApiError> {
    caller.may(Action::CorrectAnswers)?;
    let id = screening_id(id)?;
    let if_match = if_match(headers)?;
    let corrected = app
        .screenings
        .correct(
            &caller.clinic,
            id,
            submitted,
            &caller.actor(),
            if_match.as_ref(),
        )
        .await?;
    Ok(with_etag(StatusCode::OK, &corrected))
}
