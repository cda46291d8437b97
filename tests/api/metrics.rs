//! `/metrics` on an address of its own: the Prometheus text format, with
//! labels that never carry a patient value, a key, a key id or a raw path.

use serde_json::{Value, json};

use crate::helpers::{case_answers, spawn_with};

#[tokio::test]
async fn metrics_are_served_apart_with_route_templates_and_no_patient_data() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let app = spawn_with(|s| s.metrics_addr = Some(addr)).await;
    // Not on the API's address.
    assert_eq!(app.get("/metrics").await.status(), 404);
    let mut answers = case_answers("ideal-candidate");
    answers["patient"]["external_ref"] = json!("MRN-SECRET-4711");
    let created = app.create_screening(&answers).await;
    let id = created["id"].as_str().unwrap();
    app.get(&format!("/v1/screenings/{id}")).await;
    app.evaluate(&case_answers("fracture-risk")).await;
    let res = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for expected in [
        r#"facet_http_requests_total{route="/v1/screenings/{id}",method="GET",status="200"}"#,
        r#"facet_http_requests_total{route="/v1/screenings",method="POST",status="201"}"#,
        r#"facet_evaluations_total{outcome="urgent_evaluation",profile="cms_lcd"}"#,
        r#"facet_key_cache_total{result="miss"}"#,
        "facet_http_request_duration_seconds_bucket{",
        "facet_db_write_duration_seconds_bucket{",
        r#"facet_ruleset_info{version=""#,
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    let me: Value = app.get("/v1/me").await.json().await.unwrap();
    for secret in [
        id,
        "MRN-SECRET-4711",
        me["key_id"].as_str().unwrap(),
        &app.keys.clinician[4..],
    ] {
        assert!(!text.contains(secret), "a label carries {secret}");
    }
}
