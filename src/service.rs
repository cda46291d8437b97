//! The operations on screenings, one path each. The HTTP handlers, the CDS
//! Hooks service and the FHIR entry points all call these: answers are
//! parsed and evaluated here, the review state machine is decided here, and
//! every read and change leaves its event on the history. Storage is below,
//! HTTP above; nothing here knows of either's types beyond the store's
//! operations.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::questionnaire::{Answers, FieldError};
use crate::rules::live::LiveRules;
use crate::rules::{Outcome, RuleSet};
use crate::screening::events::{Actor, EventData, EventKind};
use crate::screening::review::ReviewRequest;
use crate::screening::version::{IfMatch, Version};
use crate::screening::{Clinic, IdempotencyKey, ScreeningSummary, timestamp};
use crate::screening::{Evaluation, Screening, ScreeningId, Status, evaluate};
use crate::store::{
    Created, HistoryCursor, HistoryPage, ListFilter, NewScreening, Store, StoreError,
    StoredAnswers, ViewWindow,
};

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The answers do not match the questionnaire (each bad field named).
    #[error("invalid answers")]
    InvalidAnswers(Vec<FieldError>),
    /// Another part of the request is not valid (each bad field named).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No such screening in the caller's clinic.
    #[error("not found")]
    NotFound,
    /// Not in a state that allows it (say, already reviewed).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The idempotency key was used with other answers.
    #[error("the idempotency key was used with another request")]
    IdempotencyMismatch,
    /// The screening is no longer at a version the caller's `If-Match`
    /// names: it changed since the caller read it. Nothing was recorded.
    #[error("the screening changed since it was read")]
    Changed(Box<Changed>),
    #[error(transparent)]
    Store(StoreError),
}

/// What a screening is now and its last change, for a caller whose
/// `If-Match` it no longer meets: who made the change and when, never any
/// patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Changed {
    /// The last change: `answers_corrected`, `reviewed`, or `created` when
    /// the tag sent was never this screening's.
    pub kind: EventKind,
    /// When it was made.
    #[schema(format = DateTime)]
    pub at: String,
    /// Who made it: the key, and the clinician named in a review.
    pub by: Actor,
    /// The role of that key; absent when the key is no longer on file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The screening's `ETag` now: read it again (`GET`), then send this.
    #[schema(example = "\"2\"")]
    pub etag: String,
    pub answers_version: i64,
    pub status: Status,
    /// The suggestion now.
    pub suggested_outcome: Outcome,
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(why) => ServiceError::Conflict(why),
            StoreError::IdempotencyMismatch => ServiceError::IdempotencyMismatch,
            other => ServiceError::Store(other),
        }
    }
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

const REVIEWED: &str = "the screening has already been reviewed";
const ANSWERS_FROZEN: &str = "the screening has been reviewed: its answers can no longer change";

/// The screening operations over one rule set and one store.
#[derive(Clone)]
pub struct Screenings {
    rules: LiveRules,
    store: Store,
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
    pub fn evaluate(&self, submitted: Submitted) -> Result<Evaluation, ServiceError> {
        let Submitted { rules, answers } = submitted;
        let answers = answers.map_err(ServiceError::InvalidAnswers)?;
        Ok(counted(
            &rules,
            evaluate(&rules, &answers, chrono::Utc::now()),
        ))
    }

