//! A criterion's rule: what it does when its condition is true, and its
//! checking and compilation from rules.yaml.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FILES;
use super::compile::{Cond, Scope};
use super::template::{COUNTS, fill_params};
use super::text::Text;
use super::yaml::RulesFile;
use crate::condition::Condition;
use crate::problem_list::{Problem, Problems};

/// What a rule does when its condition is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// A red flag: urgent evaluation, whatever else is true.
    Urgent,
    /// The pain is probably not from the facet joints, or the procedure does not fit.
    Exclude,
    /// Not met yet; can change with time or treatment.
    Defer,
    /// Something must be done or answered before a suggestion (e.g. imaging).
    Require,
    /// Not enough positive diagnostic blocks yet.
    Block,
    /// Listed with every outcome; never changes it.
    Caution,
    /// A supporting finding; listed, never decisive.
    Supports,
}

/// A checked rule. Its words are shared texts, with the profile's numbers
/// filled in: findings carry them as they are (`counts` aside).
#[derive(Debug, Clone)]
pub struct Rule {
    pub code: Text,
    pub title: Text,
    pub effect: Effect,
    pub required: bool,
    pub message: Text,
    pub next_step: Option<Text>,
    /// The sources it cites, in the rule's order.
    pub sources: Vec<Citation>,
    /// The condition as written, for CONTRACT.md.
    pub when: Condition,
    pub cond: Cond,
    /// Top-level fields the condition reads.
    pub reads: Vec<usize>,
    /// Its words use `{matched}` or `{listed}`.
    pub counts: bool,
}

// A published source a finding cites, as evaluations carry it (a plain
// comment: a doc comment would become the schema's description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    #[schema(value_type = String)]
    pub id: Text,
    #[schema(value_type = String)]
    pub citation: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Text>,
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The rules of rules.yaml, checked and compiled against `scope`; a rule
/// whose condition does not compile is left out (its problems reported).
pub(super) fn compile_rules(r: &RulesFile, scope: &Scope, problems: &mut Problems) -> Vec<Rule> {
    let file = FILES[1];
    let mut rules: Vec<Rule> = Vec::new();
    for doc in &r.rules {
        let at = format!("rule {}", doc.code);
        let mut bad =
            |path: &str, msg: String| problems.push(Problem::at_path(file, &at, path, msg));
        if !is_code(&doc.code) {
            bad("code", "a criterion code is UPPER_SNAKE_CASE".into());
        }
        if r.rules
            .iter()
            .take_while(|x| !std::ptr::eq(*x, doc))
            .any(|x| x.code == doc.code)
        {
            bad("code", "duplicate criterion code".into());
        }
        if doc.title.trim().is_empty() || doc.message.trim().is_empty() {
            bad("message", "title and message must not be empty".into());
        }
        if doc.sources.is_empty() {
            bad("sources", "cite at least one source".into());
        }
        for s in &doc.sources {
            if !r.sources.contains_key(s) {
                bad(
                    "sources",
                    format!("unknown source `{s}`: declare it under `sources`"),
                );
            }
        }
        match doc.effect {
            Effect::Caution | Effect::Supports if doc.required => bad(
                "required",
                format!("a {:?} rule never needs its answers", doc.effect).to_lowercase(),
            ),
            Effect::Urgent if !doc.required => bad(
                "required",
                "red flags are mandatory: an urgent rule must be `required: true`".into(),
            ),
            Effect::Supports => {}
            _ if doc.next_step.is_none() => {
                bad("next_step", "this effect needs a next step".into())
            }
            _ => {}
        }
        let mut found = Vec::new();
        let cond = scope.compile(&doc.when, "when", &mut found);
        for (path, msg) in found {
            problems.push(Problem::at_path(file, &at, &path, msg));
        }
        // The profile's numbers in the words: `{min_pain_months}`.
        let mut words = |path: &str, text: &str| match fill_params(text, scope.params) {
            Ok(filled) => filled,
            Err(unknown) => {
                problems.push(Problem::at_path(
                    file,
                    &at,
                    path,
                    format!(
                        "unknown parameter `{{{unknown}}}`; the parameters are: {} (and the counts {{matched}}, {{listed}})",
                        scope.params.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
                text.to_string()
            }
        };
        let title = words("title", &doc.title);
        let message = words("message", doc.message.trim());
        let next_step = doc.next_step.as_deref().map(|s| words("next_step", s));
        let Some(cond) = cond else { continue };
        let counts = [&title, &message]
            .into_iter()
            .chain(&next_step)
            .any(|t| COUNTS.iter().any(|c| t.contains(&format!("{{{c}}}"))));
        if counts && cond.quantifiers() != 1 {
            problems.push(Problem::at_path(
                file,
                &at,
                "message",
                "{matched} and {listed} count the entries of the rule's `some` or `fewer_than`: they need a rule with exactly one",
            ));
        }
        let mut reads = Vec::new();
        cond.reads(&mut reads);
        let shared = |s: &String| Text::shared(s);
        rules.push(Rule {
            code: shared(&doc.code),
            title: shared(&title),
            effect: doc.effect,
            required: doc.required,
            message: shared(&message),
            next_step: next_step.as_ref().map(shared),
            sources: doc
                .sources
                .iter()
                .filter_map(|id| {
                    r.sources.get(id).map(|s| Citation {
                        id: shared(id),
                        citation: shared(&s.citation),
                        url: s.url.as_ref().map(shared),
                    })
                })
                .collect(),
            when: doc.when.clone(),
            cond,
            reads,
            counts,
        });
    }
    rules
}
