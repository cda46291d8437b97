//! Our answers, as stored, written as a `QuestionnaireResponse`: each one
//! where the Questionnaire puts it, and nothing of the record lost. A stored
//! answer that the rule set in use does not ask (a question since removed, a
//! screening stored under another rule set, a value whose type has since
//! changed) is kept, as stored, in a last group (`not-in-questionnaire`)
//! under its path in our answers (`readiness.smoker`,
//! `diagnostic_blocks[0].level`); and the response names the questionnaire
//! version the answers were given under. An auditor reading the export sees
//! everything the record holds; a reader of our own (`answers_from_response`)
//! refuses that group by name rather than evaluate without it.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{NONE_CODE, canonical, section_link};
use crate::questionnaire::{AnswerType, Item};
use crate::rules::RuleSet;

/// The `linkId` of the group that keeps the answers the questionnaire in
/// use does not ask.
pub const KEPT_LINK: &str = "not-in-questionnaire";

/// The "none of these" answer (an empty multiple choice or list).
fn none() -> Value {
    json!({"valueCoding": {"code": NONE_CODE, "display": "None of these"}})
}

/// A stored value as the answers of the question `item`; empty when it is
/// not a value of that question's type.
fn answer(item: &Item, v: &Value) -> Vec<Value> {
    let coding = |code: &str| {
        let display = item
            .options
            .iter()
            .flatten()
            .find(|o| o.value == code)
            .map_or(code, |o| o.label.as_str());
        json!({"valueCoding": {"code": code, "display": display}})
    };
    match (item.answer_type, v) {
        (AnswerType::Boolean, Value::Bool(b)) => vec![json!({"valueBoolean": b})],
        (AnswerType::Integer, Value::Number(n)) if n.is_i64() => {
            vec![json!({"valueInteger": n})]
        }
        (AnswerType::Number, Value::Number(n)) => vec![json!({"valueDecimal": n})],
        (AnswerType::Text, Value::String(s)) => vec![json!({"valueString": s})],
        (AnswerType::Choice, Value::String(c)) => vec![coding(c)],
        (AnswerType::MultiChoice, Value::Array(codes)) if codes.is_empty() => vec![none()],
        (AnswerType::MultiChoice, Value::Array(codes)) if codes.iter().all(Value::is_string) => {
            codes.iter().filter_map(Value::as_str).map(coding).collect()
        }
        _ => Vec::new(),
    }
}

/// Every answered value of stored answers, by its path (`pain.low_back`,
/// `diagnostic_blocks[1].kind`): the scalars, and each multiple choice
/// (an array of scalars, empty or not) whole.
fn leaves<'a>(path: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Null => {}
        Value::Object(fields) => {
            for (name, x) in fields {
                let inner = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                leaves(&inner, x, out);
            }
        }
        Value::Array(xs) if xs.iter().any(|x| x.is_object() || x.is_array()) => {
            for (n, x) in xs.iter().enumerate() {
                leaves(&format!("{path}[{n}]"), x, out);
            }
        }
        _ => out.push((path.to_string(), v)),
    }
}

/// A value kept as stored, typed as FHIR can say it.
fn kept(v: &Value) -> Vec<Value> {
    let one = |x: &Value| match x {
        Value::Bool(b) => json!({"valueBoolean": b}),
        Value::Number(n) => match n.as_i64().filter(|i| i32::try_from(*i).is_ok()) {
            Some(i) => json!({"valueInteger": i}),
            None => json!({"valueDecimal": n}),
        },
        Value::String(s) => json!({"valueString": s}),
        other => json!({"valueString": other.to_string()}),
    };
    match v {
        Value::Array(xs) if xs.is_empty() => vec![none()],
        Value::Array(xs) => xs.iter().map(one).collect(),
        x => vec![one(x)],
    }
}

