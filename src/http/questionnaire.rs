//! `GET /v1/questionnaire`: the questions as data, enough to render a form.

use axum::Json;
use axum::extract::State;

use super::AppState;
use crate::questionnaire::Questionnaire;

/// The questionnaire.
///
/// Sections in order, items with their question, help, answer type, unit,
/// range, options, whether each is required and when it is shown. A form can
/// be rendered from this alone.
#[utoipa::path(get, path = "/v1/questionnaire", tag = "questionnaire",
    responses((status = 200, description = "The questionnaire", body = Questionnaire)))]
pub async fn get(State(app): State<AppState>) -> Json<Questionnaire> {
    Json(app.rules.questionnaire.clone())
}
