//! Soak with retries: many concurrent clients create screenings with
//! idempotency keys and retry some requests as a client would after a
//! timeout. Afterwards: one screening per distinct key, no 5xx, and every
//! acknowledged screening reads back byte for byte.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{case_answers, spawn_with};

const CLIENTS: usize = 16;
const KEYS_PER_CLIENT: usize = 20;

#[tokio::test]
async fn retried_creations_under_load_never_duplicate_or_lose_a_screening() {
    let app = Arc::new(spawn_with(|s| s.rate_limit = 1_000_000).await);
    let acked: Arc<Mutex<BTreeMap<String, (String, String)>>> = Arc::default();
    // Every answer that was not a 201, by key: the run must end with none.
    let unexpected: Arc<Mutex<Vec<(String, u16)>>> = Arc::default();
    let cases = [
        "ideal-candidate",
        "pt-not-tried",
        "cauda-equina",
        "no-block-yet",
    ];
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (app, acked, unexpected) = (app.clone(), acked.clone(), unexpected.clone());
        tasks.push(tokio::spawn(async move {
            // A client that gives up very early: its request may or may not
            // have been committed when it retries.
            let impatient = reqwest::Client::builder()
                .timeout(Duration::from_micros(300))
                .build()
                .unwrap();
            for k in 0..KEYS_PER_CLIENT {
                let key = format!("soak-{c}-{k}");
                let answers = case_answers(cases[(c + k) % cases.len()]);
                let send = |client: &reqwest::Client| {
                    client
                        .post(app.url("/v1/screenings"))
                        .bearer_auth(&app.keys.intake)
                        .header("idempotency-key", &key)
                        .json(&answers)
                        .send()
                };
                if k % 3 == 0 {
                    let _ = send(&impatient).await; // timed out, or not: the client cannot tell
                }
                let mut attempts = if k % 5 == 0 { 2 } else { 1 }; // and some retry after a success
                while attempts > 0 {
                    attempts -= 1;
                    let res = send(&app.client).await.unwrap();
                    let status = res.status().as_u16();
                    if status != 201 {
                        unexpected.lock().unwrap().push((key.clone(), status));
                        continue;
                    }
                    let body = res.text().await.unwrap();
                    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let mut acked = acked.lock().unwrap();
                    if let Some((earlier, _)) = acked.get(&key) {
                        assert_eq!(earlier, &id, "a retry of {key} made another screening");
                    }
                    acked.insert(key.clone(), (id, body));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "answers other than 201: {unexpected:?}"
    );
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), CLIENTS * KEYS_PER_CLIENT);

    // Count every stored screening through the API, page by page.
    let mut stored = Vec::new();
    let mut next = Some("/v1/screenings?limit=100".to_string());
    while let Some(url) = next {
        let page: Value = app.get(&url).await.json().await.unwrap();
        stored.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string()),
        );
        next = page["next"].as_str().map(String::from);
    }
    assert_eq!(
        stored.len(),
        CLIENTS * KEYS_PER_CLIENT,
        "one screening per distinct key"
    );

    for (key, (id, body)) in &acked {
        let res = app
            .get_as(&app.keys.intake, &format!("/v1/screenings/{id}"))
            .await;
        assert_eq!(res.status(), 200, "{key}");
        assert_eq!(
            &res.text().await.unwrap(),
            body,
            "{key} reads back byte for byte"
        );
    }
}
