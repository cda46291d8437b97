//! CDS Hooks: discovery, cards from the same rules, feedback on the history,
//! and the JWT the CDS client must sign.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, case_answers, repo, spawn_with};

pub const ISS: &str = "https://ehr.st-marys.example";

pub fn key(name: &str) -> String {
    std::fs::read_to_string(repo().join(format!("tests/fixtures/cds/{name}.pem"))).unwrap()
}

async fn spawn_cds() -> (TestApp, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    let issuers = json!([{"iss": ISS, "clinic": "default", "alg": "ES384", "public_key_pem": key("trusted-public")}]);
    std::fs::write(file.path(), issuers.to_string()).unwrap();
    let path = file.path().to_path_buf();
    (spawn_with(move |s| s.cds_issuers = Some(path)).await, file)
}

fn jwt(
    app: &TestApp,
    private: &str,
    iss: &str,
    aud_suffix: &str,
    exp_in: i64,
    jti: &str,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": iss,
        "aud": format!("{}/cds-services/facet-screen-neurectomy{aud_suffix}", app.address),
        "exp": now + exp_in,
        "iat": now,
        "jti": jti,
    });
    let mut header = Header::new(Algorithm::ES384);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(key(private).as_bytes()).unwrap(),
    )
    .unwrap()
}

fn token(app: &TestApp) -> String {
    jwt(
        app,
        "trusted-private",
        ISS,
        "",
        300,
        &uuid::Uuid::new_v4().to_string(),
    )
}

async fn questionnaire_response(app: &TestApp, answers: &Value) -> Value {
    // The same mapping a FHIR client makes, through the FHIR test's helpers.
    let q = crate::fhir::questionnaire(app).await;
    crate::fhir::response_to(&q, answers)
}

pub fn hook_request(qr: Value, instance: &str) -> Value {
    json!({
        "hook": "patient-view",
        "hookInstance": instance,
        "context": {"userId": "Practitioner/123", "patientId": "1288992"},
        "prefetch": {"questionnaireResponse": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}},
    })
}

async fn call(app: &TestApp, token: Option<String>, path: &str, body: &Value) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

pub const SERVICE: &str = "/cds-services/facet-screen-neurectomy";

