use facet_screen::cases::compare;
use facet_screen::screening::Evaluation;
use serde_json::{Value, json};

use crate::helpers::{case_answers, cases, spawn_app, spawn_with};

#[tokio::test]
async fn every_worked_case_gives_its_expected_outcome_over_http() {
    let default = spawn_app().await;
    let asra = spawn_with(|s| s.profile = Some("asra_2020".into())).await;
    let cases = cases();
    assert!(cases.len() >= 32, "the worked cases are all read");
    for case in cases {
        let app = match case.profile.as_deref() {
            Some("asra_2020") => &asra,
            None => &default,
            Some(other) => panic!("no app for profile {other}"),
        };
        let res = app.evaluate(&case.answers).await;
        assert_eq!(res.status(), 200, "case {}", case.id);
        let ev: Evaluation = res.json().await.unwrap();
        let failures = compare(&case.expected, &ev);
        assert!(failures.is_empty(), "case {}: {failures:?}", case.id);
        assert!(ev.requires_clinician_confirmation, "case {}", case.id);
        assert_eq!(
            ev.ruleset.profile,
            case.profile.as_deref().unwrap_or("cms_lcd")
        );
    }
}

#[tokio::test]
async fn full_responses_of_worked_cases_are_as_reviewed() {
    let app = spawn_app().await;
    for id in [
        "ideal-candidate",
        "cauda-equina",
        "nothing-answered",
        "pt-not-tried",
        "block-relief-unknown",
        "third-block-relief-unknown",
        "known-exclusion-behind-unanswered-red-flag",
    ] {
        let body: Value = app.evaluate(&case_answers(id)).await.json().await.unwrap();
        insta::assert_json_snapshot!(id, body, {
            ".evaluated_at" => "[evaluated_at]",
            ".ruleset.digest" => "[digest]",
        });
    }
}

#[tokio::test]
async fn a_red_flag_wins_whatever_else_is_true() {
    let app = spawn_app().await;
    // A child, leg-dominant pain, a negative block, unknown readiness: and a red flag.
    let mut answers = case_answers("negative-block");
    answers["patient"]["age_years"] = json!(12);
    answers["pain"]["predominantly_axial"] = json!(false);
    answers["readiness"] = Value::Null;
    answers["red_flags"]["fever_or_infection_risk"] = json!(true);
    answers["red_flags"]["saddle_anesthesia"] = Value::Null;
    let ev: Evaluation = app.evaluate(&answers).await.json().await.unwrap();
    assert_eq!(ev.outcome.as_str(), "urgent_evaluation");
    let codes: Vec<&str> = ev.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["RF_INFECTION"]);
    assert!(ev.next_steps[0].contains("same-day"), "{:?}", ev.next_steps);
}

#[tokio::test]
async fn unknown_is_never_read_as_no() {
    let app = spawn_app().await;
    let mut answers = case_answers("ideal-candidate");
    // `pain.low_back: false` would exclude; null must not.
    answers["pain"]["low_back"] = Value::Null;
    let ev: Evaluation = app.evaluate(&answers).await.json().await.unwrap();
    assert_eq!(ev.outcome.as_str(), "needs_more_information");
    let missing: Vec<(&str, bool)> = ev
        .missing
        .iter()
        .map(|m| (m.id.as_str(), m.required))
        .collect();
    assert_eq!(missing, [("pain.low_back", true)]);
    assert_eq!(
        ev.missing[0].question,
        "Is low back pain the main complaint?"
    );
    assert!(
        ev.summary.contains("Required answers missing: 1."),
        "{}",
        ev.summary
    );
}

#[tokio::test]
async fn missing_lists_required_answers_first() {
    let app = spawn_app().await;
    let ev: Evaluation = app.evaluate(&json!({})).await.json().await.unwrap();
    let first_optional = ev
        .missing
        .iter()
        .position(|m| !m.required)
        .expect("some optional");
    assert!(ev.missing[first_optional..].iter().all(|m| !m.required));
    assert!(
        ev.missing[..first_optional]
            .iter()
            .any(|m| m.id == "red_flags.saddle_anesthesia")
    );
    // Optional ones are listed too: prior fusion can still exclude.
    assert!(
        ev.missing[first_optional..]
            .iter()
            .any(|m| m.id == "readiness.prior_fusion_at_painful_level")
    );
}

#[tokio::test]
async fn every_reason_shows_the_answers_it_read_and_its_sources() {
    let app = spawn_app().await;
    let ev: Evaluation = app
        .evaluate(&case_answers("acute-pain"))
        .await
        .json()
        .await
        .unwrap();
    let reason = ev
        .reasons
        .iter()
        .find(|r| r.code == "CHRONIC_PAIN")
        .unwrap();
    assert_eq!(reason.answers.len(), 1);
    assert_eq!(reason.answers[0].id, "pain.duration_months");
    assert_eq!(reason.answers[0].value, json!(2));
    assert!(reason.sources.iter().any(|s| s.citation.contains("L38801")));
    assert_eq!(ev.questionnaire_version, "1");
    assert_eq!(ev.ruleset.version, "1.0.0");
    assert!(ev.ruleset.digest.starts_with("sha256:") && ev.ruleset.digest.len() == 71);
    assert!(ev.disclaimer.contains("clinician must confirm"));
}

#[tokio::test]
async fn the_profile_changes_the_thresholds_and_is_named() {
    let cms = spawn_app().await;
    let asra = spawn_with(|s| s.profile = Some("asra_2020".into())).await;
    let mut answers = case_answers("ideal-candidate");
    answers["diagnostic_blocks"] = json!([{"kind": "medial_branch_block", "pain_relief_percent": 60, "relief_matches_anesthetic": true}]);
    let a: Evaluation = cms.evaluate(&answers).await.json().await.unwrap();
    let b: Evaluation = asra.evaluate(&answers).await.json().await.unwrap();
    assert_eq!(
        (a.outcome.as_str(), a.ruleset.profile.as_str()),
        ("unlikely_candidate", "cms_lcd")
    );
    assert_eq!(
        (b.outcome.as_str(), b.ruleset.profile.as_str()),
        ("likely_candidate", "asra_2020")
    );
    assert_eq!(
        a.ruleset.digest, b.ruleset.digest,
        "same files, another profile"
    );
}

#[tokio::test]
async fn a_pasted_reference_with_a_hidden_tab_is_refused_in_words_a_nurse_uses() {
    let app = spawn_app().await;
    let res = app
        .evaluate(&json!({"patient": {"external_ref": "MRN-0042\t"}}))
        .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "patient.external_ref");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("tab, line break"), "{message}");
    assert!(!message.contains("null"), "{message}");
    assert!(!message.contains("MRN"), "never the value: {message}");
}
