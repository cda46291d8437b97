//! One evaluation: the rules' truths combined into exactly one outcome, with
//! its full basis. The precedence and combination rules are the contract's
//! (criteria.md §2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::questionnaire::Answers;
use crate::rules::logic::Truth;
use crate::rules::{Effect, Outcome, Rule, RuleSet};

/// A candidacy suggestion with its basis. It is never a decision: a
/// clinician must confirm it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// Exactly one outcome, by the contract's precedence.
    pub outcome: Outcome,
    /// The outcome in plain words.
    #[schema(example = "Likely candidate")]
    pub outcome_label: String,
    /// One sentence for a nurse.
    pub summary: String,
    /// The criteria that drove the outcome, each with the answers it read.
    pub reasons: Vec<Finding>,
    /// Cautions that apply; they never change the outcome.
    pub cautions: Vec<Finding>,
    /// Supporting findings; listed, never decisive.
    pub supports: Vec<Finding>,
    /// Unanswered questions that rules read, required ones first.
    pub missing: Vec<Missing>,
    /// What to do next, most important first.
    pub next_steps: Vec<String>,
    /// Always true: this is a suggestion for a clinician to confirm.
    #[schema(example = true)]
    pub requires_clinician_confirmation: bool,
    pub disclaimer: String,
    #[schema(example = "1")]
    pub questionnaire_version: String,
    pub ruleset: RulesetRef,
    pub evaluated_at: DateTime<Utc>,
}

/// Which rules produced an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RulesetRef {
    #[schema(example = "1.0.0")]
    pub version: String,
    /// SHA-256 of the rule set's files.
    #[schema(example = "sha256:4f1c…")]
    pub digest: String,
    #[schema(example = "cms_lcd")]
    pub profile: String,
}

/// A criterion that applies, with the answers it read and its sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    #[schema(example = "PT_FAILED")]
    pub code: String,
    pub title: String,
    pub effect: Effect,
    pub message: String,
    pub answers: Vec<AnswerRead>,
    pub sources: Vec<Citation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

/// An answer a criterion read; `value` is null when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnswerRead {
    pub id: String,
    pub question: String,
    /// The answer as sent (any JSON type), or null when unknown.
    #[schema(value_type = Option<serde_json::Value>)]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    pub id: String,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An unanswered question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Missing {
    #[schema(example = "pain.duration_months")]
    pub id: String,
    pub question: String,
    /// Required answers must be given before the suggestion is final.
    pub required: bool,
    /// Criteria that read this answer.
    pub needed_by: Vec<String>,
}

/// Evaluates `answers` with `rules` at time `at`.
pub fn evaluate(rules: &RuleSet, answers: &Answers, at: DateTime<Utc>) -> Evaluation {
    let truths: Vec<(&Rule, Truth)> = rules
        .rules
        .iter()
        .map(|r| (r, r.cond.eval(answers)))
        .collect();
    let fired = |e: Effect| {
        truths
            .iter()
            .any(|(r, t)| r.effect == e && *t == Truth::True)
    };
    let undetermined = |urgent: bool| {
        truths.iter().any(|(r, t)| {
            r.required && *t == Truth::Unknown && (r.effect == Effect::Urgent) == urgent
        })
    };
    // Red flags first and mandatory; then a known exclude or defer is
    // definite; then unknown required answers; then blocks.
    let (outcome, driving) = if fired(Effect::Urgent) {
        (Outcome::UrgentEvaluation, Some(Effect::Urgent))
    } else if undetermined(true) {
        (Outcome::NeedsMoreInformation, None)
    } else if fired(Effect::Exclude) {
        (Outcome::UnlikelyCandidate, Some(Effect::Exclude))
    } else if fired(Effect::Defer) {
        (Outcome::NotYetEligible, Some(Effect::Defer))
    } else if undetermined(false) || fired(Effect::Require) {
        (Outcome::NeedsMoreInformation, Some(Effect::Require))
    } else if fired(Effect::Block) {
        (Outcome::NeedsDiagnosticBlock, Some(Effect::Block))
    } else {
        (Outcome::LikelyCandidate, None)
    };
    let findings = |e: Option<Effect>| -> Vec<Finding> {
        truths
            .iter()
            .filter(|(r, t)| Some(r.effect) == e && *t == Truth::True)
            .map(|(r, _)| finding(rules, r, answers))
            .collect()
    };
    let reasons = findings(driving);
    let cautions = findings(Some(Effect::Caution));
    let supports = findings(Some(Effect::Supports));
    let missing = missing(rules, answers);

    let text = rules.outcome_text(outcome);
    let titles: Vec<&str> = reasons.iter().map(|f| f.title.as_str()).collect();
    let summary = text
        .summary
        .replace("{reasons}", &join_words(&titles))
        .replace(
            "{missing_count}",
            &missing.iter().filter(|m| m.required).count().to_string(),
        );
    let mut next_steps = vec![text.next_step.clone()];
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
        outcome_label: text.label.clone(),
        summary,
        reasons,
        cautions,
        supports,
        missing,
        next_steps,
        requires_clinician_confirmation: true,
        disclaimer: rules.disclaimer.clone(),
        questionnaire_version: rules.questionnaire.version.clone(),
        ruleset: RulesetRef {
            version: rules.version.clone(),
            digest: rules.digest.clone(),
            profile: rules.profile.clone(),
        },
        evaluated_at: at,
    }
}

fn finding(rules: &RuleSet, rule: &Rule, answers: &Answers) -> Finding {
    Finding {
        code: rule.code.clone(),
        title: rule.title.clone(),
        effect: rule.effect,
        message: rule.message.clone(),
        answers: rule
            .reads
            .iter()
            .map(|&i| {
                let field = rules.fields.get(i);
                AnswerRead {
                    id: field.id.clone(),
                    question: field.question.clone(),
                    value: answers
                        .get(i)
                        .map_or(Value::Null, |v| v.to_json(&field.kind)),
                }
            })
            .collect(),
        sources: rule
            .sources
            .iter()
            .filter_map(|id| {
                rules.sources.get(id).map(|s| Citation {
                    id: id.clone(),
                    citation: s.citation.clone(),
                    url: s.url.clone(),
                })
            })
            .collect(),
        next_step: rule.next_step.clone(),
    }
}

/// Unanswered questions that some rule reads and that are asked (their
/// `show_when` is not false), required first, then in questionnaire order.
fn missing(rules: &RuleSet, answers: &Answers) -> Vec<Missing> {
    let mut out = Vec::new();
    for (i, field) in rules.fields.iter() {
        if rules.read_by[i].is_empty() {
            continue;
        }
        let asked = rules.visibility[i]
            .as_ref()
            .is_none_or(|c| c.eval(answers) != Truth::False);
        match answers.get(i) {
            None if asked => out.push(Missing {
                id: field.id.clone(),
                question: field.question.clone(),
                required: rules.required[i],
                needed_by: rules.read_by[i].clone(),
            }),
            Some(crate::questionnaire::AnswerValue::List(entries)) => {
                let sub = rules.entry_fields(i).unwrap_or_default();
                for (k, entry) in entries.iter().enumerate() {
                    for &j in &rules.entry_reads[i] {
                        if entry.0[j].is_none() {
                            out.push(Missing {
                                id: format!("{}[{k}].{}", field.id, sub[j].id),
                                question: sub[j].question.clone(),
                                required: rules.required[i],
                                needed_by: rules.read_by[i].clone(),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|m| !m.required);
    out
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
