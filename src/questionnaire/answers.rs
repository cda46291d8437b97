//! Parsing a patient's answers against the questionnaire, once: after this an
//! answer has the type and range its item promises, and absent means unknown.

use serde_json::{Map, Number, Value};

use super::{Field, Fields, Kind};

/// A checked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerValue {
    Bool(bool),
    Int(i64),
    /// Kept as given, so that it is echoed back exactly.
    Num(Number),
    Text(String),
    Choice(String),
    Multi(Vec<String>),
    List(Vec<Entry>),
}

/// One entry of a list answer: its fields' answers, by field position.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry(pub Vec<Option<AnswerValue>>);

impl AnswerValue {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AnswerValue::Int(i) => Some(*i as f64),
            AnswerValue::Num(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The answer as JSON, as the client would send it.
    pub fn to_json(&self, kind: &Kind) -> Value {
        match (self, kind) {
            (AnswerValue::Bool(b), _) => Value::Bool(*b),
            (AnswerValue::Int(i), _) => Value::from(*i),
            (AnswerValue::Num(n), _) => Value::Number(n.clone()),
            (AnswerValue::Text(s) | AnswerValue::Choice(s), _) => Value::String(s.clone()),
            (AnswerValue::Multi(v), _) => {
                Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
            }
            (AnswerValue::List(entries), Kind::List { fields, .. }) => Value::Array(
                entries
                    .iter()
                    .map(|e| {
                        let mut obj = Map::new();
                        for (f, v) in fields.iter().zip(&e.0) {
                            if let Some(v) = v {
                                obj.insert(f.id.clone(), v.to_json(&f.kind));
                            }
                        }
                        Value::Object(obj)
                    })
                    .collect(),
            ),
            (AnswerValue::List(_), _) => Value::Null,
        }
    }
}

/// A bad answer: the field's path and what was expected. It never carries the
/// value that was sent (it may be patient data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `pain.intensity_nrs` or
    /// `diagnostic_blocks[1].pain_relief_percent`.
    #[schema(example = "pain.intensity_nrs")]
    pub field: String,
    /// What was expected there.
    #[schema(example = "expected an integer from 0 to 10, or null for unknown")]
    pub message: String,
}

/// A patient's answers, checked against a questionnaire.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    values: Vec<Option<AnswerValue>>,
}

impl Answers {
    /// Nothing answered.
    pub fn none(fields: &Fields) -> Self {
        Answers {
            values: vec![None; fields.len()],
        }
    }

    /// Sets the answer to field `i` of the catalogue.
    pub(super) fn set(&mut self, i: usize, value: Option<AnswerValue>) {
        self.values[i] = value;
    }

    /// The answer to field `i` of the catalogue; `None` is unknown.
    pub fn get(&self, i: usize) -> Option<&AnswerValue> {
        self.values.get(i).and_then(Option::as_ref)
    }

    /// Checks `json` against the questionnaire and reports every bad field.
    pub fn parse(fields: &Fields, json: &Value) -> Result<Answers, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut answers = Answers::none(fields);
        let Value::Object(obj) = json else {
            return Err(vec![FieldError {
                field: String::new(),
                message: "the answers must be a JSON object".into(),
            }]);
        };
        for (key, value) in obj {
            let Some(members) = fields.group(key) else {
                errors.push(unknown(key, fields.groups().map(|(g, _)| g)));
                continue;
            };
            if let [(name, slot)] = members
                && name.is_empty()
            {
                answers.values[*slot] =
                    parse_value(fields.get(*slot), value, &|| key.clone(), &mut errors);
                continue;
            }
            match value {
                Value::Null => {}
                Value::Object(inner) => {
                    for (name, value) in inner {
                        // The path is only built for an error message.
                        let path = || format!("{key}.{name}");
                        match members.iter().find(|(n, _)| n == name) {
                            Some((_, slot)) => {
                                answers.values[*slot] =
                                    parse_value(fields.get(*slot), value, &path, &mut errors)
                            }
                            None => errors
                                .push(unknown(&path(), members.iter().map(|(n, _)| n.as_str()))),
                        }
                    }
                }
                _ => errors.push(FieldError {
                    field: key.clone(),
                    message: "expected an object of answers, or null".into(),
                }),
            }
        }
        if errors.is_empty() {
            Ok(answers)
        } else {
            Err(errors)
        }
    }

    /// The answers as nested JSON, unknown answers left out.
    pub fn to_json(&self, fields: &Fields) -> Value {
        let mut root = Map::new();
        for (i, field) in fields.iter() {
            let Some(v) = self.get(i) else { continue };
            let json = v.to_json(&field.kind);
            match field.id.split_once('.') {
                Some((group, name)) => {
                    let entry = root
                        .entry(group.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = entry {
                        m.insert(name.to_string(), json);
                    }
                }
                None => {
                    root.insert(field.id.clone(), json);
                }
            }
        }
        Value::Object(root)
    }
}

