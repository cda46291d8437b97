//! A write handed to the database is answered with its outcome, never 408,
//! whichever route made it: the layer that writes says so, not each
//! handler. The real binary with a 1 s request deadline, every write path
//! at once while the test holds the database's write lock for longer.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::binary;
use crate::cds::SERVICE;
use crate::cds_cards::{hook_call, issuers_file, token_for};
use crate::helpers::{Keys, TestDb, case_answers, wait_until};

/// Holds off every writer (readers go on) from a connection of the test's
/// own until the returned sender is used or dropped; returns once the lock
/// is taken.
async fn hold_writes(
    db: &TestDb,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let pool = db.pool().await;
    let begin = if db.is_postgres() {
        "BEGIN; LOCK TABLE api_keys, key_generation, screenings, screening_events, \
         screening_views, idempotency_keys, cds_jwt_ids IN EXCLUSIVE MODE"
    } else {
        "BEGIN IMMEDIATE"
    };
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::raw_sql(begin).execute(&mut *conn).await.unwrap();
        locked.send(()).unwrap();
        let _ = released.await;
        sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
    });
    is_locked.await.unwrap();
    (release, task)
}

/// What each request answered (status, body) and how long it took.
type Answered = Vec<(StatusCode, String, Duration)>;

/// Sends `requests` at once while the test holds the database's write lock,
/// and lets go of it 2.5 s later, well past the 1 s deadline.
async fn sent_while_held(db: &TestDb, requests: Vec<reqwest::RequestBuilder>) -> Answered {
    let (release, held) = hold_writes(db).await;
    let started = Instant::now();
    let answered = tokio::spawn(futures::future::join_all(requests.into_iter().map(
        |req| async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.text().await.unwrap(), started.elapsed())
        },
    )));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    release.send(()).unwrap();
    held.await.unwrap();
    answered.await.unwrap()
}

