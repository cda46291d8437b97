//! The screening domain: evaluating answers into a suggestion, and the
//! screening record with its review state machine. The operations on
//! screenings are `crate::service`'s.

pub mod evaluation;
pub mod events;
pub mod explain;
pub mod history;
pub mod id;
pub mod impact;
pub mod period;
pub mod printable;
pub mod queue;
pub mod record;
pub mod review;
pub mod stats;
pub mod validation;
pub mod version;

pub use evaluation::{Evaluation, evaluate};
pub use events::Actor;
pub use id::{Clinic, IdempotencyKey, ScreeningId};
pub use period::Period;
pub use record::{Screening, ScreeningSummary, Status, timestamp};
