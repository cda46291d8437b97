//! The application layer: every operation of the service, one module per
//! area. HTTP is above (a handler parses, calls one function here, and maps
//! its typed error); the store is below, and the domain (`screening`,
//! `rules`, `questionnaire`) beside it. Each area has its own error type:
//! the outcomes a caller acts on are its variants, and a failure of the
//! storage beneath is one variant, `Unexpected`.

pub mod callers;
pub mod cds;
mod changes;
pub mod export;
pub mod keys;
pub mod screenings;
pub mod stats;

use crate::store::{Store, StoreError};

pub use callers::{Callers, LastUse};
pub use changes::Changed;
pub use export::Exports;
pub use keys::{KeyError, Keys};
pub use screenings::{Created, ListPage, ScreeningError, Screenings, Submitted};
pub use stats::Statistics;

/// A failure of the storage beneath an operation: nothing the caller did
/// wrong. Either passing (the database is busy, locked, full or out of
/// reach: nothing was written, try again) or a fault.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Unexpected(#[from] StoreError);

impl Unexpected {
    /// The database cannot take the request now; it may later.
    pub fn is_passing(&self) -> bool {
        matches!(self.0, StoreError::Unavailable(_))
    }
}

/// Whether the service can serve: the database answers (and, on SQLite,
/// the creation writer runs).
#[derive(Clone)]
pub struct Readiness {
    store: Store,
}

impl Readiness {
    pub fn new(store: Store) -> Self {
        Readiness { store }
    }

    pub async fn check(&self) -> Result<(), Unexpected> {
        Ok(self.store.ping().await?)
    }
}
