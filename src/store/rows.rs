//! Rows read as the domain's values, and values written as JSON text: a
//! row that does not read is `StoreError::Corrupt`, naming what, never a
//! value.

use serde_json::value::RawValue;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use crate::rules::Outcome;
use crate::screening::events::{CreatedData, EventData};
use crate::screening::review::Review;
use crate::screening::{Clinic, Screening, ScreeningId, Status};

pub(super) fn raw(text: String) -> Result<Box<RawValue>, StoreError> {
    RawValue::from_string(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn outcome(text: &str) -> Result<Outcome, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("outcome {text}")))
}

pub(super) fn status(text: &str) -> Result<Status, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("status {text}")))
}

pub(super) fn screening_id(text: &str) -> Result<ScreeningId, StoreError> {
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

// PANIC SAFETY: called only with the store's own domain types (derived
// Serialize, no map with a key that is not a string), which serde_json always
// writes.
#[allow(clippy::expect_used)]
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values serialize")
}
