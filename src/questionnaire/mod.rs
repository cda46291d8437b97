//! The questionnaire as data: what is asked, in which order, with which answer
//! types. It is also the schema answers are parsed against (`answers`) and
//! that rules are checked against (`crate::rules`).

pub mod answers;
pub mod body;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::condition::Condition;
use crate::problem_list::{Problem, Problems};

pub use answers::{AnswerValue, Answers, FieldError};

/// The questionnaire document, as written in `questionnaire.yaml` and served
/// by `GET /v1/questionnaire` (with `required` filled in from the rules).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    /// Stable identifier of the questionnaire.
    #[schema(example = "facet-screen-intake")]
    pub id: String,
    /// Version of the questionnaire; answer ids never change meaning within it.
    #[schema(example = "1")]
    pub version: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Named option lists, for YAML anchors in the file; not served.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub choices: BTreeMap<String, Vec<ChoiceOption>>,
    /// Sections in the order a form asks them.
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `alert` marks a section a form must make prominent (red flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emphasis: Option<Emphasis>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Emphasis {
    Alert,
}

/// The kind of answer an item takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerType {
    /// `true` or `false`.
    Boolean,
    /// A whole number within `min` and `max`.
    Integer,
    /// A number within `min` and `max`.
    Number,
    /// Printable text of at most `max_length` characters.
    Text,
    /// One of `options`.
    Choice,
    /// Any number of `options`, as an array (empty: none).
    MultiChoice,
    /// A list of items, each answering `fields`.
    List,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// One question.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The answer id: `section.name`, answered as `{"section": {"name": ...}}`.
    #[schema(example = "pain.duration_months")]
    pub id: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub answer_type: AnswerType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub min: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub max: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<ChoiceOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// For lists: what one entry is called ("Injection").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_label: Option<String>,
    /// For lists: the questions each entry answers (ids relative to the entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub fields: Option<Vec<Item>>,
    /// Ask the item only when this condition is not false (same condition
    /// language as the rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub show_when: Option<Condition>,
    /// Whether the answer is needed before a suggestion can be given: derived
    /// from the rules (a file that sets it is refused).
    #[serde(default)]
    #[schema(required = true)]
    pub required: bool,
}

/// What an answer may be, once the questionnaire is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Num {
        min: f64,
        max: f64,
    },
    Text {
        max_len: usize,
    },
    Choice(Vec<String>),
    Multi(Vec<String>),
    List {
        min: usize,
        max: usize,
        fields: Vec<Field>,
    },
}

impl Kind {
    /// The answer type's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Int { .. } => "integer",
            Kind::Num { .. } => "number",
            Kind::Text { .. } => "text",
            Kind::Choice(_) => "choice",
            Kind::Multi(_) => "multiple choice",
            Kind::List { .. } => "list",
        }
    }
}

/// One answerable field: a top-level item, or a field of a list's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub question: String,
    pub kind: Kind,
}

/// The checked catalogue of fields, indexed by id.
#[derive(Debug, Clone)]
pub struct Fields {
    fields: Vec<Field>,
    index: HashMap<String, usize>,
    /// JSON groups (`pain`) and the fields in each, in questionnaire order.
    groups: Vec<(String, Vec<(String, usize)>)>,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, i: usize) -> &Field {
        &self.fields[i]
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Field)> {
        self.fields.iter().enumerate()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.id.as_str())
    }

    /// The JSON groups' names, in questionnaire order.
    pub(crate) fn groups(&self) -> impl Iterator<Item = (&str, &[(String, usize)])> {
        self.groups.iter().map(|(g, m)| (g.as_str(), m.as_slice()))
    }

    pub(crate) fn group(&self, name: &str) -> Option<&[(String, usize)]> {
        self.groups
            .iter()
            .find(|(g, _)| g == name)
            .map(|(_, v)| v.as_slice())
    }
}

