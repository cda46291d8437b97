//! A review or a correction applies to the screening its caller read: every
//! response that returns a screening carries its `ETag`, and `POST .../review`
//! and `PUT .../answers` with `If-Match` are refused with 412 when the
//! screening has changed since (by whom and when said, nothing recorded).

use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
use facet_screen::store::Store;
use reqwest::Response;
use serde_json::{Value, json};

use crate::binary;
use crate::helpers::{Keys, TestApp, TestDb, case_answers, spawn_app};

/// A key of clinic `default` with `role` and `label`: a second nurse.
pub async fn key_labelled(app: &TestApp, role: Role, label: &str) -> String {
    let store = Store::connect(&app.db.url).await.unwrap();
    let (new, secret) = NewKey::mint(
        Clinic::parse("default").unwrap(),
        role,
        Label::parse(label).unwrap(),
        Expiry::NEVER,
    );
    store.insert_key(&new).await.unwrap();
    secret.expose().to_string()
}

fn etag(res: &Response) -> String {
    res.headers()
        .get("etag")
        .unwrap_or_else(|| panic!("a {} without an ETag", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

async fn read(app: &TestApp, key: &str, id: &str) -> (String, Value) {
    let res = app.get_as(key, &format!("/v1/screenings/{id}")).await;
    assert_eq!(res.status(), 200);
    let tag = etag(&res);
    (tag, res.json().await.unwrap())
}

async fn put_answers(
    app: &TestApp,
    key: &str,
    id: &str,
    answers: &Value,
    if_match: Option<&str>,
) -> Response {
    let mut req = app
        .client
        .put(app.url(&format!("/v1/screenings/{id}/answers")))
        .bearer_auth(key)
        .json(answers);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

async fn post_review(app: &TestApp, id: &str, body: &Value, if_match: Option<&str>) -> Response {
    let mut req = app
        .client
        .post(app.url(&format!("/v1/screenings/{id}/review")))
        .bearer_auth(&app.keys.clinician)
        .json(body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

fn confirm() -> Value {
    json!({"decision": "confirm", "clinician": "dr-okafor"})
}

async fn kinds(app: &TestApp, id: &str) -> Vec<String> {
    let history: Value = app
        .get(&format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .filter(|k| k != "viewed")
        .collect()
}

/// The answers of `case` with the clinic's reference `external_ref`.
fn answers(case: &str, external_ref: &str) -> Value {
    let mut a = case_answers(case);
    a["patient"]["external_ref"] = json!(external_ref);
    a
}

#[tokio::test]
async fn a_confirmation_of_answers_changed_since_they_were_read_is_refused_and_nothing_is_recorded()
{
    let app = spawn_app().await;
    let created = app
        .create_screening(&answers("fracture-risk", "MRN-SEEN-1"))
        .await;
    let id = created["id"].as_str().unwrap();
    // The clinician opens it: urgent.
    let (seen, record) = read(&app, &app.keys.clinician, id).await;
    assert_eq!(record["suggested_outcome"], "urgent_evaluation");
    // A nurse (through a client that sends no If-Match) replaces the answers.
    let res = put_answers(
        &app,
        &app.keys.intake,
        id,
        &answers("nothing-answered", "MRN-SEEN-1"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let corrected: Value = res.json().await.unwrap();
    assert_eq!(corrected["suggested_outcome"], "needs_more_information");
    // The clinician confirms what they saw: refused, and said why.
    let res = post_review(&app, id, &confirm(), Some(&seen)).await;
    assert_eq!(res.status(), 412);
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem"
    );
    let text = res.text().await.unwrap();
    assert!(!text.contains("MRN-SEEN-1"), "no patient data: {text}");
    let problem: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(problem["status"], 412);
    assert_eq!(problem["type"], "/problems/changed-since-read");
    let changed = &problem["changed"];
    assert_eq!(changed["kind"], "answers_corrected");
    assert_eq!(changed["by"]["label"], "intake test key");
    assert_eq!(changed["role"], "intake");
    assert_eq!(changed["at"], corrected["updated_at"]);
    assert_eq!(changed["answers_version"], 2);
    assert_eq!(changed["suggested_outcome"], "needs_more_information");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("intake test key") && detail.contains("read it again"),
        "{detail}"
    );
    // Nothing was recorded.
    let (now, record) = read(&app, &app.keys.clinician, id).await;
    assert_eq!(record["status"], "pending_review");
    assert_eq!(changed["etag"], now.as_str());
    assert_ne!(now, seen);
    assert_eq!(kinds(&app, id).await, ["created", "answers_corrected"]);
    // Read again, the clinician decides on what the record says now.
    let res = post_review(&app, id, &confirm(), Some(&now)).await;
    assert_eq!(res.status(), 200);
    let after = etag(&res);
    let reviewed: Value = res.json().await.unwrap();
    assert_eq!(reviewed["status"], "confirmed");
    assert_eq!(reviewed["final_outcome"], "needs_more_information");
    assert_ne!(after, now, "a review changes the ETag");
}

#[tokio::test]
async fn of_two_nurses_editing_one_screening_the_second_save_is_refused_not_silently_lost() {
    let app = spawn_app().await;
    let second_nurse = key_labelled(&app, Role::Intake, "nurse Baptiste").await;
    let created = app
        .create_screening(&answers("no-block-yet", "MRN-TWO-1"))
        .await;
    let id = created["id"].as_str().unwrap();
    let (first_seen, _) = read(&app, &app.keys.intake, id).await;
    let (second_seen, _) = read(&app, &second_nurse, id).await;
    assert_eq!(first_seen, second_seen);
    // The second nurse saves first.
    let theirs = answers("ideal-candidate", "MRN-TWO-1");
    let res = put_answers(&app, &second_nurse, id, &theirs, Some(&second_seen)).await;
    assert_eq!(res.status(), 200);
    let saved = etag(&res);
    // The first nurse's save, on what she read, is refused.
    let mine = answers("pt-not-tried", "MRN-TWO-1");
    let res = put_answers(&app, &app.keys.intake, id, &mine, Some(&first_seen)).await;
    assert_eq!(res.status(), 412);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["changed"]["by"]["label"], "nurse Baptiste");
    assert_eq!(problem["changed"]["etag"], saved.as_str());
    // The second nurse's answers stand; one correction on the history.
    let (now, record) = read(&app, &app.keys.intake, id).await;
    assert_eq!(now, saved);
    assert_eq!(record["suggested_outcome"], "likely_candidate");
    assert_eq!(record["answers_version"], 2);
    assert_eq!(kinds(&app, id).await, ["created", "answers_corrected"]);
    // With what is there now, her save goes through.
    let res = put_answers(&app, &app.keys.intake, id, &mine, Some(&now)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["answers_version"], 3);
}

#[tokio::test]
async fn answers_saved_again_unchanged_change_nothing_and_no_one_must_decide_again() {
    let app = spawn_app().await;
    let same = answers("no-block-yet", "MRN-SAME-1");
    let created = app.create_screening(&same).await;
    let id = created["id"].as_str().unwrap();
    let (seen, _) = read(&app, &app.keys.intake, id).await;
    // Saved again as they are (the page's Save with nothing edited): the
    // same version, the same tag, no correction on the history.
    let res = put_answers(&app, &app.keys.intake, id, &same, Some(&seen)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(etag(&res), seen);
    let record: Value = res.json().await.unwrap();
    assert_eq!(record["answers_version"], 1);
    assert_eq!(kinds(&app, id).await, ["created"]);
    // A clinician who read it before that save still confirms what she saw.
    let res = post_review(&app, id, &confirm(), Some(&seen)).await;
    assert_eq!(res.status(), 200);
    // One answer different is a correction, as before.
    let res = app
        .client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&app.keys.intake)
        .json(&same)
        .send()
        .await
        .unwrap();
    let other: Value = res.json().await.unwrap();
    let other = other["id"].as_str().unwrap();
    let (seen, _) = read(&app, &app.keys.intake, other).await;
    let mut changed = same.clone();
    changed["pain"]["intensity_nrs"] = json!(3);
    let res = put_answers(&app, &app.keys.intake, other, &changed, Some(&seen)).await;
    assert_eq!(res.status(), 200);
    assert_ne!(etag(&res), seen);
    assert_eq!(kinds(&app, other).await, ["created", "answers_corrected"]);
}

#[tokio::test]
async fn every_response_with_a_screening_carries_its_etag_and_a_client_can_chain_them() {
    let app = spawn_app().await;
    let res = app
        .post("/v1/screenings", &answers("no-block-yet", "MRN-CHAIN"))
        .await;
    assert_eq!(res.status(), 201);
    let created = etag(&res);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (read_tag, _) = read(&app, &app.keys.intake, &id).await;
    assert_eq!(created, read_tag);
    assert!(
        created.starts_with('"') && created.ends_with('"'),
        "a strong tag: {created}"
    );
    let res = put_answers(
        &app,
        &app.keys.intake,
        &id,
        &answers("ideal-candidate", "MRN-CHAIN"),
        Some(&created),
    )
    .await;
    assert_eq!(res.status(), 200);
    let corrected = etag(&res);
    assert_ne!(corrected, created);
    assert_eq!(read(&app, &app.keys.clinician, &id).await.0, corrected);
    let res = post_review(&app, &id, &confirm(), Some(&corrected)).await;
    assert_eq!(res.status(), 200);
    let reviewed = etag(&res);
    assert_eq!(read(&app, &app.keys.clinician, &id).await.0, reviewed);
    // A retried creation answers the screening as it is now, with its tag.
    let res = app
        .client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&app.keys.intake)
        .header("idempotency-key", "chain-1")
        .json(&answers("no-block-yet", "MRN-CHAIN-2"))
        .send()
        .await
        .unwrap();
    let first = etag(&res);
    let id: String = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .into();
    let res = put_answers(
        &app,
        &app.keys.intake,
        &id,
        &answers("ideal-candidate", "MRN-CHAIN-2"),
        Some(&first),
    )
    .await;
    let now = etag(&res);
    let res = app
        .client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&app.keys.intake)
        .header("idempotency-key", "chain-1")
        .json(&answers("no-block-yet", "MRN-CHAIN-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(etag(&res), now);
}

#[tokio::test]
async fn if_match_is_read_as_http_says_and_a_malformed_one_is_refused_by_name() {
    let app = spawn_app().await;
    let created = app
        .create_screening(&answers("no-block-yet", "MRN-IFM"))
        .await;
    let id = created["id"].as_str().unwrap();
    let (tag, _) = read(&app, &app.keys.intake, id).await;
    let body = answers("no-block-yet", "MRN-IFM");
    let put = async |value: &str| {
        put_answers(&app, &app.keys.intake, id, &body, Some(value))
            .await
            .status()
            .as_u16()
    };
    // A weak tag never matches (the comparison is strong), nor one that is
    // not this screening's.
    assert_eq!(put(&format!("W/{tag}")).await, 412);
    let res = put_answers(&app, &app.keys.intake, id, &body, Some("\"not-ours\"")).await;
    assert_eq!(res.status(), 412);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(
        problem["changed"]["kind"], "created",
        "nothing changed since"
    );
    assert_eq!(problem["changed"]["etag"], tag.as_str());
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("has not changed since"),
        "{problem}"
    );
    // Malformed: 400, naming the header, never echoing it.
    for bad in [
        tag.trim_matches('"'),
        "",
        " , ",
        "\"1",
        "*, \"1\"",
        "w/\"1\"",
    ] {
        let res = put_answers(&app, &app.keys.intake, id, &body, Some(bad)).await;
        assert_eq!(res.status(), 400, "{bad:?}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/invalid-header", "{bad:?}");
        assert!(
            problem["detail"].as_str().unwrap().starts_with("If-Match:"),
            "{problem}"
        );
    }
    // Nothing changed so far.
    assert_eq!(read(&app, &app.keys.intake, id).await.0, tag);
    // A list holding the current tag matches, as does `*` (any version).
    let tag2 = {
        let res = put_answers(
            &app,
            &app.keys.intake,
            id,
            &body,
            Some(&format!("\"7\", {tag}")),
        )
        .await;
        assert_eq!(res.status(), 200);
        etag(&res)
    };
    let res = app
        .client
        .put(app.url(&format!("/v1/screenings/{id}/answers")))
        .bearer_auth(&app.keys.intake)
        .header("if-match", "\"7\"")
        .header("if-match", &tag2)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "two If-Match lines are one list");
    assert_eq!(put("*").await, 200);
    // A screening that does not exist is 404 whatever the tag.
    let missing = uuid::Uuid::now_v7();
    let res = post_review(&app, &missing.to_string(), &confirm(), Some("*")).await;
    assert_eq!(res.status(), 404);
    // Reviewed: the state is said first (409), whatever the tag.
    let (now, _) = read(&app, &app.keys.clinician, id).await;
    assert_eq!(
        post_review(&app, id, &confirm(), Some(&now)).await.status(),
        200
    );
    assert_eq!(put(&now).await, 409);
    assert_eq!(
        post_review(&app, id, &confirm(), Some(&now)).await.status(),
        409
    );
}

#[tokio::test]
async fn a_bad_review_body_with_a_stale_tag_is_refused_for_the_tag_first() {
    // The precondition comes before the body is read (RFC 9110 13.2.1): a
    // clinician whose screening changed learns that first.
    let app = spawn_app().await;
    let created = app
        .create_screening(&answers("fracture-risk", "MRN-ORDER"))
        .await;
    let id = created["id"].as_str().unwrap();
    let (seen, _) = read(&app, &app.keys.clinician, id).await;
    let res = put_answers(
        &app,
        &app.keys.intake,
        id,
        &answers("ideal-candidate", "MRN-ORDER"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post_review(&app, id, &json!({"decision": "override"}), Some(&seen)).await;
    assert_eq!(res.status(), 412);
    let res = put_answers(&app, &app.keys.intake, id, &json!({"pain": 3}), Some(&seen)).await;
    assert_eq!(res.status(), 412);
}

/// Two processes of the real binary on one database; in each round, four
/// nurses correct and two clinicians confirm one screening at once, all
/// having read version 1 (half of them through each process). The database
/// settles it: exactly one change is made, and a review, when it wins, is
/// of the answers its clinician read.
#[tokio::test]
async fn racing_corrections_and_reviews_on_two_processes_make_exactly_one_change() {
    let db = TestDb::new().await;
    Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    let (a, b) = (binary::serve(&env), binary::serve(&env));
    let client = reqwest::Client::new();
    let (mut reviews_won, mut corrections_won) = (0, 0);
    for round in 0..10 {
        let res = client
            .post(a.url("/v1/screenings"))
            .bearer_auth(&keys.intake)
            .json(&answers("no-block-yet", &format!("MRN-RACE-{round}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let seen = etag(&res);
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let base = if i % 2 == 0 { &a.base } else { &b.base };
            let req = if i < 4 {
                client
                    .put(format!("{base}/v1/screenings/{id}/answers"))
                    .bearer_auth(&keys.intake)
                    .json(&answers("ideal-candidate", &format!("MRN-RACE-{round}")))
            } else {
                client
                    .post(format!("{base}/v1/screenings/{id}/review"))
                    .bearer_auth(&keys.clinician)
                    .json(&json!({"decision": "confirm", "clinician": format!("dr-{i}")}))
            };
            let req = req.header("if-match", &seen);
            tasks.push(tokio::spawn(async move {
                (i < 4, req.send().await.unwrap().status().as_u16())
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            let (correction, status) = t.await.unwrap();
            assert!(
                [200, 409, 412].contains(&status),
                "round {round}: a {status}"
            );
            if status == 200 {
                won.push(correction);
            }
        }
        assert_eq!(won.len(), 1, "round {round}: exactly one change");
        let record: Value = client
            .get(a.url(&format!("/v1/screenings/{id}")))
            .bearer_auth(&keys.clinician)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let history: Value = client
            .get(b.url(&format!("/v1/screenings/{id}/history")))
            .bearer_auth(&keys.clinician)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let changes: Vec<&Value> = history["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] != "viewed")
            .collect();
        assert_eq!(changes.len(), 2, "round {round}: created and one change");
        if won[0] {
            corrections_won += 1;
            assert_eq!(record["status"], "pending_review");
            assert_eq!(record["answers_version"], 2);
            assert_eq!(changes[1]["kind"], "answers_corrected");
        } else {
            reviews_won += 1;
            assert_eq!(record["status"], "confirmed");
            assert_eq!(record["answers_version"], 1, "the answers it read");
            assert_eq!(record["final_outcome"], "needs_diagnostic_block");
            assert_eq!(changes[1]["data"]["answers_version"], 1);
        }
    }
    println!("{corrections_won} corrections and {reviews_won} reviews won their round");
    a.kill();
    b.kill();
}
