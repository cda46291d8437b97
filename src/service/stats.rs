//! A clinic's statistics over a period, for the programme lead.

use crate::screening::stats::Stats;
use crate::screening::{Clinic, Period};
use crate::store::Store;

use super::Unexpected;

#[derive(Clone)]
pub struct Statistics {
    store: Store,
}

impl Statistics {
    pub fn new(store: Store) -> Self {
        Statistics { store }
    }

    /// The statistics of the screenings of `clinic` created in `period`.
    pub async fn of(&self, clinic: &Clinic, period: &Period) -> Result<Stats, Unexpected> {
        Ok(self.store.stats(clinic, period).await?)
    }
}
