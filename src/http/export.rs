//! `GET /v1/export`: the clinic's record as NDJSON, streamed (administrators).
//!
//! Bounded: at most `FACET_SCREEN_MAX_EXPORTS` run at once (one more is answered 429
//! with Retry-After, before any body); each reads the record a page at a
//! time, holding one database connection only while a page is read
//! (`store::export`); one whose client reads nothing for the stall timeout
//! is cut (its connection closed, its slot freed). An export that cannot
//! start says so with its status (503 when the database cannot read its
//! first page); one that fails or is cut midway ends without its last chunk
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
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use super::serve::CutConnection;
use crate::auth::{Action, Caller};
use crate::questionnaire::FieldError;
use crate::screening::{Period, timestamp};
use crate::store::{ExportLine, ExportPages};

/// What a refused export is told: come back in this many seconds.
const RETRY_AFTER_SECS: u64 = 10;

/// Lines (or FHIR entries) handed to the connection ahead of the client.
const QUEUED: usize = 16;

/// The bounds on exports: how many run at once, how long one waits for
/// its client to read.
pub struct Exports {
    slots: Arc<tokio::sync::Semaphore>,
    stall: Duration,
}

impl Exports {
    pub fn new(max: usize, stall: Duration) -> Exports {
        Exports {
            slots: Arc::new(tokio::sync::Semaphore::new(max.max(1))),
            stall,
        }
    }
}

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
/// (`application/x-ndjson`). It streams, so its size has no limit. At most
/// `FACET_SCREEN_MAX_EXPORTS` run at once: one more is answered 429 with
/// Retry-After. A failure midway, or a client that reads nothing for
/// `FACET_SCREEN_EXPORT_STALL_SECS`, cuts the connection before the body's
/// end (no last chunk) rather than end the stream as if it were complete.
/// Every export is recorded (key and range) before the first line.
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
    let Ok(slot) = app.exports.slots.clone().try_acquire_owned() else {
        return Err(ApiError::TooManyExports(RETRY_AFTER_SECS));
    };
    app.store
        .record_export(&caller.clinic, &caller.actor(), &period)
        .await?;
    // The first page before the status: an export that cannot read the
    // record is answered so (503), not with a 200 and nothing after it.
    let mut pages = app.store.export_pages(&caller.clinic, &period);
    let first = pages.next().await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(QUEUED);
    let aborted = Arc::new(AtomicBool::new(false));
    let export = Export {
        pages,
        out: Out {
            format: if fhir {
                Format::Fhir(app.rules.current())
            } else {
                Format::Ndjson
            },
            tx,
            stall: app.exports.stall,
            sent: 0,
            head: fhir.then(bundle_head),
        },
    };
    let (request_id, flag) = (current_id(), aborted.clone());
    tokio::spawn(async move {
        let mut export = export;
        let result = export.send_all(first).await;
        if result.is_err() {
            // Before the sender goes: the body then ends in an error, not
            // as complete.
            flag.store(true, Ordering::Release);
        }
        let (stall, sent) = (export.out.stall, export.out.sent);
        drop(export);
        match result {
            Ok(()) => {
                drop(slot);
                tracing::info!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    "export sent"
                );
            }
            Err(Stop::Gone) => {
                drop(slot);
                tracing::info!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    "export stopped: the client left"
                );
            }
            Err(Stop::Stalled) => {
                // Its client reads nothing: the connection no longer polls
                // the body, so only closing the connection ends it.
                if let Some(Extension(cut)) = cut {
                    cut.cut();
                }
                drop(slot);
                tracing::warn!(
                    request_id = request_id.as_str(),
                    screenings = sent,
                    stall_secs = stall.as_secs(),
                    "export cut: its client read nothing for the stall timeout"
                );
            }
            Err(Stop::Failed(e)) => {
                drop(slot);
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

/// Why an export stopped before its end.
enum Stop {
    /// The client went away.
    Gone,
    /// The client read nothing for the stall timeout.
    Stalled,
    /// The database failed.
    Failed(crate::store::StoreError),
}

enum Format {
    Ndjson,
    /// A Bundle; the rule set whose questionnaire the answers are written to.
    Fhir(Arc<crate::rules::RuleSet>),
}

/// The FHIR Bundle's head without its closing brace, up to its entries.
fn bundle_head() -> Vec<u8> {
    let head = serde_json::json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "type": "collection",
        "timestamp": timestamp(Utc::now()),
    })
    .to_string();
    format!("{},\"entry\":[", &head[..head.len() - 1]).into_bytes()
}

/// One export being sent.
struct Export {
    pages: ExportPages,
    out: Out,
}

impl Export {
    /// Sends every page, starting with `first`; the next page is read
    /// while one is sent.
    async fn send_all(&mut self, first: Option<Vec<ExportLine>>) -> Result<(), Stop> {
        let Export { pages, out } = self;
        let mut page = first;
        while let Some(lines) = page {
            let (sent, next) = tokio::join!(out.lines(lines), pages.next());
            sent?;
            page = next.map_err(Stop::Failed)?;
        }
        out.end().await
    }
}

/// Where an export's bytes go: the connection, through a queue.
struct Out {
    format: Format,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    stall: Duration,
    /// Screenings sent.
    sent: u64,
    /// The Bundle's head, until it goes with the first entries.
    head: Option<Vec<u8>>,
}

impl Out {
    async fn lines(&mut self, lines: Vec<ExportLine>) -> Result<(), Stop> {
        for line in lines {
            let mut out = self.head.take().unwrap_or_default();
            self.render(line, &mut out);
            self.send(out).await?;
            self.sent += 1;
        }
        Ok(())
    }

    /// The end: the Bundle's tail (with its head, when there was no entry).
    async fn end(&mut self) -> Result<(), Stop> {
        if let Format::Fhir(_) = self.format {
            let head = self.head.take().unwrap_or_default();
            self.send([head.as_slice(), b"]}\n"].concat()).await?;
        }
        Ok(())
    }

    fn render(&self, line: ExportLine, out: &mut Vec<u8>) {
        match &self.format {
            Format::Ndjson => {
                serde_json::to_writer(&mut *out, &line).expect("an export line serializes");
                out.push(b'\n');
            }
            Format::Fhir(rules) => {
                for (n, entry) in fhir_entries(rules, &line).iter().enumerate() {
                    // Every entry but the Bundle's first follows a comma.
                    if self.sent > 0 || n > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, entry).expect("an entry serializes");
                    out.push(b'\n');
                }
            }
        }
    }

    /// Hands `bytes` to the connection, waiting at most the stall timeout
    /// for room (the client reading).
    async fn send(&self, bytes: Vec<u8>) -> Result<(), Stop> {
        match tokio::time::timeout(self.stall, self.tx.send(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Gone),
            Err(_) => Err(Stop::Stalled),
        }
    }
}
