//! The words follow the lists (contract v1.1, section 6), and an unknown
//! answer never counts as "no": over every worked case over HTTP, and over
//! every case with each of its answers in turn made unknown.

use facet_screen::questionnaire::Answers;
use facet_screen::rules::{Outcome, RuleFiles, RuleSet};
use facet_screen::screening::{Evaluation, evaluate};
use serde_json::Value;

use crate::helpers::{cases, spawn_app, spawn_with};

/// Sentences that claim the screening is complete.
const COMPLETE: &[&str] = &[
    "every required answer is given",
    "every screening criterion is met",
    "every criterion",
    "everything else fits",
];

/// What is wrong with an evaluation's words, given its lists.
fn contradictions(ev: &Evaluation) -> Vec<String> {
    let mut out = Vec::new();
    let texts: Vec<String> = std::iter::once(ev.summary.to_string())
        .chain(ev.next_steps.iter().map(|s| s.to_string()))
        .map(|t| t.to_lowercase())
        .collect();
    let says = |words: &str| texts.iter().any(|t| t.contains(words));
    let required = ev.missing.iter().filter(|m| m.required).count();
    if required > 0 {
        for claim in COMPLETE.iter().filter(|c| says(c)) {
            out.push(format!(
                "claims `{claim}` while {required} required answer(s) are missing"
            ));
        }
        if matches!(
            ev.outcome,
            Outcome::LikelyCandidate | Outcome::NeedsDiagnosticBlock
        ) {
            out.push("a suggestion that fits while a required answer is missing".into());
        }
    }
    if ev.missing.is_empty() && says("missing") {
        out.push("mentions missing answers while none is listed".into());
    }
    if required == 0 && (says("required answers missing") || says("required questions")) {
        out.push("mentions required answers while none is listed".into());
    }
    if texts
        .iter()
        .any(|t| t.contains(": 0.") || t.contains(" 0 "))
    {
        out.push("counts zero of something".into());
    }
    if ev.outcome == Outcome::NeedsMoreInformation && required == 0 && ev.reasons.is_empty() {
        out.push("needs more information without saying what".into());
    }
    if !ev.held_findings.is_empty() {
        if ev.outcome != Outcome::NeedsMoreInformation {
            out.push("held findings beside a definite outcome".into());
        }
        for f in &ev.held_findings {
            if !ev.summary.contains(f.title.as_str()) {
                out.push(format!("held {} is not named in the summary", f.code));
            }
        }
    }
    if ev.next_steps.is_empty() {
        out.push("no next step".into());
    }
    out
}

#[tokio::test]
async fn every_worked_case_says_what_its_lists_say() {
    let default = spawn_app().await;
    let asra = spawn_with(|s| s.profile = Some("asra_2020".into())).await;
    for case in cases() {
        let app = match case.profile.as_deref() {
            Some("asra_2020") => &asra,
            _ => &default,
        };
        let ev: Evaluation = app.evaluate(&case.answers).await.json().await.unwrap();
        let wrong = contradictions(&ev);
        assert!(
            wrong.is_empty(),
            "case {}: {wrong:?}\n{}",
            case.id,
            ev.summary
        );
    }
}

