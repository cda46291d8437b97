//! The published contract of a rule set (`contract.yaml`): the criterion
//! codes clinics integrate against, the effect of each, whether its answers
//! are required, and the questions its rule may read. Data, read with the
//! rest of the rule set and checked against its rules at every load, whatever
//! the version: a new version brings its own contract.

use serde::Deserialize;

use super::yaml::RuleDoc;
use super::{Effect, FILES};
use crate::problem_list::{Problem, Problems};
use crate::questionnaire::Fields;

pub const FILE: &str = FILES[4];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractFile {
    pub title: String,
    pub questionnaire_version: String,
    /// Prose of the generated CONTRACT.md that no other file holds.
    pub introduction: String,
    pub procedure: String,
    pub answers: String,
    pub combination: Vec<String>,
    pub evidence: Vec<String>,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub code: String,
    pub effect: Effect,
    pub required: bool,
    /// The questions the criterion's rule may read (top-level ids).
    pub reads: Vec<String>,
}

impl ContractFile {
    /// Checks the rules as written against the contract: one rule per
    /// criterion, with its effect and `required`, reading only its questions;
    /// no rule outside the contract.
    pub(super) fn check(
        &self,
        questionnaire_version: &str,
        fields: &Fields,
        rules: &[RuleDoc],
        problems: &mut Problems,
    ) {
        if self.questionnaire_version != questionnaire_version {
            problems.push(Problem::in_file(
                FILE,
                format!(
                    "questionnaire_version `{}` does not match questionnaire.yaml's version `{questionnaire_version}`",
                    self.questionnaire_version
                ),
            ));
        }
        for (n, c) in self.criteria.iter().enumerate() {
            let at = format!("criterion {}", c.code);
            if self.criteria[..n].iter().any(|x| x.code == c.code) {
                problems.push(Problem::at(FILE, at.clone(), "listed twice"));
            }
            for id in &c.reads {
                if fields.find(id).is_none() {
                    problems.push(Problem::at_path(
                        FILE,
                        &at,
                        "reads",
                        format!("`{id}` is not a question of questionnaire.yaml"),
                    ));
                }
            }
            match rules.iter().find(|r| r.code == c.code) {
                None => problems.push(Problem::in_file(
                    FILES[1],
                    format!("criterion {} of the contract has no rule", c.code),
                )),
                Some(rule) if rule.effect != c.effect || rule.required != c.required => problems
                    .push(Problem::at(
                        FILES[1],
                        format!("rule {}", c.code),
                        format!(
                            "the contract makes this criterion {:?}{}",
                            c.effect,
                            if c.required {
                                " and required"
                            } else {
                                ", not required"
                            }
                        ),
                    )),
                Some(_) => {}
            }
        }
        for rule in rules {
            if !self.criteria.iter().any(|c| c.code == rule.code) {
                problems.push(Problem::at(
                    FILES[1],
                    format!("rule {}", rule.code),
                    format!("not a criterion of the contract: add it to {FILE}"),
                ));
            }
        }
    }

    /// A problem for each question a compiled rule reads outside its
    /// criterion's `reads`.
    pub(super) fn check_reads(&self, code: &str, reads: &[&str], problems: &mut Problems) {
        let Some(c) = self.criteria.iter().find(|c| c.code == code) else {
            return;
        };
        for id in reads {
            if !c.reads.iter().any(|r| r == id) {
                problems.push(Problem::at_path(
                    FILES[1],
                    &format!("rule {code}"),
                    "when",
                    format!(
                        "reads `{id}`, which the contract does not give this criterion (its questions: {}); add it to the criterion's `reads` in {FILE}",
                        c.reads.join(", ")
                    ),
                ));
            }
        }
    }
}
