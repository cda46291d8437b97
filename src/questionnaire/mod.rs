//! The questionnaire as data: what is asked, in which order, with which answer
//! types. It is also the schema answers are parsed against (`answers`) and
//! that rules are checked against (`crate::rules`).
//!
//! This module holds the document as written and served; `check` reads it
//! into the catalogue of `fields`, which `answers` (and `body`, straight
//! from a request's bytes) parse answers against.

pub mod answers;
pub mod body;
mod check;
mod fields;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::condition::Condition;

pub use answers::{AnswerValue, Answers, FieldError};
pub use fields::{Field, Fields, Kind};

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