#[tokio::test]
async fn discovery_lists_the_service_with_its_prefetch() {
    let (app, _f) = spawn_cds().await;
    let d: Value = app
        .client
        .get(app.url("/cds-services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = &d["services"][0];
    assert_eq!(
        (s["id"].as_str(), s["hook"].as_str()),
        (Some("facet-screen-neurectomy"), Some("patient-view"))
    );
    assert!(
        s["prefetch"]["questionnaireResponse"]
            .as_str()
            .unwrap()
            .contains("{{context.patientId}}")
    );
}

#[tokio::test]
async fn cards_carry_the_suggestion_its_basis_a_link_and_override_reasons() {
    let (app, _f) = spawn_cds().await;
    for (case, indicator, label) in [
        ("cauda-equina", "critical", "Urgent medical evaluation"),
        ("leg-dominant", "warning", "Unlikely candidate"),
        ("ideal-candidate", "info", "Likely candidate"),
    ] {
        let qr = questionnaire_response(&app, &case_answers(case)).await;
        let res = call(
            &app,
            Some(token(&app)),
            SERVICE,
            &hook_request(qr, &uuid::Uuid::new_v4().to_string()),
        )
        .await;
        assert_eq!(res.status(), 200, "{case}");
        let cards: Value = res.json().await.unwrap();
        let card = &cards["cards"][0];
        assert_eq!(card["indicator"], indicator, "{case}");
        assert!(card["summary"].as_str().unwrap().contains(label), "{case}");
        assert!(card["summary"].as_str().unwrap().len() <= 140);
        assert!(
            card["detail"]
                .as_str()
                .unwrap()
                .contains("clinician must confirm"),
            "{case}"
        );
        assert_eq!(card["overrideReasons"].as_array().unwrap().len(), 5);
        let sources_url = card["source"]["url"].as_str().unwrap();
        let sources: Value = app
            .client
            .get(sources_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            sources["sources"]["cms_lcd"]["citation"]
                .as_str()
                .unwrap()
                .contains("L38801")
        );
        let id = card["uuid"].as_str().unwrap();
        assert!(
            card["links"][0]["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/#/review/{id}"))
        );
        // The card's screening is in the review queue of the issuer's clinic.
        let record: Value = app
            .get(&format!("/v1/screenings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(record["status"], "pending_review");
    }
    let qr = questionnaire_response(&app, &case_answers("cauda-equina")).await;
    let cards: Value = call(&app, Some(token(&app)), SERVICE, &hook_request(qr, "x"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        cards["cards"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("RF_CAUDA_EQUINA")
    );
}

#[tokio::test]
async fn a_retried_hook_call_gives_the_same_card_and_feedback_lands_on_the_history() {
    let (app, _f) = spawn_cds().await;
    let qr = questionnaire_response(&app, &case_answers("pt-not-tried")).await;
    let request = hook_request(qr, "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea");
    let first: Value = call(&app, Some(token(&app)), SERVICE, &request)
        .await
        .json()
        .await
        .unwrap();
    let again: Value = call(&app, Some(token(&app)), SERVICE, &request)
        .await
        .json()
        .await
        .unwrap();
    let id = first["cards"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(again["cards"][0]["uuid"], id.as_str());

    let feedback = json!({"feedback": [{
        "card": id, "outcome": "overridden", "outcomeTimestamp": "2026-11-25T08:00:00Z",
        "overrideReason": {"reason": {"code": "patient_preference", "system": "urn:facet-screen:review-reason"}, "userComment": "wants to wait"},
    }]});
    let res = call(
        &app,
        Some(jwt(&app, "trusted-private", ISS, "/feedback", 300, "fb-1")),
        &format!("{SERVICE}/feedback"),
        &feedback,
    )
    .await;
    assert_eq!(res.status(), 200);
    let history: Value = app
        .get(&format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let event = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cds_feedback")
        .unwrap();
    assert_eq!(event["data"]["outcome"], "overridden");
    assert_eq!(event["data"]["override_reason"], "patient_preference");
    assert_eq!(event["actor"]["key_id"], format!("cds:{ISS}"));

    let unknown = json!({"feedback": [{"card": "0190b4a2-0000-7000-8000-000000000000", "outcome": "accepted", "outcomeTimestamp": "2026-11-25T08:00:00Z"}]});
    let res = call(
        &app,
        Some(jwt(&app, "trusted-private", ISS, "/feedback", 300, "fb-2")),
        &format!("{SERVICE}/feedback"),
        &unknown,
    )
    .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn only_a_fresh_jwt_from_a_trusted_issuer_for_this_service_is_accepted() {
    let (app, _f) = spawn_cds().await;
    let qr = questionnaire_response(&app, &case_answers("ideal-candidate")).await;
    let request = hook_request(qr, "i-1");
    let replayed = jwt(&app, "trusted-private", ISS, "", 300, "once");
    assert_eq!(
        call(&app, Some(replayed.clone()), SERVICE, &request)
            .await
            .status(),
        200
    );
    for (what, token) in [
        ("no token", None),
        ("not a JWT", Some("abc".to_string())),
        ("an API key", Some(app.keys.intake.clone())),
        (
            "an untrusted key claiming a trusted issuer",
            Some(jwt(&app, "untrusted-private", ISS, "", 300, "u-1")),
        ),
        (
            "an unknown issuer",
            Some(jwt(
                &app,
                "trusted-private",
                "https://other.example",
                "",
                300,
                "u-2",
            )),
        ),
        (
            "another audience",
            Some(jwt(&app, "trusted-private", ISS, "/elsewhere", 300, "u-3")),
        ),
        (
            "an expired token",
            Some(jwt(&app, "trusted-private", ISS, "", -600, "u-4")),
        ),
        ("a replayed token", Some(replayed)),
    ] {
        let res = call(&app, token, SERVICE, &request).await;
        assert_eq!(res.status(), 401, "{what}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
    }
    // A patient-data route does not take a CDS token either.
    let res = app
        .client
        .get(app.url("/v1/screenings"))
        .bearer_auth(jwt(&app, "trusted-private", ISS, "", 300, "u-5"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_prefetched_response_that_answers_a_question_twice_is_refused() {
    let (app, _f) = spawn_cds().await;
    let q = crate::fhir::questionnaire(&app).await;
    let qr = crate::fhir::answered_twice(&q);
    let res = call(&app, Some(token(&app)), SERVICE, &hook_request(qr, "twice")).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["field"], "red_flags.significant_trauma",
        "{body}"
    );
    // No screening was stored for it.
    let list: Value = app.get("/v1/screenings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn a_prefetched_response_with_a_red_flag_nested_inside_another_item_is_refused() {
    let (app, _f) = spawn_cds().await;
    let mut answers = case_answers("ideal-candidate");
    answers["red_flags"]
        .as_object_mut()
        .unwrap()
        .remove("saddle_anesthesia");
    let mut qr = questionnaire_response(&app, &answers).await;
    let pain = qr["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["linkId"] == "section-pain")
        .unwrap();
    pain["item"][0]["answer"][0]["item"] =
        json!([{"linkId": "red_flags.saddle_anesthesia", "answer": [{"valueBoolean": true}]}]);
    let res = call(
        &app,
        Some(token(&app)),
        SERVICE,
        &hook_request(qr, "nested"),
    )
    .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 422, "a card instead of a refusal: {body}");
    assert_eq!(
        body["errors"][0]["field"], "red_flags.saddle_anesthesia",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("under an answer to `pain.low_back`"),
        "{body}"
    );
    let list: Value = app.get("/v1/screenings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn a_card_is_as_reviewed() {
    let (app, _f) = spawn_cds().await;
    let qr = questionnaire_response(&app, &case_answers("leg-dominant")).await;
    let cards: Value = call(
        &app,
        Some(token(&app)),
        SERVICE,
        &hook_request(qr, "snapshot"),
    )
    .await
    .json()
    .await
    .unwrap();
    // The test server's address differs every run.
    let cards: Value =
        serde_json::from_str(&cards.to_string().replace(&app.address, "[base]")).unwrap();
    insta::assert_json_snapshot!("cds-card", cards, {
        ".cards[].uuid" => "[screening id]",
        ".cards[].links[].url" => "[base]/#/review/[screening id]",
    });
}

/// A token signed by the trusted issuer's key with exactly these claims.
fn signed(claims: Value) -> String {
    let mut header = Header::new(Algorithm::ES384);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(key("trusted-private").as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn tokens_must_be_short_lived_started_issued_and_for_the_route_called() {
    let (app, _f) = spawn_cds().await;
    let qr = questionnaire_response(&app, &case_answers("ideal-candidate")).await;
    let request = hook_request(qr, "claims");
    let now = chrono::Utc::now().timestamp();
    let aud = format!("{}{SERVICE}", app.address);
    let base = json!({"iss": ISS, "aud": aud, "exp": now + 300, "iat": now});
    let with = |changes: Value| {
        let mut claims = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
        signed(claims)
    };
    for (what, token) in [
        (
            "an expiry ten years ahead",
            with(json!({"exp": now + 10 * 365 * 86400})),
        ),
        ("an expiry of 2^63-1", with(json!({"exp": i64::MAX}))),
        ("a start in the future", with(json!({"nbf": now + 3600}))),
        ("no iat", with(json!({"iat": null}))),
        ("an iat in the future", with(json!({"iat": now + 3600}))),
        (
            "the feedback URL as audience",
            with(json!({"aud": format!("{aud}/feedback")})),
        ),
        ("a token over 8 KB", with(json!({"pad": "x".repeat(9000)}))),
    ] {
        let res = call(&app, Some(token), SERVICE, &request).await;
        assert_eq!(res.status(), 401, "{what}");
    }
    // The same claims, well formed, pass.
    assert_eq!(
        call(&app, Some(with(json!({}))), SERVICE, &request)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn cds_requests_are_limited_before_any_signature_is_checked() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let issuers = json!([{"iss": ISS, "clinic": "default", "alg": "ES384", "public_key_pem": key("trusted-public")}]);
    std::fs::write(file.path(), issuers.to_string()).unwrap();
    let path = file.path().to_path_buf();
    let app = spawn_with(move |s| {
        s.cds_issuers = Some(path);
        s.cds_rate_limit = 5;
    })
    .await;
    // A trusted issuer's name with a garbage signature: each costs a
    // signature check, until the limit stops them first.
    let now = chrono::Utc::now().timestamp();
    let forged = |i: usize| {
        let good = signed(
            json!({"iss": ISS, "aud": format!("{}{SERVICE}", app.address), "exp": now + 300, "iat": now, "jti": format!("f-{i}")}),
        );
        let (head, _) = good.rsplit_once('.').unwrap();
        format!("{head}.{}", "A".repeat(128))
    };
    let mut statuses = Vec::new();
    for i in 0..8 {
        let res = call(&app, Some(forged(i)), SERVICE, &json!({})).await;
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
}

#[tokio::test]
async fn feedback_is_checked_against_the_cds_hooks_schema_and_recorded_whole_or_not_at_all() {
    let (app, _f) = spawn_cds().await;
    let mut cards = Vec::new();
    for i in 0..2 {
        let qr = questionnaire_response(&app, &case_answers("ideal-candidate")).await;
        let res: Value = call(
            &app,
            Some(token(&app)),
            SERVICE,
            &hook_request(qr, &format!("fb-{i}")),
        )
        .await
        .json()
        .await
        .unwrap();
        cards.push(res["cards"][0]["uuid"].as_str().unwrap().to_string());
    }
    let app = &app;
    let send = |body: Value| {
        let token = jwt(
            app,
            "trusted-private",
            ISS,
            "/feedback",
            300,
            &uuid::Uuid::new_v4().to_string(),
        );
        async move { call(app, Some(token), &format!("{SERVICE}/feedback"), &body).await }
    };
    let item = |card: &str| json!({"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-11-25T08:00:00Z"});
    for (body, field) in [
        (
            json!({"feedback": [{"card": cards[0], "outcome": "maybe", "outcomeTimestamp": "2026-11-25T08:00:00Z"}]}),
            "feedback[0].outcome",
        ),
        (
            json!({"feedback": [{"card": cards[0], "outcome": "accepted"}]}),
            "feedback[0].outcomeTimestamp",
        ),
        (
            json!({"feedback": [{"card": cards[0], "outcome": "overridden", "outcomeTimestamp": "2026-11-25T08:00:00Z", "overrideReason": 7}]}),
            "feedback[0].overrideReason",
        ),
        (
            json!({"feedback": [{"card": cards[0], "outcome": "overridden", "outcomeTimestamp": "2026-11-25T08:00:00Z",
            "overrideReason": {"reason": {"code": "whim", "system": "urn:facet-screen:review-reason"}}}]}),
            "feedback[0].overrideReason.reason.code",
        ),
        (
            json!({"feedback": [{"card": cards[0], "outcome": "accepted", "outcomeTimestamp": "2026-11-25T08:00:00Z",
            "overrideReason": {"userComment": "x".repeat(2001)}}]}),
            "feedback[0].overrideReason.userComment",
        ),
        (
            json!({"feedback": (0..21).map(|_| item(&cards[0])).collect::<Vec<_>>()}),
            "feedback",
        ),
        (json!({"feedback": []}), "feedback"),
    ] {
        let res = send(body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // A screening this client did not create is no card of its own.
    let own = app.create_screening(&case_answers("ideal-candidate")).await;
    let res = send(json!({"feedback": [item(own["id"].as_str().unwrap())]})).await;
    assert_eq!(res.status(), 404);
    // Whole or not at all: a batch with one foreign card records nothing.
    let res = send(json!({"feedback": [item(&cards[0]), item(own["id"].as_str().unwrap())]})).await;
    assert_eq!(res.status(), 404);
    let events = |id: String| async move {
        let h: Value = app
            .get(&format!("/v1/screenings/{id}/history"))
            .await
            .json()
            .await
            .unwrap();
        h["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "cds_feedback")
            .count()
    };
    assert_eq!(events(cards[0].clone()).await, 0);
    let res = send(json!({"feedback": [item(&cards[0]), item(&cards[1])]})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(events(cards[0].clone()).await, 1);
    assert_eq!(events(cards[1].clone()).await, 1);
}
