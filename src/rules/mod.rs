//! The declarative rule set: the questionnaire, the rules, the parameters of
//! each profile and the outcome texts, read from files, checked against each
//! other and against the contract, and compiled. Knows nothing of HTTP or
//! storage.
//!
//! The way through: `files` (the five files' text) → `yaml` (as written) →
//! `load`, which checks each against the others (`profile`, `outcome`,
//! `template`, `rule`, `compile`, `contract`) and makes the `set` that
//! evaluations read; `eval` decides a compiled condition on answers.

pub mod compile;
pub mod contract;
pub mod diff;
pub mod doc;
pub mod eval;
mod files;
pub mod live;
mod load;
pub mod logic;
mod outcome;
mod profile;
mod reads;
mod rule;
mod set;
mod template;
pub mod text;
mod yaml;

pub use files::{FILES, RuleFiles};
pub use outcome::{Note, Notes, Outcome, OutcomeText};
pub use rule::{Citation, Effect, Rule};
pub use set::{FieldRules, RuleSet, RulesetRef};
pub use template::{COUNTS, fill_counts, fill_params};
pub use yaml::Source;
