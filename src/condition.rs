//! The syntax of rule conditions: typed data read with serde, not a language
//! with a parser of its own. A condition is checked against the questionnaire
//! and compiled (see `compile`) before anything evaluates it.

use serde::{Deserialize, Serialize};

/// A condition as written in a rule file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// A test of one answer.
    Test {
        field: String,
        test: Test,
    },
    /// True when the answer is absent (never unknown itself).
    Unknown(String),
    /// At least one item of a list answer matches.
    Some {
        of: String,
        cond: Box<Condition>,
    },
    /// Fewer than `count` items of a list answer match.
    FewerThan {
        of: String,
        cond: Box<Condition>,
        count: Literal,
    },
    /// True when the condition is known to hold; false when it is known not
    /// to, and when it cannot be decided (never unknown itself). For a
    /// criterion that fires *unless* something is known (`not: {known:
    /// ...}`: unknown fires), and for one that only a known fact lifts.
    Known(Box<Condition>),
}

impl Condition {
    /// Why the web form could not evaluate this condition itself, if it
    /// could not. The form hides questions by their `show_when` with its own
    /// evaluator (`ui/conditions.js`), which reads `all`, `any`, `not`,
    /// `unknown` and tests against constants: not lists, not parameters.
    pub fn page_cannot_evaluate(&self) -> Option<&'static str> {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().find_map(Condition::page_cannot_evaluate)
            }
            Condition::Not(inner) | Condition::Known(inner) => inner.page_cannot_evaluate(),
            Condition::Unknown(_) => None,
            Condition::Some { .. } => Some("`some`"),
            Condition::FewerThan { .. } => Some("`fewer_than`"),
            Condition::Test { test, .. } => {
                let literals: &[Literal] = match test {
                    Test::Is(_) | Test::Empty(_) => &[],
                    Test::Eq(l) | Test::Cmp(_, l) | Test::Includes(l) => std::slice::from_ref(l),
                    Test::In(ls) => ls,
                };
                literals.iter().find_map(|l| match l {
                    Literal::Param { .. } => Some("a `{param: ...}`"),
                    Literal::Field { .. } => Some("a `{field: ...}` value"),
                    _ => None,
                })
            }
        }
    }
}

/// What is tested of one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Is(bool),
    Eq(Literal),
    In(Vec<Literal>),
    Cmp(CmpOp, Literal),
    Empty(bool),
    /// A multiple-choice answer includes this option.
    Includes(Literal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A value in a condition: a constant, a parameter of the active profile,
/// or (in a comparison) another numeric answer: `{field: x, lt: {field: y}}`
/// is unknown when either answer is.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Bool(bool),
    Number(f64),
    Text(String),
    Param { param: String },
    Field { field: String },
}

/// The list form used by `some` and `fewer_than`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quantified {
    of: String,
    #[serde(rename = "where")]
    cond: Box<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<Literal>,
}

