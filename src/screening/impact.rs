//! The impact of a draft rule set (`facet-screen rules impact`): stored
//! screenings' current answers evaluated with the rule set in use and with
//! the draft, counted as transitions between outcomes, with the criteria
//! responsible and example screening ids. Screenings whose answers a rule set
//! cannot read (a question it removed) are counted apart, never dropped.
//! Built one screening at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::evaluation::evaluate;
use crate::questionnaire::Answers;
use crate::rules::{Outcome, RuleSet, RulesetRef};

/// How many example ids a transition, or the unreadable list, keeps.
const EXAMPLES: usize = 5;

#[derive(Debug, Serialize)]
pub struct Impact {
    /// The rule set the suggestions are compared with (the one `serve` uses).
    pub in_use: RulesetRef,
    pub draft: RulesetRef,
    pub screenings: u64,
    pub changed: u64,
    /// Most frequent first.
    pub transitions: Vec<Transition>,
    /// Screenings whose answers the draft cannot read (counted apart).
    pub unreadable: Unreadable,
    /// Stored suggestions that differ from what the rule set in use gives
    /// now for the same answers (made under an earlier rule set).
    pub stored_differs: u64,
}

#[derive(Debug, Serialize)]
pub struct Transition {
    pub from: Outcome,
    pub to: Outcome,
    pub count: u64,
    /// The criteria that now drive the outcome and did not before (or, when
    /// none, those that drove it before and no longer do).
    pub criteria: Vec<String>,
    pub examples: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Unreadable {
    pub count: u64,
    pub examples: Vec<UnreadableScreening>,
}

#[derive(Debug, Serialize)]
pub struct UnreadableScreening {
    pub id: String,
    /// Which rule set cannot read it: `draft` or `in_use`.
    pub by: &'static str,
    /// The answer ids it cannot read, and why.
    pub problems: Vec<String>,
}

/// One transition as it is counted: how many, the criteria, the examples.
type Tally = (u64, BTreeSet<String>, Vec<String>);

pub struct ImpactBuilder<'a> {
    in_use: &'a RuleSet,
    draft: &'a RuleSet,
    screenings: u64,
    changed: u64,
    stored_differs: u64,
    transitions: BTreeMap<(Outcome, Outcome), Tally>,
    unreadable: Unreadable,
}

impl<'a> ImpactBuilder<'a> {
    pub fn new(in_use: &'a RuleSet, draft: &'a RuleSet) -> Self {
        ImpactBuilder {
            in_use,
            draft,
            screenings: 0,
            changed: 0,
            stored_differs: 0,
            transitions: BTreeMap::new(),
            unreadable: Unreadable::default(),
        }
    }

    /// Adds one stored screening: its id, stored answers (JSON) and stored
    /// suggestion (an outcome code).
    pub fn add(&mut self, id: &str, answers: &str, suggested: &str) {
        self.screenings += 1;
        let json: serde_json::Value = match serde_json::from_str(answers) {
            Ok(v) => v,
            Err(e) => {
                return self.unreadable(id, "in_use", vec![format!("stored answers: {e}")]);
            }
        };
        let now = chrono::Utc::now();
        let before = match Answers::parse(&self.in_use.fields, &json) {
            Ok(a) => evaluate(self.in_use, &a, now),
            Err(errors) => return self.unreadable(id, "in_use", problems(&errors)),
        };
        let after = match Answers::parse(&self.draft.fields, &json) {
            Ok(a) => evaluate(self.draft, &a, now),
            Err(errors) => return self.unreadable(id, "draft", problems(&errors)),
        };
        if before.outcome.as_str() != suggested {
            self.stored_differs += 1;
        }
        if before.outcome == after.outcome {
            return;
        }
        self.changed += 1;
        let codes = |ev: &super::Evaluation| -> BTreeSet<String> {
            ev.reasons.iter().map(|r| r.code.to_string()).collect()
        };
        let (old, new) = (codes(&before), codes(&after));
        // What drives the new outcome and did not drive the old one; else
        // what drove the old one and no longer does (a block now enough);
        // else, the same criteria with another outcome, the precedence.
        let mut responsible: BTreeSet<String> = new.difference(&old).cloned().collect();
        if responsible.is_empty() {
            responsible = old.difference(&new).cloned().collect();
        }
        if responsible.is_empty() {
            responsible = new;
        }
        let entry = self
            .transitions
            .entry((before.outcome, after.outcome))
            .or_default();
        entry.0 += 1;
        entry.1.extend(responsible);
        if entry.2.len() < EXAMPLES {
            entry.2.push(id.to_string());
        }
    }

    fn unreadable(&mut self, id: &str, by: &'static str, problems: Vec<String>) {
        self.unreadable.count += 1;
        if self.unreadable.examples.len() < EXAMPLES * 4 {
            self.unreadable.examples.push(UnreadableScreening {
                id: id.to_string(),
                by,
                problems,
            });
        }
    }

    pub fn finish(self) -> Impact {
        let mut transitions: Vec<Transition> = self
            .transitions
            .into_iter()
            .map(|((from, to), (count, criteria, examples))| Transition {
                from,
                to,
                count,
                criteria: criteria.into_iter().collect(),
                examples,
            })
            .collect();
        transitions.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then((a.from, a.to).cmp(&(b.from, b.to)))
        });
        Impact {
            in_use: self.in_use.reference(),
            draft: self.draft.reference(),
            screenings: self.screenings,
            changed: self.changed,
            transitions,
            unreadable: self.unreadable,
            stored_differs: self.stored_differs,
        }
    }
}

/// Field ids and messages only: never an answer's value.
fn problems(errors: &[crate::questionnaire::FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect()
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "draft {} ({}, profile {}) against the rule set in use {} ({}, profile {})",
            self.draft.version,
            self.draft.digest,
            self.draft.profile,
            self.in_use.version,
            self.in_use.digest,
            self.in_use.profile
        )?;
        let share = |n: u64| {
            if self.screenings == 0 {
                0.0
            } else {
                n as f64 * 100.0 / self.screenings as f64
            }
        };
        writeln!(
            f,
            "screenings: {}; another suggestion under the draft: {} ({:.1}%)",
            self.screenings,
            self.changed,
            share(self.changed)
        )?;
        if !self.transitions.is_empty() {
            writeln!(
                f,
                "\n{:<24} {:<24} {:>8}  {:<32} examples",
                "from", "to", "count", "criteria"
            )?;
            for t in &self.transitions {
                writeln!(
                    f,
                    "{:<24} {:<24} {:>8}  {:<32} {}",
                    t.from.as_str(),
                    t.to.as_str(),
                    t.count,
                    t.criteria.join(", "),
                    t.examples.join(", ")
                )?;
            }
        }
        writeln!(f, "\nunreadable (counted apart): {}", self.unreadable.count)?;
        for u in &self.unreadable.examples {
            writeln!(
                f,
                "  {} (by the {}): {}",
                u.id,
                u.by.replace('_', " "),
                u.problems.join("; ")
            )?;
        }
        writeln!(
            f,
            "stored suggestions that differ from the rule set in use (made under an earlier one): {}",
            self.stored_differs
        )
    }
}
