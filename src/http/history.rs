//! A screening's history, a page at a time: parse the page's parameters,
//! call `crate::service`, answer the events and the next page's link.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::json::Json;
use super::problem::{ApiError, Problem};
use crate::auth::{Action, Caller};
use crate::questionnaire::FieldError;
use crate::screening::ScreeningId;
use crate::screening::events::Event;
use crate::screening::history::HistoryCursor;

pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 500;

/// The page of a history: parsed from this one struct, which the OpenAPI
/// document describes too. Every value is read as text first, so that each
/// bad one is named.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Events per page, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// From the `next` link of the previous page.
    cursor: Option<String>,
    /// Anything else is refused, by name.
    #[serde(flatten)]
    #[param(ignore)]
    unknown: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    /// Oldest first, numbered from 1 across pages. Events are append-only;
    /// a `viewed` event counts a key's repeated reads (its `data`).
    pub events: Vec<Event>,
    /// The next page, or null on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// Where a page ended, for this screening only, opaque to the client.
fn encode_cursor(id: ScreeningId, c: &HistoryCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{id}\n{}\n{}\n{}\n{}",
        c.position, c.seq, c.view_n, c.view_at
    ))
}

/// A cursor this service made for the history of `id`.
fn decode_cursor(id: ScreeningId, cursor: &str) -> Option<HistoryCursor> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.splitn(5, '\n');
    if ScreeningId::parse(parts.next()?)? != id {
        return None;
    }
    let mut number = || parts.next()?.parse::<i64>().ok().filter(|n| *n >= 0);
    let (position, seq, view_n) = (number()?, number()?, number()?);
    let view_at = parts.next()?;
    if !view_at.is_empty() {
        chrono::DateTime::parse_from_rfc3339(view_at).ok()?;
    }
    Some(HistoryCursor {
        position,
        seq,
        view_at: view_at.to_string(),
        view_n,
    })
}

/// The page asked for.
struct Page {
    after: HistoryCursor,
    limit: u32,
    /// The parameters to repeat in `next`.
    kept: Vec<(String, String)>,
}

impl HistoryParams {
    /// The page of the history of `id` asked for; each bad parameter named.
    fn page(self, id: ScreeningId) -> Result<Page, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let (mut after, mut limit, mut kept) = (HistoryCursor::default(), DEFAULT_PAGE, Vec::new());
        if let Some(v) = &self.limit {
            match v.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => limit = n,
                _ => bad(
                    "limit",
                    format!("expected a page size from 1 to {MAX_PAGE}"),
                ),
            }
            kept.push(("limit".to_string(), v.clone()));
        }
        if let Some(v) = &self.cursor {
            match decode_cursor(id, v) {
                Some(c) => after = c,
                None => bad(
                    "cursor",
                    "expected the cursor of a `next` link of this history".into(),
                ),
            }
        }
        for name in self.unknown.keys() {
            bad(name, "unknown parameter; expected limit or cursor".into());
        }
        if errors.is_empty() {
            Ok(Page { after, limit, kept })
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

/// The audit trail of a screening.
///
/// Its changes and its reads, oldest first, a page at a time: follow `next`
/// for the following page. A key's reads of the record less than the
/// service's window apart (15 minutes unless set), with no change in
/// between, are one `viewed` event with their count, first and last time.
#[utoipa::path(get, path = "/v1/screenings/{id}/history", operation_id = "getHistory", tag = "screenings", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), HistoryParams),
    responses(
        (status = 200, description = "A page of the screening's history, oldest first", body = History),
        (status = 400, description = "A malformed query string (say, a parameter given twice)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such screening", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad page size or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<History>, ApiError> {
    caller.may(Action::ReadHistory)?;
    let id = ScreeningId::parse(&id).ok_or(ApiError::NotFound("screening"))?;
    let Query(params) =
        query.map_err(|_| ApiError::InvalidHeader("query", "malformed query string"))?;
    let Page {
        after,
        limit,
        mut kept,
    } = params.page(id)?;
    let page = app
        .screenings
        .history(&caller.clinic, id, &after, limit)
        .await?;
    let next = match page.next {
        None => None,
        Some(cursor) => {
            kept.push(("cursor".into(), encode_cursor(id, &cursor)));
            let query = serde_urlencoded::to_string(&kept).map_err(|_| ApiError::Internal)?;
            Some(format!("/v1/screenings/{id}/history?{query}"))
        }
    };
    Ok(Json(History {
        events: page.events,
        next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_for_its_own_history_only() {
        let (id, other) = (ScreeningId::new(), ScreeningId::new());
        for c in [
            HistoryCursor::default(),
            HistoryCursor {
                position: 101,
                seq: 3,
                view_at: "2026-11-25T09:00:00.000001Z".into(),
                view_n: 98_765,
            },
        ] {
            let text = encode_cursor(id, &c);
            assert_eq!(decode_cursor(id, &text), Some(c));
            assert_eq!(decode_cursor(other, &text), None);
        }
        for bad in [
            "",
            "zzz",
            &URL_SAFE_NO_PAD.encode(format!("{id}\n-1\n0\n0\n")),
        ] {
            assert_eq!(decode_cursor(id, bad), None, "{bad}");
        }
    }
}
