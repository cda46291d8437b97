//! HL7 FHIR R4: the questionnaire as a `Questionnaire` (generated from the
//! same data as `/v1/questionnaire`), and a `QuestionnaireResponse` read back
//! into our answers by `linkId`, so that it is evaluated exactly like our JSON.
//!
//! Conventions where FHIR cannot say "answered: none":
//! - `imaging.modalities` has an extra option `none` (alone: no imaging yet);
//! - a `diagnostic_blocks` group item with no items means no block done yet.

mod read;
mod resources;
mod write;

pub use read::answers_from_response;
pub use resources::{
    Bundle, BundleEntry, BundleSearch, BundleType, Issue, OperationOutcome, OperationOutcomeType,
    Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseType,
    QuestionnaireType, SearchSet,
};
pub use write::{KEPT_LINK, response_from_answers};

use serde_json::{Value, json};

use crate::condition::{Condition, Literal, Test};
use crate::questionnaire::{AnswerType, Item};
use crate::rules::RuleSet;

/// Canonical URLs of our questionnaires (identifiers; they need not resolve).
pub const CANONICAL_BASE: &str = "https://facet-screen.invalid/fhir/Questionnaire/";
const EXT: &str = "http://hl7.org/fhir/StructureDefinition/";
/// The code that stands for "none of the options" in a multiple choice.
pub const NONE_CODE: &str = "none";

/// The canonical URL of the rule set's questionnaire.
pub fn canonical(rules: &RuleSet) -> String {
    format!("{CANONICAL_BASE}{}", rules.questionnaire.id)
}

/// The FHIR id of the questionnaire resource.
pub fn resource_id(rules: &RuleSet) -> String {
    format!(
        "{}-v{}",
        rules.questionnaire.id, rules.questionnaire.version
    )
}

/// A section's `linkId`: apart from the answer ids (a section and a list
/// may share a name, and FHIR link ids are unique).
fn section_link(id: &str) -> String {
    format!("section-{id}")
}

/// The questionnaire as a FHIR R4 `Questionnaire`.
pub fn questionnaire(rules: &RuleSet) -> Questionnaire {
    let q = &rules.questionnaire;
    let items: Vec<Value> =
        q.sections
            .iter()
            .map(|s| {
                // The section's help first, as a display item.
                let help = s.description.as_ref().map(
                    |d| json!({"linkId": format!("{}.help", s.id), "type": "display", "text": d}),
                );
                let items: Vec<Value> = help
                    .into_iter()
                    .chain(s.items.iter().map(|i| item(i, &i.id)))
                    .collect();
                json!({
                    "linkId": section_link(&s.id),
                    "type": "group",
                    "text": s.title,
                    "item": items,
                })
            })
            .collect();
    Questionnaire {
        resource_type: QuestionnaireType::Questionnaire,
        id: resource_id(rules),
        url: canonical(rules),
        version: q.version.clone(),
        name: "FacetScreenIntake".into(),
        title: q.title.clone(),
        status: "active".into(),
        subject_type: vec!["Patient".into()],
        description: q.description.clone().unwrap_or_default(),
        item: items,
    }
}

