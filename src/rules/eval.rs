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
            Cond::Known(inner) => Truth::from_bool(inner.eval_in(answers, entry) == Truth::True),
            Cond::Compare { left, op, right } => {
                let number = |slot: Slot| read(slot, answers, entry).and_then(AnswerValue::as_f64);
                match (number(*left), number(*right)) {
                    (Some(l), Some(r)) => Truth::from_bool(match op {
                        CmpOp::Lt => l < r,
                        CmpOp::Lte => l <= r,
                        CmpOp::Gt => l > r,
                        CmpOp::Gte => l >= r,
                    }),
                    _ => Truth::Unknown,
                }
            }
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
            Cond::Not(inner) | Cond::Known(inner) => inner.collect_gaps(answers, out),
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
            Cond::Unknown(_) | Cond::Test { .. } | Cond::Compare { .. } => {}
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
            Cond::Compare { left, right, .. } => {
                for slot in [left, right] {
                    if let Slot::EntryField(j) = slot
                        && read(*slot, answers, entry).is_none()
                        && !out.contains(j)
                    {
                        out.push(*j);
                    }
                }
            }
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
            Cond::Not(inner) | Cond::Known(inner) => inner.matched(answers),
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
            Cond::Unknown(_) | Cond::Test { .. } | Cond::Compare { .. } => None,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::super::compile::Scope;
    use super::*;
    use crate::condition::Condition;
    use crate::questionnaire::{Fields, Questionnaire};

    fn fields() -> Fields {
        let text = include_str!("../../rules/v1/questionnaire.yaml");
        Questionnaire::parse("questionnaire.yaml", text).unwrap().1
    }

    fn compile(fields: &Fields, yaml: &str) -> Result<Cond, Vec<(String, String)>> {
        let cond: Condition = serde_norway::from_str(yaml).unwrap();
        let params = BTreeMap::new();
        let mut problems = Vec::new();
        let scope = Scope {
            fields,
            params: &params,
        };
        match scope.compile(&cond, "when", &mut problems) {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(problems),
        }
    }

    /// The truth of `yaml` on answers where `pain.low_back` is each of true,
    /// false and unknown.
    fn over_low_back(yaml: &str) -> [Truth; 3] {
        let f = fields();
        let cond = compile(&f, yaml).unwrap();
        [json!(true), json!(false), Value::Null].map(|v| {
            let answers = Answers::parse(&f, &json!({"pain": {"low_back": v}})).unwrap();
            cond.eval(&answers)
        })
    }

    use Truth::{False as F, True as T, Unknown as U};

    #[test]
    fn known_is_true_only_when_its_condition_is_known_true() {
        assert_eq!(over_low_back("{field: pain.low_back, is: true}"), [T, F, U]);
        assert_eq!(
            over_low_back("{known: {field: pain.low_back, is: true}}"),
            [T, F, F]
        );
        // "Fires unless it is known": unknown fires.
        assert_eq!(
            over_low_back("{not: {known: {field: pain.low_back, is: true}}}"),
            [F, T, T]
        );
        // A known fact lifts a criterion; an unknown one leaves it as it was.
        assert_eq!(
            over_low_back(
                "{all: [{field: referral.on_file, is: false}, \
                        {not: {known: {field: pain.low_back, is: true}}}]}"
            )
            .map(|t| t == U),
            [false, true, true],
            "referral.on_file is unknown here, so only a known lift decides"
        );
    }

    #[test]
    fn a_comparison_of_two_answers_is_unknown_when_either_is() {
        let f = fields();
        let cond = compile(
            &f,
            "{field: conservative_care.duration_months, lt: {field: pain.duration_months}}",
        )
        .unwrap();
        let truth = |care: Value, pain: Value| {
            let answers = Answers::parse(
                &f,
                &json!({"conservative_care": {"duration_months": care},
                        "pain": {"duration_months": pain}}),
            )
            .unwrap();
            cond.eval(&answers)
        };
        assert_eq!(truth(json!(3), json!(12)), T);
        assert_eq!(truth(json!(12), json!(12)), F);
        assert_eq!(truth(json!(13), json!(12)), F);
        assert_eq!(truth(Value::Null, json!(12)), U);
        assert_eq!(truth(json!(3), Value::Null), U);
        assert_eq!(truth(Value::Null, Value::Null), U);
        let mut reads = Vec::new();
        cond.reads(&mut reads);
        assert_eq!(
            reads,
            [
                f.find("conservative_care.duration_months").unwrap(),
                f.find("pain.duration_months").unwrap()
            ],
            "both answers are read, so an unknown one is reported missing"
        );
    }

    #[test]
    fn a_comparison_with_an_answer_that_is_not_a_number_is_refused_by_place() {
        let f = fields();
        let problems = compile(
            &f,
            "{field: pain.duration_months, gte: {field: pain.low_back}}",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "when.gte.field");
        assert!(problems[0].1.contains("pain.low_back"), "{problems:?}");
        let problems = compile(
            &f,
            "{field: pain.duration_months, lt: {field: pain.duraton}}",
        )
        .unwrap_err();
        assert_eq!(problems[0].0, "when.lt.field", "{problems:?}");
    }
}
