//! Several instances on one database, as a clinic network runs them: the
//! database settles every race, nothing is shared in memory. Every test here
//! runs on SQLite and, in `.ci/run`, on PostgreSQL, where writers do not
//! queue behind one lock and read-then-write code fails.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{TestApp, case_answers, spawn_on, spawn_with};

async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_with(|s| s.rate_limit = 1_000_000).await;
    let b = spawn_on(a.db.clone(), |s| s.rate_limit = 1_000_000).await;
    (a, b)
}

#[tokio::test]
async fn reads_racing_reviews_never_fail_and_one_review_wins() {
    let (a, b) = two_instances().await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    for round in 0..20 {
        let id = a.create_screening(&case_answers("ideal-candidate")).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut tasks = Vec::new();
        for i in 0..14 {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                let res = if i < 2 {
                    app.post_as(
                        &app.keys.clinician,
                        &format!("/v1/screenings/{id}/review"),
                        &json!({"decision": "confirm", "clinician": format!("dr-{i}")}),
                    )
                    .await
                } else {
                    app.get_as(&app.keys.clinician, &format!("/v1/screenings/{id}"))
                        .await
                };
                (i < 2, res.status().as_u16())
            }));
        }
        let mut reviews = Vec::new();
        for t in tasks {
            let (is_review, status) = t.await.unwrap();
            assert!(status < 500, "round {round}: a {status}");
            if is_review {
                reviews.push(status);
            } else {
                assert_eq!(status, 200, "round {round}: a read");
            }
        }
        reviews.sort();
        assert_eq!(
            reviews,
            [200, 409],
            "round {round}: exactly one review wins"
        );
        // The history is complete and in order: created first, the review,
        // and the twelve reads, numbered without a gap.
        let history: Value = a
            .get_as(&a.keys.clinician, &format!("/v1/screenings/{id}/history"))
            .await
            .json()
            .await
            .unwrap();
        let events = history["events"].as_array().unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds[0], "created", "round {round}");
        assert_eq!(kinds.iter().filter(|k| **k == "reviewed").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "viewed").count(), 12);
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
        let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "round {round}: {times:?}"
        );
    }
}
