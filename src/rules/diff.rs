//! `rules diff OLD NEW`: what a draft rule set changes, for its author and
//! its reviewer: criteria added, removed or changed (and in what), the
//! parameters changed per profile, the questions added or removed, and the
//! outcomes' precedence.
//! It reads the files as written; `rules check` says whether they load.

use std::collections::BTreeMap;

use serde::Serialize;

use super::yaml::{OutcomesFile, ParametersFile, RuleDoc, RulesFile, parse};
use super::{FILES, Outcome, RuleFiles};
use crate::problem_list::Problems;
use crate::questionnaire::{AnswerType, Questionnaire};

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct RuleDiff {
    /// `CODE (effect)`.
    pub criteria_added: Vec<String>,
    pub criteria_removed: Vec<String>,
    pub criteria_changed: Vec<CriterionChange>,
    pub parameters_changed: Vec<ParameterChange>,
    pub questions_added: Vec<String>,
    pub questions_removed: Vec<String>,
    /// The outcomes' precedence (outcomes.yaml), when it changed.
    pub precedence: Option<PrecedenceChange>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PrecedenceChange {
    pub from: Vec<Outcome>,
    pub to: Vec<Outcome>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CriterionChange {
    pub code: String,
    /// What changed: title, effect, required, when, message, next_step, sources.
    pub changed: Vec<&'static str>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ParameterChange {
    pub profile: String,
    pub parameter: String,
    /// Null where the profile or the parameter is new or gone.
    pub from: Option<f64>,
    pub to: Option<f64>,
}

struct Side {
    rules: RulesFile,
    parameters: ParametersFile,
    questions: Vec<String>,
    precedence: Vec<Outcome>,
}

fn read(files: &RuleFiles) -> Result<Side, Problems> {
    let [q_text, r_text, p_text, o_text, _] = &files.texts;
    let (questionnaire, _) = Questionnaire::parse(FILES[0], q_text)?;
    let mut questions = Vec::new();
    for item in questionnaire.sections.iter().flat_map(|s| &s.items) {
        questions.push(item.id.clone());
        if item.answer_type == AnswerType::List {
            for f in item.fields.iter().flatten() {
                questions.push(format!("{}[].{}", item.id, f.id));
            }
        }
    }
    Ok(Side {
        rules: parse(FILES[1], r_text)?,
        parameters: parse(FILES[2], p_text)?,
        questions,
        precedence: parse::<OutcomesFile>(FILES[3], o_text)?
            .outcomes
            .iter()
            .map(|t| t.code)
            .collect(),
    })
}

fn changes(a: &RuleDoc, b: &RuleDoc) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, differs) in [
        ("title", a.title != b.title),
        ("effect", a.effect != b.effect),
        ("required", a.required != b.required),
        ("when", a.when != b.when),
        ("message", a.message.trim() != b.message.trim()),
        ("next_step", a.next_step != b.next_step),
        ("sources", a.sources != b.sources),
    ] {
        if differs {
            out.push(name);
        }
    }
    out
}

/// What `new` changes from `old`.
pub fn diff(old: &RuleFiles, new: &RuleFiles) -> Result<RuleDiff, Problems> {
    let (old, new) = (read(old)?, read(new)?);
    let mut d = RuleDiff::default();
    let effect = |r: &RuleDoc| format!("{} ({})", r.code, format!("{:?}", r.effect).to_lowercase());
    for r in &new.rules.rules {
        match old.rules.rules.iter().find(|o| o.code == r.code) {
            None => d.criteria_added.push(effect(r)),
            Some(o) => {
                let changed = changes(o, r);
                if !changed.is_empty() {
                    d.criteria_changed.push(CriterionChange {
                        code: r.code.clone(),
                        changed,
                    });
                }
            }
        }
    }
    for o in &old.rules.rules {
        if !new.rules.rules.iter().any(|r| r.code == o.code) {
            d.criteria_removed.push(effect(o));
        }
    }
    let values = |p: &ParametersFile| -> BTreeMap<(String, String), f64> {
        p.profiles
            .iter()
            .flat_map(|(profile, doc)| {
                doc.values
                    .iter()
                    .map(move |(k, v)| ((profile.clone(), k.clone()), *v))
            })
            .collect()
    };
    let (before, after) = (values(&old.parameters), values(&new.parameters));
    let keys: std::collections::BTreeSet<_> = before.keys().chain(after.keys()).cloned().collect();
    for key in keys {
        let (from, to) = (before.get(&key).copied(), after.get(&key).copied());
        if from != to {
            d.parameters_changed.push(ParameterChange {
                profile: key.0,
                parameter: key.1,
                from,
                to,
            });
        }
    }
    d.questions_added = new
        .questions
        .iter()
        .filter(|q| !old.questions.contains(q))
        .cloned()
        .collect();
    d.questions_removed = old
        .questions
        .iter()
        .filter(|q| !new.questions.contains(q))
        .cloned()
        .collect();
    if old.precedence != new.precedence {
        d.precedence = Some(PrecedenceChange {
            from: old.precedence,
            to: new.precedence,
        });
    }
    Ok(d)
}

impl std::fmt::Display for RuleDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let number = |v: Option<f64>| v.map_or("(none)".to_string(), |v| v.to_string());
        let list =
            |f: &mut std::fmt::Formatter<'_>, title: &str, items: &[String]| -> std::fmt::Result {
                if !items.is_empty() {
                    writeln!(f, "{title}: {}", items.join(", "))?;
                }
                Ok(())
            };
        list(f, "criteria added", &self.criteria_added)?;
        list(f, "criteria removed", &self.criteria_removed)?;
        for c in &self.criteria_changed {
            writeln!(
                f,
                "criterion changed: {} ({})",
                c.code,
                c.changed.join(", ")
            )?;
        }
        for p in &self.parameters_changed {
            writeln!(
                f,
                "parameter changed: {}.{}: {} -> {}",
                p.profile,
                p.parameter,
                number(p.from),
                number(p.to)
            )?;
        }
        list(f, "questions added", &self.questions_added)?;
        list(f, "questions removed", &self.questions_removed)?;
        if let Some(p) = &self.precedence {
            let names =
                |o: &[Outcome]| o.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" > ");
            writeln!(
                f,
                "precedence changed: {} -> {}",
                names(&p.from),
                names(&p.to)
            )?;
        }
        if *self == RuleDiff::default() {
            writeln!(
                f,
                "no change to criteria, parameters, questions or precedence"
            )?;
        }
        Ok(())
    }
}