fn item(i: &Item, link_id: &str) -> Value {
    let mut out = json!({"linkId": link_id, "text": i.question});
    let mut extensions = Vec::new();
    let number = |n: &serde_json::Number, integer: bool| {
        if integer {
            json!(n.as_i64())
        } else {
            json!(n.as_f64())
        }
    };
    let ty = match i.answer_type {
        AnswerType::Boolean => "boolean",
        AnswerType::Integer => "integer",
        AnswerType::Number => "decimal",
        AnswerType::Text => "string",
        AnswerType::Choice | AnswerType::MultiChoice => "choice",
        AnswerType::List => "group",
    };
    out["type"] = json!(ty);
    if matches!(i.answer_type, AnswerType::Integer | AnswerType::Number) {
        let integer = i.answer_type == AnswerType::Integer;
        let key = if integer {
            "valueInteger"
        } else {
            "valueDecimal"
        };
        if let Some(min) = &i.min {
            extensions.push(json!({"url": format!("{EXT}minValue"), key: number(min, integer)}));
        }
        if let Some(max) = &i.max {
            extensions.push(json!({"url": format!("{EXT}maxValue"), key: number(max, integer)}));
        }
    }
    if let Some(unit) = &i.unit {
        extensions.push(
            json!({"url": format!("{EXT}questionnaire-unit"), "valueCoding": {"display": unit}}),
        );
    }
    if let Some(n) = i.max_length {
        out["maxLength"] = json!(n);
    }
    if let Some(options) = &i.options {
        let mut list: Vec<Value> = options
            .iter()
            .map(|o| json!({"valueCoding": {"code": o.value, "display": o.label}}))
            .collect();
        if i.answer_type == AnswerType::MultiChoice {
            list.push(json!({"valueCoding": {"code": NONE_CODE, "display": "None of these"}}));
            out["repeats"] = json!(true);
        }
        out["answerOption"] = json!(list);
    }
    if i.answer_type == AnswerType::List {
        out["repeats"] = json!(true);
    }
    if i.required {
        out["required"] = json!(true);
    }
    // Children: the help text as a display item, then a list's fields.
    let mut children: Vec<Value> = Vec::new();
    if let Some(help) = &i.help {
        children.push(json!({"linkId": format!("{link_id}.help"), "type": "display", "text": help,
            "extension": [{"url": format!("{EXT}questionnaire-itemControl"),
                "valueCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]}}]}));
    }
    children.extend(
        i.fields
            .iter()
            .flatten()
            .map(|f| item(f, &format!("{link_id}[].{}", f.id))),
    );
    if !children.is_empty() {
        out["item"] = json!(children);
    }
    if let Some(cond) = &i.show_when
        && let Some((behavior, when)) = enable_when(cond)
    {
        out["enableWhen"] = json!(when);
        if when.len() > 1 {
            out["enableBehavior"] = json!(behavior);
        }
    }
    if !extensions.is_empty() {
        out["extension"] = json!(extensions);
    }
    out
}

/// `show_when` as FHIR `enableWhen`, for the forms FHIR can say; `None`
/// otherwise (the item is then always enabled, which never hides a question).
fn enable_when(cond: &Condition) -> Option<(&'static str, Vec<Value>)> {
    let single = |c: &Condition| -> Option<Vec<Value>> {
        match c {
            Condition::Test {
                field,
                test: Test::In(values),
            } => values
                .iter()
                .map(|v| match v {
                    Literal::Text(code) => Some(
                        json!({"question": field, "operator": "=", "answerCoding": {"code": code}}),
                    ),
                    _ => None,
                })
                .collect(),
            Condition::Test {
                field,
                test: Test::Eq(Literal::Text(code)),
            } => Some(vec![
                json!({"question": field, "operator": "=", "answerCoding": {"code": code}}),
            ]),
            Condition::Test {
                field,
                test: Test::Is(b),
            } => Some(vec![
                json!({"question": field, "operator": "=", "answerBoolean": b}),
            ]),
            Condition::Not(inner) => match inner.as_ref() {
                // "not empty": some option other than `none` was chosen.
                Condition::Test {
                    field,
                    test: Test::Empty(true),
                } => Some(vec![
                    json!({"question": field, "operator": "!=", "answerCoding": {"code": NONE_CODE}}),
                ]),
                _ => None,
            },
            _ => None,
        }
    };
    match cond {
        Condition::Any(items) => {
            let all: Option<Vec<Vec<Value>>> = items.iter().map(single).collect();
            Some(("any", all?.into_iter().flatten().collect()))
        }
        other => single(other).map(|w| ("any", w)),
    }
}

/// The code system of our outcome codes (an identifier; it need not resolve).
pub const OUTCOME_SYSTEM: &str = "https://facet-screen.invalid/fhir/CodeSystem/outcome";

/// A stored evaluation as a FHIR `GuidanceResponse`: the decision-support
/// answer to the screening's `QuestionnaireResponse`, with the clinician's
/// review, when there is one, recorded with it as a note.
pub fn guidance_response(
    id: &str,
    response_ref: &str,
    evaluation: &Value,
    review: Option<&Value>,
) -> Value {
    let outcome = evaluation["outcome"].as_str().unwrap_or_default();
    let codes = |part: &str| -> Vec<String> {
        evaluation[part]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["code"].as_str().map(String::from))
            .collect()
    };
    let mut notes = vec![json!({"text": format!(
        "Suggestion only: a clinician must confirm or override it. Rule set {} ({}), profile {}.",
        evaluation["ruleset"]["version"].as_str().unwrap_or_default(),
        evaluation["ruleset"]["digest"].as_str().unwrap_or_default(),
        evaluation["ruleset"]["profile"].as_str().unwrap_or_default(),
    )})];
    let reasons = codes("reasons");
    if !reasons.is_empty() {
        notes.push(json!({"text": format!("Criteria that drove it: {}.", reasons.join(", "))}));
    }
    let cautions = codes("cautions");
    if !cautions.is_empty() {
        notes.push(json!({"text": format!("Cautions: {}.", cautions.join(", "))}));
    }
    if let Some(r) = review {
        let mut text = format!(
            "Clinician's decision by {} at {}: {} (final outcome {})",
            r["clinician"].as_str().unwrap_or_default(),
            r["reviewed_at"].as_str().unwrap_or_default(),
            r["decision"].as_str().unwrap_or_default(),
            r["final_outcome"].as_str().unwrap_or_default(),
        );
        if let Some(code) = r["reason"]["code"].as_str() {
            text.push_str(&format!("; reason {code}"));
        }
        if let Some(t) = r["reason"]["text"].as_str() {
            text.push_str(&format!(": {t}"));
        }
        notes.push(json!({ "text": text }));
    }
    let missing_required = evaluation["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|m| m["required"] == true);
    json!({
        "resourceType": "GuidanceResponse",
        "id": id,
        "requestIdentifier": {"system": "urn:ietf:rfc:3986", "value": response_ref},
        "moduleUri": format!("https://facet-screen.invalid/rules/{}", evaluation["ruleset"]["version"].as_str().unwrap_or_default()),
        // Data required: the suggestion waits for required answers.
        "status": if missing_required { "data-required" } else { "success" },
        "occurrenceDateTime": evaluation["evaluated_at"],
        "reasonCode": [{
            "coding": [{"system": OUTCOME_SYSTEM, "code": outcome, "display": evaluation["outcome_label"]}],
            "text": evaluation["summary"],
        }],
        "note": notes,
    })
}