/// Our answers (as stored) as a `QuestionnaireResponse` to the rule set's
/// questionnaire, item by item under their sections; unanswered questions
/// are left out, and answers it does not ask are kept in the last group.
/// `answered_under` is the questionnaire version the answers were given
/// under (the stored evaluation's), the one in use when `None`.
/// `answers_from_response` reads a response with no kept answer back to the
/// same answers.
pub fn response_from_answers(
    rules: &RuleSet,
    answers: &Value,
    answered_under: Option<&str>,
    id: &str,
    authored: &str,
) -> Value {
    let lookup = |id: &str| -> Value {
        match id.split_once('.') {
            Some((group, name)) => answers[group][name].clone(),
            None => answers[id].clone(),
        }
    };
    // The paths written under the sections.
    let mut written: HashSet<String> = HashSet::new();
    let mut sections = Vec::new();
    for section in &rules.questionnaire.sections {
        let mut items = Vec::new();
        for item in &section.items {
            let v = lookup(&item.id);
            if v.is_null() {
                continue;
            }
            if item.answer_type == AnswerType::List {
                let Some(entries) = v.as_array() else {
                    continue;
                };
                if entries.is_empty() {
                    // Answered: none done yet (the module's convention).
                    written.insert(item.id.clone());
                    items.push(json!({"linkId": item.id, "text": item.question}));
                }
                for (n, entry) in entries.iter().enumerate() {
                    let mut children = Vec::new();
                    for f in item.fields.iter().flatten() {
                        let a = answer(f, &entry[&f.id]);
                        if !a.is_empty() {
                            written.insert(format!("{}[{n}].{}", item.id, f.id));
                            children.push(json!({"linkId": format!("{}[].{}", item.id, f.id), "text": f.question, "answer": a}));
                        }
                    }
                    let mut group = json!({"linkId": item.id, "text": item.question});
                    if !children.is_empty() {
                        group["item"] = json!(children);
                    }
                    items.push(group);
                }
                continue;
            }
            let a = answer(item, &v);
            if !a.is_empty() {
                written.insert(item.id.clone());
                items.push(json!({"linkId": item.id, "text": item.question, "answer": a}));
            }
        }
        if !items.is_empty() {
            sections.push(
                json!({"linkId": section_link(&section.id), "text": section.title, "item": items}),
            );
        }
    }
    let in_use = &rules.questionnaire.version;
    let version = answered_under.unwrap_or(in_use);
    let mut stored = Vec::new();
    leaves("", answers, &mut stored);
    let not_asked: Vec<Value> = stored
        .into_iter()
        .filter(|(path, _)| !written.contains(path))
        .map(|(path, v)| json!({"linkId": path, "answer": kept(v)}))
        .collect();
    if !not_asked.is_empty() {
        sections.push(json!({
            "linkId": KEPT_LINK,
            "text": format!(
                "Answers on record that questionnaire version {in_use} (in use at export) does not ask, kept as stored; answered under version {version}"
            ),
            "item": not_asked,
        }));
    }
    let mut response = json!({
        "resourceType": "QuestionnaireResponse",
        "id": id,
        "questionnaire": format!("{}|{version}", canonical(rules)),
        "status": "completed",
        "authored": authored,
    });
    if !sections.is_empty() {
        response["item"] = json!(sections);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RuleSet {
        RuleSet::load(&crate::rules::RuleFiles::embedded(), None).expect("the rules load")
    }

    fn kept_items(qr: &Value) -> Vec<(String, Value)> {
        qr["item"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| g["linkId"] == KEPT_LINK)
            .flat_map(|g| g["item"].as_array().unwrap().iter())
            .map(|i| {
                (
                    i["linkId"].as_str().unwrap().to_string(),
                    i["answer"].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn answers_the_questionnaire_asks_are_written_in_place_and_nothing_is_kept_apart() {
        let answers = json!({
            "pain": {"low_back": true, "duration_months": 14, "intensity_nrs": null},
            "imaging": {"modalities": []},
            "diagnostic_blocks": [{"kind": "medial_branch_block", "pain_relief_percent": 90}],
        });
        let qr = response_from_answers(&rules(), &answers, None, "x", "t");
        assert!(kept_items(&qr).is_empty(), "{qr}");
        assert_eq!(
            super::super::answers_from_response(&rules(), &qr).unwrap(),
            json!({
                "pain": {"low_back": true, "duration_months": 14},
                "imaging": {"modalities": []},
                "diagnostic_blocks": [{"kind": "medial_branch_block", "pain_relief_percent": 90}],
            })
        );
    }

    #[test]
    fn every_answer_the_questionnaire_does_not_ask_is_kept_with_its_path_and_value() {
        let answers = json!({
            "readiness": {"smoker": true, "pregnant": false},
            "pain": {"intensity_nrs": 6.5, "notes": "worse at night", "scale": 2147483648_i64},
            "imaging": {"modalities": ["mri", 3]},
            "old_list": [{"a": 1}, "loose"],
            "old_multi": [],
            "diagnostic_blocks": [{"kind": "medial_branch_block", "level": "L4-L5"}],
        });
        let qr = response_from_answers(&rules(), &answers, Some("0.9"), "x", "t");
        assert_eq!(
            qr["questionnaire"],
            "https://facet-screen.invalid/fhir/Questionnaire/facet-screen-intake|0.9"
        );
        let mut kept = kept_items(&qr);
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            kept,
            [
                (
                    "diagnostic_blocks[0].level".into(),
                    json!([{"valueString": "L4-L5"}])
                ),
                (
                    "imaging.modalities".into(),
                    json!([{"valueString": "mri"}, {"valueInteger": 3}])
                ),
                ("old_list[0].a".into(), json!([{"valueInteger": 1}])),
                ("old_list[1]".into(), json!([{"valueString": "loose"}])),
                ("old_multi".into(), json!([none()])),
                ("pain.intensity_nrs".into(), json!([{"valueDecimal": 6.5}])),
                (
                    "pain.notes".into(),
                    json!([{"valueString": "worse at night"}])
                ),
                (
                    "pain.scale".into(),
                    json!([{"valueDecimal": 2147483648_i64}])
                ),
                ("readiness.smoker".into(), json!([{"valueBoolean": true}])),
            ]
        );
        // What the questionnaire asks stays in its place.
        let text = qr.to_string();
        assert!(text.contains(r#""linkId":"readiness.pregnant""#), "{text}");
        assert!(
            text.contains(r#""linkId":"diagnostic_blocks[].kind""#),
            "{text}"
        );
    }
}
