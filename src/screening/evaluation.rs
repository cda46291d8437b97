//! One evaluation: the rules' truths combined into exactly one outcome, with
//! its full basis. The precedence and combination rules are the contract's
//! (sections 2 and 6 of the clinical contract; `rules/v1/CONTRACT.md` lists
//! its criteria).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::questionnaire::Answers;
pub use crate::rules::RulesetRef;
use crate::rules::compile::Gap;
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
    pub next_steps: Vec<String>,
    /// Always true: this is a suggestion for a clinician to confirm.
    #[schema(example = true)]
    pub requires_clinician_confirmation: bool,
    pub disclaimer: String,
    #[schema(example = "1")]
    pub questionnaire_version: String,
    pub ruleset: RulesetRef,
    /// When it was evaluated (UTC, microseconds, like every time here).
    #[serde(serialize_with = "micros")]
    pub evaluated_at: DateTime<Utc>,
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
    #[schema(value_type = Option<serde_json::Value>, required = true)]
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

/// One rule's verdict on the answers.
struct Verdict<'r> {
    rule: &'r Rule,
    truth: Truth,
    /// Listed entries the rule cannot decide yet.
    gaps: Vec<Gap>,
}

impl Verdict<'_> {
    fn fired(&self, effect: Effect) -> bool {
        self.rule.effect == effect && self.truth == Truth::True
    }

    /// A required rule that cannot be decided holds the outcome at
    /// `needs_more_information`: its condition is unknown, or a listed entry
    /// it reads is incomplete (contract v1.1 §6: an incomplete block could
    /// be a negative one, however many positive blocks stand beside it).
    fn holds(&self) -> bool {
        self.rule.required && (self.truth == Truth::Unknown || !self.gaps.is_empty())
    }
}

/// Evaluates `answers` with `rules` at time `at`.
pub fn evaluate(rules: &RuleSet, answers: &Answers, at: DateTime<Utc>) -> Evaluation {
    let verdicts: Vec<Verdict> = rules
        .rules
        .iter()
        .map(|rule| Verdict {
            rule,
            truth: rule.cond.eval(answers),
            gaps: rule.cond.gaps(answers),
        })
        .collect();
    let fired = |e: Effect| verdicts.iter().any(|v| v.fired(e));
    let missing = missing(rules, answers, &verdicts);
    let missing_required = missing.iter().filter(|m| m.required).count();
    let red_flags_open = verdicts
        .iter()
        .any(|v| v.rule.effect == Effect::Urgent && v.holds());
    let undecided = verdicts.iter().any(Verdict::holds) || missing_required > 0;

    // Red flags first and mandatory; then a known exclude or defer is
    // definite; then anything undecided or required; then blocks.
    let (outcome, driving) = if fired(Effect::Urgent) {
        (Outcome::UrgentEvaluation, Some(Effect::Urgent))
    } else if red_flags_open {
        (Outcome::NeedsMoreInformation, None)
    } else if fired(Effect::Exclude) {
        (Outcome::UnlikelyCandidate, Some(Effect::Exclude))
    } else if fired(Effect::Defer) {
        (Outcome::NotYetEligible, Some(Effect::Defer))
    } else if undecided || fired(Effect::Require) {
        (Outcome::NeedsMoreInformation, Some(Effect::Require))
    } else if fired(Effect::Block) {
        (Outcome::NeedsDiagnosticBlock, Some(Effect::Block))
    } else {
        (Outcome::LikelyCandidate, None)
    };
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
    let held_outcome = if fired(Effect::Exclude) {
        Outcome::UnlikelyCandidate
    } else {
        Outcome::NotYetEligible
    };

    // Criteria not required for a suggestion, unknown, that would raise
    // the outcome if they applied (say, a prior fusion not yet asked about).
    let open: Vec<Finding> = verdicts
        .iter()
        .filter(|v| {
            v.truth == Truth::Unknown && effect_outcome(v.rule.effect).is_some_and(|o| o < outcome)
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
        questionnaire_version: rules.questionnaire.version.clone(),
        ruleset: rules.reference(),
        evaluated_at: at,
    }
}

/// The outcome a rule gives when it fires; `None` for those that never
/// change it (cautions, supporting findings).
fn effect_outcome(effect: Effect) -> Option<Outcome> {
    match effect {
        Effect::Urgent => Some(Outcome::UrgentEvaluation),
        Effect::Exclude => Some(Outcome::UnlikelyCandidate),
        Effect::Defer => Some(Outcome::NotYetEligible),
        Effect::Require => Some(Outcome::NeedsMoreInformation),
        Effect::Block => Some(Outcome::NeedsDiagnosticBlock),
        Effect::Caution | Effect::Supports => None,
    }
}

/// What the summary and the first next steps say, built from the outcome
/// and the lists only, so that no sentence contradicts them.
struct Words<'a> {
    rules: &'a RuleSet,
    reasons: &'a [Finding],
    missing_required: usize,
    unknown_count: usize,
    held: &'a [Finding],
    held_outcome: Outcome,
    open: &'a [Finding],
}

