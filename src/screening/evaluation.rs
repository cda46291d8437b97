//! One evaluation: the rules' truths combined into exactly one outcome, with
//! its full basis. The precedence and combination rules are the contract's
//! (sections 2 and 6 of the clinical contract; `rules/v1/CONTRACT.md` lists
//! its criteria).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::questionnaire::Answers;
pub use crate::rules::Citation;
pub use crate::rules::RulesetRef;
use crate::rules::eval::Gap;
use crate::rules::logic::Truth;
use crate::rules::text::Text;
use crate::rules::{Effect, Outcome, Rule, RuleSet, fill_counts};

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

/// One rule's verdict on the answers.
pub(super) struct Verdict<'r> {
    pub rule: &'r Rule,
    pub truth: Truth,
    /// Listed entries the rule cannot decide yet.
    pub gaps: Vec<Gap>,
}

impl Verdict<'_> {
    fn fired(&self, effect: Effect) -> bool {
        self.rule.effect == effect && self.truth == Truth::True
    }

    /// A required rule that cannot be decided holds the outcome at
    /// `needs_more_information`: its condition is unknown, or a listed entry
    /// it reads is incomplete (contract v1.1 §6: an incomplete block could
    /// be a negative one, however many positive blocks stand beside it).
    pub fn holds(&self) -> bool {
        self.rule.required && (self.truth == Truth::Unknown || !self.gaps.is_empty())
    }
}

/// What decides the outcome, from the rules' verdicts.
pub(super) struct Facts {
    fired: [bool; 7],
    /// A red-flag rule cannot be decided yet.
    pub red_flags_open: bool,
    /// A required rule cannot be decided, or a required answer is missing.
    pub undecided: bool,
    pub missing_required: usize,
}

impl Facts {
    pub fn fired(&self, effect: Effect) -> bool {
        self.fired[effect as usize]
    }

    /// Whether `outcome` applies on its own terms, before precedence.
    pub fn applies(&self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::NeedsMoreInformation => self.undecided || self.fired(Effect::Require),
            Outcome::LikelyCandidate => true,
            other => driving_effect(other).is_some_and(|e| self.fired(e)),
        }
    }

    /// The first outcome that applies in the rule set's precedence (from
    /// outcomes.yaml, where urgent_evaluation is always first), and the
    /// effect of the criteria that drove it. An unanswered red flag holds
    /// every outcome below urgent_evaluation at needs_more_information.
    pub fn decide(&self, rules: &RuleSet) -> (Outcome, Option<Effect>) {
        for outcome in rules.precedence() {
            if self.applies(outcome) {
                return (outcome, driving_effect(outcome));
            }
            if outcome == Outcome::UrgentEvaluation && self.red_flags_open {
                return (Outcome::NeedsMoreInformation, None);
            }
        }
        unreachable!("likely_candidate always applies")
    }
}

/// The outcome each effect gives when a criterion with it fires. Cautions
/// and supporting findings never change the outcome, and likely_candidate
/// has no criterion of its own.
const OUTCOME_OF: [(Effect, Outcome); 5] = [
    (Effect::Urgent, Outcome::UrgentEvaluation),
    (Effect::Exclude, Outcome::UnlikelyCandidate),
    (Effect::Defer, Outcome::NotYetEligible),
    (Effect::Require, Outcome::NeedsMoreInformation),
    (Effect::Block, Outcome::NeedsDiagnosticBlock),
];

/// The outcome a rule gives when it fires; `None` for those that never
/// change it (cautions, supporting findings).
fn effect_outcome(effect: Effect) -> Option<Outcome> {
    OUTCOME_OF
        .iter()
        .find(|(e, _)| *e == effect)
        .map(|(_, o)| *o)
}

/// The effect of the criteria an outcome lists as its reasons.
fn driving_effect(outcome: Outcome) -> Option<Effect> {
    OUTCOME_OF
        .iter()
        .find(|(_, o)| *o == outcome)
        .map(|(e, _)| *e)
}

