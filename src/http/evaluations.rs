//! `POST /v1/evaluations`: answers in, suggestion out; nothing stored.

use axum::Extension;
use axum::extract::State;

use super::answers_schema::AnswersSchema;
use super::extract::AnswersBody;
use super::json::Json;
use super::problem::{ApiError, Problem};
use super::{AppState, LoggedOutcome};
use crate::auth::{Action, Caller};
use crate::screening::Evaluation;
use crate::service::Submitted;

/// Evaluate a patient's answers.
///
/// Validates the answers against the questionnaire and evaluates the rules
/// with three-valued logic: an unanswered question is unknown, never "no".
/// Stateless: nothing is stored. The result is a suggestion for a clinician
/// to confirm.
///
/// Deprecated input: a FHIR QuestionnaireResponse sent here
/// (`Content-Type: application/fhir+json`) is still answered as before for
/// a deprecation period, with `Deprecation` and
/// `Link: </v1/evaluations/fhir>; rel="successor-version"` headers. Send it
/// to `POST /v1/evaluations/fhir` instead.
#[utoipa::path(post, path = "/v1/evaluations", operation_id = "evaluate", tag = "evaluations", security(("bearer" = [])),
    request_body(content = AnswersSchema, content_type = "application/json"),
    responses(
        (status = 200, description = "The candidacy suggestion with its basis", body = Evaluation),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Some answers do not match the questionnaire", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    AnswersBody(submitted): AnswersBody,
) -> Result<(Extension<LoggedOutcome>, Json<Evaluation>), ApiError> {
    evaluate(&app, &caller, submitted)
}

/// The evaluation of answers however they were sent.
pub(super) fn evaluate(
    app: &AppState,
    caller: &Caller,
    submitted: Submitted,
) -> Result<(Extension<LoggedOutcome>, Json<Evaluation>), ApiError> {
    caller.may(Action::Evaluate)?;
    let evaluation = app.screenings.evaluate(submitted)?;
    Ok((
        Extension(LoggedOutcome(evaluation.outcome.as_str())),
        Json(evaluation),
    ))
}
