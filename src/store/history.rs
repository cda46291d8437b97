//! A screening's history: its changes (`screening_events`, numbered under
//! the screening's row lock) and its reads (`screening_views`, apart so
//! that a read never waits for a change), each read after a cursor by a
//! keyset query of a bounded number of rows (`screening::history` merges
//! them into pages): what a request holds does not grow with the history.
//!
//! Repeated reads of a record by one key are one row with a count: a read
//! joins the key's latest row while the gap since its last read is within
//! the window and the screening has not changed since that row began.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::rows::{json, to_json};
use super::{Store, StoreError};
use crate::screening::ScreeningId;
use crate::screening::events::{Event, EventData, EventKind, ViewedData};
use crate::screening::history::{HistoryCursor, Placed, Streams, ViewWindow};
use crate::screening::{Actor, Clinic, timestamp};

/// A change on a screening's history, from its row: its data read as its
/// kind's.
pub(super) fn change_event(row: &AnyRow) -> Result<Event, StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind: EventKind = kind
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("event kind {kind}")))?;
    Ok(Event {
        seq: 0,
        data: EventData::read(kind, row.try_get("data")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        at: row.try_get("at")?,
        actor: json(&row.try_get::<String, _>("actor")?)?,
    })
}

/// The reads of one row, from the row: at its first read, with how many
/// and the first and last.
pub(super) fn view_event(row: &AnyRow) -> Result<Event, StoreError> {
    let at: String = row.try_get("at")?;
    Ok(Event {
        seq: 0,
        data: EventData::Viewed(ViewedData {
            count: row.try_get("reads")?,
            first: at.clone(),
            last: row.try_get("last_at")?,
        }),
        at,
        actor: json(&row.try_get::<String, _>("actor")?)?,
    })
}

const CHANGES: &str = "SELECT seq, kind, at, actor, data FROM screening_events \
     WHERE screening_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
const READS: &str = "SELECT n, at, actor, reads, last_at FROM screening_views \
     WHERE screening_id = $1 AND (at, n) > ($2, $3) ORDER BY at, n LIMIT $4";

impl Store {
    /// The events of a screening of `clinic` after `after`, at most `fetch`
    /// of each stream (its changes, its reads), each in its order; `None`
    /// when there is no such screening.
    pub async fn history(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        after: &HistoryCursor,
        fetch: u32,
    ) -> Result<Option<Streams>, StoreError> {
        let found = sqlx::query("SELECT 1 FROM screenings WHERE id = $1 AND clinic = $2")
            .bind(id.to_string())
            .bind(clinic.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        let changes = sqlx::query(CHANGES)
            .bind(id.to_string())
            .bind(after.seq)
            .bind(i64::from(fetch))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(Placed {
                    place: row.try_get("seq")?,
                    event: change_event(row)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let reads = sqlx::query(READS)
            .bind(id.to_string())
            .bind(after.view_at.as_str())
            .bind(after.view_n)
            .bind(i64::from(fetch))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(Placed {
                    place: row.try_get("n")?,
                    event: view_event(row)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(Streams { changes, reads }))
    }

    /// Records a read of the record by `actor` at `at`: counted with the
    /// key's latest read of it while that is within `window` and nothing
    /// has changed on the screening since it began, a row of its own
    /// otherwise. No lock and no sequence: a read never waits for a change.
    /// Two reads racing to start a row make one, counted twice (the unique
    /// `follows`); two counted together are each counted (`reads + 1`).
    pub async fn record_view(
        &self,
        id: ScreeningId,
        at: DateTime<Utc>,
        actor: &Actor,
        window: ViewWindow,
    ) -> Result<(), StoreError> {
        let (now, actor) = (timestamp(at), to_json(actor));
        let Some(window) = window.get() else {
            sqlx::query(
                "INSERT INTO screening_views (screening_id, at, actor, reads, last_at, follows) \
                 VALUES ($1, $2, $3, 1, $4, NULL)",
            )
            .bind(id.to_string())
            .bind(&now)
            .bind(&actor)
            .bind(&now)
            .execute(self.write_pool())
            .await?;
            return Ok(());
        };
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT n FROM screening_views WHERE screening_id = $1 AND actor = $2 ORDER BY n DESC LIMIT 1",
        )
        .bind(id.to_string())
        .bind(&actor)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(n) = latest {
            let since = timestamp(at - window);
            let counted = sqlx::query(
                "UPDATE screening_views SET reads = reads + 1, \
                 last_at = CASE WHEN last_at < $1 THEN $2 ELSE last_at END \
                 WHERE n = $3 AND last_at >= $4 AND NOT EXISTS (\
                     SELECT 1 FROM screening_events e \
                     WHERE e.screening_id = screening_views.screening_id AND e.at > screening_views.at)",
            )
            .bind(&now)
            .bind(&now)
            .bind(n)
            .bind(&since)
            .execute(self.write_pool())
            .await?
            .rows_affected();
            if counted == 1 {
                return Ok(());
            }
        }
        sqlx::query(
            "INSERT INTO screening_views (screening_id, at, actor, reads, last_at, follows) \
             VALUES ($1, $2, $3, 1, $4, $5) \
             ON CONFLICT (screening_id, actor, follows) DO UPDATE SET reads = screening_views.reads + 1, \
             last_at = CASE WHEN screening_views.last_at < excluded.last_at THEN excluded.last_at \
                            ELSE screening_views.last_at END",
        )
        .bind(id.to_string())
        .bind(&now)
        .bind(&actor)
        .bind(&now)
        .bind(latest.unwrap_or(0))
        .execute(self.write_pool())
        .await?;
        Ok(())
    }
}
