//! `GET /v1/export`: the clinic's record as NDJSON, streamed (administrators).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use crate::auth::{Action, Caller};
use crate::questionnaire::FieldError;
use crate::screening::record::{Period, timestamp};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Screenings created at or after this time (RFC 3339); from the first when left out.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Screenings created before this time (RFC 3339); until now when left out.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
    /// `ndjson` (the default): one `{screening, history}` per line; `fhir`:
    /// a FHIR R4 Bundle (collection) with, per screening, its
    /// QuestionnaireResponse and its suggestion as a GuidanceResponse that
    /// records the clinician's decision.
    #[param(value_type = Option<String>, pattern = "^(ndjson|fhir)$")]
    format: Option<String>,
}

/// Each screening as a Bundle's two entries: the answers as a
/// QuestionnaireResponse, the suggestion as a GuidanceResponse.
fn fhir_entries(
    rules: &crate::rules::RuleSet,
    line: &crate::store::ExportLine,
) -> [serde_json::Value; 2] {
    use serde_json::{Value, json};
    let s = &line.screening;
    let answers: Value = serde_json::from_str(s.answers.get()).unwrap_or(Value::Null);
    let evaluation: Value = serde_json::from_str(s.evaluation.get()).unwrap_or(Value::Null);
    let review = s
        .review
        .as_ref()
        .map(|r| serde_json::to_value(r).expect("a review serializes"));
    let qr_id = s.id.to_string();
    let gr_id = uuid::Uuid::new_v4().to_string();
    // Under the questionnaire version they were answered under, with any
    // answer the one in use does not ask kept apart, never dropped.
    let qr = crate::fhir::response_from_answers(
        rules,
        &answers,
        evaluation["questionnaire_version"].as_str(),
        &qr_id,
        &s.created_at,
    );
    let gr = crate::fhir::guidance_response(
        &gr_id,
        &format!("urn:uuid:{qr_id}"),
        &evaluation,
        review.as_ref(),
    );
    [
        json!({"fullUrl": format!("urn:uuid:{qr_id}"), "resource": qr}),
        json!({"fullUrl": format!("urn:uuid:{gr_id}"), "resource": gr}),
    ]
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
        (status = 200, description = "ndjson: one JSON object per line, {screening, history}; fhir: a FHIR R4 Bundle", content(
            (String = "application/x-ndjson"),
            (Object = "application/fhir+json"),
        )),
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
    let period = Period::parse(params.from.as_deref(), params.to.as_deref(), &mut errors);
    let fhir = match params.format.as_deref() {
        None | Some("ndjson") => false,
        Some("fhir") => true,
        Some(_) => {
            errors.push(FieldError {
                field: "format".into(),
                message: "expected ndjson or fhir".into(),
            });
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    app.store
        .record_export(&caller.clinic, &caller.actor(), &period)
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (store, clinic, rules) = (
        app.store.clone(),
        caller.clinic.clone(),
        app.rules.current(),
    );
    let request_id = current_id();
    tokio::spawn(async move {
        let result = if fhir {
            let head = serde_json::json!({
                "resourceType": "Bundle",
                "id": uuid::Uuid::new_v4().to_string(),
                "type": "collection",
                "timestamp": timestamp(Utc::now()),
            })
            .to_string();
            // The Bundle's head without its closing brace, then the entries.
            let opening = format!("{},\"entry\":[", &head[..head.len() - 1]).into_bytes();
            let mut first = opening.clone();
            let mut started = false;
            let render = |line: crate::store::ExportLine| {
                let mut out = std::mem::take(&mut first);
                for entry in fhir_entries(&rules, &line) {
                    if started {
                        out.push(b',');
                    }
                    started = true;
                    out.extend(serde_json::to_vec(&entry).expect("an entry serializes"));
                    out.push(b'\n');
                }
                out
            };
            let sent = store.export(&clinic, &period, render, &tx).await;
            let tail: &[u8] = b"]}\n";
            match sent {
                // No screening at all: the head still goes first.
                Ok(0) => {
                    let _ = tx.send(Ok([opening.as_slice(), tail].concat())).await;
                    Ok(0)
                }
                Ok(n) => {
                    let _ = tx.send(Ok(tail.to_vec())).await;
                    Ok(n)
                }
                e => e,
            }
        } else {
            let render = |line: crate::store::ExportLine| {
                let mut bytes = serde_json::to_vec(&line).expect("an export line serializes");
                bytes.push(b'\n');
                bytes
            };
            store.export(&clinic, &period, render, &tx).await
        };
        match result {
            Ok(n) => tracing::info!(
                request_id = request_id.as_str(),
                screenings = n,
                "export sent"
            ),
            Err(e) => {
                tracing::error!(request_id = request_id.as_str(), error = %e, "export failed midway");
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
    let (content_type, disposition) = if fhir {
        (
            "application/fhir+json",
            "attachment; filename=\"facet-screen-export.json\"",
        )
    } else {
        (
            "application/x-ndjson",
            "attachment; filename=\"facet-screen-export.ndjson\"",
        )
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    Ok(res)
}
