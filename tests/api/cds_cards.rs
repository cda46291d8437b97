//! A CDS card's summary from a rule set's own words: a long label in
//! Spanish is shortened on a character's boundary, never cut through one,
//! and the card still says it is a suggestion. Through the real binary, with
//! the rule set loaded from a directory, on either database.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::binary;
use crate::cds::{ISS, SERVICE, hook_request, key};
use crate::helpers::{TestDb, case_answers, edit, rules_copy};

/// A token for `base`'s CDS service, signed by the trusted issuer.
pub fn token_for(base: &str, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": ISS, "aud": format!("{base}{SERVICE}"), "exp": now + 300, "iat": now, "jti": jti});
    let mut header = Header::new(Algorithm::ES384);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(key("trusted-private").as_bytes()).unwrap(),
    )
    .unwrap()
}

/// The trusted issuer's file, for `FACET_SCREEN_CDS_ISSUERS`.
pub fn issuers_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let issuers = json!([{"iss": ISS, "clinic": "default", "alg": "ES384", "public_key_pem": key("trusted-public")}]);
    std::fs::write(file.path(), issuers.to_string()).unwrap();
    file
}

/// A patient-view hook call for `base` with the answers of a worked case.
pub async fn hook_call(base: &str, case: &str, instance: &str) -> Value {
    let q: Value = reqwest::get(format!("{base}/fhir/Questionnaire/facet-screen-intake-v1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    hook_request(crate::fhir::response_to(&q, &case_answers(case)), instance)
}

/// 139 characters, and 18 of them take two bytes in UTF-8.
const LABEL: &str = "Candidato probable a una neurotomía endoscópica del ramo medial según los criterios de selección; pendiente de confirmación por el cirujano";

#[tokio::test]
async fn a_long_spanish_label_gives_a_short_summary_cut_between_characters_on_every_retry() {
    let rules = rules_copy();
    edit(
        &rules.path().join("outcomes.yaml"),
        "label: Likely candidate",
        &format!("label: \"{LABEL}\""),
    );
    let full = format!("facet-screen: {LABEL} (a suggestion for a clinician to confirm)");
    assert!(
        !full.is_char_boundary(140),
        "the 140th byte falls inside a character (the fault this test is for)"
    );
    let db = TestDb::new().await;
    let issuers = issuers_file();
    let server = binary::serve(&[
        ("DATABASE_URL", &db.url),
        ("FACET_SCREEN_RULES_DIR", rules.path().to_str().unwrap()),
        ("FACET_SCREEN_CDS_ISSUERS", issuers.path().to_str().unwrap()),
    ]);
    let client = reqwest::Client::new();
    let request = hook_call(&server.base, "ideal-candidate", "5e0f3c1a-label-es").await;
    let mut cards = Vec::new();
    for attempt in 0..3 {
        let res = client
            .post(server.url(SERVICE))
            .bearer_auth(token_for(&server.base, &format!("label-es-{attempt}")))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "attempt {attempt}");
        let body: Value = res.json().await.unwrap();
        cards.push(body["cards"][0].clone());
    }
    let summary = cards[0]["summary"].as_str().unwrap();
    // CDS Hooks: "<140-character summary message".
    assert!(summary.chars().count() < 140, "{summary}");
    assert!(
        summary.starts_with("facet-screen: Candidato probable a una neurotomía")
            && summary.ends_with("… (a suggestion for a clinician to confirm)"),
        "the label is shortened, never the words that say it is a suggestion: {summary}"
    );
    // The whole label is still in the card's detail.
    assert!(cards[0]["detail"].as_str().unwrap().contains(LABEL));
    // A retry of the same hook instance is the same card.
    for card in &cards[1..] {
        assert_eq!(card["uuid"], cards[0]["uuid"]);
        assert_eq!(card["summary"], cards[0]["summary"]);
    }
}
