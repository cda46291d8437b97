//! The cards the screening service answers with: one per call, from the
//! screening's evaluation as issued. Their words, and which indicator each
//! outcome shows, are decided here.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;

use super::REASON_SYSTEM;
use super::documents::{CdsCard, CdsCards, CdsLink, CdsSource, Indicator};
use super::feedback::Coding;
use crate::rules::Outcome;
use crate::screening::review::ReasonCode;
use crate::screening::{Evaluation, Screening};
use crate::store::StoreError;

/// CDS Hooks asks for a "<140-character summary message".
const SUMMARY_MAX_CHARS: usize = 139;
const SUMMARY_BEFORE: &str = "facet-screen: ";
/// Never cut: the card is a suggestion, whatever the label's length.
const SUMMARY_AFTER: &str = " (a suggestion for a clinician to confirm)";

/// The card's summary: the outcome's label (from the rule set, so of any
/// length and in any language) shortened to fit, and the words saying it
/// is a suggestion kept whole.
fn summary(label: &str) -> String {
    let room = SUMMARY_MAX_CHARS - SUMMARY_BEFORE.chars().count() - SUMMARY_AFTER.chars().count();
    format!("{SUMMARY_BEFORE}{}{SUMMARY_AFTER}", shortened(label, room))
}

/// `text` if it has at most `max` characters; otherwise as many of its
/// first user-perceived characters (grapheme clusters, so that an accent
/// written as a combining mark stays with its letter) as fit, with an
/// ellipsis, in `max` characters (Unicode scalar values) in all. Never cut
/// through a character, as cutting at a byte index would (a panic).
fn shortened(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    let mut room = max.saturating_sub(1);
    let mut end = 0;
    for (at, grapheme) in text.grapheme_indices(true) {
        let n = grapheme.chars().count();
        if n > room {
            break;
        }
        room -= n;
        end = at + grapheme.len();
    }
    let mut out = text[..end].trim_end().to_string();
    if max > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

fn indicator(outcome: Outcome) -> Indicator {
    match outcome {
        Outcome::UrgentEvaluation => Indicator::Critical,
        Outcome::UnlikelyCandidate | Outcome::NotYetEligible => Indicator::Warning,
        _ => Indicator::Info,
    }
}

fn override_reasons() -> Vec<Coding> {
    use strum::VariantArray as _;
    ReasonCode::VARIANTS
        .iter()
        .map(|r| Coding {
            code: r.as_str().into(),
            system: REASON_SYSTEM.into(),
            display: Some(r.label().into()),
        })
        .collect()
}

/// A link to a page of this service, opened by the clinician.
fn link(label: &str, url: String) -> CdsLink {
    CdsLink {
        label: label.into(),
        url,
        kind: "absolute".into(),
    }
}

/// The card when the patient has not answered the questionnaire yet.
pub(super) fn no_response_card(public_url: &str) -> CdsCards {
    CdsCards {
        cards: vec![CdsCard {
            uuid: uuid::Uuid::new_v4().to_string(),
            summary: "facet-screen: no questionnaire response for this patient yet".into(),
            detail: None,
            indicator: Indicator::Info,
            source: CdsSource {
                label: "facet-screen".into(),
                url: None,
            },
            links: vec![link(
                "Open the facet-screen intake form",
                format!("{public_url}/#/intake"),
            )],
            override_reasons: None,
        }],
    }
}

/// The card of a stored screening: its evaluation as issued (the first
/// one, on a retry), with the basis, a link to review it and the override
/// reasons; and the outcome it shows. `Err` when the evaluation stored does
/// not read as one.
pub(super) fn card(
    public_url: &str,
    screening: &Screening,
) -> Result<(CdsCards, Outcome), StoreError> {
    let evaluation: Evaluation = serde_json::from_str(screening.evaluation.get())
        .map_err(|_| StoreError::Corrupt("a screening's evaluation".into()))?;
    let id = screening.id;
    let mut detail = format!("**{}**: {}\n", evaluation.outcome_label, evaluation.summary);
    if !evaluation.reasons.is_empty() {
        detail.push_str("\n**Why**\n");
        for r in &evaluation.reasons {
            detail.push_str(&format!("- {} ({}): {}\n", r.title, r.code, r.message));
        }
    }
    let required: Vec<_> = evaluation.missing.iter().filter(|m| m.required).collect();
    if !required.is_empty() {
        detail.push_str("\n**Missing answers**\n");
        for m in required {
            detail.push_str(&format!("- {}\n", m.question));
        }
    }
    detail.push_str("\n**Next steps**\n");
    for (i, s) in evaluation.next_steps.iter().enumerate() {
        detail.push_str(&format!("{}. {s}\n", i + 1));
    }
    detail.push_str(&format!("\n_{}_\n", evaluation.disclaimer));
    let summary = summary(&evaluation.outcome_label);
    let card = CdsCard {
        uuid: id.to_string(),
        summary,
        detail: Some(detail),
        indicator: indicator(evaluation.outcome),
        source: CdsSource {
            label: format!(
                "facet-screen rules {} ({})",
                evaluation.ruleset.version, evaluation.ruleset.profile
            ),
            url: Some(format!("{public_url}/v1/sources")),
        },
        links: vec![link(
            "Review the screening in facet-screen",
            format!("{public_url}/#/review/{id}"),
        )],
        override_reasons: Some(override_reasons()),
    };
    Ok((CdsCards { cards: vec![card] }, evaluation.outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_kept_as_it_is() {
        assert_eq!(shortened("Likely candidate", 20), "Likely candidate");
        assert_eq!(shortened("confirmación", 12), "confirmación");
    }

    #[test]
    fn a_long_text_is_cut_between_characters_with_an_ellipsis() {
        assert_eq!(shortened("confirmación pendiente", 12), "confirmació…");
        assert_eq!(shortened("neurotomía endoscópica", 11), "neurotomía…");
        // A space before the cut is not left before the ellipsis.
        assert_eq!(shortened("según los criterios", 7), "según…");
        for max in 0..30 {
            let out = shortened("Candidat probable à la neurotomie endoscopique", max);
            assert!(out.chars().count() <= max, "{max}: {out}");
        }
    }

    #[test]
    fn a_letter_and_its_combining_accent_stay_together() {
        // "e" followed by U+0301 COMBINING ACUTE ACCENT: one letter, two chars.
        let decomposed = "cafe\u{301} cafe\u{301}";
        assert_eq!(shortened(decomposed, 6), "cafe\u{301}…");
        assert_eq!(shortened(decomposed, 5), "caf…");
        // A flag is two chars: never half of one.
        assert_eq!(shortened("ab\u{1F1EA}\u{1F1F8}cd", 4), "ab…");
    }

    #[test]
    fn a_summary_is_under_140_characters_and_always_says_it_is_a_suggestion() {
        let label = "Candidato probable a una neurotomía endoscópica del ramo medial según los criterios de selección; pendiente de confirmación por el cirujano";
        let s = summary(label);
        assert_eq!(s.chars().count(), SUMMARY_MAX_CHARS, "{s}");
        assert!(
            s.ends_with("… (a suggestion for a clinician to confirm)"),
            "{s}"
        );
        assert_eq!(
            summary("Likely candidate"),
            "facet-screen: Likely candidate (a suggestion for a clinician to confirm)"
        );
    }
}
