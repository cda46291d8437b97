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

async fn raw(app: &crate::helpers::TestApp, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/v1/evaluations"))
        .bearer_auth(&app.keys.intake)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn hostile_bodies_get_a_clear_4xx_never_a_5xx() {
    let app = spawn_app().await;
    let deep = format!("{{\"pain\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("deep nesting", deep.into_bytes(), 400),
        (
            "a number too large for a double",
            br#"{"patient": {"age_years": 1e400}}"#.to_vec(),
            400,
        ),
        (
            "a huge integer",
            br#"{"patient": {"age_years": 123456789012345678901234567890}}"#.to_vec(),
            422,
        ),
        (
            "a negative zero and an exponent",
            br#"{"pain": {"intensity_nrs": -0, "duration_months": 1.2e1}}"#.to_vec(),
            200,
        ),
        (
            "a long string",
            format!(
                r#"{{"patient": {{"external_ref": "{}"}}}}"#,
                "y".repeat(60_000)
            )
            .into_bytes(),
            422,
        ),
        (
            "invalid UTF-8",
            b"{\"patient\": {\"external_ref\": \"\xff\xfe\"}}".to_vec(),
            400,
        ),
        (
            "a duplicated key",
            br#"{"pain": {"low_back": true, "low_back": false}}"#.to_vec(),
            400,
        ),
        (
            "a duplicated group",
            br#"{"pain": {}, "pain": {"low_back": false}}"#.to_vec(),
            400,
        ),
        ("trailing data", br#"{} {}"#.to_vec(), 400),
        ("an empty body", Vec::new(), 400),
        (
            "a lone surrogate",
            br#"{"patient": {"external_ref": "\ud800"}}"#.to_vec(),
            400,
        ),
    ];
    for (what, body, status) in cases {
        let res = raw(&app, body).await;
        assert_eq!(res.status(), status, "{what}");
        if status != 200 {
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{what}"
            );
        }
    }
    let res = raw(
        &app,
        br#"{"pain": {"low_back": true, "low_back": false}}"#.to_vec(),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("duplicate key `low_back`"),
        "{body}"
    );
}
