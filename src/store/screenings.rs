//! Screenings, their events and idempotency keys.

use serde_json::value::RawValue;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError, Writer};
use crate::rules::Outcome;
use crate::screening::events::{
    AnswersCorrectedData, CreatedData, EventData, EventKind, ReviewedData,
};
use crate::screening::review::Review;
use crate::screening::stats::{FiredCodes, Stats, StatsBuilder, StatsRow};
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

/// A change of a screening, without its data.
pub struct LastChange {
    pub kind: EventKind,
    pub at: String,
    pub actor: Actor,
}

pub struct Created {
    pub screening: Screening,
    /// An earlier request with the same idempotency key created it.
    pub replayed: bool,
}

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

pub(super) fn raw(text: String) -> Result<Box<RawValue>, StoreError> {
    RawValue::from_string(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn outcome(text: &str) -> Result<Outcome, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("outcome {text}")))
}

fn status(text: &str) -> Result<Status, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("status {text}")))
}

fn screening_id(text: &str) -> Result<ScreeningId, StoreError> {
    ScreeningId::parse(text).ok_or_else(|| StoreError::Corrupt("screening id".into()))
}

pub(super) fn clinic(text: &str) -> Result<Clinic, StoreError> {
    Clinic::parse(text).map_err(|_| StoreError::Corrupt("clinic".into()))
}

pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn screening(row: &AnyRow) -> Result<Screening, StoreError> {
    let final_outcome: Option<String> = row.try_get("final_outcome")?;
    let review: Option<String> = row.try_get("review")?;
    Ok(Screening {
        id: screening_id(&row.try_get::<String, _>("id")?)?,
        clinic: clinic(&row.try_get::<String, _>("clinic")?)?,
        status: status(&row.try_get::<String, _>("status")?)?,
        suggested_outcome: outcome(&row.try_get::<String, _>("suggested")?)?,
        final_outcome: final_outcome.as_deref().map(outcome).transpose()?,
        answers_version: row.try_get("answers_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        answers: raw(row.try_get("answers")?)?,
        evaluation: raw(row.try_get("evaluation")?)?,
        review: review.as_deref().map(json::<Review>).transpose()?,
    })
}

/// The data of a screening's `created` event, as stored.
pub(super) fn created_event_data(suggested: Outcome) -> String {
    EventData::Created(CreatedData {
        suggested_outcome: suggested,
        answers_version: 1,
    })
    .stored()
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values serialize")
}

async fn append_event(
    tx: &mut Transaction<'_, Any>,
    id: ScreeningId,
    data: &EventData,
    at: &str,
    actor: &Actor,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6 FROM screening_events WHERE screening_id = $7",
    )
    .bind(ScreeningId::new().to_string())
    .bind(id.to_string())
    .bind(data.kind().as_str())
    .bind(at)
    .bind(to_json(actor))
    .bind(data.stored())
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
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
    ) -> Result<Created, StoreError> {
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
            Inserted::New(id) => Ok(Created {
                screening: Screening {
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
                },
                replayed: false,
            }),
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
                    return Err(StoreError::IdempotencyMismatch);
                }
                let earlier = screening_id(&row.try_get::<String, _>("screening_id")?)?;
                let screening = self
                    .get(&clinic, earlier)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok(Created {
                    screening,
                    replayed: true,
                })
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

    /// Why a guarded update changed nothing: no such screening, or not in
    /// the state the caller saw.
    async fn explain_no_change(&self, clinic: &Clinic, id: ScreeningId) -> StoreError {
        match self.get(clinic, id).await {
            Ok(None) => StoreError::NotFound,
            Ok(Some(s)) if s.status != Status::PendingReview => {
                StoreError::Conflict("the screening has already been reviewed")
            }
            Ok(Some(_)) => StoreError::Conflict("the screening changed meanwhile: read it again"),
            Err(e) => e,
        }
    }

    /// Replaces the answers of a screening pending review, if it is still at
    /// `version`; the previous answers and evaluation go to the history.
    pub async fn correct_answers(
        &self,
        current: &Screening,
        answers: &StoredAnswers,
        evaluation: &Evaluation,
        at: &str,
        actor: &Actor,
    ) -> Result<Screening, StoreError> {
        let suggested = evaluation.outcome;
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE screenings SET suggested = $1, answers = $2, evaluation = $3, answers_version = answers_version + 1, updated_at = $4, \
             priority = $8, external_ref = $9 \
             WHERE id = $5 AND clinic = $6 AND status = 'pending_review' AND answers_version = $7",
        )
        .bind(suggested.as_str())
        .bind(answers.json.get())
        .bind(to_json(evaluation))
        .bind(at)
        .bind(current.id.to_string())
        .bind(current.clinic.as_str())
        .bind(current.answers_version)
        .bind(suggested.precedence())
        .bind(answers.external_ref.as_deref())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let data = EventData::AnswersCorrected(AnswersCorrectedData {
            previous_answers_version: current.answers_version,
            answers_version: current.answers_version + 1,
            previous_answers: current.answers.clone(),
            previous_evaluation: current.evaluation.clone(),
            suggested_outcome: suggested,
        });
        self.finish_change(tx, changed, current, &data, at, actor)
            .await
    }

    /// Records a clinician's review of a screening pending review, if it is
    /// still at the answers version the clinician saw. The database settles
    /// a race: of two reviews, one changes the row and the other `Conflict`s.
    pub async fn review(
        &self,
        current: &Screening,
        status: Status,
        review: &Review,
        actor: &Actor,
    ) -> Result<Screening, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE screenings SET status = $1, final_outcome = $2, review = $3, updated_at = $4 \
             WHERE id = $5 AND clinic = $6 AND status = 'pending_review' AND answers_version = $7",
        )
        .bind(status.as_str())
        .bind(review.final_outcome.as_str())
        .bind(to_json(review))
        .bind(&review.reviewed_at)
        .bind(current.id.to_string())
        .bind(current.clinic.as_str())
        .bind(current.answers_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let data = EventData::Reviewed(ReviewedData {
            status,
            suggested_outcome: current.suggested_outcome,
            answers_version: current.answers_version,
            review: review.clone(),
        });
        self.finish_change(tx, changed, current, &data, &review.reviewed_at, actor)
            .await
    }

    /// Ends a guarded change of `current`: when the update changed nothing
    /// (no such screening, or not in the state the caller saw), undoes it and
    /// says why; otherwise appends the event, commits, and reads the record.
    async fn finish_change(
        &self,
        mut tx: Transaction<'_, Any>,
        changed: u64,
        current: &Screening,
        data: &EventData,
        at: &str,
        actor: &Actor,
    ) -> Result<Screening, StoreError> {
        if changed == 0 {
            tx.rollback().await?;
            return Err(self.explain_no_change(&current.clinic, current.id).await);
        }
        append_event(&mut tx, current.id, data, at, actor).await?;
        tx.commit().await?;
        self.get(&current.clinic, current.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The last change of a screening of the clinic (its creation, a
    /// correction or its review): what, when and by whom; never the data.
    pub async fn last_change(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
    ) -> Result<Option<LastChange>, StoreError> {
        let row = sqlx::query(
            "SELECT e.kind, e.at, e.actor FROM screening_events e JOIN screenings s ON s.id = e.screening_id \
             WHERE e.screening_id = $1 AND s.clinic = $2 AND e.kind IN ('created', 'answers_corrected', 'reviewed') \
             ORDER BY e.seq DESC LIMIT 1",
        )
        .bind(id.to_string())
        .bind(clinic.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(LastChange {
                kind: json(&format!("\"{}\"", row.try_get::<String, _>("kind")?))?,
                at: row.try_get("at")?,
                actor: json(&row.try_get::<String, _>("actor")?)?,
            })
        })
        .transpose()
    }

    /// Who created a screening of the clinic (its `created` event's actor).
    pub async fn created_by(
        &self,
        clinic: &Clinic,
        id: ScreeningId,
    ) -> Result<Option<Actor>, StoreError> {
        let actor: Option<String> = sqlx::query_scalar(
            "SELECT e.actor FROM screening_events e JOIN screenings s ON s.id = e.screening_id \
             WHERE e.screening_id = $1 AND s.clinic = $2 AND e.kind = 'created'",
        )
        .bind(id.to_string())
        .bind(clinic.as_str())
        .fetch_optional(&self.pool)
        .await?;
        actor.as_deref().map(json).transpose()
    }

    /// Appends events that change nothing else (CDS feedback), all in one
    /// transaction, each under its screening's row lock like every other
    /// event, so that its number is the next one whatever else is written
    /// at the same time.
    pub async fn record_events(
        &self,
        clinic: &Clinic,
        events: &[(ScreeningId, EventData)],
        at: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (id, data) in events {
            let locked = sqlx::query(
                "UPDATE screenings SET updated_at = updated_at WHERE id = $1 AND clinic = $2",
            )
            .bind(id.to_string())
            .bind(clinic.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if locked == 0 {
                tx.rollback().await?;
                return Err(StoreError::NotFound);
            }
            append_event(&mut tx, *id, data, at, actor).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The statistics of the screenings of `clinic` created in `period`,
    /// read one row at a time.
    pub async fn stats(
        &self,
        clinic: &Clinic,
        period: &crate::screening::Period,
    ) -> Result<Stats, StoreError> {
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
