//! The screening domain: evaluating answers into a suggestion, and the
//! screening record with its review state machine.

pub mod evaluation;
pub mod record;

pub use evaluation::{Evaluation, evaluate};
pub use record::{Screening, ScreeningId, Status};
