//! Checking questionnaire.yaml: ids, answer types and their ranges and
//! options, into the catalogue of fields that answers are parsed against.

use std::collections::HashMap;

use super::{AnswerType, Field, Fields, Item, Kind, Questionnaire};
use crate::problem_list::{Problem, Problems};

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
