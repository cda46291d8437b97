//! Screenings: their creation (with its idempotency key, through a
//! writer), a screening read, and the review queue. Later changes are
//! `changes`'s.

use serde_json::value::RawValue;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::rows::{outcome, screening, screening_id, status};
use super::{Store, StoreError, Writer};
use crate::rules::Outcome;
use crate::screening::queue::{ListFilter, Order};
use crate::screening::{Actor, Clinic, IdempotencyKey, Screening, ScreeningSummary, Status};
use crate::screening::{Evaluation, ScreeningId};

/// Answers as stored: the normalized JSON text, and the clinic's patient
/// reference taken from them for the queue.
pub struct StoredAnswers {
    pub json: Box<RawValue>,
    pub external_ref: Option<String>,
}

/// What a new screening stores.
pub struct NewScreening {
    pub clinic: Clinic,
    pub answers: StoredAnswers,
    /// The evaluation as issued; its outcome is the suggestion.
    pub evaluation: Evaluation,
    /// The same, as stored and answered.
    pub evaluation_json: Box<RawValue>,
    /// SHA-256 of the normalized answers, to recognise a retried request.
    pub request_hash: String,
    pub at: String,
    pub actor: Actor,
}

/// What the writer did with one creation.
pub enum Inserted {
    New(ScreeningId),
    /// The idempotency key was already used: this creation was undone.
    KeyTaken(IdempotencyKey),
}

