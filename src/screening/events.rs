//! A screening's audit trail: who caused each event, and what it records.
//! Each kind of event is one type: what the store writes is that type's
//! JSON, what it reads back is that type, and the OpenAPI document
//! describes each kind's `data` by it.

mod schema;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
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
    strum::VariantArray,
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

/// One entry of a screening's audit trail: its number, when and by whom,
/// and what happened (`kind`, and its `data`). Documented as one schema
/// per kind (`Event::schema`).
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub data: EventData,
    pub at: String,
    pub actor: Actor,
}

/// Written as `seq`, `kind`, `at`, `actor`, `data`: the order the history
/// has always been answered in.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut event = serializer.serialize_struct("Event", 5)?;
        event.serialize_field("seq", &self.seq)?;
        event.serialize_field("kind", &self.data.kind())?;
        event.serialize_field("at", &self.at)?;
        event.serialize_field("actor", &self.actor)?;
        event.serialize_field("data", &self.data.data())?;
        event.end()
    }
}

/// What an event records: its kind, and that kind's data.
#[derive(Debug, Clone)]
pub enum EventData {
    Created(CreatedData),
    AnswersCorrected(AnswersCorrectedData),
    Reviewed(ReviewedData),
    Viewed(ViewedData),
    CdsFeedback(CdsFeedbackData),
    /// An event an earlier release recorded in a shape this one no longer
    /// writes, answered as it was recorded: a `viewed` event kept with the
    /// changes (`{}`, before reads had a table of their own), CDS feedback
    /// taken before its items were checked.
    Earlier(EventKind, Box<RawValue>),
}

/// An event's data alone, as stored and as answered.
#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Created(&'a CreatedData),
    AnswersCorrected(&'a AnswersCorrectedData),
    Reviewed(&'a ReviewedData),
    Viewed(&'a ViewedData),
    CdsFeedback(&'a CdsFeedbackData),
    Earlier(&'a RawValue),
}

impl EventData {
    pub fn kind(&self) -> EventKind {
        match self {
            EventData::Created(_) => EventKind::Created,
            EventData::AnswersCorrected(_) => EventKind::AnswersCorrected,
            EventData::Reviewed(_) => EventKind::Reviewed,
            EventData::Viewed(_) => EventKind::Viewed,
            EventData::CdsFeedback(_) => EventKind::CdsFeedback,
            EventData::Earlier(kind, _) => *kind,
        }
    }

    fn data(&self) -> Data<'_> {
        match self {
            EventData::Created(d) => Data::Created(d),
            EventData::AnswersCorrected(d) => Data::AnswersCorrected(d),
            EventData::Reviewed(d) => Data::Reviewed(d),
            EventData::Viewed(d) => Data::Viewed(d),
            EventData::CdsFeedback(d) => Data::CdsFeedback(d),
            EventData::Earlier(_, raw) => Data::Earlier(raw),
        }
    }

    /// The data as stored (the `data` column): its JSON.
    // PANIC SAFETY: every kind's data derives Serialize with string keys
    // only (the earlier shapes are JSON already); serde_json writes them.
    #[allow(clippy::expect_used)]
    pub fn stored(&self) -> String {
        serde_json::to_string(&self.data()).expect("an event's data serializes")
    }

    /// An event of `kind` as stored: its data read as that kind's, or kept
    /// as it was recorded when an earlier release wrote another shape.
    /// `Err` only when the data is not JSON at all.
    pub fn read(kind: EventKind, data: String) -> Result<EventData, serde_json::Error> {
        fn typed<T: serde::de::DeserializeOwned>(
            data: &str,
            event: fn(T) -> EventData,
        ) -> Option<EventData> {
            serde_json::from_str(data).ok().map(event)
        }
        let read = match kind {
            EventKind::Created => typed(&data, EventData::Created),
            EventKind::AnswersCorrected => typed(&data, EventData::AnswersCorrected),
            EventKind::Reviewed => typed(&data, EventData::Reviewed),
            EventKind::Viewed => typed(&data, EventData::Viewed),
            EventKind::CdsFeedback => typed(&data, EventData::CdsFeedback),
        };
        match read {
            Some(event) => Ok(event),
            None => Ok(EventData::Earlier(kind, RawValue::from_string(data)?)),
        }
    }
}

/// `created`: the suggestion made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedData {
    pub suggested_outcome: Outcome,
    /// Always 1: a screening's first answers.
    pub answers_version: i64,
}

/// `answers_corrected`: the answers and evaluation replaced, and the new
/// suggestion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersCorrectedData {
    pub previous_answers_version: i64,
    pub answers_version: i64,
    /// The answers replaced (schema `Answers`), as they were stored.
    #[schema(value_type = Object)]
    pub previous_answers: Box<RawValue>,
    /// The evaluation replaced, exactly as it was issued.
    #[schema(value_type = crate::screening::Evaluation)]
    pub previous_evaluation: Box<RawValue>,
    /// The suggestion of the corrected answers.
    pub suggested_outcome: Outcome,
}

/// `reviewed`: the clinician's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedData {
    pub status: Status,
    pub suggested_outcome: Outcome,
    /// The answers version the review is of.
    pub answers_version: i64,
    pub review: Review,
}

/// What a clinician did with a CDS card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackOutcome {
    Accepted,
    Overridden,
}

