//! FHIR routes: the questionnaire as a FHIR R4 `Questionnaire`, read and
//! search. Answers come in as a `QuestionnaireResponse` on the usual routes
//! (`POST /v1/evaluations`, `POST /v1/screenings`) with
//! `Content-Type: application/fhir+json`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::json::Json;
use super::problem::{ApiError, Problem};
use crate::fhir::{self, Bundle, BundleEntry, BundleSearch, Issue, OperationOutcome};

pub const FHIR_JSON: &str = "application/fhir+json";

fn fhir_response(value: impl Serialize) -> Response {
    let mut res = Json(value).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

/// The questionnaire as a FHIR R4 Questionnaire.
#[utoipa::path(get, path = "/fhir/Questionnaire/{id}", operation_id = "readFhirQuestionnaire", tag = "fhir",
    params(("id" = String, Path, description = "The questionnaire's FHIR id, e.g. facet-screen-intake-v1")),
    responses(
        (status = 200, description = "A FHIR R4 Questionnaire", content_type = "application/fhir+json", body = fhir::Questionnaire),
        (status = 404, description = "No such questionnaire", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let rules = app.rules.current();
    if id != fhir::resource_id(&rules) {
        return Err(ApiError::NotFound("questionnaire"));
    }
    Ok(fhir_response(fhir::questionnaire(&rules)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// The canonical URL, optionally with `|version`.
    url: Option<String>,
}

/// Search questionnaires by canonical URL: a FHIR searchset Bundle.
#[utoipa::path(get, path = "/fhir/Questionnaire", operation_id = "searchFhirQuestionnaires", tag = "fhir", params(Search),
    responses(
        (status = 200, description = "A FHIR searchset Bundle", content_type = "application/fhir+json", body = Bundle),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(app): State<AppState>,
    query: Result<Query<Search>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query
        .map_err(|_| ApiError::InvalidHeader("query", "expected ?url=<canonical>[|version]"))?;
    let rules = app.rules.current();
    let canonical = fhir::canonical(&rules);
    let matches = match query.url {
        None => true,
        Some(url) => {
            let (u, v) = url.split_once('|').unwrap_or((&url, ""));
            u == canonical && (v.is_empty() || v == rules.questionnaire.version)
        }
    };
    let entry: Vec<BundleEntry> = if matches {
        vec![BundleEntry {
            full_url: format!("/fhir/Questionnaire/{}", fhir::resource_id(&rules)),
            resource: fhir::questionnaire(&rules),
            search: BundleSearch {
                mode: "match".into(),
            },
        }]
    } else {
        vec![]
    };
    Ok(fhir_response(Bundle {
        resource_type: fhir::BundleType::Bundle,
        kind: fhir::SearchSet::Searchset,
        total: entry.len(),
        entry,
    }))
}

/// For a client that asks for FHIR (`Accept: application/fhir+json`), an
/// error is a FHIR `OperationOutcome` instead of problem+json: the answer
/// `res` to a request that asked for FHIR (`wants_fhir`), as it is given.
pub async fn outcome_for_fhir_clients(wants_fhir: bool, res: Response) -> Response {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == super::problem::PROBLEM_JSON.as_bytes());
    if !wants_fhir || !is_problem {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Our own problem document, bounded by `MAX_ERRORS`: not the request's
    // body limit, which it can exceed.
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return ApiError::Internal.into_response();
    };
    let Ok(problem) = serde_json::from_slice::<super::problem::Problem>(&bytes) else {
        return ApiError::Internal.into_response();
    };
    let body = serde_json::to_vec(&operation_outcome(&problem)).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A problem as a FHIR `OperationOutcome`, with an issue per bad field.
pub fn operation_outcome(problem: &Problem) -> OperationOutcome {
    let code = match problem.status {
        400 => "structure",
        401 | 403 => "security",
        404 => "not-found",
        409 => "conflict",
        413 => "too-long",
        422 => "invalid",
        429 => "throttled",
        _ => "exception",
    };
    let issue = |diagnostics: String, expression: Option<Vec<String>>| Issue {
        severity: "error".into(),
        code: code.into(),
        diagnostics,
        expression,
    };
    let mut issues: Vec<Issue> = problem
        .errors
        .iter()
        .map(|e| issue(e.message.clone(), Some(vec![e.field.clone()])))
        .collect();
    if problem.more_errors > 0 {
        issues.push(issue(
            format!("{} more field(s) are not valid", problem.more_errors),
            None,
        ));
    }
    if issues.is_empty() {
        issues.push(issue(problem.detail.clone(), None));
    }
    OperationOutcome {
        resource_type: fhir::OperationOutcomeType::OperationOutcome,
        issue: issues,
    }
}
