//! A `QuestionnaireResponse` read back into our answers, by `linkId`, item
//! by item where the Questionnaire puts it: each question inside its
//! section's group, a block's fields inside an entry of the repeating
//! `diagnostic_blocks` group, a help text where its question has it. An
//! item anywhere else (under another question's answer, inside another
//! item, in another section, at the top level) is refused with its
//! `linkId` and where it was found, never skipped: a red flag that was not
//! read would be an unknown one, and the patient told "more information
//! needed" instead of "urgent". Every problem names the `linkId`; none
//! repeats a value.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{NONE_CODE, canonical, section_link};
use crate::questionnaire::{AnswerType, FieldError, Item, Questionnaire};
use crate::rules::RuleSet;

/// One answer per question (contract v1.1 §6): a second item for the same
/// non-repeating linkId is refused, never silently preferred.
const TWICE: &str = "answered more than once: each question takes one item (one answer)";

/// What an item of the Questionnaire is.
#[derive(Clone, Copy)]
enum Role<'q> {
    Section,
    Display,
    Question(&'q Item),
    /// The repeating group: each of its items in a response is one entry.
    List(&'q Item),
    /// A question asked in each entry of a list.
    Field(&'q Item),
}

/// Where the Questionnaire puts an item: inside `parent` (a linkId), or at
/// the top level.
struct Place<'q> {
    parent: Option<String>,
    role: Role<'q>,
}

/// Every linkId of the Questionnaire (as `fhir::questionnaire` makes it)
/// with where it sits.
fn places<'q>(q: &'q Questionnaire) -> HashMap<String, Vec<Place<'q>>> {
    let mut out: HashMap<String, Vec<Place<'q>>> = HashMap::new();
    let mut put = |link: String, parent: Option<&str>, role: Role<'q>| {
        out.entry(link).or_default().push(Place {
            parent: parent.map(String::from),
            role,
        });
    };
    for s in &q.sections {
        let section = section_link(&s.id);
        put(section.clone(), None, Role::Section);
        if s.description.is_some() {
            put(format!("{}.help", s.id), Some(&section), Role::Display);
        }
        for i in &s.items {
            let role = match i.answer_type {
                AnswerType::List => Role::List(i),
                _ => Role::Question(i),
            };
            put(i.id.clone(), Some(&section), role);
            if i.help.is_some() {
                put(format!("{}.help", i.id), Some(&i.id), Role::Display);
            }
            for f in i.fields.iter().flatten() {
                let link = format!("{}[].{}", i.id, f.id);
                if f.help.is_some() {
                    put(format!("{link}.help"), Some(&link), Role::Display);
                }
                put(link, Some(&i.id), Role::Field(f));
            }
        }
    }
    out
}

/// Where an item was found.
#[derive(Clone, Copy)]
enum Found<'v> {
    Top,
    Inside(&'v str),
    UnderAnswer(&'v str),
}

impl Found<'_> {
    fn is(&self, parent: Option<&str>) -> bool {
        match (self, parent) {
            (Found::Top, None) => true,
            (Found::Inside(here), Some(p)) => *here == p,
            _ => false,
        }
    }

    fn words(&self) -> String {
        match self {
            Found::Top => "at the top level".into(),
            Found::Inside(link) => format!("inside `{link}`"),
            Found::UnderAnswer(link) => format!("under an answer to `{link}`"),
        }
    }
}

/// One entry of a list being read: its fields' answers.
#[derive(Default)]
struct Entry<'v> {
    answers: Map<String, Value>,
    seen: Vec<&'v str>,
}

struct Reader<'q, 'v> {
    places: HashMap<String, Vec<Place<'q>>>,
    answers: Map<String, Value>,
    seen: Vec<&'v str>,
    errors: Vec<FieldError>,
}

