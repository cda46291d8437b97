//! Whole documents as reviewed: a screening, its history, a problem, a CDS
//! card and the FHIR Questionnaire. A change to any field shows as a diff in
//! review, not as a test that checked two fields. Times, ids, keys, ports
//! and the rule set's digest are redacted.

use serde_json::{Value, json};

use crate::helpers::{case_answers, spawn_app};

#[tokio::test]
async fn a_reviewed_screening_and_its_history_are_as_reviewed() {
    let app = spawn_app().await;
    let created = app.create_screening(&case_answers("pt-not-tried")).await;
    let id = created["id"].as_str().unwrap().to_string();
    let review = json!({"decision": "override", "final_outcome": "unlikely_candidate",
        "reason": {"code": "new_information", "text": "An MRI from another hospital shows a pars fracture."},
        "clinician": "dr-okafor"});
    let res = app
        .post_as(
            &app.keys.clinician,
            &format!("/v1/screenings/{id}/review"),
            &review,
        )
        .await;
    assert_eq!(res.status(), 200);
    let screening: Value = app
        .get(&format!("/v1/screenings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("screening", screening, {
        ".id" => "[id]",
        ".created_at" => "[time]",
        ".updated_at" => "[time]",
        ".review.reviewed_at" => "[time]",
        ".evaluation.evaluated_at" => "[time]",
        ".evaluation.ruleset.digest" => "[digest]",
    });
    let history: Value = app
        .get_as(&app.keys.admin, &format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("history", history, {
        ".events[].at" => "[time]",
        ".events[].actor.key_id" => "[key id]",
        ".events[].data.review.reviewed_at" => "[time]",
        ".events[].data.first" => "[time]",
        ".events[].data.last" => "[time]",
    });
}

#[tokio::test]
async fn a_problem_document_is_as_reviewed() {
    let app = spawn_app().await;
    let res = app
        .evaluate(&json!({
            "pain": {"intensity_nrs": 11, "duration": 3},
            "imaging": {"modalities": ["xray", "xray"]},
            "diagnostic_blocks": [{"kind": "nerve_ablation"}]
        }))
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("problem", problem);
}

#[tokio::test]
async fn the_fhir_questionnaire_is_as_reviewed() {
    let app = spawn_app().await;
    let q = crate::fhir::questionnaire(&app).await;
    insta::assert_json_snapshot!("fhir-questionnaire", q);
}
