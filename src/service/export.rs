//! The clinic's record, exported: each screening as stored (answers, the
//! evaluation as issued, the review) with its whole history, as NDJSON (one
//! `{screening, history}` a line) or as a FHIR R4 Bundle (per screening, its
//! QuestionnaireResponse and its suggestion as a GuidanceResponse).
//!
//! Bounded: at most so many exports run at once (one more is `Busy`, before
//! anything is read). Each is recorded (key and range) before its first
//! page is read, and the first page is read before the caller answers
//! anything, so that an export that cannot read the record says so. Then a
//! page at a time (`store::export`), the next read while one is sent: what
//! an export holds does not grow with the record. How the bytes reach the
//! client, and how long it may take to read them, is the caller's.

mod bundle;

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::rules::RuleSet;
use crate::rules::live::LiveRules;
use crate::screening::{Actor, Clinic, Period};
use crate::store::{ExportLine, ExportPages, Store, StoreError};

use super::Unexpected;

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line, `{screening, history}`.
    Ndjson,
    /// A FHIR R4 Bundle (collection).
    Fhir,
}

/// Why an export did not start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// As many exports as may run at once are running.
    #[error("as many exports as may run at once are running")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Unexpected(e.into())
    }
}

/// Where an export's bytes go (the client's connection).
pub trait Sink {
    /// Why it takes no more (say, the client went away, or stopped reading).
    type Refused;

    fn send(&mut self, bytes: Vec<u8>) -> impl Future<Output = Result<(), Self::Refused>> + Send;
}

/// Why an export stopped before its end: its sink refused (`E`), or the
/// record could not be read.
#[derive(Debug)]
pub enum Stopped<E> {
    Sink(E),
    Failed(Unexpected),
}

/// The exports of one process.
#[derive(Clone)]
pub struct Exports {
    store: Store,
    rules: LiveRules,
    /// One for each export that may run at once.
    slots: Arc<Semaphore>,
}

impl Exports {
    /// At most `max` (at least one) running at once.
    pub fn new(store: Store, rules: LiveRules, max: usize) -> Self {
        Exports {
            store,
            rules,
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }

    /// Starts `actor`'s export of the screenings of `clinic` created in
    /// `period`: takes a slot (`Busy` when none is free), records the
    /// export, and reads its first page.
    pub async fn start(
        &self,
        clinic: &Clinic,
        actor: &Actor,
        period: &Period,
        format: ExportFormat,
    ) -> Result<Export, ExportError> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| ExportError::Busy)?;
        self.store.record_export(clinic, actor, period).await?;
        let mut pages = self.store.export_pages(clinic, period);
        let first = pages.next().await?;
        Ok(Export {
            pages,
            first,
            render: match format {
                ExportFormat::Ndjson => Render::Ndjson,
                ExportFormat::Fhir => Render::Fhir {
                    rules: self.rules.current(),
                    head: Some(bundle::head()),
                    entries: 0,
                },
            },
            sent: 0,
            _slot: slot,
        })
    }
}

/// One export, started: its pages, as they are read, written in its format.
/// Holds its slot until dropped.
pub struct Export {
    pages: ExportPages,
    /// The first page, read by `start`.
    first: Option<Vec<ExportLine>>,
    render: Render,
    /// Screenings sent.
    sent: u64,
    _slot: OwnedSemaphorePermit,
}

impl Export {
    /// Screenings sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Sends every screening, a page at a time, to `sink` (the Bundle's
    /// head with the first), reading the next page while one is sent; then
    /// the end (the Bundle's tail).
    pub async fn send_all<S: Sink>(&mut self, sink: &mut S) -> Result<(), Stopped<S::Refused>> {
        let Export {
            pages,
            first,
            render,
            sent,
            ..
        } = self;
        let mut page = first.take();
        while let Some(lines) = page {
            let out = async {
                for line in lines {
                    sink.send(render.line(line)).await?;
                    *sent += 1;
                }
                Ok(())
            };
            let (out, next) = tokio::join!(out, pages.next());
            out.map_err(Stopped::Sink)?;
            page = next.map_err(|e| Stopped::Failed(e.into()))?;
        }
        match render.end() {
            Some(end) => sink.send(end).await.map_err(Stopped::Sink),
            None => Ok(()),
        }
    }
}

/// How screenings are written.
enum Render {
    Ndjson,
    Fhir {
        /// The rule set whose questionnaire the answers are written to.
        rules: Arc<RuleSet>,
        /// The Bundle's head, until it goes with the first entries.
        head: Option<Vec<u8>>,
        /// Entries written.
        entries: u64,
    },
}

impl Render {
    /// One screening's bytes.
    // PANIC SAFETY: an export line is the service's own types (derived
    // Serialize, string keys only), which serde_json always writes.
    #[allow(clippy::expect_used)]
    fn line(&mut self, line: ExportLine) -> Vec<u8> {
        match self {
            Render::Ndjson => {
                let mut out = serde_json::to_vec(&line).expect("an export line serializes");
                out.push(b'\n');
                out
            }
            Render::Fhir {
                rules,
                head,
                entries,
            } => {
                let mut out = head.take().unwrap_or_default();
                for entry in fhir_entries(rules, &line) {
                    bundle::entry(&mut out, *entries == 0, &entry);
                    *entries += 1;
                }
                out
            }
        }
    }

    /// The end: the Bundle's tail (with its head, when there was no entry).
    fn end(&mut self) -> Option<Vec<u8>> {
        match self {
            Render::Ndjson => None,
            Render::Fhir { head, .. } => {
                let mut out = head.take().unwrap_or_default();
                bundle::tail(&mut out);
                Some(out)
            }
        }
    }
}

/// Each screening as a Bundle's two entries: the answers as a
/// QuestionnaireResponse, the suggestion as a GuidanceResponse.
// PANIC SAFETY: a review derives Serialize with string keys only.
#[allow(clippy::expect_used)]
fn fhir_entries(rules: &RuleSet, line: &ExportLine) -> [Value; 2] {
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
