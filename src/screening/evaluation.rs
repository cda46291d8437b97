//! One evaluation: the rules' truths combined into exactly one outcome, with
//! its full basis. The precedence and combination rules are the contract's
//! (sections 2 and 6 of the clinical contract; `rules/v1/CONTRACT.md` lists
//! its criteria).
//!
//! `verdict` decides the outcome, `basis` lists the findings and the
//! missing answers, `summary` words them; `evaluate` puts them together.

mod basis;
mod summary;
mod verdict;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::questionnaire::Answers;
pub use crate::rules::Citation;
pub use crate::rules::RulesetRef;
use crate::rules::logic::Truth;
use crate::rules::text::Text;
use crate::rules::{Effect, Outcome, RuleSet};
pub(super) use basis::{finding, missing};
use summary::Words;
use verdict::effect_outcome;
pub(super) use verdict::{Facts, Verdict, facts, verdicts};

/// A candidacy suggestion with its basis. It is never a decision: a
/// clinician must confirm it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// Exactly one outcome, by the contract's precedence.
    pub outcome: Outcome,
    /// The outcome in plain words.
    #[schema(value_type = String, example = "Likely candidate")]
    pub outcome_label: Text,
    /// One sentence for a nurse.
    #[schema(value_type = String)]
    pub summary: Text,
    /// The criteria that drove the outcome, each with the answers it read.
    pub reasons: Vec<Finding>,
    /// Exclusions and deferrals already known while an unanswered red flag
    /// holds the outcome at `needs_more_information`: shown now, they become
    /// the outcome once every red flag is answered and none is present.
    /// Empty otherwise.
    pub held_findings: Vec<Finding>,
    /// Cautions that apply; they never change the outcome.
    pub cautions: Vec<Finding>,
    /// Supporting findings; listed, never decisive.
    pub supports: Vec<Finding>,
    /// Unanswered questions that rules read, required ones first.
    pub missing: Vec<Missing>,
    /// What to do next, most important first.
    #[schema(value_type = Vec<String>)]
    pub next_steps: Vec<Text>,
    /// Always true: this is a suggestion for a clinician to confirm.
    #[schema(example = true)]
    pub requires_clinician_confirmation: bool,
    #[schema(value_type = String)]
    pub disclaimer: Text,
    #[schema(value_type = String, example = "1")]
    pub questionnaire_version: Text,
    pub ruleset: RulesetRef,
    /// When it was evaluated (UTC, microseconds, like every time here).
    #[serde(serialize_with = "micros")]
    pub evaluated_at: DateTime<Utc>,
}

/// A criterion that applies, with the answers it read and its sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    #[schema(value_type = String, example = "PT_FAILED")]
    pub code: Text,
    #[schema(value_type = String)]
    pub title: Text,
    pub effect: Effect,
    #[schema(value_type = String)]
    pub message: Text,
    pub answers: Vec<AnswerRead>,
    pub sources: Vec<Citation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub next_step: Option<Text>,
}

/// An answer a criterion read; `value` is null when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnswerRead {
    #[schema(value_type = String)]
    pub id: Text,
    #[schema(value_type = String)]
    pub question: Text,
    /// The answer as sent (any JSON type), or null when unknown.
    #[schema(value_type = Option<serde_json::Value>, required = true)]
    pub value: Value,
}

/// An unanswered question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Missing {
    #[schema(value_type = String, example = "pain.duration_months")]
    pub id: Text,
    #[schema(value_type = String)]
    pub question: Text,
    /// Required answers must be given before the suggestion is final.
    pub required: bool,
    /// Criteria that read this answer.
    #[schema(value_type = Vec<String>)]
    pub needed_by: Vec<Text>,
}

/// Evaluates `answers` with `rules` at time `at`.
pub fn evaluate(rules: &RuleSet, answers: &Answers, at: DateTime<Utc>) -> Evaluation {
    let verdicts = verdicts(rules, answers);
    let missing = missing(rules, answers, &verdicts);
    let facts = facts(&verdicts, &missing);
    let fired = |e: Effect| facts.fired(e);
    let missing_required = facts.missing_required;
    let red_flags_open = facts.red_flags_open;
    let (outcome, driving) = facts.decide(rules);
    let findings = |effects: &[Effect]| -> Vec<Finding> {
        verdicts
            .iter()
            .filter(|v| effects.iter().any(|&e| v.fired(e)))
            .map(|v| finding(rules, v.rule, answers))
            .collect()
    };
    let reasons = driving.map_or_else(Vec::new, |e| findings(&[e]));
    let cautions = findings(&[Effect::Caution]);
    let supports = findings(&[Effect::Supports]);
    // Known behind an unanswered red flag: shown, not yet the outcome.
    let held_findings = if red_flags_open && !fired(Effect::Urgent) {
        findings(&[Effect::Exclude, Effect::Defer])
    } else {
        Vec::new()
    };
    // What the outcome will be once the red flags are answered and none is
    // present: the first that applies of what is already known, in the rule
    // set's precedence (needs_more_information when a required answer
    // outside the red flags is still open, wherever the rule set puts it).
    let held_outcome = if held_findings.is_empty() {
        outcome
    } else {
        let urgent_only = |code: &Text| {
            rules
                .rules
                .iter()
                .any(|r| r.code == *code && r.effect == Effect::Urgent)
        };
        let undecided = verdicts
            .iter()
            .any(|v| v.rule.effect != Effect::Urgent && v.holds())
            || missing
                .iter()
                .any(|m| m.required && !m.needed_by.iter().all(urgent_only));
        rules
            .precedence()
            .find(|&o| match o {
                Outcome::NeedsMoreInformation => undecided || fired(Effect::Require),
                Outcome::UnlikelyCandidate | Outcome::NotYetEligible => facts.applies(o),
                _ => false,
            })
            .unwrap_or(Outcome::NotYetEligible)
    };

    // Criteria not required for a suggestion, unknown, that would raise
    // the outcome if they applied (say, a prior fusion not yet asked about).
    let open: Vec<Finding> = verdicts
        .iter()
        .filter(|v| {
            v.truth == Truth::Unknown
                && effect_outcome(v.rule.effect)
                    .is_some_and(|o| rules.rank(o) < rules.rank(outcome))
        })
        .map(|v| finding(rules, v.rule, answers))
        .collect();
    let words = Words {
        rules,
        reasons: &reasons,
        missing_required,
        unknown_count: missing.len() - missing_required,
        held: &held_findings,
        held_outcome,
        open: &open,
    };
    let (summary, mut next_steps) = words.compose(outcome, red_flags_open);
    // Screening stops at a red flag: cautions stay listed, but their steps
    // would only distract from the urgent one.
    let caution_steps = if outcome == Outcome::UrgentEvaluation {
        &[][..]
    } else {
        &cautions[..]
    };
    for step in reasons
        .iter()
        .chain(caution_steps)
        .filter_map(|f| f.next_step.clone())
    {
        if !next_steps.contains(&step) {
            next_steps.push(step);
        }
    }
    Evaluation {
        outcome,
        outcome_label: rules.outcome_text(outcome).label.clone(),
        summary,
        reasons,
        held_findings,
        cautions,
        supports,
        missing,
        next_steps,
        requires_clinician_confirmation: true,
        disclaimer: rules.disclaimer.clone(),
        questionnaire_version: rules.questionnaire_version.clone(),
        ruleset: rules.reference(),
        evaluated_at: at,
    }
}

/// A time as every time of the API is written: UTC, to the microsecond.
fn micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::record::timestamp(*t))
}