/// Every rule's verdict on the answers, in rule order.
pub(super) fn verdicts<'r>(rules: &'r RuleSet, answers: &Answers) -> Vec<Verdict<'r>> {
    rules
        .rules
        .iter()
        .map(|rule| Verdict {
            rule,
            truth: rule.cond.eval(answers),
            gaps: rule.cond.gaps(answers),
        })
        .collect()
}

pub(super) fn facts(verdicts: &[Verdict], missing: &[Missing]) -> Facts {
    let mut fired = [false; 7];
    for v in verdicts.iter().filter(|v| v.truth == Truth::True) {
        fired[v.rule.effect as usize] = true;
    }
    let missing_required = missing.iter().filter(|m| m.required).count();
    Facts {
        fired,
        red_flags_open: verdicts
            .iter()
            .any(|v| v.rule.effect == Effect::Urgent && v.holds()),
        undecided: verdicts.iter().any(Verdict::holds) || missing_required > 0,
        missing_required,
    }
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
        if !text.contains('{') {
            return text.to_string();
        }
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

    fn compose(&self, outcome: Outcome, red_flags_open: bool) -> (Text, Vec<Text>) {
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
        // Made here only when it says more than the outcome's own words.
        let mut summary = text.summary.contains('{').then(|| self.fill(&text.summary));
        let mut steps: Vec<Text> = text.next_step.iter().map(|s| self.fill(s).into()).collect();
        for (_, note) in applying.iter().filter(|(applies, _)| *applies) {
            let summary = summary.get_or_insert_with(|| text.summary.to_string());
            summary.push(' ');
            summary.push_str(&self.fill(&note.summary));
            steps.extend(note.next_step.iter().map(|s| self.fill(s).into()));
        }
        let summary = summary.map_or_else(|| text.summary.clone(), Text::from);
        (summary, steps)
    }
}

/// The finding of `rule`: its words shared with the rule set, unless the
/// rule fills counts in.
pub(super) fn finding(rules: &RuleSet, rule: &Rule, answers: &Answers) -> Finding {
    let counts = |text: &Text| match rule.counts {
        false => text.clone(),
        true => fill_counts(text, rule.cond.matched(answers).unwrap_or((0, 0))).into(),
    };
    Finding {
        code: rule.code.clone(),
        title: counts(&rule.title),
        effect: rule.effect,
        message: counts(&rule.message),
        answers: rule
            .reads
            .iter()
            .map(|&i| {
                let field = &rules.per_field[i];
                AnswerRead {
                    id: field.id.clone(),
                    question: field.question.clone(),
                    value: answers
                        .get(i)
                        .map_or(Value::Null, |v| v.to_json(&rules.fields.get(i).kind)),
                }
            })
            .collect(),
        sources: rule.sources.clone(),
        next_step: rule.next_step.as_ref().map(counts),
    }
}

/// Unanswered questions that some rule reads and that are asked (their
/// `show_when` is not false), and the fields of listed entries that a rule
/// cannot decide without; required first, then in questionnaire order.
pub(super) fn missing(rules: &RuleSet, answers: &Answers, verdicts: &[Verdict]) -> Vec<Missing> {
    let mut out = Vec::new();
    for (i, field) in rules.fields.iter() {
        let rules_of = &rules.per_field[i];
        if rules_of.read_by.is_empty() {
            continue;
        }
        // Unanswered, and asked (its `show_when` is not false).
        let missing = answers.get(i).is_none()
            && rules_of
                .shown_when
                .as_ref()
                .is_none_or(|c| c.eval(answers) != Truth::False);
        if missing {
            out.push(Missing {
                id: rules_of.id.clone(),
                question: rules_of.question.clone(),
                required: rules_of.required,
                needed_by: rules_of.read_by.clone(),
            });
        }
        // Entry fields, only for lists where a verdict has a gap: in entry
        // order then field order, each once, required when a required rule
        // cannot decide the entry without it.
        let Some(sub) = rules.entry_fields(i) else {
            continue;
        };
        if !verdicts.iter().any(|v| v.gaps.iter().any(|g| g.list == i)) {
            continue;
        }
        let mut entries: Vec<(usize, usize, bool, Vec<Text>)> = Vec::new();
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
                    id: format!("{}[{k}].{}", field.id, sub[j].id).into(),
                    question: sub[j].question.as_str().into(),
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
