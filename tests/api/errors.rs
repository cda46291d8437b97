use serde_json::{Value, json};

use crate::helpers::spawn_app;

async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

fn fields(body: &Value) -> Vec<&str> {
    let mut v: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn each_bad_answer_is_named_by_its_path() {
    let app = spawn_app().await;
    let res = app
        .evaluate(&json!({
            "pain": {"intensity_nrs": 11, "low_back": "yes", "duraton_months": 3},
            "conservative_care": {"medications": "sometimes"},
            "imaging": {"modalities": "mri"},
            "diagnostic_blocks": [
                {"kind": "medial_branch_block", "pain_relief_percent": 90, "relief_matches_anesthetic": true},
                {"kind": "medial_branch_block", "pain_relief_percent": 180}
            ],
            "patient": {"age_years": -1, "name": "Jane"},
            "extra": 1
        }))
        .await;
    let body = problem(res, 422).await;
    assert_eq!(body["type"], "/problems/invalid-answers");
    assert_eq!(
        fields(&body),
        [
            "conservative_care.medications",
            "diagnostic_blocks[1].pain_relief_percent",
            "extra",
            "imaging.modalities",
            "pain.duraton_months",
            "pain.intensity_nrs",
            "pain.low_back",
            "patient.age_years",
            "patient.name",
        ]
    );
    let nrs = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "pain.intensity_nrs")
        .unwrap();
    assert_eq!(
        nrs["message"],
        "expected an integer from 0 to 10, or null for unknown"
    );
}

#[tokio::test]
async fn too_many_blocks_and_a_non_object_body_are_refused() {
    let app = spawn_app().await;
    let block = json!({"kind": "medial_branch_block"});
    let body = problem(
        app.evaluate(&json!({"diagnostic_blocks": [block, block, block, block, block]}))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&body), ["diagnostic_blocks"]);
    problem(app.evaluate(&json!([1, 2])).await, 422).await;
}

#[tokio::test]
async fn error_messages_never_echo_what_was_sent() {
    let app = spawn_app().await;
    let res = app
        .evaluate(&json!({"patient": {"external_ref": "MRN-77\u{0}41", "age_years": "Jane Doe"}}))
        .await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("MRN-77") && !text.contains("Jane"), "{text}");
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/evaluations"))
        .bearer_auth(&app.keys.intake)
        .header("content-type", "application/json")
        .body(r#"{"pain": {"low_back": tru"#)
        .send()
        .await
        .unwrap();
    let body = problem(res, 400).await;
    assert_eq!(body["type"], "/problems/malformed-json");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/evaluations"))
        .bearer_auth(&app.keys.intake)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"patient": {{"external_ref": "{}"}}}}"#,
        "x".repeat(70 * 1024)
    );
    let res = app
        .client
        .post(app.url("/v1/evaluations"))
        .bearer_auth(&app.keys.intake)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    problem(res, 413).await;
}

#[tokio::test]
async fn an_unknown_route_is_404_and_a_wrong_method_405() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    let res = app
        .client
        .get(app.url("/v1/evaluations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    problem(res, 405).await;
}