    /// The normalized answers (as stored) and their evaluation.
    fn parse_and_evaluate(
        &self,
        submitted: Submitted,
    ) -> Result<(StoredAnswers, Evaluation), ServiceError> {
        let Submitted { rules, answers } = submitted;
        let answers = answers.map_err(ServiceError::InvalidAnswers)?;
        let evaluation = counted(&rules, evaluate(&rules, &answers, chrono::Utc::now()));
        let normalized = answers.to_json(&rules.fields);
        let stored = StoredAnswers {
            // The clinic's own patient reference, shown in the queue.
            external_ref: normalized["patient"]["external_ref"]
                .as_str()
                .map(String::from),
            // Serialized once, straight to what is stored and answered.
            json: serde_json::value::to_raw_value(&normalized).expect("answers serialize"),
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
    ) -> Result<Created, ServiceError> {
        let (answers, evaluation) = self.parse_and_evaluate(submitted)?;
        let request_hash = hex::encode(Sha256::digest(answers.json.get().as_bytes()));
        let created = self
            .store
            .create(
                NewScreening {
                    clinic: clinic.clone(),
                    answers,
                    evaluation_json: serde_json::value::to_raw_value(&evaluation)
                        .expect("an evaluation serializes"),
                    evaluation,
                    request_hash,
                    at: timestamp(chrono::Utc::now()),
                    actor,
                },
                key.as_ref(),
            )
            .await?;
        Ok(created)
    }

    /// A screening of the clinic, without recording the read.
    async fn find(&self, clinic: &Clinic, id: ScreeningId) -> Result<Screening, ServiceError> {
        self.store
            .get(clinic, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// As `find`, and still pending review (`Conflict(why)` otherwise).
    async fn find_pending(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        why: &'static str,
    ) -> Result<Screening, ServiceError> {
        let screening = self.find(clinic, id).await?;
        if screening.status != Status::PendingReview {
            return Err(ServiceError::Conflict(why));
        }
        Ok(screening)
    }

    /// A screening of the clinic; who read it, and when, goes on its history.
    pub async fn read(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        actor: &Actor,
    ) -> Result<Screening, ServiceError> {
        let screening = self.find(clinic, id).await?;
        self.store
            .record_view(screening.id, chrono::Utc::now(), actor, self.view_window)
            .await?;
        Ok(screening)
    }

    /// Up to `filter.limit` screenings of the filter's clinic, oldest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<ScreeningSummary>, ServiceError> {
        Ok(self.store.list(filter).await?)
    }

    /// Replaces the answers of a screening pending review and evaluates them
    /// again; the previous answers and evaluation stay on the history. With
    /// `if_match`, only if the screening is still at a version it names.
    pub async fn correct(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        submitted: Submitted,
        actor: &Actor,
        if_match: Option<&IfMatch>,
    ) -> Result<Screening, ServiceError> {
        let current = self.find_pending(clinic, id, ANSWERS_FROZEN).await?;
        self.precondition(&current, if_match).await?;
        let (answers, evaluation) = self.parse_and_evaluate(submitted)?;
        let at = timestamp(chrono::Utc::now());
        let corrected = self
            .store
            .correct_answers(&current, &answers, &evaluation, &at, actor)
            .await;
        self.settled(&current, if_match, corrected).await
    }

    /// A named clinician's review: confirm the suggestion, or override it
    /// with a final outcome and a reason. Once only: a reviewed screening is
    /// never reviewed again (the store refuses a race with `Conflict`). With
    /// `if_match`, only if the screening is still at a version it names: the
    /// review is of the answers and the suggestion the clinician read.
    pub async fn review(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        json: Value,
        actor: &Actor,
        if_match: Option<&IfMatch>,
    ) -> Result<Screening, ServiceError> {
        let current = self.find_pending(clinic, id, REVIEWED).await?;
        self.precondition(&current, if_match).await?;
        let review = ReviewRequest::parse(
            json,
            current.suggested_outcome,
            timestamp(chrono::Utc::now()),
        )
        .map_err(ServiceError::Invalid)?;
        let mut who = actor.clone();
        who.clinician = Some(review.clinician.clone());
        let reviewed = self
            .store
            .review(&current, review.status(), &review, &who)
            .await;
        self.settled(&current, if_match, reviewed).await
    }

    /// `Changed` unless `current` meets the caller's `If-Match` (a request
    /// without one applies to any version). The write that follows is guarded by the
    /// version of `current`, so that it applies to that version or not at
    /// all: the database settles a race.
    async fn precondition(
        &self,
        current: &Screening,
        if_match: Option<&IfMatch>,
    ) -> Result<(), ServiceError> {
        match if_match {
            Some(condition) if !condition.matches(Version::of(current)) => {
                Err(self.changed(current).await)
            }
            _ => Ok(()),
        }
    }

    /// The outcome of a guarded write of `read`. When it changed nothing
    /// because another change came first, a caller who sent `If-Match`
    /// learns what that change was (`Changed`), as if it had come before
    /// the read; a review that came first stays `Conflict` (already
    /// reviewed), as does a race for a caller whose condition the screening
    /// still meets (`*`) or who sent none.
    async fn settled(
        &self,
        read: &Screening,
        if_match: Option<&IfMatch>,
        written: Result<Screening, StoreError>,
    ) -> Result<Screening, ServiceError> {
        match written {
            Err(StoreError::Conflict(why)) if if_match.is_some() => {
                let now = self.find(&read.clinic, read.id).await?;
                match if_match {
                    Some(condition)
                        if now.status == Status::PendingReview
                            && !condition.matches(Version::of(&now)) =>
                    {
                        Err(self.changed(&now).await)
                    }
                    _ => Err(ServiceError::Conflict(why)),
                }
            }
            written => Ok(written?),
        }
    }

    /// `Changed`: what `current` is, and its last change.
    async fn changed(&self, current: &Screening) -> ServiceError {
        let last = match self.store.last_change(&current.clinic, current.id).await {
            Ok(Some(last)) => last,
            Ok(None) => return ServiceError::NotFound,
            Err(e) => return e.into(),
        };
        let role = match self.store.key_by_id(&last.actor.key_id).await {
            Ok(key) => key.map(|k| k.role),
            Err(e) => return e.into(),
        };
        ServiceError::Changed(Box::new(Changed {
            kind: last.kind,
            at: last.at,
            by: last.actor,
            role,
            etag: Version::of(current).etag(),
            answers_version: current.answers_version,
            status: current.status,
            suggested_outcome: current.suggested_outcome,
        }))
    }

    /// Records CDS feedback, all items in one transaction or none. Each
    /// card must be a screening that this CDS client (`actor`) created in
    /// its clinic; any other is `NotFound`, exactly as if it did not exist.
    pub async fn record_feedback(
        &self,
        clinic: &Clinic,
        actor: &Actor,
        feedback: Vec<(ScreeningId, EventData)>,
    ) -> Result<(), ServiceError> {
        for (id, _) in &feedback {
            let creator = self.store.created_by(clinic, *id).await?;
            if creator.is_none_or(|c| c.key_id != actor.key_id) {
                return Err(ServiceError::NotFound);
            }
        }
        let at = timestamp(chrono::Utc::now());
        self.store
            .record_events(clinic, &feedback, &at, actor)
            .await?;
        Ok(())
    }

    /// Up to `limit` events of a screening of the clinic after `after`,
    /// oldest first.
    pub async fn history(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        after: &HistoryCursor,
        limit: u32,
    ) -> Result<HistoryPage, ServiceError> {
        self.store
            .history(clinic, id, after, limit)
            .await?
            .ok_or(ServiceError::NotFound)
    }
}
