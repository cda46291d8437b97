//! The summary and the first next steps of an evaluation, composed from its
//! outcome and its lists only, so that no sentence contradicts them.

use super::Finding;
use crate::rules::text::Text;
use crate::rules::{Outcome, RuleSet};

/// What the summary and the first next steps say, built from the outcome
/// and the lists only, so that no sentence contradicts them.
pub(super) struct Words<'a> {
    pub(super) rules: &'a RuleSet,
    pub(super) reasons: &'a [Finding],
    pub(super) missing_required: usize,
    pub(super) unknown_count: usize,
    pub(super) held: &'a [Finding],
    pub(super) held_outcome: Outcome,
    pub(super) open: &'a [Finding],
}

impl Words<'_> {
    fn fill(&self, text: &str) -> String {
        if !text.contains('{') {
            return text.to_string();
        }
        let titles =
            |fs: &[Finding]| join_words(&fs.iter().map(|f| f.title.as_str()).collect::<Vec<_>>());
        text.replace("{reasons}", &titles(self.reasons))
            .replace("{missing_count}", &self.missing_required.to_string())
            .replace("{unknown_count}", &self.unknown_count.to_string())
            .replace("{held}", &titles(self.held))
            .replace("{open}", &titles(self.open))
            .replace(
                "{held_outcome}",
                &self.rules.outcome_text(self.held_outcome).label,
            )
    }

    pub(super) fn compose(&self, outcome: Outcome, red_flags_open: bool) -> (Text, Vec<Text>) {
        let text = self.rules.outcome_text(outcome);
        let notes = &self.rules.notes;
        let nmi = outcome == Outcome::NeedsMoreInformation;
        let fits = matches!(
            outcome,
            Outcome::LikelyCandidate | Outcome::NeedsDiagnosticBlock
        );
        let applying = [
            (nmi && red_flags_open, &notes.red_flags_unanswered),
            (nmi && !self.reasons.is_empty(), &notes.requirements),
            (nmi && self.missing_required > 0, &notes.missing_required),
            (!self.held.is_empty(), &notes.held),
            (fits && self.unknown_count > 0, &notes.unknown_optional),
            (fits && !self.open.is_empty(), &notes.open_criteria),
        ];
        // Made here only when it says more than the outcome's own words.
        let mut summary = text.summary.contains('{').then(|| self.fill(&text.summary));
        let mut steps: Vec<Text> = text.next_step.iter().map(|s| self.fill(s).into()).collect();
        for (_, note) in applying.iter().filter(|(applies, _)| *applies) {
            let summary = summary.get_or_insert_with(|| text.summary.to_string());
            summary.push(' ');
            summary.push_str(&self.fill(&note.summary));
            steps.extend(note.next_step.iter().map(|s| self.fill(s).into()));
        }
        let summary = summary.map_or_else(|| text.summary.clone(), Text::from);
        (summary, steps)
    }
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
