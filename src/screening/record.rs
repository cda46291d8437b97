//! A screening as kept: the answers and the evaluation exactly as issued, its
//! review state and its audit trail.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::questionnaire::FieldError;
use crate::rules::Outcome;
use crate::screening::printable::printable;

/// A screening's id: a random UUID (v7: time-ordered, not guessable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScreeningId(Uuid);

impl ScreeningId {
    pub fn new() -> Self {
        ScreeningId(Uuid::now_v7())
    }

    /// `None` for anything that is not a UUID.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(ScreeningId)
    }
}

impl Default for ScreeningId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for ScreeningId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
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

/// A clinic's slug: 1 to 64 of a-z, 0-9 and `-`. Every screening and every
/// key belongs to one; nothing is ever read across clinics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Clinic(String);

impl Clinic {
    pub fn parse(s: &str) -> Result<Clinic, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Clinic(s.to_string()))
            .ok_or_else(|| "a clinic is 1 to 64 characters of a-z, 0-9 and -".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Clinic {
    type Error = String;
    fn try_from(s: String) -> Result<Clinic, String> {
        Clinic::parse(&s)
    }
}

impl From<Clinic> for String {
    fn from(c: Clinic) -> String {
        c.0
    }
}

impl std::fmt::Display for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Confirm,
    Override,
}

// The codes and their labels are defined here only: the CDS cards and the
// web pages take them from here.
/// Why a clinician overrode (or commented on) a suggestion.
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
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReasonCode {
    // `clinical_judgement`: the code clinics integrate against, kept as it
    // was first published; its label is US English ("Clinical judgment").
    ClinicalJudgement,
    NewInformation,
    PatientPreference,
    DataEntryError,
    Other,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The label a clinician reads.
    pub fn label(self) -> &'static str {
        match self {
            ReasonCode::ClinicalJudgement => "Clinical judgment",
            ReasonCode::NewInformation => "New information",
            ReasonCode::PatientPreference => "Patient preference",
            ReasonCode::DataEntryError => "Data entry error",
            ReasonCode::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewReason {
    pub code: ReasonCode,
    /// Free text, kept on the record (not logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 2000))]
    pub text: Option<String>,
}

/// `POST /v1/screenings/{id}/review`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: Decision,
    /// Required when overriding: the outcome the clinician decides on.
    #[serde(default)]
    pub final_outcome: Option<Outcome>,
    /// Required when overriding.
    #[serde(default)]
    #[validate(nested)]
    pub reason: Option<ReviewReason>,
    /// The clinician's identifier (name or staff number): printable
    /// characters, as a key's label (no control characters, line breaks,
    /// bidirectional overrides or invisible characters); trimmed.
    #[validate(length(min = 1, max = 128), custom(function = "clinician_name"))]
    #[schema(example = "dr-okafor")]
    pub clinician: String,
}

/// A clinician's name as kept (trimmed): not blank, and every character
/// shown as itself, by the same rule as a key's label.
fn clinician_name(s: &str) -> Result<(), validator::ValidationError> {
    let name = s.trim();
    if name.is_empty() {
        return Err(
            validator::ValidationError::new("blank").with_message("must not be blank".into())
        );
    }
    if !printable(name) {
        return Err(validator::ValidationError::new("printable").with_message(
            "Type the name with letters, spaces and punctuation only: it holds a hidden character"
                .into(),
        ));
    }
    Ok(())
}

/// A clinician's decision on a screening, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Review {
    pub decision: Decision,
    pub final_outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReviewReason>,
    pub clinician: String,
    #[schema(format = DateTime)]
    pub reviewed_at: String,
}

impl Review {
    /// The state a screening moves to with this review: the one place the
    /// review state machine is decided (pending -> confirmed | overridden).
    /// An override always differs from the suggestion: `parse` refuses one
    /// that does not.
    pub fn status(&self) -> Status {
        match self.decision {
            Decision::Confirm => Status::Confirmed,
            Decision::Override => Status::Overridden,
        }
    }
}

