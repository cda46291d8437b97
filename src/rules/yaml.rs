//! The rule set's files as written: the YAML documents serde reads, before
//! anything in them is checked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Effect, Notes, Outcome};
use crate::condition::Condition;
use crate::problem_list::{Problem, Problems};

/// A YAML file of the rule set, or its syntax error.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, Problems> {
    serde_norway::from_str(text).map_err(|e| Problems::one(Problem::syntax(file, &e)))
}

/// A published source a rule cites.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// rules.yaml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    pub(super) version: String,
    pub(super) questionnaire_version: String,
    pub(super) sources: BTreeMap<String, Source>,
    pub(super) rules: Vec<RuleDoc>,
}

/// One rule of rules.yaml, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) effect: Effect,
    #[serde(default)]
    pub(super) required: bool,
    pub(super) when: Condition,
    pub(super) message: String,
    #[serde(default)]
    pub(super) next_step: Option<String>,
    pub(super) sources: Vec<String>,
}

/// parameters.yaml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParametersFile {
    pub(super) default_profile: String,
    pub(super) parameters: BTreeMap<String, ParameterDoc>,
    pub(super) profiles: BTreeMap<String, ProfileDoc>,
}

/// A parameter as declared: for its authors and CONTRACT.md.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParameterDoc {
    pub(super) unit: String,
    pub(super) description: String,
}

/// A profile: its title and a value for each parameter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileDoc {
    pub(super) title: String,
    pub(super) values: BTreeMap<String, f64>,
}

/// outcomes.yaml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutcomesFile {
    pub(super) disclaimer: String,
    pub(super) outcomes: Vec<OutcomeDoc>,
    pub(super) notes: Notes,
}

/// What an outcome says, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutcomeDoc {
    pub(super) code: Outcome,
    pub(super) label: String,
    pub(super) summary: String,
    #[serde(default)]
    pub(super) next_step: Option<String>,
}