/// Every answered leaf of a case: `(section, name)` or a block's field.
fn leaves(answers: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (section, v) in answers.as_object().into_iter().flatten() {
        match v {
            Value::Object(fields) => {
                out.extend(fields.keys().map(|k| vec![section.clone(), k.clone()]))
            }
            Value::Array(entries) => {
                out.push(vec![section.clone()]);
                for (i, e) in entries.iter().enumerate() {
                    for k in e.as_object().into_iter().flatten().map(|(k, _)| k) {
                        out.push(vec![section.clone(), i.to_string(), k.clone()]);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn without(answers: &Value, leaf: &[String]) -> Value {
    let mut out = answers.clone();
    let mut at = &mut out;
    for step in &leaf[..leaf.len() - 1] {
        at = match step.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[step.as_str()],
        };
    }
    at.as_object_mut()
        .expect("an object")
        .remove(&leaf[leaf.len() - 1]);
    out
}

#[test]
fn an_answer_made_unknown_never_gives_a_suggestion_that_fits() {
    let files = RuleFiles::embedded();
    let mut checked = 0;
    for case in cases() {
        let rules = RuleSet::load(&files, case.profile.as_deref()).unwrap();
        for leaf in leaves(&case.answers) {
            let answers = without(&case.answers, &leaf);
            let parsed = Answers::parse(&rules.fields, &answers).unwrap();
            let ev = evaluate(&rules, &parsed, chrono::Utc::now());
            let wrong = contradictions(&ev);
            assert!(
                wrong.is_empty(),
                "case {} without {leaf:?}: {wrong:?}\n{}",
                case.id,
                ev.summary
            );
            // The answer made unknown is listed (unless a shown-when hides
            // its question, or it was not read by any rule).
            let id = match leaf.as_slice() {
                [s, k] => format!("{s}.{k}"),
                [s] => s.clone(),
                [s, i, k] => format!("{s}[{i}].{k}"),
                _ => unreachable!(),
            };
            if let Some(m) = ev.missing.iter().find(|m| m.id == id)
                && m.required
            {
                assert!(
                    !matches!(
                        ev.outcome,
                        Outcome::LikelyCandidate | Outcome::NeedsDiagnosticBlock
                    ),
                    "case {} without {id}: {:?}",
                    case.id,
                    ev.outcome
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} variants checked");
}

#[tokio::test]
async fn a_block_of_unknown_relief_beside_two_positive_ones_is_not_yet_a_candidate() {
    let app = spawn_app().await;
    let case = cases()
        .into_iter()
        .find(|c| c.id == "third-block-relief-unknown")
        .unwrap();
    let ev: Evaluation = app.evaluate(&case.answers).await.json().await.unwrap();
    assert_eq!(ev.outcome, Outcome::NeedsMoreInformation);
    let missing: Vec<(&str, bool)> = ev
        .missing
        .iter()
        .map(|m| (m.id.as_str(), m.required))
        .collect();
    assert_eq!(
        missing,
        [("diagnostic_blocks[2].pain_relief_percent", true)]
    );
    assert_eq!(
        ev.summary,
        "More information is needed before a suggestion can be made. Required answers missing: 1. The suggestion could change once they are answered."
    );
    assert_eq!(
        ev.next_steps,
        ["Answer the required questions listed as missing, then evaluate again."]
    );
}

#[tokio::test]
async fn a_known_exclusion_is_shown_behind_an_unanswered_red_flag() {
    let app = spawn_app().await;
    let case = cases()
        .into_iter()
        .find(|c| c.id == "known-exclusion-behind-unanswered-red-flag")
        .unwrap();
    let body: Value = app.evaluate(&case.answers).await.json().await.unwrap();
    assert_eq!(body["outcome"], "needs_more_information");
    assert_eq!(body["reasons"], serde_json::json!([]));
    assert_eq!(body["held_findings"][0]["code"], "ADULT");
    assert_eq!(body["held_findings"][0]["effect"], "exclude");
    let summary = body["summary"].as_str().unwrap();
    assert!(
        summary.contains("patient younger than the adult pathway")
            && summary.contains("Unlikely candidate"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_likely_candidate_names_what_is_still_unknown_and_could_change_it() {
    let app = spawn_app().await;
    let mut answers = crate::helpers::case_answers("ideal-candidate");
    answers["readiness"]
        .as_object_mut()
        .unwrap()
        .remove("prior_fusion_at_painful_level");
    let ev: Evaluation = app.evaluate(&answers).await.json().await.unwrap();
    // The contract does not require this answer for a suggestion...
    assert_eq!(ev.outcome, Outcome::LikelyCandidate);
    assert_eq!(
        ev.missing
            .iter()
            .map(|m| (m.id.as_str(), m.required))
            .collect::<Vec<_>>(),
        [("readiness.prior_fusion_at_painful_level", false)]
    );
    // ...but the words say it is unknown, and that it could change it.
    assert!(
        !ev.summary.contains("every screening criterion is met"),
        "{}",
        ev.summary
    );
    assert!(
        ev.summary
            .contains("Still to check, as each could change this suggestion: prior fusion at the painful level."),
        "{}",
        ev.summary
    );
    assert!(
        ev.next_steps
            .iter()
            .any(|s| s.contains("prior fusion at the painful level")),
        "{:?}",
        ev.next_steps
    );
}

/// The profile's numbers are in the words: a nurse reads the threshold the
/// suggestion used, not a number written for another profile.
#[tokio::test]
async fn the_words_carry_the_numbers_of_the_profile_in_use() {
    let mut answers = crate::helpers::case_answers("ideal-candidate");
    answers["diagnostic_blocks"] = serde_json::json!([]);
    answers["pain"]["duration_months"] = serde_json::json!(2);
    for (profile, blocks, relief) in [("cms_lcd", "2", "80%"), ("asra_2020", "1", "50%")] {
        let app = spawn_with(|s| s.profile = Some(profile.into())).await;
        let mut all = answers.clone();
        all["pain"]["duration_months"] = serde_json::json!(14);
        let ev: Value = app.evaluate(&all).await.json().await.unwrap();
        let dual = ev["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "DUAL_BLOCK")
            .unwrap_or_else(|| panic!("{profile}: {ev}"));
        let message = dual["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "0 of {blocks} positive medial branch blocks (each at least {relief} relief) documented."
            )),
            "{profile}: {message}"
        );
        let ev: Value = app.evaluate(&answers).await.json().await.unwrap();
        let text = ev.to_string();
        assert!(
            text.contains("The pain has lasted less than 3 months"),
            "{text}"
        );
        for placeholder in [
            "{min_",
            "{blocks_",
            "{block_",
            "{bmi_",
            "{max_",
            "{matched}",
            "{listed}",
        ] {
            assert!(!text.contains(placeholder), "{placeholder} left in {text}");
        }
    }
}
