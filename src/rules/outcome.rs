//! The outcomes: the six codes, what each says to a nurse, and the checks
//! of outcomes.yaml (each code once, in an order that keeps the screening
//! safe; only the placeholders each text may use).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FILES;
use super::template::{NOTE_PLACEHOLDERS, OUTCOME_PLACEHOLDERS, check_placeholders};
use super::text::Text;
use super::yaml::{OutcomeDoc, OutcomesFile};
use crate::problem_list::{Problem, Problems};

/// One of the six outcome codes of the contract, in the contract's default
/// precedence (a rule set's own order is `RuleSet::precedence`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    Serialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    UrgentEvaluation,
    UnlikelyCandidate,
    NotYetEligible,
    NeedsMoreInformation,
    NeedsDiagnosticBlock,
    LikelyCandidate,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::UrgentEvaluation,
        Outcome::UnlikelyCandidate,
        Outcome::NotYetEligible,
        Outcome::NeedsMoreInformation,
        Outcome::NeedsDiagnosticBlock,
        Outcome::LikelyCandidate,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// 0 for the highest (urgent), 5 for the lowest (likely candidate): the
    /// order of the review queue by priority. Fixed, because it is stored with
    /// each screening; the evaluation follows the rule set's own precedence.
    pub fn precedence(self) -> i64 {
        Outcome::ALL.iter().position(|o| *o == self).unwrap_or(5) as i64
    }
}

/// What an outcome says to a nurse. The label and the summary are shared:
/// an evaluation carries the summary as written when nothing is filled in
/// or added to it.
#[derive(Debug, Clone)]
pub struct OutcomeText {
    pub code: Outcome,
    pub label: Text,
    pub summary: Text,
    /// The outcome's own first step; `needs_more_information` has none, its
    /// steps come from what is missing and from its reasons.
    pub next_step: Option<String>,
}

impl OutcomeText {
    pub(super) fn new(doc: OutcomeDoc) -> Self {
        OutcomeText {
            code: doc.code,
            label: Text::shared(&doc.label),
            summary: Text::shared(&doc.summary),
            next_step: doc.next_step,
        }
    }
}

/// A sentence added to the summary, and a step to the next steps, when the
/// evaluation's lists call for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub summary: String,
    #[serde(default)]
    pub next_step: Option<String>,
}

/// The conditional words of every evaluation. Each note is used only when
/// the list it speaks of is not empty, so the words follow the lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    /// A red flag is unanswered (the outcome is `needs_more_information`).
    pub red_flags_unanswered: Note,
    /// `needs_more_information` because of a `require` criterion that fired.
    pub requirements: Note,
    /// Required answers are listed as missing.
    pub missing_required: Note,
    /// Exclusions or deferrals already known behind an unanswered red flag.
    pub held: Note,
    /// `likely_candidate` or `needs_diagnostic_block` while answers that no
    /// criterion requires are still unknown.
    pub unknown_optional: Note,
    /// `likely_candidate` or `needs_diagnostic_block` while a criterion that
    /// is not required, but would change the outcome, is unknown.
    pub open_criteria: Note,
}

pub(super) fn check_outcomes(o: &OutcomesFile, problems: &mut Problems) {
    for t in &o.outcomes {
        let at = format!("outcome {}", t.code.as_str());
        check_placeholders(&at, &t.summary, OUTCOME_PLACEHOLDERS, problems);
        if t.next_step.is_none() && t.code != Outcome::NeedsMoreInformation {
            problems.push(Problem::at(FILES[3], at, "this outcome needs a next step"));
        }
    }
    let n = &o.notes;
    for (name, note) in [
        ("red_flags_unanswered", &n.red_flags_unanswered),
        ("requirements", &n.requirements),
        ("missing_required", &n.missing_required),
        ("held", &n.held),
        ("unknown_optional", &n.unknown_optional),
        ("open_criteria", &n.open_criteria),
    ] {
        let at = format!("notes.{name}");
        check_placeholders(&at, &note.summary, NOTE_PLACEHOLDERS, problems);
        if let Some(step) = &note.next_step {
            check_placeholders(&at, step, NOTE_PLACEHOLDERS, problems);
        }
    }
    let codes: Vec<Outcome> = o.outcomes.iter().map(|t| t.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    if sorted != Outcome::ALL {
        problems.push(Problem::in_file(
            FILES[3],
            format!(
                "outcomes must list each of the six outcome codes once, in precedence order (highest first): {}",
                Outcome::ALL.map(Outcome::as_str).join(", ")
            ),
        ));
        return;
    }
    // The order is the programme's, within what keeps the screening safe.
    if codes[0] != Outcome::UrgentEvaluation {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "urgent_evaluation must come first: a red flag wins whatever else is true",
        ));
    }
    if codes[5] != Outcome::LikelyCandidate {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "likely_candidate must come last: it applies only when nothing else does",
        ));
    }
    let at = |o: Outcome| codes.iter().position(|c| *c == o);
    if at(Outcome::NeedsDiagnosticBlock) < at(Outcome::NeedsMoreInformation) {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "needs_diagnostic_block must come after needs_more_information: an outcome that moves the patient towards the procedure never hides an unknown answer (only outcomes that stop or defer it may outrank needs_more_information)",
        ));
    }
}
