//! What a programme lead asks of a period: how many screenings, what the
//! rules suggested, how often clinicians overrode them (overall and per
//! criterion), how long a review took, and the outcomes week by week.
//! Built one stored screening at a time, so that a long period is never
//! held in memory beyond one number per reviewed screening.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::record::Status;
use crate::rules::Outcome;

/// The criterion codes of a stored evaluation: those that drove the
/// suggestion (`reasons`) and every other that fired.
#[derive(Debug, Default, Deserialize)]
pub struct FiredCodes {
    #[serde(default)]
    reasons: Vec<Code>,
    #[serde(default)]
    held_findings: Vec<Code>,
    #[serde(default)]
    cautions: Vec<Code>,
    #[serde(default)]
    supports: Vec<Code>,
}

#[derive(Debug, Deserialize)]
struct Code {
    code: String,
}

/// One stored screening, as the statistics read it.
#[derive(Debug)]
pub struct StatsRow {
    pub suggested: Outcome,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// When a clinician reviewed it.
    pub reviewed_at: Option<DateTime<Utc>>,
    pub fired: FiredCodes,
}

/// How a criterion fared in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CriterionStats {
    #[schema(example = "PT_FAILED")]
    pub code: String,
    /// Screenings in which it fired (as a reason, caution or support).
    pub fired: u64,
    /// Screenings whose suggestion it drove: one of the reasons or, for a
    /// likely candidate (which has none), one of its supporting findings.
    pub drove: u64,
    /// Of those it drove, how many were reviewed.
    pub drove_reviewed: u64,
    /// Of those it drove, how many a clinician overrode.
    pub overridden: u64,
    /// `overridden / drove_reviewed`; null before any review.
    pub override_rate: Option<f64>,
}

/// The screenings created in one week (Monday to Sunday, UTC).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WeekStats {
    /// The week's Monday.
    #[schema(format = Date, example = "2026-11-23")]
    pub week: String,
    pub screenings: u64,
    /// Every outcome code, with zero where none.
    pub by_suggested_outcome: BTreeMap<String, u64>,
}

/// `GET /v1/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stats {
    /// The period: created at or after `from`, before `to` (null: open).
    #[schema(format = DateTime)]
    pub from: Option<String>,
    #[schema(format = DateTime)]
    pub to: Option<String>,
    pub screenings: u64,
    /// Every outcome code, with zero where none.
    pub by_suggested_outcome: BTreeMap<String, u64>,
    pub reviewed: u64,
    pub confirmed: u64,
    pub overridden: u64,
    /// `overridden / reviewed`; null before any review.
    pub override_rate: Option<f64>,
    /// Each criterion that fired, most often driving first.
    pub by_criterion: Vec<CriterionStats>,
    /// From creation to review, over the reviewed screenings; null before
    /// any review.
    pub median_minutes_to_review: Option<f64>,
    /// Oldest week first, weeks without a screening included.
    pub by_week: Vec<WeekStats>,
}

