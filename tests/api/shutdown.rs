//! SIGTERM with creations in flight: the service stops accepting, finishes
//! what it took, and exits 0. Every creation is then either acknowledged
//! (201) and stored, or refused and not stored: retried with its
//! idempotency key after a restart, a refused one is created then, never
//! found as already made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::binary;
use crate::helpers::{Keys, TestDb, case_answers, wait_until};

/// A creation's idempotency key, and its id when it was acknowledged.
type Outcome = (String, Option<String>);

#[tokio::test]
async fn creations_in_flight_at_sigterm_are_acknowledged_and_stored_or_refused_and_not() {
    let db = TestDb::new().await;
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    let server = binary::serve(&env);
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..16 {
        let (stop, outcomes, base, key) = (
            stop.clone(),
            outcomes.clone(),
            server.base.clone(),
            keys.intake.clone(),
        );
        clients.push(tokio::spawn(async move {
            // A connection of its own per client, kept alive between requests.
            let client = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let idem = format!("sigterm-{c}-{n}");
                n += 1;
                let res = client
                    .post(format!("{base}/v1/screenings"))
                    .bearer_auth(&key)
                    .header("idempotency-key", &idem)
                    .json(&case_answers("ideal-candidate"))
                    .send()
                    .await;
                let acked = match res {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap();
                        Some(body["id"].as_str().unwrap().to_string())
                    }
                    Ok(r) => {
                        assert!(r.status() == 503, "refused with {}", r.status());
                        None
                    }
                    // Refused: the connection was closed or not accepted.
                    Err(_) => None,
                };
                let refused = acked.is_none();
                outcomes.lock().unwrap().push((idem, acked));
                if refused {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    // Under load: more creations acknowledged than there are clients.
    let acknowledged = |o: &Mutex<Vec<Outcome>>| {
        o.lock()
            .unwrap()
            .iter()
            .filter(|(_, id)| id.is_some())
            .count()
    };
    wait_until("17 creations acknowledged", || acknowledged(&outcomes) > 16).await;
    let (status, _, stderr) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM exits 0: {status}; {stderr}");
    // The service is gone: each client goes on until it has been refused.
    let sent_before = outcomes.lock().unwrap().len();
    wait_until("16 creations refused after the exit", || {
        outcomes.lock().unwrap()[sent_before..]
            .iter()
            .filter(|(_, id)| id.is_none())
            .count()
            >= 16
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let outcomes = outcomes.lock().unwrap().clone();
    let acked = outcomes.iter().filter(|(_, id)| id.is_some()).count();
    let refused = outcomes.len() - acked;
    assert!(
        acked > 16 && refused > 0,
        "{acked} acknowledged, {refused} refused"
    );

    // After a restart: every acknowledged one is there; every refused one
    // was not stored (its retry creates it now).
    let again = binary::serve(&env);
    let client = reqwest::Client::new();
    for (idem, id) in &outcomes {
        let res = client
            .post(format!("{}/v1/screenings", again.base))
            .bearer_auth(&keys.intake)
            .header("idempotency-key", idem)
            .json(&case_answers("ideal-candidate"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let replayed = res.headers().get("idempotent-replayed").is_some();
        let body: Value = res.json().await.unwrap();
        match id {
            Some(id) => {
                assert!(replayed, "{idem} was acknowledged: it is stored");
                assert_eq!(body["id"].as_str(), Some(id.as_str()));
            }
            None => assert!(!replayed, "{idem} was refused, yet stored"),
        }
    }
    println!(
        "SIGTERM under load: {acked} acknowledged and stored, {refused} refused and not stored"
    );
    again.kill();
}
