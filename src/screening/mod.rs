//! The screening domain: evaluating answers into a suggestion, the
//! screening record with its review state machine, and the operations on
//! screenings (`service`).

pub mod evaluation;
pub mod record;
pub mod service;

pub use evaluation::{Evaluation, evaluate};
pub use record::{Clinic, Screening, ScreeningId, Status};
