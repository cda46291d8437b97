//! Liveness and readiness.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::json::Json;
use super::request_log::current_id;
use crate::screening::evaluation::RulesetRef;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    pub questionnaire_version: String,
    pub ruleset: RulesetRef,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The rule set is loaded and checked, and the database answers.
#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database does not answer", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(
    State(app): State<AppState>,
) -> Result<Json<Readiness>, super::problem::ApiError> {
    app.readiness.check().await.map_err(|e| {
        tracing::warn!(request_id = current_id().as_str(), error = %e, "database not ready");
        super::problem::ApiError::Unavailable
    })?;
    let rules = app.rules.current();
    Ok(Json(Readiness {
        status: "ready",
        questionnaire_version: rules.questionnaire.version.clone(),
        ruleset: rules.reference(),
    }))
}
