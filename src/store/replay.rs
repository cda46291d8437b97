//! Stored screenings read back for `rules impact`: each one's current
//! answers and stored suggestion, by clinic and oldest first, one row at a time, so memory
//! does not grow with their number.

use futures_util::TryStreamExt;
use sqlx::Row;

use super::{Store, StoreError};
use crate::screening::Period;

/// One stored screening as the replay needs it.
pub struct Replayed<'a> {
    pub id: &'a str,
    /// The answers as stored (normalized JSON), corrections included.
    pub answers: &'a str,
    /// The suggestion as stored (an outcome code).
    pub suggested: &'a str,
}

impl Store {
    /// Calls `each` with every screening created within `period` (of
    /// `clinic`, or of every clinic), by clinic then oldest first: the order
    /// of an index, so that nothing is sorted in memory; returns how many.
    pub async fn replay(
        &self,
        clinic: Option<&str>,
        period: &Period,
        mut each: impl FnMut(Replayed<'_>),
    ) -> Result<u64, StoreError> {
        let (from, to) = period.bounds();
        let sql = match clinic {
            Some(_) => {
                "SELECT id, answers, suggested FROM screenings \
                 WHERE created_at >= $1 AND created_at < $2 AND clinic = $3 ORDER BY clinic, created_at, id"
            }
            None => {
                "SELECT id, answers, suggested FROM screenings \
                 WHERE created_at >= $1 AND created_at < $2 ORDER BY clinic, created_at, id"
            }
        };
        let mut query = sqlx::query(sql).bind(from).bind(to);
        if let Some(clinic) = clinic {
            query = query.bind(clinic.to_string());
        }
        let mut rows = query.fetch(&self.pool);
        let mut n = 0;
        while let Some(row) = rows.try_next().await? {
            let (id, answers, suggested): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            each(Replayed {
                id: &id,
                answers: &answers,
                suggested: &suggested,
            });
            n += 1;
        }
        Ok(n)
    }
}
