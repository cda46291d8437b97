//! Compiling a condition: its field references, types and parameters
//! checked against the questionnaire and the profile, into the form the
//! evaluation reads (`super::eval`).

use std::collections::BTreeMap;

use crate::condition::{CmpOp, Condition, Literal, Test};
use crate::questionnaire::{Field, Fields, Kind};

/// A condition whose field references, types and parameters were checked.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Test {
        at: Slot,
        test: Check,
    },
    Unknown(Slot),
    Some {
        list: usize,
        cond: Box<Cond>,
    },
    FewerThan {
        list: usize,
        cond: Box<Cond>,
        count: f64,
    },
    /// Known to hold (never unknown itself).
    Known(Box<Cond>),
    /// Two numeric answers compared: `left op right`.
    Compare {
        left: Slot,
        op: CmpOp,
        right: Slot,
    },
}

/// Where an answer is read: a top-level field, or a field of a list entry
/// (only inside `some` and `fewer_than`).
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    Answer(usize),
    EntryField(usize),
}

#[derive(Debug, Clone)]
pub enum Check {
    Is(bool),
    InNumbers(Vec<f64>),
    InTexts(Vec<String>),
    Cmp(CmpOp, f64),
    Empty(bool),
    /// A multiple-choice answer includes this option.
    Includes(String),
}

/// What a condition is checked against.
pub struct Scope<'a> {
    pub fields: &'a Fields,
    pub params: &'a BTreeMap<String, f64>,
}

/// A problem inside a condition: where (`any[1].field`) and what.
pub type CondProblem = (String, String);

