//! A 201 means committed: the real binary is killed with SIGKILL in the middle
//! of a load, restarted on the same data, and every acknowledged screening is
//! there, byte for byte.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::binary::{self, Served};
use crate::helpers::{TestDb, case_answers};

fn start(db: &TestDb) -> Served {
    binary::serve(&[
        ("DATABASE_URL", &db.url),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ])
}

#[tokio::test]
async fn every_acknowledged_screening_survives_sigkill() {
    let db = TestDb::new().await;
    // Migrate and make a key before the service first starts.
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let key = crate::helpers::Keys::make(&db, "default").await.intake;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let server = start(&db);
    let base = server.base.clone();

    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let answers = Arc::new(case_answers("ideal-candidate"));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (client, base, acked, answers, key) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            answers.clone(),
            key.clone(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let res = client
                    .post(format!("{base}/v1/screenings"))
                    .bearer_auth(&key)
                    .header("idempotency-key", format!("crash-{w}-{i}"))
                    .json(&*answers)
                    .send()
                    .await;
                let Ok(res) = res else { return };
                if res.status() != 201 {
                    return;
                }
                let Ok(body) = res.text().await else { return };
                let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                acked.lock().unwrap().insert(id, body);
            }
        }));
    }
    // Kill in the middle of the load, once enough were acknowledged. A
    // server that answers errors instead fails the test, within a deadline.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 60 {
        let n = acked.lock().unwrap().len();
        assert!(
            !workers.iter().all(|w| w.is_finished()),
            "every client stopped after {n} acknowledged creations: the server refused or failed"
        );
        assert!(
            Instant::now() < deadline,
            "only {n} creations acknowledged in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let server = start(&db);
    for (id, body) in &acked {
        let res = client
            .get(server.url(&format!("/v1/screenings/{id}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged screening {id} lost");
        assert_eq!(&res.text().await.unwrap(), body, "screening {id} changed");
    }
    server.kill();
    assert!(acked.len() >= 60);
}
