//! A loaded rule set for one profile: what it holds, and what evaluations
//! ask of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compile::Cond;
use super::contract::ContractFile;
use super::text::{self, Text};
use super::{Notes, Outcome, OutcomeText, Rule, Source};
use crate::questionnaire::{Fields, Kind, Questionnaire};

/// Which rules produced an evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RulesetRef {
    #[schema(value_type = String, example = "1.0.0")]
    pub version: Text,
    /// SHA-256 of the rule set's files.
    #[schema(value_type = String, example = "sha256:4f1c…")]
    pub digest: Text,
    #[schema(value_type = String, example = "cms_lcd")]
    pub profile: Text,
}

/// A loaded, checked and compiled rule set for one profile.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The questionnaire as served (with `required` filled in).
    pub questionnaire: Questionnaire,
    pub fields: Fields,
    /// When each field is asked (`show_when`), compiled; `None`: always.
    pub visibility: Vec<Option<Cond>>,
    pub rules: Vec<Rule>,
    pub sources: BTreeMap<String, Source>,
    /// The outcome texts in precedence order, highest first, as written in
    /// outcomes.yaml: the evaluation takes the first that applies.
    pub outcomes: Vec<OutcomeText>,
    pub notes: Notes,
    pub contract: ContractFile,
    pub disclaimer: String,
    pub version: String,
    pub digest: String,
    pub profile: String,
    pub profiles: Vec<String>,
    /// Per field: read by a required rule.
    pub required: Vec<bool>,
    /// Per field: the codes of the rules that read it.
    pub read_by: Vec<Vec<String>>,
    /// The texts above that evaluations carry, shared and escaped once.
    pub words: text::Words,
}

impl RuleSet {
    /// Which rules these are: version, content digest and profile.
    pub fn reference(&self) -> RulesetRef {
        self.words.reference.clone()
    }

    /// The outcomes, highest precedence first (outcomes.yaml's order).
    pub fn precedence(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.outcomes.iter().map(|t| t.code)
    }

    /// Where `outcome` stands in this rule set's precedence: 0 is highest.
    pub fn rank(&self, outcome: Outcome) -> usize {
        self.precedence()
            .position(|o| o == outcome)
            .expect("load checks that every outcome is listed")
    }

    pub fn outcome_text(&self, outcome: Outcome) -> &OutcomeText {
        &self.outcomes[self.outcome_index(outcome)]
    }

    /// The outcome's label, shared.
    pub fn outcome_label(&self, outcome: Outcome) -> text::Text {
        self.words.labels[self.outcome_index(outcome)].clone()
    }

    /// The outcome's summary as written, shared: for an evaluation whose
    /// summary says nothing more (no placeholder filled, no note added).
    pub fn outcome_summary(&self, outcome: Outcome) -> Text {
        self.words.summaries[self.outcome_index(outcome)].clone()
    }

    fn outcome_index(&self, outcome: Outcome) -> usize {
        self.outcomes
            .iter()
            .position(|t| t.code == outcome)
            .expect("load checks that every outcome has a text")
    }

    /// The list's entry fields, when field `i` is a list.
    pub fn entry_fields(&self, i: usize) -> Option<&[crate::questionnaire::Field]> {
        match &self.fields.get(i).kind {
            Kind::List { fields, .. } => Some(fields),
            _ => None,
        }
    }
}
