//! A JSON body of answers parsed straight into `Answers`, in one pass.
//!
//! The same checks as parsing the body into a `serde_json::Value` (refusing
//! a duplicated key at any depth, as `http::extract` does) and then calling
//! `Answers::parse`, with the same field errors in the same order; but the
//! body's objects are never built as maps. Only each answer's own value is
//! (a scalar, or a small array). Measured on `POST /v1/evaluations`: the
//! parse and the map's drop were about a sixth of the server's CPU.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use smallvec::SmallVec;

use super::answers::{parse_value, unknown};
use super::{Answers, FieldError, Fields};

/// Parses `body` against `fields`. `Err` when it is not JSON, or repeats a
/// key in an object (serde_json's message: what and where, never a value);
/// `Ok(Err)` when it is JSON but some answers are not valid.
pub fn parse(fields: &Fields, body: &[u8]) -> Result<Result<Answers, Vec<FieldError>>, String> {
    let mut state = State {
        fields,
        answers: Answers::none(fields),
        errors: Vec::new(),
        not_an_object: false,
    };
    // A body that is valid UTF-8 (every body a client means to send) is
    // checked for it once, in one pass over its bytes, and then read as
    // text: serde_json then does not check each string on its own. Any
    // other body is read as bytes, so that serde_json names the first fault
    // where it finds it, as before.
    match std::str::from_utf8(body) {
        Ok(text) => read(&mut state, &mut serde_json::Deserializer::from_str(text)),
        Err(_) => read(&mut state, &mut serde_json::Deserializer::from_slice(body)),
    }
    .map_err(|e| format!("the body is not valid JSON: {e}"))?;
    if state.not_an_object {
        return Ok(Err(vec![FieldError {
            field: String::new(),
            message: "the answers must be a JSON object".into(),
        }]));
    }
    if state.errors.is_empty() {
        return Ok(Ok(state.answers));
    }
    // In the order `Answers::parse` gives them: by key, then by name within
    // a group, as a JSON object's keys iterate (sorted); a value's own
    // errors in the order found.
    state.errors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Err(state.errors.into_iter().map(|(_, e)| e).collect()))
}

/// Reads the whole of `de`'s input into `state`.
fn read<'de, R: serde_json::de::Read<'de>>(
    state: &mut State<'_>,
    de: &mut serde_json::Deserializer<R>,
) -> Result<(), serde_json::Error> {
    Top(state).deserialize(&mut *de)?;
    de.end()
}

struct State<'f> {
    fields: &'f Fields,
    answers: Answers,
    /// Each error with the (key, name) it was found under, to be sorted.
    errors: Vec<((String, String), FieldError)>,
    not_an_object: bool,
}

impl State<'_> {
    /// Parses one answer's value into slot `slot`; errors tagged `(key, name)`.
    fn answer(&mut self, slot: usize, value: &Value, key: &str, name: Option<&str>) {
        let path = || match name {
            Some(name) => format!("{key}.{name}"),
            None => key.to_string(),
        };
        let mut found = Vec::new();
        let parsed = parse_value(self.fields.get(slot), value, &path, &mut found);
        self.answers.set(slot, parsed);
        self.tag(found, key, name);
    }

    fn tag(&mut self, found: Vec<FieldError>, key: &str, name: Option<&str>) {
        for e in found {
            self.errors
                .push(((key.to_string(), name.unwrap_or("").to_string()), e));
        }
    }
}

/// The keys of one object read so far, to refuse a repeated one: kept on
/// the stack up to a group's usual size (a heap allocation or three per
/// group otherwise, on every request).
type Seen<'de> = SmallVec<[Key<'de>; 16]>;

/// A key, borrowed from the body unless it holds an escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key `{key}`"))
}

/// Drains an array whose content is not wanted, still refusing a repeated
/// key inside it.
fn drain<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<StrictValue>()?.is_some() {}
    Ok(())
}

/// The visitor methods of the JSON scalars (a boolean, a number, a string),
/// each answered by `$then` on the visitor, where an object was expected.
macro_rules! scalars {
    (|$v:ident| $then:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            let $v = self;
            $then;
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            let $v = self;
            $then;
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            let $v = self;
            $then;
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            let $v = self;
            $then;
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            let $v = self;
            $then;
            Ok(())
        }
    };
}

/// The body's top level: an object of groups.
struct Top<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of answers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut seen = Seen::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if seen.iter().any(|k| k.0 == key.0) {
                return Err(duplicate(&key.0));
            }
            let fields = state.fields;
            match fields.group(&key.0) {
                None => {
                    map.next_value::<StrictValue>()?;
                    let e = unknown(&key.0, fields.groups().map(|(g, _)| g));
                    state.tag(vec![e], &key.0, None);
                }
                Some([(name, slot)]) if name.is_empty() => {
                    let StrictValue(value) = map.next_value()?;
                    state.answer(*slot, &value, &key.0, None);
                }
                Some(members) => map.next_value_seed(Group {
                    state: &mut *state,
                    key: &key.0,
                    members,
                })?,
            }
            seen.push(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.not_an_object = true;
        drain(seq)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.not_an_object = true;
        Ok(())
    }
    scalars!(|top| top.0.not_an_object = true);
}

/// A group's value: an object of its questions' answers, or null.
struct Group<'s, 'f, 'k> {
    state: &'s mut State<'f>,
    key: &'k str,
    members: &'f [(String, usize)],
}

