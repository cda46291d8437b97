//! Backups that restore: a backup of the SQLite database taken while the
//! real binary creates screenings, restored into a fresh data directory and
//! served by a second instance, holds every screening acknowledged before
//! it began, byte for byte, with its history; the history stays
//! append-only. A restore refuses while a service uses the directory and
//! over existing data without --force.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::binary;
use crate::helpers::{case_answers, wait_until};

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    binary::command()
        .args(args)
        .env("FACET_SCREEN_DATA_DIR", data)
        .output()
        .unwrap()
}

/// When a creation was acknowledged, its id, and the 201's body as sent.
type Acked = (Instant, String, String);

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_screening_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let (data, restored, dest) = (
        dir.path().join("data"),
        dir.path().join("restored"),
        dir.path().join("backup.db"),
    );
    let intake = binary::make_key(&data, "intake");
    let server = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", data.to_str().unwrap()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ]);
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut load = Vec::new();
    for i in 0..8 {
        let (client, stop, acked, base, key) = (
            client.clone(),
            stop.clone(),
            acked.clone(),
            server.base.clone(),
            intake.clone(),
        );
        load.push(tokio::spawn(async move {
            let cases = [
                "ideal-candidate",
                "fracture-risk",
                "acute-pain",
                "nothing-answered",
            ];
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = client
                    .post(format!("{base}/v1/screenings"))
                    .bearer_auth(&key)
                    .json(&case_answers(cases[(i + n) % cases.len()]))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let body = res.text().await.unwrap();
                let at = Instant::now();
                let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                acked.lock().unwrap().push((at, id, body));
                n += 1;
            }
        }));
    }
    wait_until("20 creations acknowledged before the backup", || {
        acked.lock().unwrap().len() >= 20
    })
    .await;
    let began = Instant::now();
    let out = {
        let (data, dest) = (data.clone(), dest.clone());
        tokio::task::spawn_blocking(move || run(&data, &["backup", dest.to_str().unwrap()]))
            .await
            .unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("integrity ok"), "{said}");
    let done = Instant::now();
    wait_until("a creation acknowledged after the backup", || {
        acked.lock().unwrap().iter().any(|(at, _, _)| *at > done)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<_> = acked.iter().filter(|(at, _, _)| *at < began).collect();
    let after = acked.len() - before.len();
    assert!(
        before.len() >= 20 && after > 0,
        "load on both sides of the backup: {} before, {after} after",
        before.len()
    );
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600,
        "private"
    );

    // A restore is refused while a service uses the directory.
    let out = run(&data, &["restore", dest.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a service is using"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.kill();

    // Into a fresh directory (made, as a service's is, before a restore
    // fills it): checked and migrated; a second time, refused without
    // --force.
    std::fs::create_dir(&restored).unwrap();
    let out = run(&restored, &["restore", dest.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{said}");
    assert!(said.contains("integrity ok, migrations run"), "{said}");
    let out = run(&restored, &["restore", dest.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds data"));

    // A second instance on the restored data: every screening acknowledged
    // before the backup began, byte for byte, with its creation on its
    // history.
    let second = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", restored.to_str().unwrap()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ]);
    let clinician = {
        let out = run(
            &restored,
            &[
                "keys",
                "create",
                "--clinic",
                "default",
                "--role",
                "clinician",
                "--label",
                "after restore",
            ],
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    for (_, id, body) in &before {
        let read = client
            .get(format!("{}/v1/screenings/{id}", second.base))
            .bearer_auth(&clinician)
            .send()
            .await
            .unwrap();
        assert_eq!(
            read.status(),
            200,
            "{id} was acknowledged before the backup"
        );
        assert_eq!(&read.text().await.unwrap(), body, "byte for byte");
        let history: Value = client
            .get(format!("{}/v1/screenings/{id}/history", second.base))
            .bearer_auth(&clinician)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(history["events"][0]["kind"], "created");
    }
    // The restore is refused while the second instance serves.
    let out = run(&restored, &["restore", dest.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    second.kill();

    // The history stays append-only.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!(
        "sqlite://{}",
        restored.join("facet-screen.db").display()
    ))
    .await
    .unwrap();
    for sql in [
        "UPDATE screening_events SET data = '{}'",
        "DELETE FROM screening_events",
    ] {
        let refused = sqlx::query(sql).execute(&pool).await;
        assert!(refused.is_err(), "{sql} must be refused");
    }
    println!(
        "backup taken under load: {} screenings acknowledged before it began, {after} after; all {} restored",
        before.len(),
        before.len()
    );
}

/// PostgreSQL's own tools: a `pg_dump` of a schema in use, restored with
/// `pg_restore` into a new database, serves the same records, and keeps
/// the history's triggers and the constraints. Runs in the PostgreSQL
/// suite (`FACET_SCREEN_TEST_POSTGRES`, as in `.ci/run`); the SQLite
/// suite has the test above.
#[tokio::test]
async fn pg_dump_and_pg_restore_keep_records_triggers_and_constraints() {
    let Ok(base) = std::env::var("FACET_SCREEN_TEST_POSTGRES") else {
        return;
    };
    let app = crate::helpers::spawn_app().await;
    let schema = app
        .db
        .url
        .split("search_path%3D")
        .nth(1)
        .unwrap()
        .to_string();
    let mut created = Vec::new();
    for case in ["ideal-candidate", "fracture-risk", "nothing-answered"] {
        created.push(app.create_screening(&case_answers(case)).await);
    }
    let id = created[0]["id"].as_str().unwrap().to_string();
    let reviewed = app
        .post_as(
            &app.keys.clinician,
            &format!("/v1/screenings/{id}/review"),
            &serde_json::json!({"decision": "confirm", "clinician": "dr-okafor"}),
        )
        .await;
    assert_eq!(reviewed.status(), 200);
    let reviewed: Value = reviewed.json().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("facet.dump");
    let out = std::process::Command::new("pg_dump")
        .args([
            "--format=custom",
            "--no-owner",
            "--schema",
            &schema,
            "--file",
        ])
        .arg(&dump)
        .arg(&base)
        .output()
        .expect("pg_dump (Debian: postgresql-client) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = format!("restore_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::AnyPool::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {target}")))
        .execute(&admin)
        .await
        .unwrap();
    let target_base = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{target}"),
        None => panic!("{base} names no database"),
    };
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &target_base])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The service on the restored database serves the same records.
    let restored = std::sync::Arc::new(crate::helpers::TestDb::existing(format!(
        "{target_base}?options=-c%20search_path%3D{schema}"
    )));
    let second = crate::helpers::spawn_on(restored.clone(), |_| {}).await;
    for (i, before) in created.iter().enumerate() {
        let sid = before["id"].as_str().unwrap();
        let read: Value = second
            .get(&format!("/v1/screenings/{sid}"))
            .await
            .json()
            .await
            .unwrap();
        let expected = if i == 0 { &reviewed } else { before };
        assert_eq!(&read, expected, "{sid}");
    }
    // The review stays final; the history stays append-only; ids stay unique.
    let again = second
        .post_as(
            &second.keys.clinician,
            &format!("/v1/screenings/{id}/review"),
            &serde_json::json!({"decision": "confirm", "clinician": "dr-okafor"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let pool = restored.pool().await;
    for sql in [
        "UPDATE screening_events SET data = '{}'",
        "DELETE FROM screening_events",
    ] {
        assert!(sqlx::query(sql).execute(&pool).await.is_err(), "{sql}");
    }
    let duplicate = sqlx::query("INSERT INTO screenings SELECT * FROM screenings LIMIT 1")
        .execute(&pool)
        .await;
    assert!(duplicate.is_err(), "the primary key came back too");
    pool.close().await;
    drop(second);
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {target} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
}
