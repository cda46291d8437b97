//! The review queue as asked for: which screenings of a clinic, in which
//! order, and from where (keyset pagination).

use super::{Clinic, ScreeningSummary, Status};
use crate::rules::Outcome;

/// The review queue's filters, oldest first, keyset-paginated.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Always one clinic: nothing is listed across clinics.
    pub clinic: Clinic,
    pub status: Option<Status>,
    pub outcome: Option<Outcome>,
    pub created_from: Option<String>,
    pub created_before: Option<String>,
    /// The clinic's patient reference, exactly.
    pub external_ref: Option<String>,
    pub order: Order,
    /// Strictly after this row, in `order`.
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest first.
    #[default]
    Created,
    /// Urgent first, then by the outcome's precedence, then oldest.
    Priority,
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub priority: i64,
    pub created_at: String,
    pub id: String,
}

impl ListFilter {
    /// Every screening of `clinic`, `limit` at a time.
    pub fn for_clinic(clinic: Clinic, limit: u32) -> Self {
        ListFilter {
            clinic,
            status: None,
            outcome: None,
            created_from: None,
            created_before: None,
            external_ref: None,
            order: Order::Created,
            after: None,
            limit,
        }
    }
}

impl Cursor {
    /// Where a page that ended with `last` ended.
    pub fn after(last: &ScreeningSummary) -> Cursor {
        Cursor {
            priority: last.priority,
            created_at: last.created_at.clone(),
            id: last.id.to_string(),
        }
    }
}
