//! A screening's audit trail: who caused each event, and what it records.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::record::Status;
use super::review::{ReasonCode, Review};
use crate::rules::Outcome;

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// The API key's id.
    pub key_id: String,
    /// The API key's label.
    pub label: String,
    /// The clinician named in a review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinician: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    Created,
    AnswersCorrected,
    Reviewed,
    Viewed,
    /// A CDS Hooks client's feedback on the card.
    CdsFeedback,
}

impl EventKind {
    /// As stored and as serialized.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One entry of a screening's audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    pub seq: i64,
    pub kind: EventKind,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: Actor,
    /// What happened, by `kind`: the suggestion made, the previous answers
    /// and evaluation of a correction, the review, the CDS feedback, or how
    /// many reads, from when to when.
    #[schema(value_type = EventData)]
    pub data: Box<RawValue>,
}

/// The data of an event: one shape per kind (its `kind` says which).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // the schema of what the store writes as JSON
pub enum EventData {
    AnswersCorrected(AnswersCorrectedData),
    Reviewed(ReviewedData),
    CdsFeedback(CdsFeedbackData),
    Created(CreatedData),
    Viewed(ViewedData),
}

/// `created`: the suggestion made.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct CreatedData {
    pub suggested_outcome: Outcome,
    pub answers_version: i64,
}

/// `answers_corrected`: the answers and evaluation replaced, and the new
/// suggestion.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AnswersCorrectedData {
    pub previous_answers_version: i64,
    pub answers_version: i64,
    /// The answers replaced (schema `Answers`).
    #[schema(value_type = Object)]
    pub previous_answers: (),
    #[schema(value_type = crate::screening::Evaluation)]
    pub previous_evaluation: (),
    pub suggested_outcome: Outcome,
}

/// `reviewed`: the clinician's decision.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReviewedData {
    pub status: Status,
    pub suggested_outcome: Outcome,
    pub answers_version: i64,
    pub review: Review,
}

/// `cds_feedback`: what the clinician did with the CDS card.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct CdsFeedbackData {
    /// `accepted` or `overridden`.
    pub outcome: String,
    pub override_reason: Option<ReasonCode>,
    pub user_comment: Option<String>,
    #[schema(format = DateTime)]
    pub outcome_timestamp: Option<String>,
}

/// `viewed`: who read the record is the event's actor. Its reads less than
/// the service's window apart, with no change in between, are this one
/// event: how many, the first (the event's `at`) and the last.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ViewedData {
    #[schema(minimum = 1)]
    pub count: i64,
    #[schema(format = DateTime)]
    pub first: String,
    #[schema(format = DateTime)]
    pub last: String,
}