pub(super) fn unknown<'a>(path: &str, expected: impl Iterator<Item = &'a str>) -> FieldError {
    let names: Vec<&str> = expected.filter(|n| !n.is_empty()).collect();
    FieldError {
        field: path.to_string(),
        message: format!("unknown question; expected one of: {}", names.join(", ")),
    }
}

pub(super) fn parse_value(
    field: &Field,
    value: &Value,
    path: &dyn Fn() -> String,
    errors: &mut Vec<FieldError>,
) -> Option<AnswerValue> {
    if value.is_null() {
        return None;
    }
    let mut fail = |message: String| {
        errors.push(FieldError {
            field: path(),
            message,
        });
        None
    };
    match &field.kind {
        Kind::Bool => match value {
            Value::Bool(b) => Some(AnswerValue::Bool(*b)),
            _ => fail("expected true or false, or null for unknown".into()),
        },
        Kind::Int { min, max } => {
            let whole = match value {
                Value::Number(n) => n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                }),
                _ => None,
            };
            match whole {
                Some(i) if (*min..=*max).contains(&i) => Some(AnswerValue::Int(i)),
                _ => fail(format!(
                    "expected an integer from {min} to {max}, or null for unknown"
                )),
            }
        }
        Kind::Num { min, max } => match value {
            Value::Number(n) if n.as_f64().is_some_and(|f| f >= *min && f <= *max) => {
                Some(AnswerValue::Num(n.clone()))
            }
            _ => fail(format!(
                "expected a number from {min} to {max}, or null for unknown"
            )),
        },
        Kind::Text { max_len } => match value {
            Value::String(s)
                if s.chars().count() <= *max_len && !s.chars().any(char::is_control) =>
            {
                Some(AnswerValue::Text(s.clone()))
            }
            // Said in the words of the person who pasted it.
            Value::String(s) if s.chars().any(char::is_control) => fail(
                "contains a tab, line break or other invisible character (it often comes with a paste): remove it"
                    .to_string(),
            ),
            Value::String(_) => fail(format!(
                "is longer than {max_len} characters: shorten it"
            )),
            _ => fail(format!(
                "expected printable text of at most {max_len} characters, or null for unknown"
            )),
        },
        Kind::Choice(options) => match value {
            Value::String(s) if options.contains(s) => Some(AnswerValue::Choice(s.clone())),
            _ => fail(format!(
                "expected one of: {}, or null for unknown",
                options.join(", ")
            )),
        },
        Kind::Multi(options) => {
            let expected = || {
                format!(
                    "expected an array of distinct values among: {} (empty for none), or null for unknown",
                    options.join(", ")
                )
            };
            let Value::Array(items) = value else {
                return fail(expected());
            };
            let mut chosen: Vec<String> = Vec::new();
            for item in items {
                match item {
                    Value::String(s) if options.contains(s) && !chosen.contains(s) => {
                        chosen.push(s.clone())
                    }
                    _ => return fail(expected()),
                }
            }
            Some(AnswerValue::Multi(chosen))
        }
        Kind::List { min, max, fields } => {
            let Value::Array(items) = value else {
                return fail(format!(
                    "expected an array of {min} to {max} entries (empty for none), or null for unknown"
                ));
            };
            if items.len() < *min || items.len() > *max {
                return fail(format!("expected from {min} to {max} entries"));
            }
            let before = errors.len();
            let mut entries = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let entry_path = || format!("{}[{i}]", path());
                let Value::Object(obj) = item else {
                    errors.push(FieldError {
                        field: entry_path(),
                        message: "expected an object".into(),
                    });
                    continue;
                };
                let mut values = vec![None; fields.len()];
                for (name, v) in obj {
                    let sub_path = || format!("{}.{name}", entry_path());
                    match fields.iter().position(|f| &f.id == name) {
                        Some(j) => values[j] = parse_value(&fields[j], v, &sub_path, errors),
                        None => {
                            errors.push(unknown(&sub_path(), fields.iter().map(|f| f.id.as_str())))
                        }
                    }
                }
                entries.push(Entry(values));
            }
            (errors.len() == before).then_some(AnswerValue::List(entries))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::Questionnaire;
    use serde_json::json;

    fn fields() -> Fields {
        let text = include_str!("../../rules/v1/questionnaire.yaml");
        Questionnaire::parse("questionnaire.yaml", text).unwrap().1
    }

    fn errors(json: Value) -> Vec<(String, String)> {
        Answers::parse(&fields(), &json)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn absent_and_null_are_unknown() {
        let f = fields();
        let a = Answers::parse(&f, &json!({"pain": {"low_back": null}, "exam": null})).unwrap();
        let i = f.find("pain.low_back").unwrap();
        assert_eq!(a.get(i), None);
        assert_eq!(a.to_json(&f), json!({}));
    }

    #[test]
    fn names_every_bad_field_by_path() {
        let errs = errors(json!({
            "pain": {"intensity_nrs": 11, "low_back": "yes", "duraton_months": 3},
            "diagnostic_blocks": [{"kind": "medial_branch_block", "pain_relief_percent": 101}],
            "colour": "blue"
        }));
        let paths: Vec<&str> = errors_paths(&errs);
        assert_eq!(
            paths,
            [
                "colour",
                "diagnostic_blocks[0].pain_relief_percent",
                "pain.duraton_months",
                "pain.intensity_nrs",
                "pain.low_back"
            ]
        );
        assert!(errs.iter().any(|(_, m)| m.contains("integer from 0 to 10")));
    }

    fn errors_paths(errs: &[(String, String)]) -> Vec<&str> {
        let mut v: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        v.sort();
        v
    }

    #[test]
    fn integers_must_be_whole_and_choices_known() {
        let errs = errors(json!({
            "pain": {"intensity_nrs": 7.5},
            "conservative_care": {"medications": "sometimes"},
            "imaging": {"modalities": ["mri", "mri"]}
        }));
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs.iter()
                .any(|(p, m)| p == "conservative_care.medications" && m.contains("not_tried"))
        );
    }

    #[test]
    fn errors_never_echo_the_value() {
        let errs = errors(json!({"patient": {"external_ref": "MRN-SECRET\u{7}"}}));
        assert_eq!(errs[0].0, "patient.external_ref");
        assert!(!errs[0].1.contains("SECRET"));
    }

    #[test]
    fn round_trips_answers_exactly() {
        let f = fields();
        let input = json!({
            "pain": {"duration_months": 14, "low_back": true},
            "imaging": {"modalities": []},
            "diagnostic_blocks": [{"kind": "medial_branch_block", "pain_relief_percent": 80}]
        });
        assert_eq!(Answers::parse(&f, &input).unwrap().to_json(&f), input);
    }
}
