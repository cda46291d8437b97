//! A screening's history: its changes (`screening_events`, numbered under
//! the screening's row lock) and its reads (`screening_views`, apart so
//! that a read never waits for a change), merged into one stream and read a
//! page at a time. Each page is two keyset queries of at most one page more
//! than it shows, merged here: what a request holds does not grow with the
//! history.
//!
//! Repeated reads of a record by one key are one row with a count: a read
//! joins the key's latest row while the gap since its last read is within
//! the window and the screening has not changed since that row began.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::rows::{json, to_json};
use super::{Store, StoreError};
use crate::screening::ScreeningId;
use crate::screening::events::{Event, EventData, EventKind, ViewedData};
use crate::screening::{Actor, Clinic, timestamp};

/// How long after a key's last read of a record its next read is still
/// counted with it; `None`: every read is an event of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewWindow(Option<TimeDelta>);

impl ViewWindow {
    /// Unless set: 15 minutes.
    pub const DEFAULT_SECONDS: u64 = 15 * 60;
    /// The longest window: a day.
    pub const MAX_SECONDS: u64 = 86_400;

    /// `seconds` long (at most a day); 0 keeps every read apart.
    pub fn seconds(seconds: u64) -> ViewWindow {
        let seconds = seconds.min(Self::MAX_SECONDS) as i64;
        ViewWindow((seconds > 0).then(|| TimeDelta::seconds(seconds)))
    }
}

/// Where a page of a history ended, in both of its streams, and how many
/// events came before (the next event's `seq` is one more).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryCursor {
    /// Events already given.
    pub position: i64,
    /// The last change given (its `seq` in the table), 0 for none.
    pub seq: i64,
    /// The last read given: its first time and its row, "" and 0 for none.
    pub view_at: String,
    pub view_n: i64,
}

/// A page of a history, oldest first, and where the next one starts.
pub struct HistoryPage {
    pub events: Vec<Event>,
    /// `None` on the last page.
    pub next: Option<HistoryCursor>,
}

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

/// Which comes next, given the next change and the next read of each
/// stream: a read goes before the first change that came after it; `None`
/// when both are done.
fn read_comes_first(change: Option<&Event>, read: Option<&Event>) -> Option<bool> {
    match (change, read) {
        (Some(c), Some(r)) => Some(r.at < c.at),
        (Some(_), None) => Some(false),
        (None, Some(_)) => Some(true),
        (None, None) => None,
    }
}

/// One whole history: changes keep their order; a read goes before the
/// first change that came after it; numbered from 1.
pub(super) fn merge_history(changes: Vec<Event>, views: Vec<Event>) -> Vec<Event> {
    let mut events = Vec::with_capacity(changes.len() + views.len());
    let (mut changes, mut views) = (changes.into_iter().peekable(), views.into_iter().peekable());
    while let Some(read) = read_comes_first(changes.peek(), views.peek()) {
        let mut event = if read { views.next() } else { changes.next() }.expect("peeked");
        event.seq = events.len() as i64 + 1;
        events.push(event);
    }
    events
}

const CHANGES: &str = "SELECT seq, kind, at, actor, data FROM screening_events \
     WHERE screening_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
const READS: &str = "SELECT n, at, actor, reads, last_at FROM screening_views \
     WHERE screening_id = $1 AND (at, n) > ($2, $3) ORDER BY at, n LIMIT $4";

impl Store {
    /// Up to `limit` events of a screening of `clinic` after `after`, oldest
    /// first, numbered on from the cursor's position; `None` when there is
    /// no such screening.
    pub async fn history(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
        after: &HistoryCursor,
        limit: u32,
    ) -> Result<Option<HistoryPage>, StoreError> {
        let found = sqlx::query("SELECT 1 FROM screenings WHERE id = $1 AND clinic = $2")
            .bind(id.to_string())
            .bind(clinic.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        // One more of each than the page shows: the page never runs out of
        // either stream before it is full, and what is left says whether
        // there is a next page.
        let fetch = i64::from(limit) + 1;
        let mut changes = sqlx::query(CHANGES)
            .bind(id.to_string())
            .bind(after.seq)
            .bind(fetch)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>("seq")?, change_event(row)?)))
            .collect::<Result<VecDeque<_>, StoreError>>()?;
        let mut reads = sqlx::query(READS)
            .bind(id.to_string())
            .bind(after.view_at.as_str())
            .bind(after.view_n)
            .bind(fetch)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>("n")?, view_event(row)?)))
            .collect::<Result<VecDeque<_>, StoreError>>()?;
        let mut cursor = after.clone();
        let mut events = Vec::new();
        while events.len() < limit as usize {
            let Some(read) =
                read_comes_first(changes.front().map(|c| &c.1), reads.front().map(|r| &r.1))
            else {
                break;
            };
            let mut event = if read {
                let (n, event) = reads.pop_front().expect("peeked");
                (cursor.view_at, cursor.view_n) = (event.at.clone(), n);
                event
            } else {
                let (seq, event) = changes.pop_front().expect("peeked");
                cursor.seq = seq;
                event
            };
            cursor.position += 1;
            event.seq = cursor.position;
            events.push(event);
        }
        let next = (!changes.is_empty() || !reads.is_empty()).then_some(cursor);
        Ok(Some(HistoryPage { events, next }))
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
        let Some(window) = window.0 else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, at: &str) -> Event {
        Event {
            seq: 0,
            data: EventData::read(kind, "{}".into()).unwrap(),
            at: at.into(),
            actor: Actor {
                key_id: "k".into(),
                label: "l".into(),
                clinician: None,
            },
        }
    }

    #[test]
    fn a_read_goes_before_the_first_change_after_it_and_changes_keep_their_order() {
        use EventKind::*;
        // Two changes out of time order (numbered under the lock in the
        // order they committed), reads around them.
        let changes = vec![
            event(Created, "1"),
            event(CdsFeedback, "5"),
            event(Reviewed, "4"),
        ];
        let reads = vec![
            event(Viewed, "0"),
            event(Viewed, "3"),
            event(Viewed, "5"),
            event(Viewed, "6"),
        ];
        let merged: Vec<(i64, EventKind, String)> = merge_history(changes, reads)
            .into_iter()
            .map(|e| (e.seq, e.data.kind(), e.at))
            .collect();
        let expected = [
            (Viewed, "0"),
            (Created, "1"),
            (Viewed, "3"),
            (CdsFeedback, "5"),
            (Reviewed, "4"),
            (Viewed, "5"),
            (Viewed, "6"),
        ];
        assert_eq!(
            merged,
            expected
                .iter()
                .enumerate()
                .map(|(i, (k, at))| (i as i64 + 1, *k, at.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_window_of_zero_keeps_every_read_apart() {
        assert_eq!(ViewWindow::seconds(0), ViewWindow(None));
        assert_eq!(
            ViewWindow::seconds(900),
            ViewWindow(Some(TimeDelta::minutes(15)))
        );
        assert_eq!(
            ViewWindow::seconds(u64::MAX),
            ViewWindow(Some(TimeDelta::days(1)))
        );
    }
}
