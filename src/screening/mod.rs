//! The screening domain: evaluating answers into a suggestion.

pub mod evaluation;

pub use evaluation::{Evaluation, evaluate};
