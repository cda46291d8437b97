use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{TestApp, case_answers, spawn_app, spawn_on};

async fn create_with_key(app: &TestApp, key: &str, answers: &Value) -> reqwest::Response {
    create_raw(app, key, serde_json::to_string(answers).unwrap()).await
}

async fn create_raw(app: &TestApp, key: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&app.keys.intake)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// JSON text with every object's keys in reverse order, written by hand:
/// serde_json would write them back in its own order.
fn reversed_keys(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            keys.reverse();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", json!(k), reversed_keys(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(reversed_keys)
                .collect::<Vec<_>>()
                .join(",")
        ),
        scalar => scalar.to_string(),
    }
}

async fn review(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.post_as(
        &app.keys.clinician,
        &format!("/v1/screenings/{id}/review"),
        &body,
    )
    .await
}

async fn pending(app: &TestApp) -> Vec<Value> {
    let page: Value = app
        .get("/v1/screenings?status=pending_review&limit=100")
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_screening_is_stored_exactly_as_issued() {
    let app = spawn_app().await;
    let answers = case_answers("ideal-candidate");
    let res = app.post("/v1/screenings", &answers).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created_bytes = res.text().await.unwrap();
    let created: Value = serde_json::from_str(&created_bytes).unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/screenings/{id}"));
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "random, time-ordered ids"
    );
    assert_eq!(created["status"], "pending_review");
    assert_eq!(created["suggested_outcome"], "likely_candidate");
    assert_eq!(created["final_outcome"], Value::Null);
    assert_eq!(created["answers"], answers);
    assert_eq!(
        created["evaluation"]["requires_clinician_confirmation"],
        true
    );
    assert!(
        created["evaluation"]["ruleset"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let read = app.get(&location).await;
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.text().await.unwrap(),
        created_bytes,
        "reads back byte for byte"
    );
}

#[tokio::test]
async fn the_evaluation_is_never_recomputed_with_other_rules() {
    let first = spawn_app().await;
    let created = first.create_screening(&json!({"diagnostic_blocks": [{"kind": "medial_branch_block", "pain_relief_percent": 60, "relief_matches_anesthetic": true}]})).await;
    // Another instance on the same data, with another profile.
    let second = spawn_on(first.db.clone(), |s| s.profile = Some("asra_2020".into())).await;
    let read: Value = second
        .get(&format!(
            "/v1/screenings/{}",
            created["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["evaluation"], created["evaluation"]);
    assert_eq!(read["evaluation"]["ruleset"]["profile"], "cms_lcd");
}

#[tokio::test]
async fn a_retried_request_never_duplicates_a_screening() {
    let app = spawn_app().await;
    let answers = case_answers("pt-not-tried");
    let first = create_with_key(&app, "visit-42-intake", &answers).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // The same answers, keys in another order: the same request.
    let reordered = reversed_keys(&answers);
    let natural = serde_json::to_string(&answers).unwrap();
    assert_ne!(reordered, natural);
    assert_eq!(serde_json::from_str::<Value>(&reordered).unwrap(), answers);
    assert_ne!(
        reordered.split(':').next(),
        natural.split(':').next(),
        "the first key differs"
    );
    let again = create_raw(&app, "visit-42-intake", reordered).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(pending(&app).await.len(), 1);

    // The same key with other answers is refused, and stores nothing.
    let other = create_with_key(&app, "visit-42-intake", &case_answers("ideal-candidate")).await;
    assert_eq!(other.status(), 422);
    assert_eq!(other.headers()["content-type"], "application/problem+json");
    let body: Value = other.json().await.unwrap();
    assert_eq!(body["type"], "/problems/idempotency-key-reused");
    assert_eq!(pending(&app).await.len(), 1);

    let bad = create_with_key(&app, "has spaces", &answers).await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn invalid_answers_store_nothing() {
    let app = spawn_app().await;
    let res = app
        .post("/v1/screenings", &json!({"pain": {"intensity_nrs": 12}}))
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "pain.intensity_nrs");
    assert!(pending(&app).await.is_empty());
}

#[tokio::test]
async fn the_review_queue_is_oldest_first_filtered_and_paginated() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for case in [
        "cauda-equina",
        "ideal-candidate",
        "pt-not-tried",
        "ideal-candidate",
        "no-block-yet",
    ] {
        ids.push(
            app.create_screening(&case_answers(case)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let done = review(
        &app,
        &ids[1],
        json!({"decision": "confirm", "clinician": "dr-okafor"}),
    )
    .await;
    assert_eq!(done.status(), 200);

    let queue: Vec<String> = pending(&app)
        .await
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        queue,
        [
            ids[0].clone(),
            ids[2].clone(),
            ids[3].clone(),
            ids[4].clone()
        ]
    );

    // Pages of two, following `next`.
    let mut seen = Vec::new();
    let mut next = Some("/v1/screenings?status=pending_review&limit=2".to_string());
    while let Some(url) = next {
        let page: Value = app.get(&url).await.json().await.unwrap();
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string()),
        );
        next = page["next"].as_str().map(String::from);
    }
    assert_eq!(seen, queue);

    let urgent: Value = app
        .get("/v1/screenings?status=pending_review&outcome=urgent_evaluation")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(urgent["items"].as_array().unwrap().len(), 1);
    assert_eq!(urgent["items"][0]["suggested_outcome"], "urgent_evaluation");
    assert!(
        urgent["items"][0].get("answers").is_none(),
        "lists carry no answers"
    );

    let later: Value = app
        .get("/v1/screenings?created_from=2999-01-01T00:00:00Z")
        .await
        .json()
        .await
        .unwrap();
    assert!(later["items"].as_array().unwrap().is_empty());
    let confirmed: Value = app
        .get("/v1/screenings?status=confirmed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(confirmed["items"][0]["id"], ids[1].as_str());
}

#[tokio::test]
async fn bad_queue_filters_are_named() {
    let app = spawn_app().await;
    let res = app
        .get(
            "/v1/screenings?status=waiting&limit=1000&created_from=yesterday&cursor=zzz&colour=red",
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["colour", "created_from", "cursor", "limit", "status"]
    );
}

#[tokio::test]
async fn a_clinician_confirms_or_overrides_once() {
    let app = spawn_app().await;
    let a = app.create_screening(&case_answers("ideal-candidate")).await;
    let b = app.create_screening(&case_answers("mild-pain")).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let confirmed: Value = review(
        &app,
        a,
        json!({"decision": "confirm", "clinician": "dr-okafor"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["final_outcome"], "likely_candidate");
    assert_eq!(confirmed["review"]["clinician"], "dr-okafor");

    let again = review(
        &app,
        a,
        json!({"decision": "confirm", "clinician": "dr-okafor"}),
    )
    .await;
    assert_eq!(again.status(), 409);
    assert_eq!(again.headers()["content-type"], "application/problem+json");

    let overridden: Value = review(
        &app,
        b,
        json!({"decision": "override", "final_outcome": "likely_candidate",
               "reason": {"code": "new_information", "text": "NRS 6 at today's visit"}, "clinician": "dr-lee"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(overridden["status"], "overridden");
    assert_eq!(
        (
            overridden["suggested_outcome"].as_str(),
            overridden["final_outcome"].as_str()
        ),
        (Some("not_yet_eligible"), Some("likely_candidate"))
    );
    assert_eq!(overridden["review"]["reason"]["code"], "new_information");
}

#[tokio::test]
async fn invalid_reviews_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (body, field) in [
        (
            json!({"decision": "override", "final_outcome": "unlikely_candidate", "clinician": "dr-a"}),
            "reason",
        ),
        (
            json!({"decision": "override", "final_outcome": "probably", "reason": {"code": "other"}, "clinician": "dr-a"}),
            "final_outcome",
        ),
        (json!({"decision": "confirm"}), "clinician"),
        (
            json!({"decision": "approve", "clinician": "dr-a"}),
            "decision",
        ),
        (
            json!({"decision": "override", "final_outcome": "unlikely_candidate", "reason": {"code": "gut_feeling"}, "clinician": "dr-a"}),
            "reason.code",
        ),
        // Reason `other` says what the reason is.
        (
            json!({"decision": "override", "final_outcome": "unlikely_candidate", "reason": {"code": "other"}, "clinician": "dr-a"}),
            "reason.text",
        ),
        (
            json!({"decision": "override", "final_outcome": "unlikely_candidate", "reason": {"code": "other", "text": " "}, "clinician": "dr-a"}),
            "reason.text",
        ),
        // An override to the suggested outcome is a confirmation.
        (
            json!({"decision": "override", "final_outcome": "likely_candidate", "reason": {"code": "clinical_judgement"}, "clinician": "dr-a"}),
            "final_outcome",
        ),
    ] {
        let res = review(&app, &id, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    // A value sent in the wrong place is never echoed: the error names the
    // field and the values it takes.
    let secret = "PATIENT-JANE-DOE-MRN-12345";
    for body in [
        json!({"decision": secret, "clinician": "dr-a"}),
        json!({"decision": "override", "final_outcome": secret, "reason": {"code": "other", "text": "x"}, "clinician": "dr-a"}),
        json!({"decision": "override", "final_outcome": "unlikely_candidate", "reason": {"code": secret}, "clinician": "dr-a"}),
    ] {
        let res = review(&app, &id, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let text = res.text().await.unwrap();
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("expected"), "{text}");
    }
    let record: Value = app
        .get(&format!("/v1/screenings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "pending_review");
}

#[tokio::test]
async fn answers_are_corrected_before_review_and_the_history_keeps_every_step() {
    let app = spawn_app().await;
    let created = app.create_screening(&case_answers("pt-not-tried")).await;
    let id = created["id"].as_str().unwrap();
    let res = app
        .client
        .put(app.url(&format!("/v1/screenings/{id}/answers")))
        .bearer_auth(&app.keys.intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let corrected: Value = res.json().await.unwrap();
    assert_eq!(corrected["answers_version"], 2);
    assert_eq!(corrected["suggested_outcome"], "likely_candidate");
    assert_eq!(corrected["created_at"], created["created_at"]);

    review(
        &app,
        id,
        json!({"decision": "confirm", "clinician": "dr-okafor"}),
    )
    .await;
    let late = app
        .client
        .put(app.url(&format!("/v1/screenings/{id}/answers")))
        .bearer_auth(&app.keys.intake)
        .json(&case_answers("pt-not-tried"))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 409);

    let history: Value = app
        .get(&format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let events = history["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "answers_corrected", "reviewed"]);
    assert_eq!(
        events
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(events[1]["data"]["previous_answers"], created["answers"]);
    assert_eq!(
        events[1]["data"]["previous_evaluation"],
        created["evaluation"]
    );
    assert_eq!(events[2]["actor"]["clinician"], "dr-okafor");
    assert_eq!(events[2]["data"]["review"]["decision"], "confirm");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_in_the_database() {
    let app = spawn_app().await;
    let id = app.create_screening(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&format!("/v1/screenings/{id}")).await.status(), 200);
    let pool = app.db.pool().await;
    for sql in [
        "UPDATE screening_events SET kind = 'reviewed'",
        "DELETE FROM screening_events",
        "UPDATE screening_views SET at = 'x'",
        "DELETE FROM screening_views",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = spawn_app().await;
    for path in [
        "/v1/screenings/0190b4a2-0000-7000-8000-000000000000",
        "/v1/screenings/not-a-uuid",
        "/v1/screenings/0190b4a2-0000-7000-8000-000000000000/history",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let res = review(
        &app,
        "0190b4a2-0000-7000-8000-000000000000",
        json!({"decision": "confirm", "clinician": "a"}),
    )
    .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn two_instances_racing_on_one_database_agree() {
    let a = spawn_app().await;
    let b = spawn_on(a.db.clone(), |_| {}).await;
    let answers = Arc::new(case_answers("ideal-candidate"));
    // Twenty concurrent requests with one key, split over both instances.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (url, client, answers, key) = (
            if i % 2 == 0 { &a } else { &b }.url("/v1/screenings"),
            a.client.clone(),
            answers.clone(),
            a.keys.intake.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(&key)
                .header("idempotency-key", "race-1")
                .json(&*answers)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let ids: Vec<String> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one screening: {ids:?}");
    assert_eq!(pending(&a).await.len(), 1);

    // Ten concurrent reviews of it: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (url, client, key) = (
            if i % 2 == 0 { &a } else { &b }.url(&format!("/v1/screenings/{}/review", ids[0])),
            a.client.clone(),
            a.keys.clinician.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(&key)
                .json(&json!({"decision": "confirm", "clinician": format!("dr-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses: Vec<u16> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    let history: Value = a
        .get(&format!("/v1/screenings/{}/history", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        history["events"].as_array().unwrap().len(),
        2,
        "created and one review"
    );
}

#[tokio::test]
async fn the_queue_by_priority_puts_urgent_first_and_names_each_patient() {
    let app = spawn_app().await;
    // Created in this order, oldest first.
    let made = [
        ("ideal-candidate", "MRN-1"),
        ("pt-not-tried", "MRN-2"),
        ("cauda-equina", "MRN-3"),
        ("nothing-answered", "MRN-4"),
        ("ideal-candidate", "MRN-5"),
    ];
    for (case, reference) in made {
        let mut answers = case_answers(case);
        answers["patient"]["external_ref"] = json!(reference);
        app.create_screening(&answers).await;
    }
    let rows = |first: &str| {
        let mut next = Some(first.to_string());
        let app = &app;
        async move {
            let mut rows = Vec::new();
            while let Some(url) = next {
                let page: Value = app.get(&url).await.json().await.unwrap();
                for s in page["items"].as_array().unwrap() {
                    rows.push((
                        s["suggested_outcome"].as_str().unwrap().to_string(),
                        s["external_ref"].as_str().unwrap().to_string(),
                    ));
                }
                next = page["next"].as_str().map(String::from);
            }
            rows
        }
    };
    // By priority, two a page: urgent first, then by precedence, then oldest.
    let by_priority = rows("/v1/screenings?status=pending_review&sort=priority&limit=2").await;
    let expected: Vec<(String, String)> = [
        ("urgent_evaluation", "MRN-3"),
        ("not_yet_eligible", "MRN-2"),
        ("needs_more_information", "MRN-4"),
        ("likely_candidate", "MRN-1"),
        ("likely_candidate", "MRN-5"),
    ]
    .iter()
    .map(|(o, r)| (o.to_string(), r.to_string()))
    .collect();
    assert_eq!(by_priority, expected);
    // The default stays oldest first.
    let by_age: Vec<String> = rows("/v1/screenings?limit=2")
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(by_age, ["MRN-1", "MRN-2", "MRN-3", "MRN-4", "MRN-5"]);
    // A correction that changes the suggestion moves the screening.
    let list: Value = app
        .get("/v1/screenings?sort=priority")
        .await
        .json()
        .await
        .unwrap();
    let urgent_id = list["items"][0]["id"].as_str().unwrap().to_string();
    let mut calm = case_answers("ideal-candidate");
    calm["patient"]["external_ref"] = json!("MRN-3");
    let res = app
        .client
        .put(app.url(&format!("/v1/screenings/{urgent_id}/answers")))
        .bearer_auth(&app.keys.intake)
        .json(&calm)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let first: Value = app
        .get("/v1/screenings?sort=priority&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["external_ref"], "MRN-2");
    let res = app.get("/v1/screenings?sort=urgency").await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "sort");
}

#[tokio::test]
async fn a_created_screening_is_answered_exactly_as_it_is_read_back() {
    let app = spawn_app().await;
    for case in ["ideal-candidate", "fracture-risk", "nothing-answered"] {
        let created = app.create_screening(&case_answers(case)).await;
        let id = created["id"].as_str().unwrap();
        let read: Value = app
            .get(&format!("/v1/screenings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(created, read, "{case}");
    }
}

#[tokio::test]
async fn a_patients_screenings_are_found_by_the_clinics_reference() {
    let app = spawn_app().await;
    let with_ref = |r: &str| {
        let mut answers = case_answers("ideal-candidate");
        answers["patient"]["external_ref"] = json!(r);
        answers
    };
    let first = app.create_screening(&with_ref("MRN-77")).await;
    app.create_screening(&with_ref("MRN-770")).await;
    let second = app.create_screening(&with_ref("MRN-77")).await;
    let page: Value = app
        .get("/v1/screenings?external_ref=MRN-77")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ],
        "exactly, oldest first"
    );
    // Another clinic's patient with the same reference is not found.
    let other = crate::helpers::Keys::make(&app.db, "st-marys").await;
    let theirs: Value = app
        .get_as(&other.clinician, "/v1/screenings?external_ref=MRN-77")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"], json!([]));
    let res = app
        .get(&format!("/v1/screenings?external_ref={}", "x".repeat(65)))
        .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "external_ref");
    assert!(!problem.to_string().contains("xxxx"), "never the value");
}

/// Creations arriving together are written together (one commit on
/// SQLite, one statement on PostgreSQL): a key sent several times in the
/// same burst still makes one screening, and the others in the burst are
/// each written once.
#[tokio::test]
async fn a_burst_mixing_one_repeated_key_with_new_keys_stores_each_once() {
    let app = Arc::new(crate::helpers::spawn_with(|s| s.rate_limit = 1_000_000).await);
    let answers = Arc::new(case_answers("ideal-candidate"));
    let tasks: Vec<_> = (0..36)
        .map(|i| {
            let (app, answers) = (app.clone(), answers.clone());
            // Every third request repeats one key; the others are new.
            let key = if i % 3 == 0 {
                "burst-same".to_string()
            } else {
                format!("burst-{i}")
            };
            tokio::spawn(async move {
                let res = create_with_key(&app, &key, &answers).await;
                assert_eq!(res.status(), 201, "{key}");
                let id = res.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (key, id)
            })
        })
        .collect();
    let mut by_key =
        std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for t in tasks {
        let (key, id) = t.await.unwrap();
        by_key.entry(key).or_default().insert(id);
    }
    assert_eq!(by_key.len(), 25, "one repeated key and 24 new ones");
    assert!(
        by_key.values().all(|ids| ids.len() == 1),
        "each key answered with one screening: {by_key:?}"
    );
    let stored: std::collections::BTreeSet<String> = pending(&app)
        .await
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let answered: std::collections::BTreeSet<String> = by_key.into_values().flatten().collect();
    assert_eq!(
        stored, answered,
        "exactly the screenings answered are stored"
    );
}