impl<'q, 'v> Reader<'q, 'v> {
    fn error(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: field.into(),
            message,
        });
    }

    /// The items of `node`, found at `found`: each read if it is where the
    /// Questionnaire puts it, refused otherwise. `path` is where `node` is
    /// in the response (FHIRPath), for the messages.
    fn items(
        &mut self,
        node: &'v Value,
        path: &str,
        found: Found<'v>,
        owner: &str,
        mut entry: Option<&mut Entry<'v>>,
    ) {
        let items = match node.get("item") {
            None => return,
            Some(Value::Array(items)) => items,
            Some(_) => {
                return self.error(owner, format!("{path}.item must be an array of items"));
            }
        };
        for (n, child) in items.iter().enumerate() {
            let here = format!("{path}.item[{n}]");
            let Some(link) = child.get("linkId").and_then(Value::as_str) else {
                self.error(&here, "an item without a linkId".into());
                continue;
            };
            let Some(candidates) = self.places.get(link) else {
                self.error(
                    link,
                    format!(
                        "unknown linkId in this questionnaire (found {}, at {here})",
                        found.words()
                    ),
                );
                continue;
            };
            let Some(role) = candidates
                .iter()
                .find(|p| found.is(p.parent.as_deref()))
                .map(|p| p.role)
            else {
                let belongs: Vec<String> = candidates
                    .iter()
                    .map(|p| match &p.parent {
                        None => "at the top level".to_string(),
                        Some(parent) => format!("inside `{parent}`"),
                    })
                    .collect();
                self.error(
                    link,
                    format!(
                        "not where the questionnaire puts it: found {} (at {here}); it belongs {}",
                        found.words(),
                        belongs.join(" or ")
                    ),
                );
                continue;
            };
            self.read(role, link, child, &here, entry.as_deref_mut());
        }
    }

    /// One item, found where the Questionnaire puts it.
    fn read(
        &mut self,
        role: Role<'q>,
        link: &'v str,
        node: &'v Value,
        here: &str,
        entry: Option<&mut Entry<'v>>,
    ) {
        match role {
            Role::Section | Role::Display => {
                self.no_answer(link, node, here);
                self.items(node, here, Found::Inside(link), link, None);
            }
            Role::List(item) => {
                self.no_answer(link, node, here);
                let mut fields = Entry::default();
                self.items(node, here, Found::Inside(link), link, Some(&mut fields));
                let list = self
                    .answers
                    .entry(item.id.clone())
                    .or_insert_with(|| json!([]));
                // An entry with no field answered is still an entry; a list
                // item with no entry at all says "none done yet".
                if !fields.answers.is_empty()
                    || node["item"].as_array().is_some_and(|a| !a.is_empty())
                {
                    if let Value::Array(entries) = list {
                        entries.push(Value::Object(fields.answers));
                    } else {
                        // Only a list's entries are kept under its id:
                        // question ids are unique in a checked questionnaire.
                        self.error(link, TWICE.into());
                    }
                }
            }
            Role::Question(item) => {
                if self.seen.contains(&link) {
                    return self.error(link, TWICE.into());
                }
                self.seen.push(link);
                if let Some(v) = value(item, node, link, here, &mut self.errors) {
                    let (group, name) = link.split_once('.').unwrap_or((link, ""));
                    let g = self
                        .answers
                        .entry(group.to_string())
                        .or_insert_with(|| json!({}));
                    g[name] = v;
                }
                self.nested(link, node, here);
            }
            Role::Field(field) => {
                let Some(entry) = entry else {
                    // A field's place is inside its list, read as an entry.
                    return self.error(
                        link,
                        format!("a block's field outside an entry (at {here})"),
                    );
                };
                if entry.seen.contains(&link) {
                    return self.error(link, TWICE.into());
                }
                entry.seen.push(link);
                if let Some(v) = value(field, node, link, here, &mut self.errors) {
                    entry.answers.insert(field.id.clone(), v);
                }
                self.nested(link, node, here);
            }
        }
    }

    /// What a question's item may hold besides its answer: its help text
    /// (inside it), nothing under its answers.
    fn nested(&mut self, link: &'v str, node: &'v Value, here: &str) {
        if let Some(answers) = node.get("answer").and_then(Value::as_array) {
            for (n, answer) in answers.iter().enumerate() {
                let at = format!("{here}.answer[{n}]");
                self.items(answer, &at, Found::UnderAnswer(link), link, None);
            }
        }
        self.items(node, here, Found::Inside(link), link, None);
    }

    /// A group or a display item takes no answer of its own.
    fn no_answer(&mut self, link: &str, node: &Value, here: &str) {
        if node.get("answer").is_some() {
            self.error(
                link,
                format!("a group or display item takes no answer (at {here}.answer)"),
            );
        }
    }
}

