//! A screening as kept: the answers and the evaluation exactly as issued,
//! and its review state. Its identifiers, review, audit trail and the
//! checking of requests each have a module of their own beside this one.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::id::{Clinic, ScreeningId};
use super::review::Review;
use crate::rules::Outcome;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// Waiting for a clinician.
    PendingReview,
    /// A clinician confirmed the suggestion.
    Confirmed,
    /// A clinician overrode the suggestion, with a reason.
    Overridden,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A screening as stored. `answers` and `evaluation` are kept as the exact
/// JSON that was issued: never recomputed with newer rules.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Screening {
    #[schema(value_type = String, format = Uuid)]
    pub id: ScreeningId,
    #[schema(value_type = String)]
    pub clinic: Clinic,
    pub status: Status,
    /// The outcome the rules suggested.
    pub suggested_outcome: Outcome,
    /// The outcome after review: the suggestion when confirmed, the
    /// clinician's when overridden; null while pending.
    #[schema(required = true)]
    pub final_outcome: Option<Outcome>,
    /// The clinician's decision (decision, final outcome, reason, clinician,
    /// time), first because it is what counts once made; null while pending.
    #[schema(required = true)]
    pub review: Option<Review>,
    /// Starts at 1; each correction of the answers adds one.
    pub answers_version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The answers as stored (schema `Answers`).
    #[schema(value_type = Object)]
    pub answers: Box<RawValue>,
    /// The suggestion exactly as issued, never recomputed.
    #[schema(value_type = crate::screening::Evaluation)]
    pub evaluation: Box<RawValue>,
}

/// A screening in a list: no answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreeningSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: ScreeningId,
    pub status: Status,
    pub suggested_outcome: Outcome,
    #[schema(required = true)]
    pub final_outcome: Option<Outcome>,
    /// The clinic's own patient reference (`patient.external_ref`), so that
    /// a clinician can tell the rows apart; null when none was given.
    #[schema(required = true)]
    pub external_ref: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The suggestion's place in the queue by priority (0: urgent).
    #[serde(skip)]
    pub priority: i64,
}

/// A timestamp as stored: UTC, microseconds, sortable as text.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
