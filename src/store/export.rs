//! The record of a clinic, exported: each screening as stored (answers, the
//! evaluation as issued, the review) with its whole history, oldest first.
//! Every export leaves an audit row naming the key and the range, written
//! before the first line.
//!
//! Read a page at a time: each page (`PAGE` screenings, with their changes
//! and reads) in one short read-only transaction on one connection, which
//! goes back to the pool before the page is sent (the caller may read the
//! next page meanwhile). So an export holds at
//! most one connection, and only while a page is read; however slowly its
//! client reads, it pins no snapshot (on SQLite, the WAL can be checkpointed
//! and reset meanwhile). Exports together hold at most all but one of the
//! pool's connections (`Store::export_connections`): the API routes always
//! have one. Pages follow each other by the export's order (creation time,
//! then id), so memory does not grow with the record.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Connection, Executor, Row};

use super::history::{change_event, view_event};
use super::rows::screening;
use super::{Store, StoreError};
use crate::screening::events::Event;
use crate::screening::history::merge;
use crate::screening::{Actor, Clinic, Period, Screening, timestamp};

/// Screenings read in one page.
const PAGE: i64 = 100;

/// One line of an export.
#[derive(Serialize)]
pub struct ExportLine {
    pub screening: Screening,
    /// Oldest first, as `GET /v1/screenings/{id}/history` gives it.
    pub history: Vec<Event>,
}

/// The next page: screenings of the clinic created in [$2, $3), after
/// ($4, $5) in the export's order. $2 is already the later of the period's
/// start and $4, so that the index on (clinic, created_at, id) is read from
/// there.
const SCREENINGS: &str = "SELECT id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at \
     FROM screenings WHERE clinic = $1 AND created_at >= $2 AND created_at < $3 AND (created_at > $4 OR id > $5) \
     ORDER BY created_at, id LIMIT $6";
/// The changes, then the reads, of the page's screenings: those after
/// ($4, $5) up to and including the page's last, ($6, $7); $2 and $3 are
/// the first and last creation times.
const CHANGES: &str = "SELECT s.id AS s_id, e.seq, e.kind, e.at, e.actor, e.data \
     FROM screening_events e JOIN screenings s ON s.id = e.screening_id \
     WHERE s.clinic = $1 AND s.created_at >= $2 AND s.created_at <= $3 \
     AND (s.created_at > $4 OR s.id > $5) AND (s.created_at < $6 OR s.id <= $7) \
     ORDER BY s.created_at, s.id, e.seq";
const READS: &str = "SELECT s.id AS s_id, v.at, v.actor, v.reads, v.last_at \
     FROM screening_views v JOIN screenings s ON s.id = v.screening_id \
     WHERE s.clinic = $1 AND s.created_at >= $2 AND s.created_at <= $3 \
     AND (s.created_at > $4 OR s.id > $5) AND (s.created_at < $6 OR s.id <= $7) \
     ORDER BY s.created_at, s.id, v.at, v.n";

/// An export being read, page by page (`next`).
pub struct ExportPages {
    store: Store,
    clinic: String,
    /// The period's ends (open ends included: a screening created while an
    /// open-ended export runs is in it, once the export reaches it).
    from: String,
    to: String,
    /// The last screening sent: (created_at, id).
    after: (String, String),
    done: bool,
}

impl Store {
    /// Records that `actor` exports the screenings of `clinic` created in
    /// [`from`, `to`): before anything is sent.
    pub async fn record_export(
        &self,
        clinic: &Clinic,
        actor: &Actor,
        period: &Period,
    ) -> Result<(), StoreError> {
        let (from, to) = period.stored();
        sqlx::query("INSERT INTO exports (id, clinic, at, actor, range_from, range_to) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(clinic.as_str())
            .bind(timestamp(chrono::Utc::now()))
            .bind(super::rows::to_json(actor))
            .bind(from)
            .bind(to)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// The screenings of `clinic` created in `period`, oldest first, to be
    /// read page by page.
    pub fn export_pages(&self, clinic: &Clinic, period: &Period) -> ExportPages {
        let (from, to) = period.bounds();
        ExportPages {
            store: self.clone(),
            clinic: clinic.as_str().to_string(),
            from,
            to,
            after: (String::new(), String::new()),
            done: false,
        }
    }
}

impl ExportPages {
    /// The next screenings with their histories; `None` once all are read.
    pub async fn next(&mut self) -> Result<Option<Vec<ExportLine>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self.read().await?;
        self.done = page.len() < PAGE as usize;
        match page.last() {
            None => Ok(None),
            Some(last) => {
                self.after = (
                    last.screening.created_at.clone(),
                    last.screening.id.to_string(),
                );
                Ok(Some(page))
            }
        }
    }

    /// One page, in one read-only transaction on one connection.
    async fn read(&self) -> Result<Vec<ExportLine>, StoreError> {
        let _permit = self
            .store
            .export_connections
            .acquire()
            .await
            .map_err(|_| StoreError::Corrupt("the export semaphore was closed".into()))?;
        let mut conn = self.store.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        if self.store.postgres_url.is_some() {
            // One snapshot for the page's three queries.
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?;
        }
        let (after_created, after_id) = &self.after;
        let start = after_created.max(&self.from);
        let rows = sqlx::query(SCREENINGS)
            .bind(&self.clinic)
            .bind(start)
            .bind(&self.to)
            .bind(after_created)
            .bind(after_id)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else {
            tx.rollback().await?;
            return Ok(Vec::new());
        };
        let (last_created, last_id): (String, String) =
            (last.try_get("created_at")?, last.try_get("id")?);
        let history = |sql: &'static str| {
            sqlx::query(sql)
                .bind(&self.clinic)
                .bind(start)
                .bind(&last_created)
                .bind(after_created)
                .bind(after_id)
                .bind(&last_created)
                .bind(&last_id)
        };
        let changes = history(CHANGES).fetch_all(&mut *tx).await?;
        let reads = history(READS).fetch_all(&mut *tx).await?;
        tx.rollback().await?;
        drop(conn);
        let mut changes = by_screening(&changes, change_event)?;
        let mut reads = by_screening(&reads, view_event)?;
        rows.iter()
            .map(|row| {
                let screening = screening(row)?;
                let id = screening.id.to_string();
                Ok(ExportLine {
                    history: merge(
                        changes.remove(&id).unwrap_or_default(),
                        reads.remove(&id).unwrap_or_default(),
                    ),
                    screening,
                })
            })
            .collect()
    }
}

/// Events of a page's screenings, by screening id, each in its order.
fn by_screening(
    rows: &[AnyRow],
    event: fn(&AnyRow) -> Result<Event, StoreError>,
) -> Result<HashMap<String, Vec<Event>>, StoreError> {
    let mut out: HashMap<String, Vec<Event>> = HashMap::new();
    for row in rows {
        out.entry(row.try_get("s_id")?)
            .or_default()
            .push(event(row)?);
    }
    Ok(out)
}
