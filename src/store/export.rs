//! The record of a clinic, exported: each screening as stored (answers, the
//! evaluation as issued, the review) with its whole history, one JSON line
//! each, oldest first. Three cursors in the same order (screenings, their
//! changes, their reads) are merged as they stream, so memory does not grow
//! with the number of screenings. Every export leaves an audit row naming
//! the key and the range, written before the first line.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::mpsc;

use super::screenings::{change_event, merge_history, screening, view_event};
use super::{Store, StoreError};
use crate::screening::record::{Actor, Clinic, Event, Period, Screening, timestamp};

/// One line of an export.
#[derive(Serialize)]
pub struct ExportLine {
    pub screening: Screening,
    /// Oldest first, as `GET /v1/screenings/{id}/history` gives it.
    pub history: Vec<Event>,
}

/// The position of a row in the export's order.
fn key(row: &AnyRow, created: &str, id: &str) -> Result<(String, String), StoreError> {
    Ok((row.try_get(created)?, row.try_get(id)?))
}

const SCREENINGS: &str = "SELECT id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at \
     FROM screenings WHERE clinic = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id";
const CHANGES: &str = "SELECT s.created_at AS s_created, s.id AS s_id, e.seq, e.kind, e.at, e.actor, e.data \
     FROM screening_events e JOIN screenings s ON s.id = e.screening_id \
     WHERE s.clinic = $1 AND s.created_at >= $2 AND s.created_at < $3 ORDER BY s.created_at, s.id, e.seq";
const READS: &str = "SELECT s.created_at AS s_created, s.id AS s_id, v.at, v.actor \
     FROM screening_views v JOIN screenings s ON s.id = v.screening_id \
     WHERE s.clinic = $1 AND s.created_at >= $2 AND s.created_at < $3 ORDER BY s.created_at, s.id, v.at, v.n";

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
            .bind(serde_json::to_string(actor).expect("an actor serializes"))
            .bind(from)
            .bind(to)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// Sends each exported screening, as `render` writes it, into `lines`,
    /// oldest first; stops early when the receiver is gone. Returns how many
    /// were sent.
    pub async fn export(
        &self,
        clinic: &Clinic,
        period: &Period,
        mut render: impl FnMut(ExportLine) -> Vec<u8> + Send,
        lines: &mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    ) -> Result<u64, StoreError> {
        use futures_util::TryStreamExt;
        let (from, to) = period.bounds();
        let query = |sql: &'static str| {
            sqlx::query(sql)
                .bind(clinic.as_str())
                .bind(from.as_str())
                .bind(to.as_str())
                .fetch(&self.pool)
        };
        let (mut screenings, mut changes, mut reads) =
            (query(SCREENINGS), query(CHANGES), query(READS));
        let (mut next_change, mut next_read) = (changes.try_next().await?, reads.try_next().await?);
        let mut sent = 0;
        while let Some(row) = screenings.try_next().await? {
            let here = key(&row, "created_at", "id")?;
            let own = |next: &mut Option<AnyRow>| -> Result<Option<bool>, StoreError> {
                // A row of a screening created after the export began (not
                // in this export) sorts before: skip it.
                match next {
                    None => Ok(None),
                    Some(r) => Ok(Some(key(r, "s_created", "s_id")? <= here)),
                }
            };
            let mut history_changes = Vec::new();
            while own(&mut next_change)? == Some(true) {
                let r = next_change.take().expect("peeked");
                if key(&r, "s_created", "s_id")? == here {
                    history_changes.push(change_event(&r)?);
                }
                next_change = changes.try_next().await?;
            }
            let mut history_reads = Vec::new();
            while own(&mut next_read)? == Some(true) {
                let r = next_read.take().expect("peeked");
                if key(&r, "s_created", "s_id")? == here {
                    history_reads.push(view_event(&r)?);
                }
                next_read = reads.try_next().await?;
            }
            let line = ExportLine {
                screening: screening(&row)?,
                history: merge_history(history_changes, history_reads),
            };
            if lines.send(Ok(render(line))).await.is_err() {
                break;
            }
            sent += 1;
        }
        Ok(sent)
    }
}