/// `cds_feedback`: what the clinician did with the CDS card, as the CDS
/// client said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CdsFeedbackData {
    pub outcome: FeedbackOutcome,
    /// When the clinician acted, as the client sent it (ISO 8601).
    #[schema(format = DateTime)]
    pub outcome_timestamp: String,
    /// The override reason chosen from the card's, if any.
    #[schema(required = true)]
    pub override_reason: Option<ReasonCode>,
    /// The clinician's comment, if any.
    #[schema(required = true)]
    pub user_comment: Option<String>,
}

/// `viewed`: who read the record is the event's actor. Its reads less than
/// the service's window apart, with no change in between, are this one
/// event: how many, the first (the event's `at`) and the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewedData {
    #[schema(minimum = 1)]
    pub count: i64,
    #[schema(format = DateTime)]
    pub first: String,
    #[schema(format = DateTime)]
    pub last: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actor() -> Actor {
        Actor {
            key_id: "key_a".into(),
            label: "front desk".into(),
            clinician: None,
        }
    }

    #[test]
    fn each_kind_is_stored_as_its_own_data_and_read_back_as_the_same_kind() {
        let review = Review {
            decision: super::super::review::Decision::Confirm,
            final_outcome: Outcome::LikelyCandidate,
            reason: None,
            clinician: "dr-a".into(),
            reviewed_at: "2026-11-25T09:00:00.000000Z".into(),
        };
        let events = [
            (
                EventData::Created(CreatedData {
                    suggested_outcome: Outcome::LikelyCandidate,
                    answers_version: 1,
                }),
                json!({"suggested_outcome": "likely_candidate", "answers_version": 1}),
            ),
            (
                EventData::AnswersCorrected(AnswersCorrectedData {
                    previous_answers_version: 1,
                    answers_version: 2,
                    previous_answers: RawValue::from_string(r#"{"pain":{"b":1,"a":2}}"#.into())
                        .unwrap(),
                    previous_evaluation: RawValue::from_string(r#"{"outcome":"x"}"#.into())
                        .unwrap(),
                    suggested_outcome: Outcome::NotYetEligible,
                }),
                json!({"previous_answers_version": 1, "answers_version": 2,
                    "previous_answers": {"pain": {"b": 1, "a": 2}},
                    "previous_evaluation": {"outcome": "x"}, "suggested_outcome": "not_yet_eligible"}),
            ),
            (
                EventData::Reviewed(ReviewedData {
                    status: Status::Confirmed,
                    suggested_outcome: Outcome::LikelyCandidate,
                    answers_version: 1,
                    review,
                }),
                json!({"status": "confirmed", "suggested_outcome": "likely_candidate", "answers_version": 1,
                    "review": {"decision": "confirm", "final_outcome": "likely_candidate",
                        "clinician": "dr-a", "reviewed_at": "2026-11-25T09:00:00.000000Z"}}),
            ),
            (
                EventData::CdsFeedback(CdsFeedbackData {
                    outcome: FeedbackOutcome::Overridden,
                    outcome_timestamp: "2026-11-25T09:00:00Z".into(),
                    override_reason: Some(ReasonCode::PatientPreference),
                    user_comment: None,
                }),
                // Absent parts are null, as they always were.
                json!({"outcome": "overridden", "outcome_timestamp": "2026-11-25T09:00:00Z",
                    "override_reason": "patient_preference", "user_comment": null}),
            ),
            (
                EventData::Viewed(ViewedData {
                    count: 3,
                    first: "a".into(),
                    last: "b".into(),
                }),
                json!({"count": 3, "first": "a", "last": "b"}),
            ),
        ];
        for (event, stored) in events {
            let text = event.stored();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                stored
            );
            let read = EventData::read(event.kind(), text.clone()).unwrap();
            assert!(!matches!(read, EventData::Earlier(..)), "{text}");
            assert_eq!(read.kind(), event.kind());
            assert_eq!(read.stored(), text);
        }
    }

    #[test]
    fn an_event_in_a_shape_of_an_earlier_release_is_answered_as_it_was_recorded() {
        for (kind, data) in [
            // A read kept with the changes, before reads had their table.
            (EventKind::Viewed, "{}"),
            // Feedback taken before its items were checked.
            (
                EventKind::CdsFeedback,
                r#"{"outcome":"accepted","override_reason":{"code":7},"user_comment":null,"outcome_timestamp":null}"#,
            ),
        ] {
            let read = EventData::read(kind, data.into()).unwrap();
            assert!(matches!(read, EventData::Earlier(k, _) if k == kind));
            assert_eq!(read.stored(), data);
            let event = Event {
                seq: 4,
                data: read,
                at: "t".into(),
                actor: actor(),
            };
            assert_eq!(
                serde_json::to_string(&event).unwrap(),
                format!(
                    r#"{{"seq":4,"kind":"{}","at":"t","actor":{{"key_id":"key_a","label":"front desk"}},"data":{data}}}"#,
                    kind.as_str()
                )
            );
        }
        assert!(EventData::read(EventKind::Created, "not json".into()).is_err());
    }

    #[test]
    fn an_event_is_answered_with_its_kind_beside_its_data() {
        let event = Event {
            seq: 1,
            data: EventData::Created(CreatedData {
                suggested_outcome: Outcome::UrgentEvaluation,
                answers_version: 1,
            }),
            at: "t".into(),
            actor: actor(),
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"seq":1,"kind":"created","at":"t","actor":{"key_id":"key_a","label":"front desk"},"data":{"suggested_outcome":"urgent_evaluation","answers_version":1}}"#
        );
    }
}
