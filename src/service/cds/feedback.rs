//! CDS Hooks 2.0 feedback, read: 1 to 20 items, each about a card this
//! service issued (its uuid is the screening's id), checked by its schema
//! and named in CDS Hooks' own words when it is not valid; each item is the
//! `cds_feedback` event it records.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use validator::Validate;

use super::REASON_SYSTEM;
use crate::questionnaire::FieldError;
use crate::screening::ScreeningId;
use crate::screening::events::{CdsFeedbackData, EventData, FeedbackOutcome};
use crate::screening::review::ReasonCode;
use crate::screening::validation::{Invalid, from_json};

/// Feedback items taken in one request.
pub const MAX_FEEDBACK_ITEMS: usize = 20;

/// CDS Hooks 2.0 feedback on cards this service issued to the caller.
#[derive(Debug, Deserialize, serde::Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CdsFeedback)]
pub struct FeedbackRequest {
    #[validate(length(min = 1, max = 20), nested)]
    #[schema(min_items = 1, max_items = 20)]
    feedback: Vec<FeedbackItem>,
}

/// One card's feedback.
#[derive(Debug, Deserialize, serde::Serialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CdsFeedbackItem)]
pub struct FeedbackItem {
    /// The card's uuid: the screening it was made from.
    #[validate(custom(function = "a_card_id"))]
    #[schema(format = Uuid)]
    card: String,
    outcome: FeedbackOutcome,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20, nullable = false)]
    accepted_suggestions: Option<Vec<AcceptedSuggestion>>,
    #[serde(default)]
    #[validate(nested)]
    #[schema(nullable = false)]
    override_reason: Option<OverrideReason>,
    /// When the clinician acted (ISO 8601).
    #[validate(custom(function = "a_timestamp"))]
    #[schema(format = DateTime)]
    outcome_timestamp: String,
    /// Extensions are allowed by CDS Hooks; they are not kept.
    #[serde(default)]
    #[schema(value_type = Object, nullable = false)]
    extension: Option<Value>,
}

/// A suggestion of the card that the clinician accepted.
#[derive(Debug, Deserialize, serde::Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedSuggestion {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    id: String,
}

/// Why the clinician overrode the card.
#[derive(Debug, Deserialize, serde::Serialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverrideReason {
    #[serde(default)]
    #[validate(nested)]
    #[schema(nullable = false)]
    reason: Option<Coding>,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000, nullable = false)]
    user_comment: Option<String>,
}

/// A code from a system: the override reasons a card offers, and the one
/// feedback names.
#[derive(Debug, Deserialize, serde::Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Coding {
    #[validate(custom(function = "a_reason_code"))]
    pub code: String,
    #[validate(custom(function = "our_reason_system"))]
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 200))]
    #[schema(max_length = 200, nullable = false)]
    pub display: Option<String>,
}

/// `feedback[0].override_reason.user_comment` as the JSON names it:
/// `feedback[0].overrideReason.userComment`.
fn camel_case_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn invalid(code: &'static str, message: &'static str) -> validator::ValidationError {
    validator::ValidationError::new(code).with_message(message.into())
}

fn a_card_id(s: &str) -> Result<(), validator::ValidationError> {
    ScreeningId::parse(s)
        .map(|_| ())
        .ok_or_else(|| invalid("card", "expected the uuid of a card this service issued"))
}

fn a_timestamp(s: &str) -> Result<(), validator::ValidationError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|_| ())
        .map_err(|_| {
            invalid(
                "timestamp",
                "expected an ISO 8601 time such as 2026-11-25T09:00:00Z",
            )
        })
}

/// The review reason a card's override reason code names.
fn reason_code(code: &str) -> Option<ReasonCode> {
    use strum::VariantArray as _;
    ReasonCode::VARIANTS
        .iter()
        .copied()
        .find(|r| r.as_str() == code)
}

fn a_reason_code(s: &str) -> Result<(), validator::ValidationError> {
    reason_code(s)
        .map(|_| ())
        .ok_or_else(|| invalid("reason", "expected one of the card's overrideReasons codes"))
}

fn our_reason_system(s: &str) -> Result<(), validator::ValidationError> {
    (s == REASON_SYSTEM).then_some(()).ok_or_else(|| {
        invalid(
            "system",
            "expected the system of the card's overrideReasons",
        )
    })
}

/// The events a feedback request records, by card; or each bad field named
/// as CDS Hooks names it.
pub(super) fn parse(body: Value) -> Result<Vec<(ScreeningId, EventData)>, Vec<FieldError>> {
    let request = match from_json::<FeedbackRequest>(body) {
        Ok(r) => r,
        Err(Invalid::Shape(errors)) => return Err(errors),
        // validator names Rust fields; the client wrote CDS Hooks' names.
        Err(Invalid::Fields(_, errors)) => {
            return Err(errors
                .into_iter()
                .map(|e| FieldError {
                    field: camel_case_path(&e.field),
                    message: e.message,
                })
                .collect());
        }
    };
    let mut items = Vec::with_capacity(request.feedback.len());
    for item in request.feedback {
        let Some(card) = ScreeningId::parse(&item.card) else {
            // Checked above (`a_card_id`).
            return Err(vec![FieldError {
                field: "feedback.card".into(),
                message: "expected the uuid of a card this service issued".into(),
            }]);
        };
        let reason = item.override_reason;
        let data = EventData::CdsFeedback(CdsFeedbackData {
            outcome: item.outcome,
            outcome_timestamp: item.outcome_timestamp,
            override_reason: reason
                .as_ref()
                .and_then(|r| r.reason.as_ref())
                .and_then(|c| reason_code(&c.code)),
            user_comment: reason.and_then(|r| r.user_comment),
        });
        items.push((card, data));
    }
    Ok(items)
}