impl ReviewRequest {
    /// Parses and checks a review of a screening whose suggestion is
    /// `suggested`, naming every bad field.
    pub fn parse(
        json: serde_json::Value,
        suggested: Outcome,
        at: String,
    ) -> Result<Review, Vec<FieldError>> {
        let (req, mut errors) = match from_json::<ReviewRequest>(json) {
            Ok(req) => (req, Vec::new()),
            Err(Invalid::Shape(errors)) => return Err(errors),
            Err(Invalid::Fields(req, errors)) => (*req, errors),
        };
        let final_outcome = match (req.decision, req.final_outcome) {
            (Decision::Confirm, None) => suggested,
            (Decision::Confirm, Some(o)) if o == suggested => suggested,
            (Decision::Confirm, Some(_)) => {
                errors.push(field_error(
                    "final_outcome",
                    "a confirmation keeps the suggested outcome: leave final_outcome out, or use decision `override`",
                ));
                suggested
            }
            (Decision::Override, None) => {
                errors.push(field_error(
                    "final_outcome",
                    "an override needs the final outcome",
                ));
                suggested
            }
            (Decision::Override, Some(o)) if o == suggested => {
                errors.push(field_error(
                    "final_outcome",
                    "the final outcome is the suggested one: use decision `confirm`",
                ));
                o
            }
            (Decision::Override, Some(o)) => o,
        };
        if req.decision == Decision::Override && req.reason.is_none() {
            errors.push(field_error(
                "reason",
                "an override needs a reason: {code, text}",
            ));
        }
        if let Some(ReviewReason {
            code: ReasonCode::Other,
            text,
        }) = &req.reason
            && text.as_deref().is_none_or(|t| t.trim().is_empty())
        {
            errors.push(field_error(
                "reason.text",
                "reason `other` needs a text saying what the reason is",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Review {
            decision: req.decision,
            final_outcome,
            reason: req.reason,
            clinician: req.clinician.trim().to_string(),
            reviewed_at: at,
        })
    }
}

/// Why a request body is not valid.
pub enum Invalid<T> {
    /// It does not have the request's shape: nothing was read.
    Shape(Vec<FieldError>),
    /// It has the shape, and these fields break their rules.
    Fields(Box<T>, Vec<FieldError>),
}

/// A typed request from JSON: its shape by serde, its field rules by
/// `validator`. Every problem is named by its path; no message carries the
/// value sent.
pub fn from_json<T: serde::de::DeserializeOwned + Validate>(
    json: serde_json::Value,
) -> Result<T, Invalid<T>> {
    let req: T = serde_path_to_error::deserialize(json).map_err(|e| {
        let message = value_free(&e.inner().to_string());
        let path = match e.path().to_string() {
            p if p == "." => String::new(),
            p => p,
        };
        // serde names a missing field only in its message.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (missing, path.is_empty()) {
            (Some(name), true) => name.to_string(),
            (Some(name), false) => format!("{path}.{name}"),
            (None, _) => path,
        };
        Invalid::Shape(vec![FieldError { field, message }])
    })?;
    match req.validate() {
        Ok(()) => Ok(req),
        Err(e) => Err(Invalid::Fields(Box::new(req), flatten(&e, ""))),
    }
}

/// serde's message without the value that was sent: `unknown variant
/// `X`, expected `a` or `b`` becomes `expected `a` or `b``. Missing and
/// unknown fields keep their message, which names only the field.
fn value_free(message: &str) -> String {
    if message.starts_with("missing field") || message.starts_with("unknown field") {
        return message.to_string();
    }
    match message.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => "invalid value".to_string(),
    }
}

fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// validator's nested errors as field paths.
pub fn flatten(errors: &validator::ValidationErrors, prefix: &str) -> Vec<FieldError> {
    use validator::ValidationErrorsKind as K;
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            K::Field(errs) => out.extend(errs.iter().map(|e| FieldError {
                field: path.clone(),
                message: match (&e.message, e.code.as_ref()) {
                    (Some(m), _) => m.to_string(),
                    (None, "length") => {
                        let min = e.params.get("min").map(|v| v.to_string());
                        let max = e.params.get("max").map(|v| v.to_string());
                        match (min, max) {
                            (Some(min), Some(max)) => {
                                format!("expected from {min} to {max} characters")
                            }
                            (None, Some(max)) => format!("expected at most {max} characters"),
                            (Some(min), None) => format!("expected at least {min} characters"),
                            (None, None) => "invalid length".into(),
                        }
                    }
                    (None, code) => format!("invalid ({code})"),
                },
            })),
            K::Struct(inner) => out.extend(flatten(inner, &path)),
            K::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{path}[{i}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

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

/// A client's `Idempotency-Key`: 1 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| IdempotencyKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A timestamp as stored: UTC, microseconds, sortable as text.
/// Screenings created at or after `from` and before `to`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

impl Period {
    /// The period of the query parameters `from` and `to` (RFC 3339); each
    /// bad one, and an empty period, named in `errors`.
    pub fn parse(from: Option<&str>, to: Option<&str>, errors: &mut Vec<FieldError>) -> Period {
        let mut time = |field: &str, raw: Option<&str>| {
            let raw = raw?;
            let parsed = chrono::DateTime::parse_from_rfc3339(raw.trim())
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc));
            if parsed.is_none() {
                errors.push(FieldError {
                    field: field.into(),
                    message:
                        "expected a time with its offset (RFC 3339), such as 2026-11-01T00:00:00Z"
                            .into(),
                });
            }
            parsed
        };
        let period = Period {
            from: time("from", from),
            to: time("to", to),
        };
        if let (Some(f), Some(t)) = (period.from, period.to)
            && f >= t
        {
            errors.push(FieldError {
                field: "to".into(),
                message: "must be after `from`".into(),
            });
        }
        period
    }

    /// The ends as stored times (`timestamp`); `None` where open.
    pub fn stored(&self) -> (Option<String>, Option<String>) {
        (self.from.map(timestamp), self.to.map(timestamp))
    }

    /// The ends to compare stored times with, open ends included: every
    /// stored time sorts at or after the first and before the second.
    pub fn bounds(&self) -> (String, String) {
        let (from, to) = self.stored();
        (
            from.unwrap_or_else(|| "0000".into()),
            to.unwrap_or_else(|| "9999".into()),
        )
    }
}

pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review(v: serde_json::Value) -> Result<Review, Vec<String>> {
        ReviewRequest::parse(v, Outcome::LikelyCandidate, "t".into())
            .map_err(|e| e.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_confirmation_keeps_the_suggestion() {
        let r = review(json!({"decision": "confirm", "clinician": "dr-a"})).unwrap();
        assert_eq!(r.final_outcome, Outcome::LikelyCandidate);
    }

    #[test]
    fn review_errors_never_echo_the_value_sent() {
        let secret = "PATIENT-JANE-DOE-MRN-12345";
        for body in [
            json!({"decision": secret, "clinician": "a"}),
            json!({"decision": "override", "final_outcome": secret, "reason": {"code": "other", "text": "x"}, "clinician": "a"}),
            json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": {"code": secret}, "clinician": "a"}),
            json!({"decision": "confirm", "clinician": 12345}),
        ] {
            let errors = ReviewRequest::parse(body.clone(), Outcome::LikelyCandidate, "t".into())
                .unwrap_err();
            let text = format!("{errors:?}");
            assert!(!text.contains(secret) && !text.contains("12345"), "{text}");
            assert!(text.contains("expected"), "{text}");
        }
        let errors = ReviewRequest::parse(
            json!({"decision": secret, "clinician": "a"}),
            Outcome::LikelyCandidate,
            "t".into(),
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "decision");
        assert!(
            errors[0].message.contains("`confirm`") && errors[0].message.contains("`override`")
        );
    }

    #[test]
    fn reason_other_needs_a_text() {
        for reason in [
            json!({"code": "other"}),
            json!({"code": "other", "text": "  "}),
        ] {
            assert_eq!(
                review(json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": reason, "clinician": "a"})).unwrap_err(),
                ["reason.text"]
            );
        }
        assert!(review(json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": {"code": "other", "text": "seen in clinic"}, "clinician": "a"})).is_ok());
    }

    #[test]
    fn an_override_needs_an_outcome_that_differs_and_a_reason() {
        assert_eq!(
            review(json!({"decision": "override", "clinician": "dr-a"})).unwrap_err(),
            ["final_outcome", "reason"]
        );
        assert_eq!(
            review(json!({"decision": "override", "final_outcome": "likely_candidate", "reason": {"code": "clinical_judgement"}, "clinician": "dr-a"})).unwrap_err(),
            ["final_outcome"]
        );
        let r = review(json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": {"code": "clinical_judgement", "text": "wait"}, "clinician": " dr-a "})).unwrap();
        assert_eq!(
            (r.final_outcome, r.clinician.as_str()),
            (Outcome::NotYetEligible, "dr-a")
        );
    }

    #[test]
    fn bad_fields_are_named_by_path() {
        assert_eq!(
            review(json!({"decision": "confirm", "clinician": "  "})).unwrap_err(),
            ["clinician"]
        );
        assert_eq!(
            review(json!({"decision": "confirm"})).unwrap_err(),
            ["clinician"]
        );
        assert_eq!(review(json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": {}, "clinician": "a"})).unwrap_err(), ["reason.code"]);
        assert_eq!(
            review(json!({"decision": "override", "final_outcome": "maybe", "reason": {"code": "x"}, "clinician": "a"})).unwrap_err(),
            ["final_outcome"]
        );
        assert_eq!(
            review(json!({"decision": "override", "final_outcome": "not_yet_eligible", "reason": {"code": "other", "text": "x".repeat(2001)}, "clinician": "a"})).unwrap_err(),
            ["reason.text"]
        );
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("a-b_c.1").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("with space").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_none());
    }
}