impl Scope<'_> {
    /// Checks `cond`; `path` names where it stands in its rule.
    pub fn compile(
        &self,
        cond: &Condition,
        path: &str,
        problems: &mut Vec<CondProblem>,
    ) -> Option<Cond> {
        self.compile_in(cond, path, None, problems)
    }

    fn compile_in(
        &self,
        cond: &Condition,
        path: &str,
        entry: Option<&[Field]>,
        problems: &mut Vec<CondProblem>,
    ) -> Option<Cond> {
        let mut each = |name: &str, items: &[Condition]| -> Option<Vec<Cond>> {
            if items.is_empty() {
                problems.push((
                    format!("{path}.{name}"),
                    "needs at least one condition".into(),
                ));
                return None;
            }
            let out: Vec<Option<Cond>> = items
                .iter()
                .enumerate()
                .map(|(i, c)| self.compile_in(c, &format!("{path}.{name}[{i}]"), entry, problems))
                .collect();
            out.into_iter().collect()
        };
        match cond {
            Condition::All(items) => each("all", items).map(Cond::All),
            Condition::Any(items) => each("any", items).map(Cond::Any),
            Condition::Not(inner) => self
                .compile_in(inner, &format!("{path}.not"), entry, problems)
                .map(|c| Cond::Not(Box::new(c))),
            Condition::Known(inner) => self
                .compile_in(inner, &format!("{path}.known"), entry, problems)
                .map(|c| Cond::Known(Box::new(c))),
            Condition::Test {
                field,
                test: Test::Cmp(op, Literal::Field { field: other }),
            } => {
                let name = cmp_name(*op);
                let left = self.resolve(field, &format!("{path}.field"), entry, problems);
                let right = self.resolve(other, &format!("{path}.{name}.field"), entry, problems);
                let (left, lf) = left?;
                let (right, rf) = right?;
                for (f, at) in [(lf, "field".to_string()), (rf, format!("{name}.field"))] {
                    if !matches!(f.kind, Kind::Int { .. } | Kind::Num { .. }) {
                        problems.push((
                            format!("{path}.{at}"),
                            format!("`{name}` compares numbers; `{}` is not a number", f.id),
                        ));
                        return None;
                    }
                }
                Some(Cond::Compare {
                    left,
                    op: *op,
                    right,
                })
            }
            Condition::Unknown(id) => self
                .resolve(id, &format!("{path}.unknown"), entry, problems)
                .map(|(slot, _)| Cond::Unknown(slot)),
            Condition::Test { field, test } => {
                let (slot, f) = self.resolve(field, &format!("{path}.field"), entry, problems)?;
                let test = self.check(test, f, path, problems)?;
                Some(Cond::Test { at: slot, test })
            }
            Condition::Some { of, cond } => {
                let (list, fields) = self.list(of, "some", path, entry, problems)?;
                let cond =
                    self.compile_in(cond, &format!("{path}.some.where"), Some(fields), problems)?;
                Some(Cond::Some {
                    list,
                    cond: Box::new(cond),
                })
            }
            Condition::FewerThan { of, cond, count } => {
                let (list, fields) = self.list(of, "fewer_than", path, entry, problems)?;
                let count_path = format!("{path}.fewer_than.count");
                let count = self.number(count, &count_path, problems);
                let cond = self.compile_in(
                    cond,
                    &format!("{path}.fewer_than.where"),
                    Some(fields),
                    problems,
                )?;
                Some(Cond::FewerThan {
                    list,
                    cond: Box::new(cond),
                    count: count?,
                })
            }
        }
    }

    fn resolve<'f>(
        &'f self,
        id: &str,
        path: &str,
        entry: Option<&'f [Field]>,
        problems: &mut Vec<CondProblem>,
    ) -> Option<(Slot, &'f Field)> {
        let found = match entry {
            Some(fields) => fields
                .iter()
                .position(|f| f.id == id)
                .map(|i| (Slot::EntryField(i), &fields[i])),
            None => self
                .fields
                .find(id)
                .map(|i| (Slot::Answer(i), self.fields.get(i))),
        };
        if found.is_none() {
            let known: Vec<&str> = match entry {
                Some(fields) => fields.iter().map(|f| f.id.as_str()).collect(),
                None => self.fields.ids().collect(),
            };
            let hint = closest(id, &known)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            let scope = if entry.is_some() {
                "field of the list's entries"
            } else {
                "question id"
            };
            problems.push((path.into(), format!("unknown {scope} `{id}`{hint}")));
        }
        found
    }

    fn list<'f>(
        &'f self,
        of: &str,
        form: &str,
        path: &str,
        entry: Option<&[Field]>,
        problems: &mut Vec<CondProblem>,
    ) -> Option<(usize, &'f [Field])> {
        let of_path = format!("{path}.{form}.of");
        if entry.is_some() {
            problems.push((
                of_path,
                format!("`{form}` cannot be nested inside a list's `where`"),
            ));
            return None;
        }
        let (slot, field) = self.resolve(of, &of_path, None, problems)?;
        match (&field.kind, slot) {
            (Kind::List { fields, .. }, Slot::Answer(i)) => Some((i, fields.as_slice())),
            _ => {
                problems.push((
                    of_path,
                    format!("`{of}` is a {} question, not a list", field.kind.name()),
                ));
                None
            }
        }
    }

    fn number(&self, lit: &Literal, path: &str, problems: &mut Vec<CondProblem>) -> Option<f64> {
        match lit {
            Literal::Number(n) => Some(*n),
            Literal::Param { param } => match self.params.get(param) {
                Some(v) => Some(*v),
                None => {
                    let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
                    let hint = closest(param, &known)
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    problems.push((path.into(), format!("unknown parameter `{param}`{hint}")));
                    None
                }
            },
            other => {
                problems.push((
                    path.into(),
                    format!(
                        "expected a number or {{param: NAME}}, found {}",
                        describe(other)
                    ),
                ));
                None
            }
        }
    }

    fn check(
        &self,
        test: &Test,
        field: &Field,
        path: &str,
        problems: &mut Vec<CondProblem>,
    ) -> Option<Check> {
        let kind = &field.kind;
        let id = &field.id;
        let mut mismatch = |key: &str, msg: String| {
            problems.push((format!("{path}.{key}"), msg));
            None
        };
        match test {
            Test::Is(b) => match kind {
                Kind::Bool => Some(Check::Is(*b)),
                _ => mismatch(
                    "is",
                    format!(
                        "`is` tests a boolean, but `{id}` is a {} question",
                        kind.name()
                    ),
                ),
            },
            Test::Cmp(op, lit) => match kind {
                Kind::Int { .. } | Kind::Num { .. } => {
                    let key = serde_json::to_value(op).ok()?.as_str()?.to_string();
                    Some(Check::Cmp(
                        *op,
                        self.number(lit, &format!("{path}.{key}"), problems)?,
                    ))
                }
                _ => {
                    // Named as written: `gte`, not always `lt`.
                    let key = serde_json::to_value(op)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_else(|| "lt".into());
                    mismatch(
                        &key,
                        format!(
                            "`{key}` compares numbers, but `{id}` is a {} question",
                            kind.name()
                        ),
                    )
                }
            },
            Test::Empty(b) => match kind {
                Kind::Multi(_) | Kind::List { .. } => Some(Check::Empty(*b)),
                _ => mismatch(
                    "empty",
                    format!(
                        "`empty` tests a multiple choice or a list, but `{id}` is a {} question",
                        kind.name()
                    ),
                ),
            },
            Test::Eq(lit) => self.one_of(
                std::slice::from_ref(lit),
                field,
                &format!("{path}.eq"),
                problems,
            ),
            Test::Includes(lit) => match (kind, lit) {
                (Kind::Multi(options), Literal::Text(t)) if options.contains(t) => {
                    Some(Check::Includes(t.clone()))
                }
                (Kind::Multi(options), Literal::Text(t)) => mismatch(
                    "includes",
                    format!(
                        "`{t}` is not an option of `{id}` (options: {})",
                        options.join(", ")
                    ),
                ),
                (Kind::Multi(_), other) => mismatch(
                    "includes",
                    format!(
                        "`{id}` is a multiple choice: name one of its options, not {}",
                        describe(other)
                    ),
                ),
                _ => mismatch(
                    "includes",
                    format!(
                        "`includes` tests a multiple choice, but `{id}` is a {} question",
                        kind.name()
                    ),
                ),
            },
            Test::In(lits) if lits.is_empty() => mismatch("in", "needs at least one value".into()),
            Test::In(lits) => self.one_of(lits, field, &format!("{path}.in"), problems),
        }
    }

    fn one_of(
        &self,
        lits: &[Literal],
        field: &Field,
        path: &str,
        problems: &mut Vec<CondProblem>,
    ) -> Option<Check> {
        let id = &field.id;
        match &field.kind {
            Kind::Int { .. } | Kind::Num { .. } => {
                let nums: Vec<Option<f64>> = lits
                    .iter()
                    .map(|l| self.number(l, path, problems))
                    .collect();
                nums.into_iter()
                    .collect::<Option<Vec<f64>>>()
                    .map(Check::InNumbers)
            }
            Kind::Choice(options) => {
                let mut texts = Vec::new();
                for lit in lits {
                    match lit {
                        Literal::Text(t) if options.contains(t) => texts.push(t.clone()),
                        Literal::Text(t) => {
                            problems.push((
                                path.into(),
                                format!(
                                    "`{t}` is not an option of `{id}` (options: {})",
                                    options.join(", ")
                                ),
                            ));
                            return None;
                        }
                        other => {
                            problems.push((
                                path.into(),
                                format!("`{id}` is a choice question: compare it with an option, not {}", describe(other)),
                            ));
                            return None;
                        }
                    }
                }
                Some(Check::InTexts(texts))
            }
            Kind::Text { .. } => {
                let texts: Option<Vec<String>> = lits
                    .iter()
                    .map(|l| match l {
                        Literal::Text(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect();
                if texts.is_none() {
                    problems.push((
                        path.into(),
                        format!("`{id}` is a text question: compare it with text"),
                    ));
                }
                texts.map(Check::InTexts)
            }
            Kind::Bool => {
                problems.push((
                    path.into(),
                    format!("`{id}` is a boolean question: use `is: true` or `is: false`"),
                ));
                None
            }
            other => {
                problems.push((
                    path.into(),
                    format!(
                        "`eq` and `in` do not apply to `{id}`, a {} question",
                        other.name()
                    ),
                ));
                None
            }
        }
    }
}

/// A comparison's name as written.
fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "lt",
        CmpOp::Lte => "lte",
        CmpOp::Gt => "gt",
        CmpOp::Gte => "gte",
    }
}

fn describe(lit: &Literal) -> String {
    match lit {
        Literal::Bool(b) => format!("the boolean `{b}`"),
        Literal::Number(n) => format!("the number `{n}`"),
        Literal::Text(t) => format!("the text `{t}`"),
        Literal::Param { param } => format!("the parameter `{param}`"),
        Literal::Field { field } => format!("the answer `{field}`"),
    }
}

/// The known name closest to a misspelt one, if it is close enough.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .filter(|(d, _)| *d <= 3.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
