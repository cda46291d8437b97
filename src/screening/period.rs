//! A period of time, as the statistics and the export take it.

use super::record::timestamp;
use crate::questionnaire::FieldError;

/// Screenings created at or after `from` and before `to`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

impl Period {
    /// The period of the query parameters `from` and `to` (RFC 3339); each
    /// bad one, and an empty period, named in `errors`.
    pub fn parse(from: Option<&str>, to: Option<&str>, errors: &mut Vec<FieldError>) -> Period {
        let mut time = |field: &str, raw: Option<&str>| {
            // An empty value (`?from=&to=`, as a form sends a field left
            // blank) leaves that end open, as leaving it out does.
            let raw = raw.filter(|r| !r.trim().is_empty())?;
            let parsed = chrono::DateTime::parse_from_rfc3339(raw.trim())
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc));
            if parsed.is_none() {
                errors.push(FieldError {
                    field: field.into(),
                    message:
                        "expected a time with its offset (RFC 3339), such as 2026-11-01T00:00:00Z"
                            .into(),
                });
            }
            parsed
        };
        let period = Period {
            from: time("from", from),
            to: time("to", to),
        };
        if let (Some(f), Some(t)) = (period.from, period.to)
            && f >= t
        {
            errors.push(FieldError {
                field: "to".into(),
                message: "must be after `from`".into(),
            });
        }
        period
    }

    /// The ends as stored times (`timestamp`); `None` where open.
    pub fn stored(&self) -> (Option<String>, Option<String>) {
        (self.from.map(timestamp), self.to.map(timestamp))
    }

    /// The ends to compare stored times with, open ends included: every
    /// stored time sorts at or after the first and before the second.
    pub fn bounds(&self) -> (String, String) {
        let (from, to) = self.stored();
        (
            from.unwrap_or_else(|| "0000".into()),
            to.unwrap_or_else(|| "9999".into()),
        )
    }
}
