//! `GET /v1/export`: the clinic's record as NDJSON or a FHIR Bundle,
//! streamed (administrators). What is exported, and how many exports run at
//! once, is `service::export`'s; here, how its bytes reach the client.
//!
//! One more export than may run at once is answered 429 with Retry-After,
//! before any body. An export that cannot start says so with its status
//! (503 when the database cannot read its first page); one whose client
//! reads nothing for the stall timeout is cut (its connection closed, its
//! slot freed); one that fails or is cut midway ends without its last chunk
//! (an aborted chunked body), never as if complete.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use super::serve::CutConnection;
use crate::auth::{Action, Caller};
use crate::questionnaire::FieldError;
use crate::screening::Period;
use crate::service::export::{ExportError, ExportFormat, Sink, Stopped};

/// What a refused export is told: come back in this many seconds.
const RETRY_AFTER_SECS: u64 = 10;

/// Lines (or FHIR entries) handed to the connection ahead of the client.
const QUEUED: usize = 16;

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

/// Export the clinic's record.
///
/// Administrators only. Each line is one screening as stored (answers, the
/// evaluation as issued, the review) with its whole history, oldest first
/// (`application/x-ndjson`). It streams, so its size has no limit. At most
/// `FACET_SCREEN_MAX_EXPORTS` run at once: one more is answered 429 with
/// Retry-After. A failure midway, or a client that reads nothing for
/// `FACET_SCREEN_EXPORT_STALL_SECS`, cuts the connection before the body's
/// end (no last chunk) rather than end the stream as if it were complete.
/// Every export is recorded (key and range) before the first line.
#[utoipa::path(get, path = "/v1/export", operation_id = "exportRecord", tag = "screenings", security(("bearer" = [])),
    params(ExportParams),
    responses(
        (status = 200, description = "ndjson: one JSON object per line, {screening, history}; fhir: a FHIR R4 Bundle", content(
            (String = "application/x-ndjson"),
            (Object = "application/fhir+json"),
        )),
        (status = 400, description = "A malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "as many exports as may run at once are running (with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot read the record now: nothing was sent", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "export", skip_all)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    cut: Option<Extension<CutConnection>>,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may(Action::Export)?;
    let Query(params) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let mut errors = Vec::new();
    let period = Period::parse(params.from.as_deref(), params.to.as_deref(), &mut errors);
    let format = match params.format.as_deref() {
        None | Some("ndjson") => ExportFormat::Ndjson,
        Some("fhir") => ExportFormat::Fhir,
        Some(_) => {
            errors.push(FieldError {
                field: "format".into(),
                message: "expected ndjson or fhir".into(),
            });
            ExportFormat::Ndjson
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut export = app
        .exports
        .start(&caller.clinic, &caller.actor(), &period, format)
        .await
        .map_err(|e| match e {
            ExportError::Busy => ApiError::TooManyExports(RETRY_AFTER_SECS),
            ExportError::Unexpected(e) => e.into(),
        })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(QUEUED);
    let aborted = Arc::new(AtomicBool::new(false));
    let stall = app.export_stall;
    let mut out = Out { tx, stall };
    let (request_id, flag) = (current_id(), aborted.clone());
    tokio::spawn(async move {
        let result = export.send_all(&mut out).await;
        if result.is_err() {
            // Before the sender goes: the body then ends in an error, not
            // as complete.
            flag.store(true, Ordering::Release);
        }
        let sent = export.sent();
        // Its pages and its slot, then the body's sender.
        drop(export);
        drop(out);
        match result {
            Ok(()) => {
                tracing::info!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    "export sent"
                );
            }
            Err(Stopped::Sink(Gone)) => {
                tracing::info!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    "export stopped: the client left"
                );
            }
            Err(Stopped::Sink(Stalled)) => {
                // Its client reads nothing: the connection no longer polls
                // the body, so only closing the connection ends it.
                if let Some(Extension(cut)) = cut {
                    cut.cut();
                }
                tracing::warn!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    stall_secs = stall.as_secs(),
                    "export cut: its client read nothing for the stall timeout"
                );
            }
            Err(Stopped::Failed(e)) => {
                tracing::error!(request_id = request_id.as_str(), screenings = sent, error = %e, "export failed midway");
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(
        (rx, aborted, false),
        |(mut rx, aborted, ended)| async move {
            if ended {
                return None;
            }
            match rx.recv().await {
                Some(bytes) => Some((Ok(bytes), (rx, aborted, false))),
                // Cut or failed: an error aborts the body (no last chunk).
                None if aborted.load(Ordering::Acquire) => Some((
                    Err(std::io::Error::other("the export was cut short")),
                    (rx, aborted, true),
                )),
                None => None,
            }
        },
    ));
    let mut res = (StatusCode::OK, body).into_response();
    let headers = res.headers_mut();
    let (content_type, disposition) = if format == ExportFormat::Fhir {
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

/// Why the client's connection took no more of an export.
enum Refused {
    /// The client went away.
    Gone,
    /// The client read nothing for the stall timeout.
    Stalled,
}
use Refused::{Gone, Stalled};

/// Where an export's bytes go: the connection, through a queue.
struct Out {
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    stall: Duration,
}

impl Sink for Out {
    type Refused = Refused;

    /// Hands `bytes` to the connection, waiting at most the stall timeout
    /// for room (the client reading).
    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), Refused> {
        match tokio::time::timeout(self.stall, self.tx.send(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Gone),
            Err(_) => Err(Stalled),
        }
    }
}
