//! A 201 means committed: the real binary is killed with SIGKILL in the middle
//! of a load, restarted on the same data, and every acknowledged screening is
//! there, byte for byte.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{TestDb, case_answers};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &TestDb, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_facet-screen"))
        .arg("serve")
        .env("FACET_SCREEN_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &db.url)
        .env("FACET_SCREEN_RATE_LIMIT", "1000000")
        .env_remove("FACET_SCREEN_RULES_DIR")
        .env_remove("FACET_SCREEN_PROFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

#[tokio::test]
async fn every_acknowledged_screening_survives_sigkill() {
    let db = TestDb::new().await;
    // Migrate and make a key before the service first starts.
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let key = crate::helpers::Keys::make(&db, "default").await.intake;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut child = start(&db, port);
    wait_ready(&client, &base).await;

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
    // Kill in the middle of the load, once enough were acknowledged.
    while acked.lock().unwrap().len() < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let mut child = start(&db, port);
    wait_ready(&client, &base).await;
    for (id, body) in &acked {
        let res = client
            .get(format!("{base}/v1/screenings/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged screening {id} lost");
        assert_eq!(&res.text().await.unwrap(), body, "screening {id} changed");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked.len() >= 60);
}
