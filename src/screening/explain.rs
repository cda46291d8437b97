//! A trace for rule authors (`facet-screen rules explain`): every rule with
//! its truth value and the answers it read, then the outcomes in the rule
//! set's precedence, each with why it applies or not, down to the one given.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::evaluation::{self, AnswerRead, Evaluation, Facts};
use crate::questionnaire::Answers;
use crate::rules::logic::Truth;
use crate::rules::{Effect, Outcome, RuleSet, RulesetRef};

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub ruleset: RulesetRef,
    pub questionnaire_version: String,
    pub rules: Vec<RuleTrace>,
    /// The outcomes in precedence order, down to the one given.
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    /// The evaluation as the API returns it.
    pub evaluation: Evaluation,
}

#[derive(Debug, Serialize)]
pub struct RuleTrace {
    pub code: String,
    pub effect: Effect,
    pub required: bool,
    pub truth: Truth,
    /// A required rule that cannot be decided holds the outcome at
    /// needs_more_information.
    pub undecided: bool,
    pub answers: Vec<AnswerRead>,
    /// Entry fields of lists that leave an entry undecided.
    pub incomplete: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub outcome: Outcome,
    pub applies: bool,
    pub why: String,
}

pub fn explain(rules: &RuleSet, answers: &Answers, at: DateTime<Utc>) -> Explanation {
    let verdicts = evaluation::verdicts(rules, answers);
    let missing = evaluation::missing(rules, answers, &verdicts);
    let facts: Facts = evaluation::facts(&verdicts, &missing);
    let trace: Vec<RuleTrace> = verdicts
        .iter()
        .map(|v| RuleTrace {
            code: v.rule.code.to_string(),
            effect: v.rule.effect,
            required: v.rule.required,
            truth: v.truth,
            undecided: v.holds(),
            answers: evaluation::finding(rules, v.rule, answers).answers,
            incomplete: v
                .gaps
                .iter()
                .flat_map(|g| {
                    let list = &rules.fields.get(g.list).id;
                    let sub = rules.entry_fields(g.list).unwrap_or_default();
                    g.fields
                        .iter()
                        .map(move |&j| format!("{list}[{}].{}", g.entry, sub[j].id))
                })
                .collect(),
        })
        .collect();
    let codes = |keep: &dyn Fn(&RuleTrace) -> bool| {
        trace
            .iter()
            .filter(|t| keep(t))
            .map(|t| t.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fired = |e: Effect| codes(&|t| t.effect == e && t.truth == Truth::True);
    let mut steps = Vec::new();
    for outcome in rules.precedence() {
        let applies = facts.applies(outcome);
        let why = match (outcome, applies) {
            (Outcome::UrgentEvaluation, true) => {
                format!("red flags true: {}", fired(Effect::Urgent))
            }
            (Outcome::UrgentEvaluation, false) => "no red-flag criterion is true".into(),
            (Outcome::UnlikelyCandidate, true) => {
                format!("exclusions true: {}", fired(Effect::Exclude))
            }
            (Outcome::UnlikelyCandidate, false) => "no exclusion is true".into(),
            (Outcome::NotYetEligible, true) => format!("deferrals true: {}", fired(Effect::Defer)),
            (Outcome::NotYetEligible, false) => "no deferral is true".into(),
            (Outcome::NeedsMoreInformation, true) => {
                let mut parts = Vec::new();
                let open = codes(&|t| t.undecided);
                if !open.is_empty() {
                    parts.push(format!("required criteria undecided: {open}"));
                }
                if facts.missing_required > 0 {
                    parts.push(format!(
                        "required answers missing: {}",
                        facts.missing_required
                    ));
                }
                let required = fired(Effect::Require);
                if !required.is_empty() {
                    parts.push(format!("requirements true: {required}"));
                }
                parts.join("; ")
            }
            (Outcome::NeedsMoreInformation, false) => {
                "every required criterion is decided and no required answer is missing".into()
            }
            (Outcome::NeedsDiagnosticBlock, true) => {
                format!("block criteria true: {}", fired(Effect::Block))
            }
            (Outcome::NeedsDiagnosticBlock, false) => "no block criterion is true".into(),
            (Outcome::LikelyCandidate, _) => "nothing above applies".into(),
        };
        steps.push(Step {
            outcome,
            applies,
            why,
        });
        if applies {
            break;
        }
        if outcome == Outcome::UrgentEvaluation && facts.red_flags_open {
            steps.push(Step {
                outcome: Outcome::NeedsMoreInformation,
                applies: true,
                why: format!(
                    "red flags cannot be decided yet: {}; every red flag must be answered before any other suggestion",
                    codes(&|t| t.effect == Effect::Urgent && t.undecided)
                ),
            });
            break;
        }
    }
    let evaluation = evaluation::evaluate(rules, answers, at);
    Explanation {
        ruleset: rules.reference(),
        questionnaire_version: rules.questionnaire.version.clone(),
        rules: trace,
        steps,
        outcome: evaluation.outcome,
        evaluation,
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rule set {} ({}), profile {}, questionnaire {}",
            self.ruleset.version,
            self.ruleset.digest,
            self.ruleset.profile,
            self.questionnaire_version
        )?;
        writeln!(f, "\nrules (truth, effect, code: answers read)")?;
        for r in &self.rules {
            let truth = match r.truth {
                Truth::True => "true",
                Truth::False => "false",
                Truth::Unknown => "unknown",
            };
            let effect = serde_json::to_value(r.effect).unwrap_or_default();
            let required = if r.required { " required" } else { "" };
            let answers: Vec<String> = r
                .answers
                .iter()
                .map(|a| format!("{} = {}", a.id, a.value))
                .collect();
            writeln!(
                f,
                "  {truth:<8} {:<17} {}: {}",
                format!("{}{required}", effect.as_str().unwrap_or_default()),
                r.code,
                answers.join(", ")
            )?;
            if r.undecided {
                writeln!(
                    f,
                    "           undecided: holds the outcome at needs_more_information"
                )?;
            }
            if !r.incomplete.is_empty() {
                writeln!(f, "           incomplete: {}", r.incomplete.join(", "))?;
            }
        }
        writeln!(f, "\noutcome, by precedence (first that applies)")?;
        for (n, s) in self.steps.iter().enumerate() {
            let mark = if s.applies { "->" } else { "  " };
            writeln!(f, "{mark} {}. {:<24} {}", n + 1, s.outcome.as_str(), s.why)?;
        }
        writeln!(
            f,
            "\n{}: {}",
            self.outcome.as_str(),
            self.evaluation.summary
        )?;
        for step in &self.evaluation.next_steps {
            writeln!(f, "  next: {step}")?;
        }
        Ok(())
    }
}