impl Questionnaire {
    /// Reads and checks `questionnaire.yaml`, returning the document and its
    /// field catalogue, or every problem found.
    pub fn parse(file: &str, text: &str) -> Result<(Questionnaire, Fields), Problems> {
        let doc: Questionnaire =
            serde_norway::from_str(text).map_err(|e| Problems::one(Problem::syntax(file, &e)))?;
        let fields = doc.check(file)?;
        Ok((doc, fields))
    }

    fn check(&self, file: &str) -> Result<Fields, Problems> {
        let mut problems = Problems::default();
        let mut fields = Vec::new();
        let mut index = HashMap::new();
        let mut groups: Vec<(String, Vec<(String, usize)>)> = Vec::new();
        let mut section_ids = Vec::new();
        for section in &self.sections {
            if section_ids.contains(&section.id) {
                problems.push(Problem::at(
                    file,
                    format!("section {}", section.id),
                    "duplicate section id",
                ));
            }
            section_ids.push(section.id.clone());
            for item in &section.items {
                let at = format!("item {}", item.id);
                let Some(field) = check_item(file, &at, item, true, &mut problems) else {
                    continue;
                };
                if index.contains_key(&field.id) {
                    problems.push(Problem::at(file, at, "duplicate item id"));
                    continue;
                }
                let (group, name) = match field.id.split_once('.') {
                    Some((g, n)) => (g.to_string(), n.to_string()),
                    None => (field.id.clone(), String::new()),
                };
                let slot = fields.len();
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, members)) => {
                        if name.is_empty() || members.iter().any(|(n, _)| n.is_empty()) {
                            problems.push(Problem::at(
                                file,
                                at,
                                format!("`{group}` is both a question and a group of questions"),
                            ));
                            continue;
                        }
                        members.push((name, slot));
                    }
                    None => groups.push((group, vec![(name, slot)])),
                }
                index.insert(field.id.clone(), slot);
                fields.push(field);
            }
        }
        problems.into_result(Fields {
            fields,
            index,
            groups,
        })
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_item(
    file: &str,
    at: &str,
    item: &Item,
    top_level: bool,
    problems: &mut Problems,
) -> Option<Field> {
    let before = problems.len();
    let mut bad = |path: &str, msg: String| problems.push(Problem::at_path(file, at, path, msg));
    let parts: Vec<&str> = item.id.split('.').collect();
    let id_ok = match (top_level, parts.as_slice()) {
        (true, [g, n]) => is_name(g) && is_name(n),
        (true, [n]) => is_name(n) && item.answer_type == AnswerType::List,
        (false, [n]) => is_name(n),
        _ => false,
    };
    if !id_ok {
        bad(
            "id",
            if top_level {
                "an item id is `group.name` in lower_snake_case (a bare `name` only for a list)"
                    .into()
            } else {
                "a list field id is one lower_snake_case name".into()
            },
        );
    }
    if item.question.trim().is_empty() {
        bad("question", "must not be empty".into());
    }
    if item.required {
        bad(
            "required",
            "is derived from the rules (a question a `required` rule reads): remove it".into(),
        );
    }
    let t = item.answer_type;
    let allowed = |key: &str| -> bool {
        match key {
            "min" | "max" => matches!(t, AnswerType::Integer | AnswerType::Number),
            "max_length" => t == AnswerType::Text,
            "options" => matches!(t, AnswerType::Choice | AnswerType::MultiChoice),
            "min_items" | "max_items" | "item_label" | "fields" => t == AnswerType::List,
            _ => true,
        }
    };
    let present = [
        ("min", item.min.is_some()),
        ("max", item.max.is_some()),
        ("max_length", item.max_length.is_some()),
        ("options", item.options.is_some()),
        ("min_items", item.min_items.is_some()),
        ("max_items", item.max_items.is_some()),
        ("item_label", item.item_label.is_some()),
        ("fields", item.fields.is_some()),
    ];
    for (key, is_there) in present {
        if is_there && !allowed(key) {
            bad(key, format!("does not apply to a {t:?} item"));
        }
    }
    if !top_level && item.show_when.is_some() {
        bad("show_when", "list fields cannot have show_when".into());
    }
    let kind = match t {
        AnswerType::Boolean => Some(Kind::Bool),
        AnswerType::Integer => match (
            item.min.as_ref().and_then(|n| n.as_i64()),
            item.max.as_ref().and_then(|n| n.as_i64()),
        ) {
            (Some(min), Some(max)) if min <= max => Some(Kind::Int { min, max }),
            (Some(_), Some(_)) => {
                bad("min", "must not be above max".into());
                None
            }
            _ => {
                bad(
                    "min",
                    "an integer item needs whole-number min and max".into(),
                );
                None
            }
        },
        AnswerType::Number => match (
            item.min.as_ref().and_then(|n| n.as_f64()),
            item.max.as_ref().and_then(|n| n.as_f64()),
        ) {
            (Some(min), Some(max)) if min <= max => Some(Kind::Num { min, max }),
            (Some(_), Some(_)) => {
                bad("min", "must not be above max".into());
                None
            }
            _ => {
                bad("min", "a number item needs min and max".into());
                None
            }
        },
        AnswerType::Text => match item.max_length {
            Some(n) if n > 0 => Some(Kind::Text { max_len: n }),
            _ => {
                bad(
                    "max_length",
                    "a text item needs a positive max_length".into(),
                );
                None
            }
        },
        AnswerType::Choice | AnswerType::MultiChoice => {
            let values: Vec<String> = item
                .options
                .iter()
                .flatten()
                .map(|o| o.value.clone())
                .collect();
            let mut seen = std::collections::HashSet::new();
            if values.is_empty() {
                bad("options", "needs at least one option".into());
                None
            } else if let Some(d) = values.iter().find(|v| !seen.insert(v.as_str())) {
                bad("options", format!("duplicate option value `{d}`"));
                None
            } else if let Some(v) = values.iter().find(|v| !is_name(v)) {
                bad(
                    "options",
                    format!("option value `{v}` is not lower_snake_case"),
                );
                None
            } else if t == AnswerType::Choice {
                Some(Kind::Choice(values))
            } else {
                Some(Kind::Multi(values))
            }
        }
        AnswerType::List => {
            let min = item.min_items.unwrap_or(0);
            let max = item.max_items.unwrap_or(0);
            if max == 0 || min > max {
                bad(
                    "max_items",
                    "a list needs max_items of at least 1 and at least min_items".into(),
                );
            }
            let Some(sub) = item.fields.as_ref().filter(|f| !f.is_empty()) else {
                bad("fields", "a list needs fields".into());
                return None;
            };
            let mut fields: Vec<Field> = Vec::new();
            for s in sub {
                if s.answer_type == AnswerType::List {
                    problems.push(Problem::at_path(
                        file,
                        at,
                        &format!("fields.{}", s.id),
                        "lists cannot be nested",
                    ));
                    continue;
                }
                let sub_at = format!("{at} field {}", s.id);
                if let Some(f) = check_item(file, &sub_at, s, false, problems) {
                    if fields.iter().any(|x| x.id == f.id) {
                        problems.push(Problem::at(file, sub_at, "duplicate field id"));
                    } else {
                        fields.push(f);
                    }
                }
            }
            Some(Kind::List { min, max, fields })
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(Field {
        id: item.id.clone(),
        question: item.question.clone(),
        kind: kind?,
    })
}

impl Questionnaire {
    /// Marks the items that a required rule reads (and, for a list, its
    /// fields).
    pub fn mark_required(&mut self, required: impl Fn(&str) -> bool) {
        for item in self.sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
            item.required = required(&item.id);
            let list_required = item.required;
            for f in item.fields.iter_mut().flatten() {
                f.required = list_required;
            }
        }
    }

    /// The item with this id, for its question text.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter())
            .find(|i| i.id == id)
    }
}