/// The answers of a `QuestionnaireResponse` to our questionnaire, as our
/// answers JSON; every problem names the `linkId`.
pub fn answers_from_response(rules: &RuleSet, response: &Value) -> Result<Value, Vec<FieldError>> {
    let err = |field: &str, message: &str| FieldError {
        field: field.into(),
        message: message.into(),
    };
    if response["resourceType"] != "QuestionnaireResponse" {
        return Err(vec![err(
            "resourceType",
            "expected a QuestionnaireResponse",
        )]);
    }
    let canonical = canonical(rules);
    let asked = response["questionnaire"].as_str().unwrap_or_default();
    let (url, version) = asked.split_once('|').unwrap_or((asked, ""));
    if url != canonical || (!version.is_empty() && version != rules.questionnaire.version) {
        return Err(vec![err(
            "questionnaire",
            &format!(
                "expected a response to {canonical}|{}",
                rules.questionnaire.version
            ),
        )]);
    }
    let mut reader = Reader {
        places: places(&rules.questionnaire),
        answers: Map::new(),
        seen: Vec::new(),
        errors: Vec::new(),
    };
    reader.items(response, "QuestionnaireResponse", Found::Top, "item", None);
    if reader.errors.is_empty() {
        Ok(Value::Object(reader.answers))
    } else {
        Err(reader.errors)
    }
}

/// One item's answer(s) as our JSON value; `None` when unanswered.
fn value(
    item: &Item,
    entry: &Value,
    link: &str,
    here: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let mut fail = |message: String| {
        errors.push(FieldError {
            field: link.into(),
            message,
        });
        None
    };
    let answers = match entry.get("answer") {
        None => return None,
        Some(Value::Array(answers)) => answers,
        Some(_) => return fail(format!("{here}.answer must be an array of answers")),
    };
    if answers.is_empty() {
        return None;
    }
    let code = |a: &Value| a["valueCoding"]["code"].as_str().map(String::from);
    match item.answer_type {
        AnswerType::MultiChoice => {
            let codes: Option<Vec<String>> = answers.iter().map(code).collect();
            match codes {
                Some(c) if c == [NONE_CODE] => Some(json!([])),
                Some(c) if !c.iter().any(|x| x == NONE_CODE) => Some(json!(c)),
                _ => fail(format!(
                    "expected valueCoding answers (or the single code `{NONE_CODE}`)"
                )),
            }
        }
        _ if answers.len() > 1 => {
            fail("several answers to a question that takes one: send a single answer".into())
        }
        AnswerType::Boolean => match answers[0]["valueBoolean"].as_bool() {
            Some(b) => Some(json!(b)),
            None => fail("expected valueBoolean".into()),
        },
        AnswerType::Integer => match answers[0].get("valueInteger") {
            Some(v @ Value::Number(_)) => Some(v.clone()),
            _ => fail("expected valueInteger".into()),
        },
        AnswerType::Number => match answers[0]
            .get("valueDecimal")
            .or(answers[0].get("valueInteger"))
        {
            Some(v @ Value::Number(_)) => Some(v.clone()),
            _ => fail("expected valueDecimal".into()),
        },
        AnswerType::Text => match answers[0]["valueString"].as_str() {
            Some(s) => Some(json!(s)),
            None => fail("expected valueString".into()),
        },
        AnswerType::Choice => match code(&answers[0]) {
            Some(c) => Some(json!(c)),
            None => fail("expected valueCoding with a code".into()),
        },
        AnswerType::List => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every linkId of the published Questionnaire, with the linkId of the
    /// item it sits in.
    fn published(items: &Value, parent: Option<&str>, out: &mut Vec<(String, Option<String>)>) {
        for i in items.as_array().into_iter().flatten() {
            let link = i["linkId"].as_str().unwrap();
            out.push((link.to_string(), parent.map(String::from)));
            published(&i["item"], Some(link), out);
        }
    }

    #[test]
    fn the_places_read_are_those_the_questionnaire_publishes() {
        let rules =
            RuleSet::load(&crate::rules::RuleFiles::embedded(), None).expect("the rules load");
        let mut expected = Vec::new();
        published(
            &Value::Array(super::super::questionnaire(&rules).item),
            None,
            &mut expected,
        );
        let mut read: Vec<(String, Option<String>)> = places(&rules.questionnaire)
            .into_iter()
            .flat_map(|(link, ps)| ps.into_iter().map(move |p| (link.clone(), p.parent)))
            .collect();
        expected.sort();
        read.sort();
        assert_eq!(read, expected);
    }
}
