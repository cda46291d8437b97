//! The operations on screenings, one path each: evaluate answers, create a
//! screening, read it, list the review queue, read its history (its
//! corrections and review are `changes`'s). The HTTP handlers, the CDS
//! Hooks service and the FHIR entry points all call these: answers are
//! parsed and evaluated here, and every read and change leaves its event on
//! the history.

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Unexpected;
use super::changes::Changed;
use crate::questionnaire::{Answers, FieldError};
use crate::rules::RuleSet;
use crate::rules::live::LiveRules;
use crate::screening::history::{self, HistoryCursor, HistoryPage, ViewWindow};
use crate::screening::queue::{Cursor, ListFilter};
use crate::screening::{
    Actor, Clinic, Evaluation, IdempotencyKey, Screening, ScreeningId, ScreeningSummary, Status,
    evaluate, timestamp,
};
use crate::store::{Creation, NewScreening, Store, StoreError, StoredAnswers};

/// Why an operation on a screening did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    /// The answers do not match the questionnaire (each bad field named).
    #[error("invalid answers")]
    InvalidAnswers(Vec<FieldError>),
    /// Another part of the request is not valid (each bad field named).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No such screening in the caller's clinic.
    #[error("no such screening")]
    NotFound,
    /// Reviewed already: a screening is reviewed once.
    #[error("the screening has already been reviewed")]
    AlreadyReviewed,
    /// Reviewed: its answers can no longer be corrected.
    #[error("the screening has been reviewed: its answers can no longer change")]
    AnswersFrozen,
    /// Another change came first, and the caller named no version it
    /// changed from (or one it still meets). Nothing was recorded.
    #[error("the screening changed meanwhile: read it again")]
    ChangedMeanwhile,
    /// The screening is no longer at a version the caller's `If-Match`
    /// names: it changed since the caller read it. Nothing was recorded.
    #[error("the screening changed since it was read")]
    Changed(Box<Changed>),
    /// The idempotency key was used with other answers.
    #[error("the idempotency key was used with another request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<StoreError> for ScreeningError {
    fn from(e: StoreError) -> Self {
        ScreeningError::Unexpected(e.into())
    }
}

/// A screening just created, or the one an earlier request with the same
/// idempotency key created.
pub struct Created {
    pub screening: Screening,
    /// An earlier request with the same idempotency key created it.
    pub replayed: bool,
}

/// A page of the review queue.
pub struct ListPage {
    pub items: Vec<ScreeningSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Counts an evaluation by its outcome and profile (a metric).
fn counted(rules: &RuleSet, evaluation: Evaluation) -> Evaluation {
    metrics::counter!(
        "facet_evaluations_total",
        "outcome" => evaluation.outcome.as_str(),
        "profile" => rules.profile.clone()
    )
    .increment(1);
    evaluation
}

/// Answers checked against the rule set in use when they arrived: they are
/// evaluated with that same rule set, even if it is reloaded meanwhile.
pub struct Submitted {
    rules: Arc<RuleSet>,
    answers: Result<Answers, Vec<FieldError>>,
}

impl Submitted {
    /// `json` checked against `rules`.
    pub fn new(rules: Arc<RuleSet>, json: &Value) -> Submitted {
        let answers = Answers::parse(&rules.fields, json);
        Submitted { rules, answers }
    }
}

/// The screening operations over one rule set and one store.
#[derive(Clone)]
pub struct Screenings {
    rules: LiveRules,
    pub(super) store: Store,
    /// How long a key's repeated reads of a record are counted as one.
    view_window: ViewWindow,
}

impl Screenings {
    pub fn new(rules: LiveRules, store: Store) -> Self {
        Screenings {
            rules,
            store,
            view_window: ViewWindow::seconds(ViewWindow::DEFAULT_SECONDS),
        }
    }

    /// Counts a key's reads of a record less than `window` apart as one
    /// event (15 minutes unless set).
    pub fn with_view_window(self, window: ViewWindow) -> Self {
        Screenings {
            view_window: window,
            ..self
        }
    }

    /// The rule set in use now.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.current()
    }

    /// A JSON body of answers, parsed in one pass against the rule set in
    /// use. `Err` when it is not JSON (or repeats a key), with serde_json's
    /// message: where, never a value.
    pub fn submitted_body(&self, body: &[u8]) -> Result<Submitted, String> {
        let rules = self.rules.current();
        let answers = crate::questionnaire::body::parse(&rules.fields, body)?;
        Ok(Submitted { rules, answers })
    }

    /// Answers already read as JSON (say, mapped from FHIR), against the
    /// rule set in use.
    pub fn submitted(&self, json: &Value) -> Submitted {
        Submitted::new(self.rules.current(), json)
    }

