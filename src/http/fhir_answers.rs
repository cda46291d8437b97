//! Answers sent as a FHIR R4 QuestionnaireResponse: the `/fhir` twins of the
//! answer operations. Each reads the response into our answers by `linkId`
//! and then does exactly what its JSON twin does, with the same answer.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::extract::ResponseBody;
use super::json::Json;
use super::problem::{ApiError, Problem};
use super::screenings::IF_MATCH_DOC;
use super::{AppState, LoggedOutcome};
use crate::auth::Caller;
use crate::fhir::QuestionnaireResponse;
use crate::screening::{Evaluation, Screening};

/// Evaluate a FHIR QuestionnaireResponse.
///
/// The same evaluation as `POST /v1/evaluations`, of answers sent as a
/// QuestionnaireResponse to this service's Questionnaire
/// (`GET /fhir/Questionnaire/{id}`; linkIds are the answer ids). Nothing is
/// stored.
#[utoipa::path(post, path = "/v1/evaluations/fhir", operation_id = "evaluateQuestionnaireResponse", tag = "evaluations", security(("bearer" = [])),
    request_body(content = QuestionnaireResponse, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "The candidacy suggestion with its basis", body = Evaluation),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The response does not answer the questionnaire, or some answers do not match it (each named by its linkId)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evaluate(
    State(app): State<AppState>,
    caller: Caller,
    ResponseBody(submitted): ResponseBody,
) -> Result<(Extension<LoggedOutcome>, Json<Evaluation>), ApiError> {
    super::evaluations::evaluate(&app, &caller, submitted)
}

/// Create a screening from a FHIR QuestionnaireResponse.
///
/// The same as `POST /v1/screenings`, with the answers sent as a
/// QuestionnaireResponse: evaluated, stored with the evaluation as issued,
/// pending a clinician's review. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/screenings/fhir", operation_id = "createScreeningFromQuestionnaireResponse", tag = "screenings", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = r"^[!-~]{1,128}$", description = "1 to 128 visible ASCII characters, unique per request; kept for 24 hours")),
    request_body(content = QuestionnaireResponse, content_type = "application/fhir+json"),
    responses(
        (status = 201, description = "Stored, pending review (or the screening an earlier request with this key created, as it is now)", body = Screening,
            headers(("Location" = String, description = "/v1/screenings/{id}"),
                ("ETag" = String, description = "The screening's entity tag: send it as `If-Match` to correct or review this version"))),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers (each named by its linkId), or an idempotency key reused with other answers", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ResponseBody(submitted): ResponseBody,
) -> Result<Response, ApiError> {
    super::screenings::created(&app, &caller, &headers, submitted).await
}

/// Correct the answers before review, from a FHIR QuestionnaireResponse.
///
/// The same as `PUT /v1/screenings/{id}/answers`, with the answers sent as
/// a QuestionnaireResponse. Send the `ETag` of the screening as it was read
/// as `If-Match`.
#[utoipa::path(put, path = "/v1/screenings/{id}/answers/fhir", operation_id = "correctAnswersFromQuestionnaireResponse", tag = "screenings", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("If-Match" = Option<String>, Header, description = IF_MATCH_DOC)),
    request_body(content = QuestionnaireResponse, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "Corrected and evaluated again", body = Screening,
            headers(("ETag" = String, description = "The screening's entity tag, for the next change"))),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or changed meanwhile (without `If-Match`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read (`If-Match` names another version): nothing recorded. `changed` says by whom, when, and the `ETag` now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid answers (each named by its linkId)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "correct_answers", skip_all)]
pub async fn correct(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ResponseBody(submitted): ResponseBody,
) -> Result<Response, ApiError> {
    super::screenings::corrected(&app, &caller, &id, &headers, submitted).await
}
