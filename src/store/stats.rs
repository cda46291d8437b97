//! The statistics of a clinic's screenings over a period, read one row at
//! a time.

use sqlx::Row;

use super::rows::{json, outcome, status};
use super::{Store, StoreError};
use crate::screening::review::Review;
use crate::screening::stats::{FiredCodes, Stats, StatsBuilder, StatsRow};
use crate::screening::{Clinic, Period};

impl Store {
    /// The statistics of the screenings of `clinic` created in `period`,
    /// read one row at a time.
    pub async fn stats(&self, clinic: &Clinic, period: &Period) -> Result<Stats, StoreError> {
        use futures_util::TryStreamExt;
        let (from, to) = period.bounds();
        let mut rows = sqlx::query(
            "SELECT suggested, status, created_at, review, evaluation FROM screenings \
             WHERE clinic = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(clinic.as_str())
        .bind(from.as_str())
        .bind(to.as_str())
        .fetch(&self.pool);
        let mut stats = StatsBuilder::default();
        let time = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| StoreError::Corrupt("a time".into()))
        };
        while let Some(row) = rows.try_next().await? {
            let review: Option<String> = row.try_get("review")?;
            let review = review.as_deref().map(json::<Review>).transpose()?;
            stats.add(StatsRow {
                suggested: outcome(&row.try_get::<String, _>("suggested")?)?,
                status: status(&row.try_get::<String, _>("status")?)?,
                created_at: time(&row.try_get::<String, _>("created_at")?)?,
                reviewed_at: review.map(|r| time(&r.reviewed_at)).transpose()?,
                fired: json::<FiredCodes>(&row.try_get::<String, _>("evaluation")?)?,
            });
        }
        let (from, to) = period.stored();
        Ok(stats.finish(from, to))
    }
}