    /// Evaluates answers, storing nothing (so they are not normalized for
    /// storage either).
    pub fn evaluate(&self, submitted: Submitted) -> Result<Evaluation, ScreeningError> {
        let Submitted { rules, answers } = submitted;
        let answers = answers.map_err(ScreeningError::InvalidAnswers)?;
        Ok(counted(
            &rules,
            evaluate(&rules, &answers, chrono::Utc::now()),
        ))
    }

    /// The normalized answers (as stored) and their evaluation.
    pub(super) fn parse_and_evaluate(
        &self,
        submitted: Submitted,
    ) -> Result<(StoredAnswers, Evaluation), ScreeningError> {
        let Submitted { rules, answers } = submitted;
        let answers = answers.map_err(ScreeningError::InvalidAnswers)?;
        let evaluation = counted(&rules, evaluate(&rules, &answers, chrono::Utc::now()));
        let normalized = answers.to_json(&rules.fields);
        let stored = StoredAnswers {
            // The clinic's own patient reference, shown in the queue.
            external_ref: normalized["patient"]["external_ref"]
                .as_str()
                .map(String::from),
            // Serialized once, straight to what is stored and answered.
            json: raw_json(&normalized),
        };
        Ok((stored, evaluation))
    }

    /// Evaluates the answers and stores them with the evaluation as issued,
    /// pending review. With an idempotency key already used for the same
    /// answers, the screening that request created comes back instead.
    pub async fn create(
        &self,
        clinic: &Clinic,
        actor: Actor,
        submitted: Submitted,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, ScreeningError> {
        let (answers, evaluation) = self.parse_and_evaluate(submitted)?;
        let request_hash = hex::encode(Sha256::digest(answers.json.get().as_bytes()));
        let created = self
            .store
            .create(
                NewScreening {
                    clinic: clinic.clone(),
                    answers,
                    evaluation_json: raw_json(&evaluation),
                    evaluation,
                    request_hash,
                    at: timestamp(chrono::Utc::now()),
                    actor,
                },
                key.as_ref(),
            )
            .await?;
        match created {
            Creation::New(screening) => Ok(Created {
                screening,
                replayed: false,
            }),
            Creation::Replayed(screening) => Ok(Created {
                screening,
                replayed: true,
            }),
            Creation::KeyReused => Err(ScreeningError::IdempotencyKeyReused),
        }
    }

    /// A screening of the clinic, without recording the read.
    pub(super) async fn find(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
    ) -> Result<Screening, ScreeningError> {
        self.store
            .get(clinic, id)
            .await?
            .ok_or(ScreeningError::NotFound)
    }

    /// As `find`, and still pending review (`reviewed` otherwise).
    pub(super) async fn find_pending(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        reviewed: ScreeningError,
    ) -> Result<Screening, ScreeningError> {
        let screening = self.find(clinic, id).await?;
        if screening.status != Status::PendingReview {
            return Err(reviewed);
        }
        Ok(screening)
    }

    /// A screening of the clinic; who read it, and when, goes on its history.
    pub async fn read(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        actor: &Actor,
    ) -> Result<Screening, ScreeningError> {
        let screening = self.find(clinic, id).await?;
        self.store
            .record_view(screening.id, chrono::Utc::now(), actor, self.view_window)
            .await?;
        Ok(screening)
    }

    /// A page of up to `filter.limit` screenings of the filter's clinic, in
    /// its order, and where the next page starts.
    pub async fn list(&self, mut filter: ListFilter) -> Result<ListPage, ScreeningError> {
        // One more than the page shows: whether there is a next page.
        let page = filter.limit as usize;
        filter.limit += 1;
        let mut items = self.store.list(&filter).await?;
        let more = items.len() > page;
        items.truncate(page);
        let next = match items.last() {
            Some(last) if more => Some(Cursor::after(last)),
            _ => None,
        };
        Ok(ListPage { items, next })
    }

    /// Up to `limit` events of a screening of the clinic after `after`,
    /// oldest first, and where the next page starts.
    pub async fn history(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        after: &HistoryCursor,
        limit: u32,
    ) -> Result<HistoryPage, ScreeningError> {
        // One more of each stream than the page shows (`history::page`).
        let streams = self
            .store
            .history(clinic, id, after, limit.saturating_add(1))
            .await?
            .ok_or(ScreeningError::NotFound)?;
        Ok(history::page(streams, after, limit))
    }
}

/// A value as JSON text, written once.
// PANIC SAFETY: called with a `serde_json::Value` or an `Evaluation`
// (derived Serialize, string keys only), which serde_json always writes.
#[allow(clippy::expect_used)]
fn raw_json(value: &impl serde::Serialize) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(value).expect("a value of the service's own types serializes")
}
