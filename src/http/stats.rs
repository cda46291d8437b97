//! `GET /v1/stats`: the clinic's screenings over a period, for the
//! programme lead (clinicians and administrators).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::json::Json;
use super::problem::{ApiError, Problem};
use crate::auth::{Action, Caller};
use crate::screening::Period;
use crate::screening::stats::Stats;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Screenings created at or after this time (RFC 3339). Left out: from
    /// the first.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Screenings created before this time (RFC 3339). Left out: until now.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

/// The clinic's statistics over a period.
///
/// How many screenings, what the rules suggested, how many a clinician
/// confirmed or overrode, the override rate of each criterion that drove a
/// suggestion, the median time to review, and the outcomes week by week.
#[utoipa::path(get, path = "/v1/stats", operation_id = "getStats", tag = "screenings", security(("bearer" = [])),
    params(StatsParams),
    responses(
        (status = 200, description = "The statistics of the period", body = Stats),
        (status = 400, description = "A malformed query string (say, a bound given twice)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Intake keys do not see statistics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    query: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    caller.may(Action::ReadStats)?;
    let Query(params) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let mut errors = Vec::new();
    let period = Period::parse(params.from.as_deref(), params.to.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(Json(app.stats.of(&caller.clinic, &period).await?))
}