impl Words<'_> {
    fn fill(&self, text: &str) -> String {
        let titles =
            |fs: &[Finding]| join_words(&fs.iter().map(|f| f.title.as_str()).collect::<Vec<_>>());
        text.replace("{reasons}", &titles(self.reasons))
            .replace("{missing_count}", &self.missing_required.to_string())
            .replace("{unknown_count}", &self.unknown_count.to_string())
            .replace("{held}", &titles(self.held))
            .replace("{open}", &titles(self.open))
            .replace(
                "{held_outcome}",
                &self.rules.outcome_text(self.held_outcome).label,
            )
    }

    fn compose(&self, outcome: Outcome, red_flags_open: bool) -> (String, Vec<String>) {
        let text = self.rules.outcome_text(outcome);
        let notes = &self.rules.notes;
        let nmi = outcome == Outcome::NeedsMoreInformation;
        let fits = matches!(
            outcome,
            Outcome::LikelyCandidate | Outcome::NeedsDiagnosticBlock
        );
        let applying = [
            (nmi && red_flags_open, &notes.red_flags_unanswered),
            (nmi && !self.reasons.is_empty(), &notes.requirements),
            (nmi && self.missing_required > 0, &notes.missing_required),
            (!self.held.is_empty(), &notes.held),
            (fits && self.unknown_count > 0, &notes.unknown_optional),
            (fits && !self.open.is_empty(), &notes.open_criteria),
        ];
        let mut summary = self.fill(&text.summary);
        let mut steps: Vec<String> = text.next_step.iter().map(|s| self.fill(s)).collect();
        for (_, note) in applying.iter().filter(|(applies, _)| *applies) {
            summary.push(' ');
            summary.push_str(&self.fill(&note.summary));
            steps.extend(note.next_step.iter().map(|s| self.fill(s)));
        }
        (summary, steps)
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
/// `show_when` is not false), and the fields of listed entries that a rule
/// cannot decide without; required first, then in questionnaire order.
fn missing(rules: &RuleSet, answers: &Answers, verdicts: &[Verdict]) -> Vec<Missing> {
    let mut out = Vec::new();
    for (i, field) in rules.fields.iter() {
        if rules.read_by[i].is_empty() {
            continue;
        }
        let asked = rules.visibility[i]
            .as_ref()
            .is_none_or(|c| c.eval(answers) != Truth::False);
        if answers.get(i).is_none() && asked {
            out.push(Missing {
                id: field.id.clone(),
                question: field.question.clone(),
                required: rules.required[i],
                needed_by: rules.read_by[i].clone(),
            });
        }
        // Entry fields, in entry order then field order; each once, required
        // when a required rule cannot decide the entry without it.
        let sub = rules.entry_fields(i).unwrap_or_default();
        let mut entries: Vec<(usize, usize, bool, Vec<String>)> = Vec::new();
        for v in verdicts {
            for gap in v.gaps.iter().filter(|g| g.list == i) {
                for &j in &gap.fields {
                    match entries.iter_mut().find(|e| (e.0, e.1) == (gap.entry, j)) {
                        Some(e) => {
                            e.2 |= v.rule.required;
                            e.3.push(v.rule.code.clone());
                        }
                        None => {
                            entries.push((gap.entry, j, v.rule.required, vec![v.rule.code.clone()]))
                        }
                    }
                }
            }
        }
        entries.sort_by_key(|e| (e.0, e.1));
        out.extend(
            entries
                .into_iter()
                .map(|(k, j, required, needed_by)| Missing {
                    id: format!("{}[{k}].{}", field.id, sub[j].id),
                    question: sub[j].question.clone(),
                    required,
                    needed_by,
                }),
        );
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

/// A time as every time of the API is written: UTC, to the microsecond.
fn micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::record::timestamp(*t))
}