/// A creation handed to a writer, and where its outcome goes.
pub(super) struct Job {
    pub new: NewScreening,
    pub key: Option<IdempotencyKey>,
    pub reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// Hands a creation to a writer and waits until it is written (or not).
async fn submit(
    jobs: &mpsc::Sender<Job>,
    new: NewScreening,
    key: Option<IdempotencyKey>,
) -> Result<Inserted, StoreError> {
    super::committing::mark();
    let (reply, answer) = oneshot::channel();
    let stopped = || {
        StoreError::Unavailable(
            "the writer stopped before answering: the creation may not be stored; retry with the same Idempotency-Key".into(),
        )
    };
    jobs.send(Job { new, key, reply })
        .await
        .map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// What a creation did.
pub enum Creation {
    /// Stored, as written.
    New(Screening),
    /// The idempotency key was already used for the same answers: the
    /// screening that request created, as it is now.
    Replayed(Screening),
    /// The idempotency key was already used for other answers: nothing was
    /// stored.
    KeyReused,
}

impl Store {
    /// Stores a new screening; with an idempotency key already used for the
    /// same request, returns the screening that request created instead.
    /// Creations go through a writer: the group-commit thread on SQLite
    /// (`super::batch`), connections of their own on PostgreSQL
    /// (`super::pg_writer`); either way the answer comes once the
    /// transaction holding the creation has committed.
    pub async fn create(
        &self,
        new: NewScreening,
        key: Option<&IdempotencyKey>,
    ) -> Result<Creation, StoreError> {
        let clinic = new.clinic.clone();
        let hash = new.request_hash.clone();
        let written = (
            new.answers.json.clone(),
            new.evaluation.outcome,
            new.at.clone(),
            new.evaluation_json.clone(),
        );
        let started = std::time::Instant::now();
        let (jobs, backend) = match &self.writer {
            // SQLite has one writer at a time: group the creations waiting
            // into one commit.
            Writer::Sqlite(writer) => (writer.jobs(), "sqlite"),
            // PostgreSQL: a few connections, each writing the creations
            // waiting in one statement.
            Writer::Postgres(writer) => (writer.jobs(), "postgres"),
        };
        let inserted = submit(jobs, new, key.cloned()).await?;
        metrics::histogram!(
            "facet_db_write_duration_seconds",
            "backend" => backend
        )
        .record(started.elapsed().as_secs_f64());
        match inserted {
            // Exactly what was written, as a read would give it: no second
            // trip to the database.
            Inserted::New(id) => Ok(Creation::New(Screening {
                id,
                clinic,
                status: Status::PendingReview,
                suggested_outcome: written.1,
                final_outcome: None,
                review: None,
                answers_version: 1,
                created_at: written.2.clone(),
                updated_at: written.2,
                answers: written.0,
                evaluation: written.3,
            })),
            Inserted::KeyTaken(key) => {
                // Another request with this key committed first.
                let row = sqlx::query(
                    "SELECT request_hash, screening_id FROM idempotency_keys WHERE clinic = $1 AND key = $2",
                )
                .bind(clinic.as_str())
                .bind(key.as_str())
                .fetch_one(&self.pool)
                .await?;
                let stored: String = row.try_get("request_hash")?;
                if stored != hash {
                    return Ok(Creation::KeyReused);
                }
                let earlier = screening_id(&row.try_get::<String, _>("screening_id")?)?;
                let screening = self.get(&clinic, earlier).await?.ok_or_else(|| {
                    StoreError::Corrupt("an idempotency key's screening is missing".into())
                })?;
                Ok(Creation::Replayed(screening))
            }
        }
    }

    pub async fn get(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
    ) -> Result<Option<Screening>, StoreError> {
        let row = sqlx::query(
            "SELECT id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at \
             FROM screenings WHERE id = $1 AND clinic = $2",
        )
            .bind(id.to_string())
            .bind(clinic.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(screening).transpose()
    }

    /// Up to `limit` screenings, in the filter's order.
    pub async fn list(&self, f: &ListFilter) -> Result<Vec<ScreeningSummary>, StoreError> {
        // The same filters; the order and the keyset differ.
        let sql = match f.order {
            Order::Created => {
                "SELECT id, status, suggested, final_outcome, created_at, updated_at, priority, external_ref FROM screenings \
                 WHERE clinic = $1 \
                   AND ($2 IS NULL OR status = $3) \
                   AND ($4 IS NULL OR suggested = $5) \
                   AND ($6 IS NULL OR created_at >= $7) \
                   AND ($8 IS NULL OR created_at < $9) \
                   AND ($10 IS NULL OR $11 IS NULL OR created_at > $12 OR (created_at = $13 AND id > $14)) \
                   AND ($16 IS NULL OR external_ref = $17) \
                 ORDER BY created_at, id LIMIT $15"
            }
            Order::Priority => {
                "SELECT id, status, suggested, final_outcome, created_at, updated_at, priority, external_ref FROM screenings \
                 WHERE clinic = $1 \
                   AND ($2 IS NULL OR status = $3) \
                   AND ($4 IS NULL OR suggested = $5) \
                   AND ($6 IS NULL OR created_at >= $7) \
                   AND ($8 IS NULL OR created_at < $9) \
                   AND ($10 IS NULL OR priority > $11 OR (priority = $11 AND (created_at > $12 OR (created_at = $13 AND id > $14)))) \
                   AND ($16 IS NULL OR external_ref = $17) \
                 ORDER BY priority, created_at, id LIMIT $15"
            }
        };
        let after = f.after.as_ref();
        let rows = sqlx::query(sql)
            .bind(f.clinic.as_str())
            .bind(f.status.map(Status::as_str))
            .bind(f.status.map(Status::as_str))
            .bind(f.outcome.map(Outcome::as_str))
            .bind(f.outcome.map(Outcome::as_str))
            .bind(f.created_from.as_deref())
            .bind(f.created_from.as_deref())
            .bind(f.created_before.as_deref())
            .bind(f.created_before.as_deref())
            .bind(after.map(|c| c.created_at.as_str()))
            .bind(after.map(|c| c.priority))
            .bind(after.map(|c| c.created_at.as_str()))
            .bind(after.map(|c| c.created_at.as_str()))
            .bind(after.map(|c| c.id.as_str()))
            .bind(i64::from(f.limit))
            .bind(f.external_ref.as_deref())
            .bind(f.external_ref.as_deref())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let final_outcome: Option<String> = row.try_get("final_outcome")?;
                Ok(ScreeningSummary {
                    id: screening_id(&row.try_get::<String, _>("id")?)?,
                    status: status(&row.try_get::<String, _>("status")?)?,
                    suggested_outcome: outcome(&row.try_get::<String, _>("suggested")?)?,
                    final_outcome: final_outcome.as_deref().map(outcome).transpose()?,
                    external_ref: row.try_get("external_ref")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    priority: row.try_get("priority")?,
                })
            })
            .collect()
    }
}
