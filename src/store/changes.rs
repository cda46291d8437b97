//! Changes of a screening after its creation: a correction of its answers,
//! its review, and events that change nothing else (CDS feedback), each
//! appended to its history under the screening's row lock, in the same
//! transaction.

use sqlx::{Any, Row, Transaction};

use super::rows::{json, to_json};
use super::screenings::StoredAnswers;
use super::{Store, StoreError};
use crate::screening::events::{AnswersCorrectedData, EventData, EventKind, ReviewedData};
use crate::screening::review::Review;
use crate::screening::{Actor, Clinic, Evaluation, Screening, ScreeningId, Status};

/// A change of a screening, without its data.
pub struct LastChange {
    pub kind: EventKind,
    pub at: String,
    pub actor: Actor,
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
    /// Replaces the answers of `current` if it is still pending review at
    /// its answers version, and reads it again; the previous answers and
    /// evaluation go to the history. `None` when the guarded update changed
    /// nothing: there is no such screening, or it is not as `current` was.
    pub async fn correct_answers(
        &self,
        current: &Screening,
        answers: &StoredAnswers,
        evaluation: &Evaluation,
        at: &str,
        actor: &Actor,
    ) -> Result<Option<Screening>, StoreError> {
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

    /// Records a clinician's review of `current` if it is still pending
    /// review at the answers version the clinician saw, and reads it again.
    /// The database settles a race: of two reviews, one changes the row and
    /// the other changes nothing (`None`).
    pub async fn review(
        &self,
        current: &Screening,
        status: Status,
        review: &Review,
        actor: &Actor,
    ) -> Result<Option<Screening>, StoreError> {
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
    /// (no such screening, or not in the state the caller saw), undoes it
    /// (`None`); otherwise appends the event, commits, and reads the record.
    async fn finish_change(
        &self,
        mut tx: Transaction<'_, Any>,
        changed: u64,
        current: &Screening,
        data: &EventData,
        at: &str,
        actor: &Actor,
    ) -> Result<Option<Screening>, StoreError> {
        if changed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        append_event(&mut tx, current.id, data, at, actor).await?;
        tx.commit().await?;
        let changed = self.get(&current.clinic, current.id).await?;
        changed
            .ok_or_else(|| StoreError::Corrupt("a screening just changed is missing".into()))
            .map(Some)
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
    /// at the same time. `false`, and nothing written, when a screening is
    /// not one of `clinic`'s.
    pub async fn record_events(
        &self,
        clinic: &Clinic,
        events: &[(ScreeningId, EventData)],
        at: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
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
                return Ok(false);
            }
            append_event(&mut tx, *id, data, at, actor).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
