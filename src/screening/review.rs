//! A clinician's review of a suggestion: the request, checked against the
//! suggestion it reviews, and the review as kept.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::printable::printable;
use super::record::Status;
use super::validation::{Invalid, field_error, from_json};
use crate::questionnaire::FieldError;
use crate::rules::Outcome;

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
}
