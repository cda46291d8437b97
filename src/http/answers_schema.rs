//! The answers' JSON Schema, generated from the questionnaire of a rule set:
//! the request body of every operation that takes answers, and the named
//! types a generated client gets for them.

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::questionnaire::{Field, Kind};
use crate::rules::{RuleFiles, RuleSet};

/// The answers a patient gives: generated from the questionnaire.
pub struct AnswersSchema;

impl PartialSchema for AnswersSchema {
    // PANIC SAFETY: the built-in rule set is embedded in the binary and
    // loaded by every test and at every start; the document is made from it.
    #[allow(clippy::expect_used)]
    fn schema() -> RefOr<Schema> {
        let rules = RuleSet::load(&RuleFiles::embedded(), None)
            .expect("the built-in rule set is checked by the tests");
        answers_schema(&rules)
    }
}

impl ToSchema for AnswersSchema {
    fn name() -> Cow<'static, str> {
        "Answers".into()
    }
}

fn nullable(kind: &str) -> Value {
    json!([kind, "null"])
}

/// `conservative_care.physical_therapy` as a type name: `ConservativeCarePhysicalTherapy`.
fn type_name(id: &str) -> String {
    id.split(['.', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The answers' schema as named components, so that a generated client has
/// one type per section, per list entry and per set of options: sections
/// (`PainAnswers`), list entries (`DiagnosticBlocksEntry`) and enums (one
/// per option list; a list shared by several questions of a section is
/// named after the section, `ConservativeCareChoice`). Unknown is `null`:
/// `anyOf [the type, null]`, never `null` inside an enum.
struct AnswerTypes {
    components: Map<String, Value>,
    enums: Vec<(Vec<String>, String)>,
}

impl AnswerTypes {
    fn new(rules: &RuleSet) -> Self {
        // Which questions share each option list, to name it once.
        let mut uses: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        let mut note =
            |id: &str, options: &[String]| match uses.iter_mut().find(|(o, _)| o == options) {
                Some((_, ids)) => ids.push(id.to_string()),
                None => uses.push((options.to_vec(), vec![id.to_string()])),
            };
        for (_, f) in rules.fields.iter() {
            match &f.kind {
                Kind::Choice(o) | Kind::Multi(o) => note(&f.id, o),
                Kind::List { fields, .. } => {
                    for sub in fields {
                        if let Kind::Choice(o) | Kind::Multi(o) = &sub.kind {
                            note(&format!("{}_entry.{}", f.id, sub.id), o);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut types = AnswerTypes {
            components: Map::new(),
            enums: Vec::new(),
        };
        for (options, ids) in uses {
            let name = match ids.as_slice() {
                [one] => type_name(one),
                [first, ..] => format!(
                    "{}Choice",
                    type_name(first.split_once('.').map_or(first.as_str(), |(g, _)| g))
                ),
                [] => continue,
            };
            types
                .components
                .insert(name.clone(), json!({"type": "string", "enum": options}));
            types.enums.push((options, name));
        }
        types
    }

    // PANIC SAFETY: `new` names every option list of the rule set before
    // any field asks for one.
    #[allow(clippy::expect_used)]
    fn enum_name(&self, options: &[String]) -> &str {
        &self
            .enums
            .iter()
            .find(|(o, _)| o == options)
            .expect("every option list is named")
            .1
    }

    fn field(&mut self, f: &Field) -> Value {
        let mut s = match &f.kind {
            Kind::Bool => json!({"type": nullable("boolean")}),
            Kind::Int { min, max } => {
                json!({"type": nullable("integer"), "minimum": min, "maximum": max})
            }
            Kind::Num { min, max } => {
                json!({"type": nullable("number"), "minimum": min, "maximum": max})
            }
            Kind::Text { max_len } => json!({"type": nullable("string"), "maxLength": max_len}),
            Kind::Choice(options) => {
                json!({"anyOf": [reference(self.enum_name(options)), {"type": "null"}]})
            }
            Kind::Multi(options) => json!({
                "type": nullable("array"), "uniqueItems": true,
                "items": reference(self.enum_name(options))
            }),
            Kind::List { min, max, fields } => {
                let name = format!("{}Entry", type_name(&f.id));
                let entry = object(
                    fields
                        .iter()
                        .map(|sub| (sub.id.clone(), self.field(sub)))
                        .collect::<Vec<_>>()
                        .into_iter(),
                );
                self.components.insert(name.clone(), entry);
                json!({"type": nullable("array"), "minItems": min, "maxItems": max, "items": reference(&name)})
            }
        };
        s["description"] = json!(f.question);
        s
    }
}

fn object(props: impl Iterator<Item = (String, Value)>) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props.collect::<Map<_, _>>()})
}

/// The answers' components: `Answers` (nested by group, every answer
/// optional and nullable, no other property allowed) and the named types it
/// refers to.
pub fn answer_components(rules: &RuleSet) -> Map<String, Value> {
    let mut types = AnswerTypes::new(rules);
    let mut groups: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut top = Map::new();
    for (_, f) in rules.fields.iter() {
        let schema = types.field(f);
        match f.id.split_once('.') {
            Some((group, name)) => match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, props)) => {
                    props.insert(name.into(), schema);
                }
                None => {
                    let mut props = Map::new();
                    props.insert(name.into(), schema);
                    groups.push((group.to_string(), props));
                    top.insert(group.to_string(), Value::Null);
                }
            },
            None => {
                top.insert(f.id.clone(), schema);
            }
        }
    }
    for (group, props) in groups {
        let name = format!("{}Answers", type_name(&group));
        types
            .components
            .insert(name.clone(), object(props.into_iter()));
        top.insert(
            group,
            json!({"anyOf": [reference(&name), {"type": "null"}]}),
        );
    }
    let mut answers = object(top.into_iter());
    answers["description"] = json!(format!(
        "Answers to questionnaire {} version {}. Every answer is optional: absent or null means unknown, never no.",
        rules.questionnaire.id, rules.questionnaire.version
    ));
    types.components.insert("Answers".into(), answers);
    types.components
}

/// JSON Schema of the answers (the top level; its parts are components).
// PANIC SAFETY: `answer_components` always makes `Answers`, a JSON Schema
// object that utoipa reads (the committed-document test reads it).
#[allow(clippy::expect_used)]
pub fn answers_schema(rules: &RuleSet) -> RefOr<Schema> {
    let answers = answer_components(rules)
        .remove("Answers")
        .expect("made above");
    serde_json::from_value(answers).expect("a valid JSON schema object")
}
