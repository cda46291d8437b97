//! The deprecated way in for FHIR clients: a QuestionnaireResponse sent to
//! the JSON answer routes (`Content-Type: application/fhir+json`) is still
//! answered as before, and every answer says it is deprecated (RFC 9745
//! `Deprecation`) and names the route that replaces it (`Link`,
//! `rel="successor-version"`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::fhir::{questionnaire, response_to};
use crate::helpers::{TestApp, case_answers, spawn_app};

const FHIR: &str = "application/fhir+json";
const DEPRECATED: &str = "@1796169600";

async fn send(app: &TestApp, method: Method, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&app.keys.intake)
        .header("content-type", FHIR)
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap()
}

/// The answer says it is deprecated and names `successor`.
fn assert_deprecated(res: &reqwest::Response, successor: &str) {
    let headers = res.headers();
    assert_eq!(headers["deprecation"], DEPRECATED, "{headers:?}");
    assert_eq!(
        headers["link"],
        format!("<{successor}>; rel=\"successor-version\"").as_str(),
        "{headers:?}"
    );
}

#[tokio::test]
async fn a_questionnaire_response_on_the_json_routes_is_answered_as_before_and_names_its_successor()
{
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    let answers = case_answers("ideal-candidate");
    let qr = response_to(&q, &answers);

    // Evaluated as on its successor, which is not deprecated.
    let old = send(&app, Method::POST, "/v1/evaluations", &qr).await;
    assert_eq!(old.status(), 200);
    assert_deprecated(&old, "/v1/evaluations/fhir");
    let old: Value = old.json().await.unwrap();
    let new = send(&app, Method::POST, "/v1/evaluations/fhir", &qr).await;
    assert_eq!(new.status(), 200);
    assert!(new.headers().get("deprecation").is_none());
    assert!(new.headers().get("link").is_none());
    let new: Value = new.json().await.unwrap();
    for part in ["outcome", "reasons", "missing", "next_steps"] {
        assert_eq!(old[part], new[part], "{part}");
    }
    assert_eq!(old["outcome"], "likely_candidate");

    // A screening created, then corrected, the old way.
    let created = send(&app, Method::POST, "/v1/screenings", &qr).await;
    assert_eq!(created.status(), 201);
    assert_deprecated(&created, "/v1/screenings/fhir");
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["answers"], answers);
    let id = created["id"].as_str().unwrap();
    let mut changed = answers.clone();
    changed["pain"]["intensity_nrs"] = json!(6);
    let path = format!("/v1/screenings/{id}/answers");
    let corrected = send(&app, Method::PUT, &path, &response_to(&q, &changed)).await;
    assert_eq!(corrected.status(), 200);
    assert_deprecated(&corrected, &format!("{path}/fhir"));
    let corrected: Value = corrected.json().await.unwrap();
    assert_eq!(corrected["answers_version"], 2);
    assert_eq!(corrected["answers"]["pain"]["intensity_nrs"], 6);

    // A refusal says so too.
    let mut other = qr.clone();
    other["questionnaire"] = json!("https://elsewhere.example/Questionnaire/phq9");
    let refused = send(&app, Method::POST, "/v1/evaluations", &other).await;
    assert_eq!(refused.status(), 422);
    assert_deprecated(&refused, "/v1/evaluations/fhir");

    // Our own JSON on those routes is not deprecated.
    let json = app.evaluate(&answers).await;
    assert_eq!(json.status(), 200);
    assert!(json.headers().get("deprecation").is_none());
    assert!(json.headers().get("link").is_none());
}
