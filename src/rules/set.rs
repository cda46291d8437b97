//! A loaded rule set for one profile: what it holds, and what evaluations
//! ask of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compile::Cond;
use super::contract::ContractFile;
use super::text::Text;
use super::{Notes, Outcome, OutcomeText, Rule, Source};
use crate::questionnaire::{Field, Fields, Kind, Questionnaire};

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
    /// What the rules make of each field, in the order of `fields`.
    pub per_field: Vec<FieldRules>,
    pub rules: Vec<Rule>,
    pub sources: BTreeMap<String, Source>,
    /// The outcome texts in precedence order, highest first, as written in
    /// outcomes.yaml: the evaluation takes the first that applies.
    pub outcomes: Vec<OutcomeText>,
    pub notes: Notes,
    pub contract: ContractFile,
    /// Shared, as every evaluation carries it.
    pub disclaimer: Text,
    /// The questionnaire's version, shared, as every evaluation carries it.
    pub questionnaire_version: Text,
    pub version: String,
    pub digest: String,
    pub profile: String,
    pub profiles: Vec<String>,
    /// Version, digest and profile, shared (`reference`).
    pub(super) reference: RulesetRef,
}

/// What the rule set makes of one field of the questionnaire.
#[derive(Debug, Clone)]
pub struct FieldRules {
    /// The field's id and question, shared, as findings and missing
    /// answers carry them.
    pub id: Text,
    pub question: Text,
    /// When it is asked (`show_when`), compiled; `None`: always.
    pub shown_when: Option<Cond>,
    /// Read by a required rule.
    pub required: bool,
    /// The codes of the rules that read it, in rule order.
    pub read_by: Vec<Text>,
}

impl FieldRules {
    /// Before the rules that read it are known.
    pub(super) fn new(field: &Field) -> Self {
        FieldRules {
            id: Text::shared(&field.id),
            question: Text::shared(&field.question),
            shown_when: None,
            required: false,
            read_by: Vec::new(),
        }
    }
}

impl RuleSet {
    /// Which rules these are: version, content digest and profile.
    pub fn reference(&self) -> RulesetRef {
        self.reference.clone()
    }

    /// The outcomes, highest precedence first (outcomes.yaml's order).
    pub fn precedence(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.outcomes.iter().map(|t| t.code)
    }

    /// Where `outcome` stands in this rule set's precedence: 0 is highest.
    // PANIC SAFETY: a rule set is only made by `load`, which refuses one
    // that does not list every outcome.
    #[allow(clippy::expect_used)]
    pub fn rank(&self, outcome: Outcome) -> usize {
        self.precedence()
            .position(|o| o == outcome)
            .expect("load checks that every outcome is listed")
    }

    // PANIC SAFETY: `load` refuses a rule set without a text for every
    // outcome.
    #[allow(clippy::expect_used)]
    pub fn outcome_text(&self, outcome: Outcome) -> &OutcomeText {
        self.outcomes
            .iter()
            .find(|t| t.code == outcome)
            .expect("load checks that every outcome has a text")
    }

    /// The list's entry fields, when field `i` is a list.
    pub fn entry_fields(&self, i: usize) -> Option<&[Field]> {
        match &self.fields.get(i).kind {
            Kind::List { fields, .. } => Some(fields),
            _ => None,
        }
    }
}