fn zero_outcomes() -> BTreeMap<String, u64> {
    Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_string(), 0))
        .collect()
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn monday(t: DateTime<Utc>) -> NaiveDate {
    let day = t.date_naive();
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

#[derive(Default)]
struct Criterion {
    fired: u64,
    drove: u64,
    drove_reviewed: u64,
    overridden: u64,
}

/// Adds screenings one at a time; `finish` gives the statistics.
#[derive(Default)]
pub struct StatsBuilder {
    screenings: u64,
    by_outcome: HashMap<Outcome, u64>,
    reviewed: u64,
    overridden: u64,
    criteria: HashMap<String, Criterion>,
    minutes: Vec<f64>,
    weeks: BTreeMap<NaiveDate, HashMap<Outcome, u64>>,
}

impl StatsBuilder {
    pub fn add(&mut self, row: StatsRow) {
        self.screenings += 1;
        *self.by_outcome.entry(row.suggested).or_default() += 1;
        *self
            .weeks
            .entry(monday(row.created_at))
            .or_default()
            .entry(row.suggested)
            .or_default() += 1;
        let reviewed = row.status != Status::PendingReview;
        let overridden = row.status == Status::Overridden;
        if reviewed {
            self.reviewed += 1;
            if let Some(at) = row.reviewed_at {
                self.minutes
                    .push((at - row.created_at).num_milliseconds().max(0) as f64 / 60_000.0);
            }
        }
        if overridden {
            self.overridden += 1;
        }
        let mut seen: Vec<&str> = Vec::new();
        // A likely candidate has no reasons: its supporting findings are
        // what a clinician disagrees with when overriding it.
        let driving = if row.fired.reasons.is_empty() {
            &row.fired.supports
        } else {
            &row.fired.reasons
        };
        let drove: Vec<&str> = driving.iter().map(|c| c.code.as_str()).collect();
        let all = row
            .fired
            .reasons
            .iter()
            .chain(&row.fired.held_findings)
            .chain(&row.fired.cautions)
            .chain(&row.fired.supports);
        for code in all.map(|c| c.code.as_str()) {
            if seen.contains(&code) {
                continue;
            }
            seen.push(code);
            let c = self.criteria.entry(code.to_string()).or_default();
            c.fired += 1;
            if drove.contains(&code) {
                c.drove += 1;
                c.drove_reviewed += u64::from(reviewed);
                c.overridden += u64::from(overridden);
            }
        }
    }

    pub fn finish(mut self, from: Option<String>, to: Option<String>) -> Stats {
        let outcomes = |counts: &HashMap<Outcome, u64>| {
            let mut map = zero_outcomes();
            for (o, n) in counts {
                map.insert(o.as_str().to_string(), *n);
            }
            map
        };
        let mut by_criterion: Vec<CriterionStats> = self
            .criteria
            .into_iter()
            .map(|(code, c)| CriterionStats {
                code,
                fired: c.fired,
                drove: c.drove,
                drove_reviewed: c.drove_reviewed,
                overridden: c.overridden,
                override_rate: rate(c.overridden, c.drove_reviewed),
            })
            .collect();
        by_criterion.sort_by(|a, b| {
            (b.drove, b.fired)
                .cmp(&(a.drove, a.fired))
                .then_with(|| a.code.cmp(&b.code))
        });
        self.minutes.sort_by(f64::total_cmp);
        let median = match self.minutes.len() {
            0 => None,
            n if n % 2 == 1 => Some(self.minutes[n / 2]),
            n => Some((self.minutes[n / 2 - 1] + self.minutes[n / 2]) / 2.0),
        };
        let mut by_week = Vec::new();
        if let (Some(first), Some(last)) = (
            self.weeks.keys().next().copied(),
            self.weeks.keys().last().copied(),
        ) {
            let mut week = first;
            while week <= last {
                let counts = self.weeks.remove(&week).unwrap_or_default();
                by_week.push(WeekStats {
                    week: week.to_string(),
                    screenings: counts.values().sum(),
                    by_suggested_outcome: outcomes(&counts),
                });
                week += Duration::days(7);
            }
        }
        Stats {
            from,
            to,
            screenings: self.screenings,
            by_suggested_outcome: outcomes(&self.by_outcome),
            reviewed: self.reviewed,
            confirmed: self.reviewed - self.overridden,
            overridden: self.overridden,
            override_rate: rate(self.overridden, self.reviewed),
            by_criterion,
            median_minutes_to_review: median,
            by_week,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        suggested: Outcome,
        status: Status,
        created: &str,
        minutes: i64,
        drove: &[&str],
        other: &[&str],
    ) -> StatsRow {
        let created_at: DateTime<Utc> = created.parse().unwrap();
        let codes = |c: &[&str]| {
            c.iter()
                .map(|c| Code {
                    code: c.to_string(),
                })
                .collect()
        };
        StatsRow {
            suggested,
            status,
            created_at,
            reviewed_at: (status != Status::PendingReview)
                .then(|| created_at + Duration::minutes(minutes)),
            fired: FiredCodes {
                reasons: codes(drove),
                cautions: codes(other),
                ..FiredCodes::default()
            },
        }
    }

    #[test]
    fn overrides_are_counted_against_the_criteria_that_drove_them() {
        let mut b = StatsBuilder::default();
        b.add(row(
            Outcome::LikelyCandidate,
            Status::Overridden,
            "2026-11-02T10:00:00Z",
            30,
            &["A"],
            &["C"],
        ));
        b.add(row(
            Outcome::LikelyCandidate,
            Status::Confirmed,
            "2026-11-03T10:00:00Z",
            10,
            &["A"],
            &[],
        ));
        b.add(row(
            Outcome::UrgentEvaluation,
            Status::PendingReview,
            "2026-11-17T10:00:00Z",
            0,
            &["R"],
            &["C"],
        ));
        let s = b.finish(None, None);
        assert_eq!(
            (s.screenings, s.reviewed, s.confirmed, s.overridden),
            (3, 2, 1, 1)
        );
        assert_eq!(s.override_rate, Some(0.5));
        assert_eq!(s.median_minutes_to_review, Some(20.0));
        let a = s.by_criterion.iter().find(|c| c.code == "A").unwrap();
        assert_eq!(
            (
                a.fired,
                a.drove,
                a.drove_reviewed,
                a.overridden,
                a.override_rate
            ),
            (2, 2, 2, 1, Some(0.5))
        );
        let c = s.by_criterion.iter().find(|c| c.code == "C").unwrap();
        assert_eq!(
            (c.fired, c.drove, c.overridden, c.override_rate),
            (2, 0, 0, None)
        );
        // Three weeks, the empty middle one included, Monday first.
        let weeks: Vec<_> = s
            .by_week
            .iter()
            .map(|w| (w.week.as_str(), w.screenings))
            .collect();
        assert_eq!(
            weeks,
            [("2026-11-02", 2), ("2026-11-09", 0), ("2026-11-16", 1)]
        );
        assert_eq!(s.by_suggested_outcome["likely_candidate"], 2);
        assert_eq!(s.by_suggested_outcome["not_yet_eligible"], 0);
    }

    #[test]
    fn nothing_reviewed_has_no_rate_and_no_median() {
        let s = StatsBuilder::default().finish(None, None);
        assert_eq!((s.override_rate, s.median_minutes_to_review), (None, None));
        assert!(s.by_week.is_empty());
    }
}