impl Group<'_, '_, '_> {
    fn not_an_object(self) {
        let e = FieldError {
            field: self.key.to_string(),
            message: "expected an object of answers, or null".into(),
        };
        self.state.tag(vec![e], self.key, None);
    }
}

impl<'de> DeserializeSeed<'de> for Group<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Group<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of answers, or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::new();
        while let Some(name) = map.next_key::<Key<'de>>()? {
            if seen.iter().any(|k| k.0 == name.0) {
                return Err(duplicate(&name.0));
            }
            let StrictValue(value) = map.next_value()?;
            match self.members.iter().find(|(n, _)| *n == name.0) {
                Some((_, slot)) => self.state.answer(*slot, &value, self.key, Some(&name.0)),
                None => {
                    let path = format!("{}.{}", self.key, name.0);
                    let e = unknown(&path, self.members.iter().map(|(n, _)| n.as_str()));
                    self.state.tag(vec![e], self.key, Some(&name.0));
                }
            }
            seen.push(name);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain(seq)?;
        self.not_an_object();
        Ok(())
    }
    scalars!(|group| group.not_an_object());
}

/// Parses JSON, refusing a repeated key in any object. serde_json's
/// message says where (line, column) and, for a repeat, which key: never a
/// value.
pub fn strict_value(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    StrictValue::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v.0))
        .map_err(|e| format!("the body is not valid JSON: {e}"))
}

/// Any JSON value, refusing a key repeated in an object at any depth.
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::questionnaire::Questionnaire;

    fn fields() -> Fields {
        let text = include_str!("../../rules/v1/questionnaire.yaml");
        Questionnaire::parse("questionnaire.yaml", text).unwrap().1
    }

    /// What the two-step path (a strict `Value`, then `Answers::parse`)
    /// gives: the reference this parser must match.
    fn two_step(fields: &Fields, body: &str) -> Result<Result<Answers, Vec<FieldError>>, ()> {
        let value = strict_value(body.as_bytes()).map_err(|_| ())?;
        Ok(Answers::parse(fields, &value))
    }

    fn same(body: &str) {
        let f = fields();
        let one = parse(&f, body.as_bytes()).map_err(|_| ());
        assert_eq!(one, two_step(&f, body), "{body}");
    }

    #[test]
    fn every_worked_case_parses_as_the_two_step_path_does() {
        let cases: Value =
            serde_json::from_str(include_str!("../../rules/v1/cases/vignettes.json")).unwrap();
        let cases = cases.as_array().unwrap();
        assert!(cases.len() > 20);
        for case in cases {
            same(&case["answers"].to_string());
        }
    }

    #[test]
    fn bad_answers_give_the_same_errors_in_the_same_order() {
        for body in [
            json!({"zeta": 1, "pain": {"intensity_nrs": "x", "duration_months": -4, "nope": 1}, "alpha": {}}),
            json!({"pain": [1, 2], "exam": 3, "red_flags": "no", "imaging": true}),
            json!({"pain": {"low_back": null}, "exam": null}),
            json!({"diagnostic_blocks": [{"pain_relief_percent": 200, "odd": 1}, 4]}),
            json!({"conservative_care": {"pt_weeks": 1.5}, "patient": {"age_years": 300}}),
            json!({"patient": {"external_ref": "a\tb"}}),
            json!([1, {"a": 1}]),
            json!("answers"),
            json!(null),
            json!(4),
            json!({}),
        ] {
            same(&body.to_string());
        }
    }

    #[test]
    fn a_repeated_key_anywhere_is_not_json_here() {
        let f = fields();
        for body in [
            r#"{"pain": {}, "pain": {}}"#,
            r#"{"pain": {"low_back": true, "low_back": false}}"#,
            r#"{"unknown": {"a": 1, "a": 2}}"#,
            r#"{"pain": [{"a": 1, "a": 2}]}"#,
            r#"[{"a": 1, "a": 2}]"#,
            r#"{"diagnostic_blocks": [{"x": 1, "x": 1}]}"#,
            r#"{"p\u0061in": {}, "pain": {}}"#,
        ] {
            let e = parse(&f, body.as_bytes()).unwrap_err();
            assert!(e.contains("duplicate key"), "{body}: {e}");
            assert!(two_step(&f, body).is_err(), "{body}");
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused_where_serde_json_finds_it() {
        let f = fields();
        for (body, expected) in [
            (
                &b"{\"pain\": {\"low_back\": \"\xff\"}}"[..],
                "invalid unicode code point at line 1 column 24",
            ),
            (
                &b"{\"pain\": } \xff"[..],
                "expected value at line 1 column 10",
            ),
            (
                &b"{\"p\xc3\": {}}"[..],
                "invalid unicode code point at line 1 column 4",
            ),
        ] {
            let e = parse(&f, body).unwrap_err();
            assert!(e.starts_with("the body is not valid JSON: "), "{e}");
            assert!(e.ends_with(expected), "{e}");
            assert!(strict_value(body).unwrap_err().ends_with(expected));
        }
    }

    #[test]
    fn what_is_not_json_is_refused_with_where() {
        let f = fields();
        for body in ["", "{", r#"{"pain": }"#, r#"{"pain": {}} x"#, "nul"] {
            let e = parse(&f, body.as_bytes()).unwrap_err();
            assert!(e.starts_with("the body is not valid JSON: "), "{body}: {e}");
            assert!(two_step(&f, body).is_err(), "{body}");
        }
    }
}
