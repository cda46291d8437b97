//! Changes of a screening pending review: a correction of its answers and a
//! clinician's review, each guarded by the version it applies to. The
//! review state machine is decided here (pending -> confirmed |
//! overridden, once), and a caller who read an older version learns what
//! changed since (`Changed`) instead of overwriting it unseen.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::screenings::{ScreeningError, Screenings, Submitted};
use crate::auth::Role;
use crate::rules::Outcome;
use crate::screening::events::EventKind;
use crate::screening::review::ReviewRequest;
use crate::screening::version::{IfMatch, Version};
use crate::screening::{Actor, Clinic, Screening, ScreeningId, Status, timestamp};

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

/// Whether two answers' JSON texts (both normalized) say the same: read as
/// JSON, not compared as text, so that a database that gives the stored text
/// back in another form (spacing, key order) changes nothing.
fn same_answers(new: &str, stored: &str) -> bool {
    new == stored
        || matches!(
            (serde_json::from_str::<Value>(new), serde_json::from_str::<Value>(stored)),
            (Ok(a), Ok(b)) if a == b
        )
}

impl Screenings {
    /// Replaces the answers of a screening pending review and evaluates them
    /// again; the previous answers and evaluation stay on the history. With
    /// `if_match`, only if the screening is still at a version it names.
    /// Answers the same as those stored change nothing: no new version (a
    /// clinician reading it need not decide again), no event; the screening
    /// comes back as it is.
    pub async fn correct(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        submitted: Submitted,
        actor: &Actor,
        if_match: Option<&IfMatch>,
    ) -> Result<Screening, ScreeningError> {
        let current = self
            .find_pending(clinic, id, ScreeningError::AnswersFrozen)
            .await?;
        self.precondition(&current, if_match).await?;
        let (answers, evaluation) = self.parse_and_evaluate(submitted)?;
        if same_answers(answers.json.get(), current.answers.get()) {
            return Ok(current);
        }
        let at = timestamp(chrono::Utc::now());
        let corrected = self
            .store
            .correct_answers(&current, &answers, &evaluation, &at, actor)
            .await?;
        self.settled(&current, if_match, corrected).await
    }

    /// A named clinician's review: confirm the suggestion, or override it
    /// with a final outcome and a reason. Once only: a reviewed screening is
    /// never reviewed again (of two reviews racing, the database lets one
    /// change the row). With `if_match`, only if the screening is still at a
    /// version it names: the review is of the answers and the suggestion the
    /// clinician read.
    pub async fn review(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        json: Value,
        actor: &Actor,
        if_match: Option<&IfMatch>,
    ) -> Result<Screening, ScreeningError> {
        let current = self
            .find_pending(clinic, id, ScreeningError::AlreadyReviewed)
            .await?;
        self.precondition(&current, if_match).await?;
        let review = ReviewRequest::parse(
            json,
            current.suggested_outcome,
            timestamp(chrono::Utc::now()),
        )
        .map_err(ScreeningError::Invalid)?;
        let mut who = actor.clone();
        who.clinician = Some(review.clinician.clone());
        let reviewed = self
            .store
            .review(&current, review.status(), &review, &who)
            .await?;
        self.settled(&current, if_match, reviewed).await
    }

    /// `Changed` unless `current` meets the caller's `If-Match` (a request
    /// without one applies to any version). The write that follows is
    /// guarded by the version of `current`, so that it applies to that
    /// version or not at all: the database settles a race.
    async fn precondition(
        &self,
        current: &Screening,
        if_match: Option<&IfMatch>,
    ) -> Result<(), ScreeningError> {
        match if_match {
            Some(condition) if !condition.matches(Version::of(current)) => {
                Err(self.changed(current).await)
            }
            _ => Ok(()),
        }
    }

    /// The outcome of a write guarded by the version of `read`: the
    /// screening as written, or, when it changed nothing because another
    /// change came first, why. Reviewed meanwhile: `AlreadyReviewed`. Its
    /// answers corrected meanwhile: a caller who sent `If-Match` learns what
    /// that change was (`Changed`), as if it had come before the read; one
    /// whose condition the screening still meets (`*`), or who sent none,
    /// `ChangedMeanwhile`.
    async fn settled(
        &self,
        read: &Screening,
        if_match: Option<&IfMatch>,
        written: Option<Screening>,
    ) -> Result<Screening, ScreeningError> {
        if let Some(written) = written {
            return Ok(written);
        }
        let now = self.find(&read.clinic, read.id).await?;
        if now.status != Status::PendingReview {
            return Err(ScreeningError::AlreadyReviewed);
        }
        match if_match {
            Some(condition) if !condition.matches(Version::of(&now)) => {
                Err(self.changed(&now).await)
            }
            _ => Err(ScreeningError::ChangedMeanwhile),
        }
    }

    /// `Changed`: what `current` is, and its last change.
    async fn changed(&self, current: &Screening) -> ScreeningError {
        let last = match self.store.last_change(&current.clinic, current.id).await {
            Ok(Some(last)) => last,
            Ok(None) => return ScreeningError::NotFound,
            Err(e) => return e.into(),
        };
        let role = match self.store.key_by_id(&last.actor.key_id).await {
            Ok(key) => key.map(|k| k.role),
            Err(e) => return e.into(),
        };
        ScreeningError::Changed(Box::new(Changed {
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
}
