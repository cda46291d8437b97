//! Evaluating a compiled condition on answers, with three-valued logic: an
//! unanswered field makes its test unknown, and a listed entry that cannot
//! be decided is named with the fields it lacks.

use super::compile::{Check, Cond, Slot};
use super::logic::Truth;
use crate::condition::CmpOp;
use crate::questionnaire::{AnswerValue, Answers, answers::Entry};

/// A listed entry that a condition cannot decide: `fields` (positions in the
/// list's entry) are unanswered and leave it unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub list: usize,
    pub entry: usize,
    pub fields: Vec<usize>,
}

impl Cond {
    /// Evaluates with Kleene logic: an unanswered field makes its test unknown.
    pub fn eval(&self, answers: &Answers) -> Truth {
        self.eval_in(answers, None)
    }

    fn eval_in(&self, answers: &Answers, entry: Option<&Entry>) -> Truth {
        match self {
            Cond::All(items) => Truth::all(items.iter().map(|c| c.eval_in(answers, entry))),
            Cond::Any(items) => Truth::any(items.iter().map(|c| c.eval_in(answers, entry))),
            Cond::Not(inner) => !inner.eval_in(answers, entry),
            Cond::Unknown(slot) => Truth::from_bool(read(*slot, answers, entry).is_none()),
            Cond::Test { at, test } => match read(*at, answers, entry) {
                None => Truth::Unknown,
                Some(v) => Truth::from_bool(test.holds(v)),
            },
            Cond::Some { list, cond } => match answers.get(*list) {
                Some(AnswerValue::List(entries)) => {
                    Truth::any(entries.iter().map(|e| cond.eval_in(answers, Some(e))))
                }
                _ => Truth::Unknown,
            },
            Cond::FewerThan { list, cond, count } => match answers.get(*list) {
                Some(AnswerValue::List(entries)) => {
                    let (mut yes, mut maybe) = (0.0, 0.0);
                    for e in entries {
                        match cond.eval_in(answers, Some(e)) {
                            Truth::True => yes += 1.0,
                            Truth::Unknown => maybe += 1.0,
                            Truth::False => {}
                        }
                    }
                    if yes >= *count {
                        Truth::False
                    } else if yes + maybe < *count {
                        Truth::True
                    } else {
                        Truth::Unknown
                    }
                }
                _ => Truth::Unknown,
            },
        }
    }

    /// The list entries whose `where` is unknown (an incomplete entry could
    /// go either way), each with the entry fields that leave it unknown. The
    /// condition as a whole may still be determinate: `fewer_than` two of
    /// one unknown entry is true whatever the entry turns out to be.
    pub fn gaps(&self, answers: &Answers) -> Vec<Gap> {
        let mut out = Vec::new();
        self.collect_gaps(answers, &mut out);
        out
    }

    fn collect_gaps(&self, answers: &Answers, out: &mut Vec<Gap>) {
        match self {
            Cond::All(items) | Cond::Any(items) => {
                items.iter().for_each(|c| c.collect_gaps(answers, out))
            }
            Cond::Not(inner) => inner.collect_gaps(answers, out),
            Cond::Some { list, cond } | Cond::FewerThan { list, cond, .. } => {
                let Some(AnswerValue::List(entries)) = answers.get(*list) else {
                    return;
                };
                for (entry, e) in entries.iter().enumerate() {
                    if cond.eval_in(answers, Some(e)) == Truth::Unknown {
                        let mut fields = Vec::new();
                        cond.blame(answers, Some(e), &mut fields);
                        out.push(Gap {
                            list: *list,
                            entry,
                            fields,
                        });
                    }
                }
            }
            Cond::Unknown(_) | Cond::Test { .. } => {}
        }
    }

    /// For a condition that is unknown: the entry fields whose being
    /// unanswered makes it so, following only the unknown branches (in
    /// `all(unknown, true)` the first; in `any(true, unknown)` none).
    fn blame(&self, answers: &Answers, entry: Option<&Entry>, out: &mut Vec<usize>) {
        match self {
            Cond::All(items) | Cond::Any(items) => {
                for c in items {
                    if c.eval_in(answers, entry) == Truth::Unknown {
                        c.blame(answers, entry, out);
                    }
                }
            }
            Cond::Not(inner) => inner.blame(answers, entry, out),
            Cond::Test {
                at: Slot::EntryField(j),
                ..
            } if read(Slot::EntryField(*j), answers, entry).is_none() && !out.contains(j) => {
                out.push(*j);
            }
            _ => {}
        }
    }

    /// For the first `some` or `fewer_than`: how many listed entries match
    /// its `where` (known true), and how many entries are listed. `None`
    /// when there is none or the list is unanswered.
    pub fn matched(&self, answers: &Answers) -> Option<(usize, usize)> {
        match self {
            Cond::All(items) | Cond::Any(items) => items.iter().find_map(|c| c.matched(answers)),
            Cond::Not(inner) => inner.matched(answers),
            Cond::Some { list, cond } | Cond::FewerThan { list, cond, .. } => {
                match answers.get(*list) {
                    Some(AnswerValue::List(entries)) => Some((
                        entries
                            .iter()
                            .filter(|e| cond.eval_in(answers, Some(e)) == Truth::True)
                            .count(),
                        entries.len(),
                    )),
                    _ => None,
                }
            }
            Cond::Unknown(_) | Cond::Test { .. } => None,
        }
    }
}

fn read<'a>(slot: Slot, answers: &'a Answers, entry: Option<&'a Entry>) -> Option<&'a AnswerValue> {
    match slot {
        Slot::Answer(i) => answers.get(i),
        Slot::EntryField(j) => entry.and_then(|e| e.0.get(j)).and_then(Option::as_ref),
    }
}

impl Check {
    fn holds(&self, v: &AnswerValue) -> bool {
        match (self, v) {
            (Check::Is(b), AnswerValue::Bool(x)) => b == x,
            (Check::InTexts(t), AnswerValue::Choice(s) | AnswerValue::Text(s)) => t.contains(s),
            (Check::InNumbers(ns), v) => v.as_f64().is_some_and(|x| ns.contains(&x)),
            (Check::Cmp(op, n), v) => v.as_f64().is_some_and(|x| match op {
                CmpOp::Lt => x < *n,
                CmpOp::Lte => x <= *n,
                CmpOp::Gt => x > *n,
                CmpOp::Gte => x >= *n,
            }),
            (Check::Empty(b), AnswerValue::Multi(items)) => items.is_empty() == *b,
            (Check::Includes(option), AnswerValue::Multi(items)) => items.contains(option),
            (Check::Empty(b), AnswerValue::List(items)) => items.is_empty() == *b,
            // The compiler only pairs checks with answers of their type.
            _ => false,
        }
    }
}
