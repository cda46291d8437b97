//! `GET /v1/questionnaire`: the questions as data, enough to render a form.

use axum::extract::State;

use super::AppState;
use super::json::Json;
use crate::questionnaire::Questionnaire;

/// The questionnaire.
///
/// Sections in order, items with their question, help, answer type, unit,
/// range, options, whether each is required and when it is shown. A form can
/// be rendered from this alone.
#[utoipa::path(get, path = "/v1/questionnaire", operation_id = "getQuestionnaire", tag = "questionnaire",
    responses((status = 200, description = "The questionnaire", body = Questionnaire)))]
pub async fn get(State(app): State<AppState>) -> Json<Questionnaire> {
    Json(app.rules.current().questionnaire.clone())
}

/// The rule set's published sources, by id, with the rule set they belong to.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Sources {
    pub ruleset: crate::rules::RulesetRef,
    pub sources: std::collections::BTreeMap<String, crate::rules::Source>,
}

/// The sources the rules cite.
#[utoipa::path(get, path = "/v1/sources", operation_id = "getSources", tag = "questionnaire",
    responses((status = 200, description = "The rule set's sources", body = Sources)))]
pub async fn sources(State(app): State<AppState>) -> Json<Sources> {
    let rules = app.rules.current();
    Json(Sources {
        ruleset: rules.reference(),
        sources: rules.sources.clone(),
    })
}
