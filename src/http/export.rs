//! `GET /v1/export`: the clinic's record as NDJSON, streamed (administrators).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::{ApiError, Problem};
use crate::auth::{Action, Caller};
use crate::questionnaire::FieldError;
use crate::screening::record::timestamp;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Screenings created at or after this time (RFC 3339); from the first when left out.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Screenings created before this time (RFC 3339); until now when left out.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

fn bound(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => Some(timestamp(t.with_timezone(&Utc))),
        Err(_) => {
            errors.push(FieldError {
                field: field.into(),
                message: "expected a time with its offset (RFC 3339), such as 2026-11-01T00:00:00Z"
                    .into(),
            });
            None
        }
    }
}

/// Export the clinic's record.
///
/// Administrators only. Each line is one screening as stored (answers, the
/// evaluation as issued, the review) with its whole history, oldest first
/// (`application/x-ndjson`). It streams, so its size has no limit; a
/// failure midway cuts the connection rather than end the stream as if it
/// were complete. Every export is recorded (key and range) before the first
/// line.
#[utoipa::path(get, path = "/v1/export", operation_id = "exportRecord", tag = "screenings",
    params(ExportParams),
    responses(
        (status = 200, description = "One JSON object per line: {screening, history}", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "A malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "export", skip_all)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may(Action::Export)?;
    let Query(params) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let mut errors = Vec::new();
    let from = bound("from", params.from.as_deref(), &mut errors);
    let to = bound("to", params.to.as_deref(), &mut errors);
    if let (Some(f), Some(t)) = (&from, &to)
        && f >= t
    {
        errors.push(FieldError {
            field: "to".into(),
            message: "must be after `from`".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    app.store
        .record_export(
            &caller.clinic,
            &caller.actor(),
            from.as_deref(),
            to.as_deref(),
        )
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (store, clinic) = (app.store.clone(), caller.clinic.clone());
    tokio::spawn(async move {
        match store
            .export(&clinic, from.as_deref(), to.as_deref(), tx.clone())
            .await
        {
            Ok(n) => tracing::info!(screenings = n, "export sent"),
            Err(e) => {
                tracing::error!(error = %e, "export failed midway");
                let _ = tx
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (line, rx))
    }));
    let mut res = (StatusCode::OK, body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"facet-screen-export.ndjson\""),
    );
    Ok(res)
}
