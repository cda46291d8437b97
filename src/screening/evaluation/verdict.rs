//! The rules' verdicts on the answers, and the one outcome they decide by
//! the rule set's precedence (sections 2 and 6 of the clinical contract).

use super::Missing;
use crate::questionnaire::Answers;
use crate::rules::eval::Gap;
use crate::rules::logic::Truth;
use crate::rules::{Effect, Outcome, Rule, RuleSet};

/// One rule's verdict on the answers.
pub(in crate::screening) struct Verdict<'r> {
    pub rule: &'r Rule,
    pub truth: Truth,
    /// Listed entries the rule cannot decide yet.
    pub gaps: Vec<Gap>,
}

impl Verdict<'_> {
    pub fn fired(&self, effect: Effect) -> bool {
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
pub(in crate::screening) struct Facts {
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
pub(in crate::screening) fn effect_outcome(effect: Effect) -> Option<Outcome> {
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
pub(in crate::screening) fn verdicts<'r>(
    rules: &'r RuleSet,
    answers: &Answers,
) -> Vec<Verdict<'r>> {
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

pub(in crate::screening) fn facts(verdicts: &[Verdict], missing: &[Missing]) -> Facts {
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
