//! The screening domain: evaluating answers into a suggestion, and the
//! screening record with its review state machine. The operations on
//! screenings are `crate::service`'s.

pub mod evaluation;
pub mod explain;
pub mod impact;
pub mod printable;
pub mod record;
pub mod stats;
pub mod version;

pub use evaluation::{Evaluation, evaluate};
pub use record::{Clinic, Screening, ScreeningId, Status};