#[tokio::test]
async fn every_write_that_waits_past_the_deadline_is_answered_with_its_outcome_not_408() {
    let db = TestDb::new().await;
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let issuers = issuers_file();
    let server = binary::serve(&[
        ("DATABASE_URL", &db.url),
        ("FACET_SCREEN_REQUEST_TIMEOUT_SECS", "1"),
        ("FACET_SCREEN_CDS_ISSUERS", issuers.path().to_str().unwrap()),
    ]);
    let client = reqwest::Client::new();
    let send = |method: Method, path: &str, key: &str, body: Option<Value>| {
        let mut req = client
            .request(method, server.url(path))
            .bearer_auth(key.to_string());
        if let Some(body) = body {
            req = req.json(&body);
        }
        req
    };
    // What the writes below act on, made before the database is held.
    let answers = case_answers("ideal-candidate");
    // A correction changes an answer: the same answers again are no change,
    // answered at once without a write.
    let mut corrected = answers.clone();
    corrected["pain"]["intensity_nrs"] = json!(8);
    let mut screenings = Vec::new();
    for _ in 0..3 {
        let res = send(
            Method::POST,
            "/v1/screenings",
            &keys.intake,
            Some(answers.clone()),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        screenings.push(created["id"].as_str().unwrap().to_string());
    }
    let made: Value = send(
        Method::POST,
        "/v1/keys",
        &keys.admin,
        Some(json!({"role": "intake", "label": "to revoke while slow"})),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let to_revoke = made["info"]["id"].as_str().unwrap().to_string();
    let hook = hook_call(&server.base, "ideal-candidate", "slow-hook").await;
    let card: Value = client
        .post(server.url(SERVICE))
        .bearer_auth(token_for(&server.base, "before-the-hold"))
        .json(&hook_call(&server.base, "ideal-candidate", "card-for-feedback").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let card_id = card["cards"][0]["uuid"].as_str().unwrap().to_string();
    // A review and a correction send the version they saw, when the
    // service gives one.
    let mut seen = Vec::new();
    for id in &screenings[1..] {
        let res = send(
            Method::GET,
            &format!("/v1/screenings/{id}"),
            &keys.clinician,
            None,
        )
        .send()
        .await
        .unwrap();
        seen.push(res.headers().get("etag").cloned());
    }
    let with_version =
        |req: reqwest::RequestBuilder, etag: &Option<reqwest::header::HeaderValue>| match etag {
            Some(etag) => req.header("if-match", etag),
            None => req,
        };
    let feedback_token = {
        // The feedback route's own audience.
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": crate::cds::ISS, "aud": server.url(&format!("{SERVICE}/feedback")),
                            "exp": now + 300, "iat": now, "jti": "slow-feedback"});
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_ec_pem(crate::cds::key("trusted-private").as_bytes())
                .unwrap(),
        )
        .unwrap()
    };

    // In groups that leave the server's pool of connections (four, on
    // SQLite) room: a read still waiting for a connection at the deadline
    // has written nothing, and is rightly answered 408.
    let groups = vec![
        vec![
            (
                "make a key",
                send(
                    Method::POST,
                    "/v1/keys",
                    &keys.admin,
                    Some(json!({"role": "clinician", "label": "made while slow"})),
                ),
                StatusCode::CREATED,
            ),
            (
                "revoke a key",
                send(
                    Method::DELETE,
                    &format!("/v1/keys/{to_revoke}"),
                    &keys.admin,
                    None,
                ),
                StatusCode::OK,
            ),
            (
                "create a screening",
                send(
                    Method::POST,
                    "/v1/screenings",
                    &keys.intake,
                    Some(answers.clone()),
                )
                .header("idempotency-key", "made-while-slow"),
                StatusCode::CREATED,
            ),
        ],
        vec![
            (
                "read a screening (its view is recorded)",
                send(
                    Method::GET,
                    &format!("/v1/screenings/{}", screenings[0]),
                    &keys.clinician,
                    None,
                ),
                StatusCode::OK,
            ),
            (
                "review a screening",
                with_version(
                    send(
                        Method::POST,
                        &format!("/v1/screenings/{}/review", screenings[1]),
                        &keys.clinician,
                        Some(json!({"decision": "confirm", "clinician": "dr-okafor"})),
                    ),
                    &seen[0],
                ),
                StatusCode::OK,
            ),
            (
                "correct answers",
                with_version(
                    send(
                        Method::PUT,
                        &format!("/v1/screenings/{}/answers", screenings[2]),
                        &keys.intake,
                        Some(corrected.clone()),
                    ),
                    &seen[1],
                ),
                StatusCode::OK,
            ),
        ],
        vec![
            (
                "a CDS hook call",
                client
                    .post(server.url(SERVICE))
                    .bearer_auth(token_for(&server.base, "while-slow"))
                    .json(&hook),
                StatusCode::OK,
            ),
            (
                "CDS feedback",
                client
                    .post(server.url(&format!("{SERVICE}/feedback")))
                    .bearer_auth(feedback_token)
                    .json(
                        &json!({"feedback": [{"card": card_id, "outcome": "accepted",
                                            "outcomeTimestamp": "2026-11-25T08:00:00Z"}]}),
                    ),
                StatusCode::OK,
            ),
        ],
    ];
    let mut names = Vec::new();
    let mut answered = Vec::new();
    let held = |n: usize| format!("held-{n}");
    for group in groups {
        let (group_names, requests): (Vec<_>, Vec<_>) = group
            .into_iter()
            .enumerate()
            .map(|(i, (name, req, expected))| {
                let id = held(names.len() + i);
                (name, (req.header("x-request-id", id), expected))
            })
            .unzip();
        let (requests, expected): (Vec<_>, Vec<_>) = requests.into_iter().unzip();
        let got = sent_while_held(&db, requests).await;
        names.extend(group_names);
        answered.extend(
            got.into_iter()
                .zip(expected)
                .map(|((status, body, took), expected)| (status, expected, body, took)),
        );
    }
    let wrong: Vec<String> = names
        .iter()
        .zip(&answered)
        .filter(|(_, (status, expected, _, took))| {
            status != expected || *took <= Duration::from_secs(1)
        })
        .map(|(name, (status, _, body, took))| format!("{name}: {status} after {took:?}: {body}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "answered otherwise than by the write's outcome after the deadline:\n{}",
        wrong.join("\n")
    );
    // Each was in the server past the deadline, as its own log line says: a
    // request that reached it late would have tested nothing.
    let request_lines = || -> Vec<Value> {
        server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["fields"]["message"] == "request")
            .collect()
    };
    let line_of = |lines: &[Value], n: usize| {
        lines
            .iter()
            .find(|l| l["fields"]["request_id"] == held(n).as_str())
            .cloned()
    };
    wait_until("a log line for each request", || {
        let lines = request_lines();
        (0..names.len()).all(|n| line_of(&lines, n).is_some())
    })
    .await;
    let lines = request_lines();
    for (n, name) in names.iter().enumerate() {
        let line = line_of(&lines, n).unwrap();
        let ms = line["fields"]["latency_ms"].as_f64().unwrap();
        assert!(ms > 1000.0, "{name}: {ms} ms in the server: {line}");
    }

    // Each write happened once: the key made is shown and works, ...
    let made: Value = serde_json::from_str(&answered[0].2).unwrap();
    let me = send(Method::GET, "/v1/me", made["key"].as_str().unwrap(), None)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let list: Value = send(Method::GET, "/v1/keys", &keys.admin, None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let labelled = |label: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["label"] == label)
            .count()
    };
    assert_eq!(labelled("made while slow"), 1);
    // ... the screening created is the one its retry finds, ...
    let created: Value = serde_json::from_str(&answered[2].2).unwrap();
    let retry = send(
        Method::POST,
        "/v1/screenings",
        &keys.intake,
        Some(answers.clone()),
    )
    .header("idempotency-key", "made-while-slow")
    .send()
    .await
    .unwrap();
    assert_eq!(retry.status(), 201);
    let retried: Value = retry.json().await.unwrap();
    assert_eq!(retried["id"], created["id"]);
    // ... and the CDS card is the one a retry of the hook call gives.
    let card: Value = serde_json::from_str(&answered[6].2).unwrap();
    let again: Value = client
        .post(server.url(SERVICE))
        .bearer_auth(token_for(&server.base, "retry-after-slow"))
        .json(&hook)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["cards"][0]["uuid"], card["cards"][0]["uuid"]);
}