/// Every key a condition may have; exactly one form must be used.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eq: Option<Literal>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    in_: Option<Vec<Literal>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lt: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lte: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gt: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gte: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    includes: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unknown: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    some: Option<Quantified>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fewer_than: Option<Quantified>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    known: Option<Box<Condition>>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let RawCondition {
            all,
            any,
            not,
            field,
            is,
            eq,
            in_,
            lt,
            lte,
            gt,
            gte,
            empty,
            includes,
            unknown,
            some,
            fewer_than,
            known,
        } = raw;
        let mut tests: Vec<(&str, Test)> = Vec::new();
        if let Some(b) = is {
            tests.push(("is", Test::Is(b)));
        }
        if let Some(v) = eq {
            tests.push(("eq", Test::Eq(v)));
        }
        if let Some(v) = in_ {
            tests.push(("in", Test::In(v)));
        }
        for (name, op, v) in [
            ("lt", CmpOp::Lt, lt),
            ("lte", CmpOp::Lte, lte),
            ("gt", CmpOp::Gt, gt),
            ("gte", CmpOp::Gte, gte),
        ] {
            if let Some(v) = v {
                tests.push((name, Test::Cmp(op, v)));
            }
        }
        if let Some(b) = empty {
            tests.push(("empty", Test::Empty(b)));
        }
        if let Some(v) = includes {
            tests.push(("includes", Test::Includes(v)));
        }

        let mut forms: Vec<Condition> = Vec::new();
        if let Some(c) = all {
            forms.push(Condition::All(c));
        }
        if let Some(c) = any {
            forms.push(Condition::Any(c));
        }
        if let Some(c) = not {
            forms.push(Condition::Not(c));
        }
        if let Some(f) = unknown {
            forms.push(Condition::Unknown(f));
        }
        if let Some(c) = known {
            forms.push(Condition::Known(c));
        }
        if let Some(q) = some {
            if q.count.is_some() {
                return Err("`some` takes `of` and `where`, not `count`".into());
            }
            forms.push(Condition::Some {
                of: q.of,
                cond: q.cond,
            });
        }
        if let Some(q) = fewer_than {
            let Some(count) = q.count else {
                return Err("`fewer_than` needs a `count`".into());
            };
            forms.push(Condition::FewerThan {
                of: q.of,
                cond: q.cond,
                count,
            });
        }
        match (field, tests.len()) {
            (Some(field), 1) => {
                if let Some((_, test)) = tests.pop() {
                    forms.push(Condition::Test { field, test });
                }
            }
            (Some(field), 0) => {
                return Err(format!(
                    "`field: {field}` needs one test: is, eq, in, lt, lte, gt, gte or empty"
                ));
            }
            (Some(_), _) => {
                let names: Vec<&str> = tests.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "a field test takes one test, found {}: combine tests with `all`",
                    names.join(", ")
                ));
            }
            (None, 0) => {}
            (None, _) => {
                let names: Vec<&str> = tests.iter().map(|(n, _)| *n).collect();
                return Err(format!("`{}` needs a `field`", names.join(", ")));
            }
        }
        match <[Condition; 1]>::try_from(forms) {
            Ok([form]) => Ok(form),
            Err(forms) if forms.is_empty() => Err("empty condition: use one of all, any, not, field, unknown, known, some, fewer_than".into()),
            Err(_) => Err("a condition has exactly one form (all, any, not, field, unknown, known, some or fewer_than): wrap several in `all` or `any`".into()),
        }
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        let mut raw = RawCondition::default();
        match c {
            Condition::All(v) => raw.all = Some(v),
            Condition::Any(v) => raw.any = Some(v),
            Condition::Not(v) => raw.not = Some(v),
            Condition::Unknown(f) => raw.unknown = Some(f),
            Condition::Known(c) => raw.known = Some(c),
            Condition::Some { of, cond } => {
                raw.some = Some(Quantified {
                    of,
                    cond,
                    count: None,
                })
            }
            Condition::FewerThan { of, cond, count } => {
                raw.fewer_than = Some(Quantified {
                    of,
                    cond,
                    count: Some(count),
                })
            }
            Condition::Test { field, test } => {
                raw.field = Some(field);
                match test {
                    Test::Is(b) => raw.is = Some(b),
                    Test::Eq(v) => raw.eq = Some(v),
                    Test::In(v) => raw.in_ = Some(v),
                    Test::Empty(b) => raw.empty = Some(b),
                    Test::Includes(v) => raw.includes = Some(v),
                    Test::Cmp(CmpOp::Lt, v) => raw.lt = Some(v),
                    Test::Cmp(CmpOp::Lte, v) => raw.lte = Some(v),
                    Test::Cmp(CmpOp::Gt, v) => raw.gt = Some(v),
                    Test::Cmp(CmpOp::Gte, v) => raw.gte = Some(v),
                }
            }
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Condition, String> {
        serde_norway::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_each_form() {
        assert_eq!(
            parse("{field: pain.low_back, is: false}").unwrap(),
            Condition::Test {
                field: "pain.low_back".into(),
                test: Test::Is(false)
            }
        );
        assert!(matches!(
            parse("{any: [{unknown: a.b}, {field: a.c, lt: {param: p}}]}").unwrap(),
            Condition::Any(v) if v.len() == 2
        ));
        assert!(matches!(
            parse("{fewer_than: {of: l, where: {field: k, eq: x}, count: 2}}").unwrap(),
            Condition::FewerThan { .. }
        ));
    }

    #[test]
    fn reads_known_and_a_comparison_with_another_answer_and_writes_them_back() {
        let known = parse("{known: {field: a.b, is: true}}").unwrap();
        assert!(matches!(&known, Condition::Known(c) if matches!(**c, Condition::Test { .. })));
        let between = parse("{field: a.b, lt: {field: a.c}}").unwrap();
        assert_eq!(
            between,
            Condition::Test {
                field: "a.b".into(),
                test: Test::Cmp(
                    CmpOp::Lt,
                    Literal::Field {
                        field: "a.c".into()
                    }
                )
            }
        );
        for c in [known, between] {
            let yaml = serde_norway::to_string(&c).unwrap();
            assert_eq!(parse(&yaml).unwrap(), c, "{yaml}");
        }
        // The page reads `known`, not a comparison of two answers.
        assert_eq!(
            parse("{not: {known: {field: a.b, is: true}}}")
                .unwrap()
                .page_cannot_evaluate(),
            None
        );
        assert!(
            parse("{field: a.b, lt: {field: a.c}}")
                .unwrap()
                .page_cannot_evaluate()
                .is_some()
        );
    }

    #[test]
    fn refuses_ambiguous_or_incomplete_conditions() {
        let e = parse("{field: a.b, lt: 3, gt: 1}").unwrap_err();
        assert!(e.contains("one test"), "{e}");
        let e = parse("{field: a.b}").unwrap_err();
        assert!(e.contains("needs one test"), "{e}");
        let e = parse("{lt: 3}").unwrap_err();
        assert!(e.contains("needs a `field`"), "{e}");
        let e = parse("{all: [], any: []}").unwrap_err();
        assert!(e.contains("exactly one form"), "{e}");
        let e = parse("{fewer_than: {of: l, where: {unknown: k}}}").unwrap_err();
        assert!(e.contains("needs a `count`"), "{e}");
        let e = parse("{field: a.b, si: true}").unwrap_err();
        assert!(e.contains("unknown field `si`"), "{e}");
    }

    #[test]
    fn round_trips_through_serde() {
        let c = parse("{not: {field: imaging.modalities, empty: true}}").unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"not": {"field": "imaging.modalities", "empty": true}})
        );
    }
}
