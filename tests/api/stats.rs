//! `GET /v1/stats`: what the programme lead reads, counted from real
//! screenings and reviews, within the caller's clinic and period.

use serde_json::{Value, json};

use crate::helpers::{Keys, TestApp, case_answers, spawn_app};

async fn review(app: &TestApp, id: &str, body: Value) {
    let res = app
        .post_as(
            &app.keys.clinician,
            &format!("/v1/screenings/{id}/review"),
            &body,
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn statistics_count_outcomes_reviews_and_overrides_per_criterion() {
    let app = spawn_app().await;
    let start = chrono::Utc::now();
    let likely = app.create_screening(&case_answers("ideal-candidate")).await;
    let likely2 = app.create_screening(&case_answers("ideal-candidate")).await;
    let urgent = app.create_screening(&case_answers("fracture-risk")).await;
    review(
        &app,
        likely["id"].as_str().unwrap(),
        json!({"decision": "confirm", "clinician": "dr-okafor"}),
    )
    .await;
    review(
        &app,
        likely2["id"].as_str().unwrap(),
        json!({"decision": "override", "final_outcome": "not_yet_eligible", "clinician": "dr-okafor",
               "reason": {"code": "clinical_judgement"}}),
    )
    .await;

    let res = app.get_as(&app.keys.clinician, "/v1/stats").await;
    assert_eq!(res.status(), 200);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["screenings"], 3);
    assert_eq!(s["by_suggested_outcome"]["likely_candidate"], 2);
    assert_eq!(s["by_suggested_outcome"]["urgent_evaluation"], 1);
    assert_eq!(s["by_suggested_outcome"]["not_yet_eligible"], 0);
    assert_eq!(
        (
            s["reviewed"].as_u64(),
            s["confirmed"].as_u64(),
            s["overridden"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(s["override_rate"], 0.5);
    assert!(s["median_minutes_to_review"].as_f64().unwrap() >= 0.0);
    // Every criterion that drove the likely candidates: fired twice, driven
    // twice, overridden once.
    let drove: Vec<String> = likely["evaluation"]["supports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    assert!(!drove.is_empty());
    for code in &drove {
        let c = s["by_criterion"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code.as_str())
            .unwrap();
        assert_eq!(
            (
                c["drove"].as_u64(),
                c["drove_reviewed"].as_u64(),
                c["overridden"].as_u64()
            ),
            (Some(2), Some(2), Some(1)),
            "{c}"
        );
        assert_eq!(c["override_rate"], 0.5);
    }
    let red_flag = urgent["evaluation"]["reasons"][0]["code"].as_str().unwrap();
    let c = s["by_criterion"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == red_flag)
        .unwrap();
    assert_eq!(
        (c["drove"].as_u64(), c["override_rate"].clone()),
        (Some(1), Value::Null),
        "not reviewed yet: no rate"
    );
    let weeks = s["by_week"].as_array().unwrap();
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0]["screenings"], 3);

    // The admin sees the same; intake keys see none.
    let admin: Value = app
        .get_as(&app.keys.admin, "/v1/stats")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin, s);
    assert_eq!(
        app.get_as(&app.keys.intake, "/v1/stats").await.status(),
        403
    );

    // A period before these screenings holds none; another clinic sees none.
    let before =
        (start - chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let early: Value = app
        .get_as(
            &app.keys.clinician,
            &format!(
                "/v1/stats?from={before}&to={}",
                start.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (early["screenings"].as_u64(), early["override_rate"].clone()),
        (Some(0), Value::Null)
    );
    let other = Keys::make(&app.db, "st-marys").await;
    let theirs: Value = app
        .get_as(&other.clinician, "/v1/stats")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["screenings"], 0);
}

#[tokio::test]
async fn a_bad_period_names_each_bad_bound() {
    let app = spawn_app().await;
    for (query, fields) in [
        ("from=yesterday", vec!["from"]),
        ("from=2026-11-01&to=soon", vec!["from", "to"]),
        (
            "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
            vec!["to"],
        ),
    ] {
        let res = app
            .get_as(&app.keys.clinician, &format!("/v1/stats?{query}"))
            .await;
        assert_eq!(res.status(), 422, "{query}");
        let problem: Value = res.json().await.unwrap();
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{query}");
    }
}
