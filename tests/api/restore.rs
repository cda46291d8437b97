//! A restore that fails keeps the old data: every check (integrity, the
//! migrations against this binary's, the schema) runs on a copy before it
//! is put in place, so a backup that cannot serve is refused with the
//! reason, the database it would have replaced stays byte for byte, and
//! `serve` still starts on it with the old data. An older backup (fewer
//! migrations) is migrated forward in the copy, before the swap.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::binary;
use crate::helpers::{TestDb, case_answers, repo};

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    binary::command()
        .args(args)
        .env("FACET_SCREEN_DATA_DIR", data)
        .output()
        .unwrap()
}

/// A SQLite file changed by `sql`.
async fn edit(file: &Path, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Every file of the data directory but the lock, with its bytes.
fn snapshot(data: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("facet-screen.lock"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// A served data directory with two screenings; their ids and bodies, and
/// a clinician's key.
async fn old_data(data: &Path) -> (Vec<(String, String)>, String) {
    let intake = binary::make_key(data, "intake");
    let clinician = binary::make_key(data, "clinician");
    let server = binary::serve(&[("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())]);
    let client = reqwest::Client::new();
    let mut kept = Vec::new();
    for case in ["ideal-candidate", "fracture-risk"] {
        let res = client
            .post(server.url("/v1/screenings"))
            .bearer_auth(&intake)
            .json(&case_answers(case))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let body = res.text().await.unwrap();
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        kept.push((id, body));
    }
    let (status, _, err) = server.terminate();
    assert!(status.success(), "{err}");
    (kept, clinician)
}

/// `serve` starts on `data` and answers with `kept`, byte for byte.
async fn serves(data: &Path, kept: &[(String, String)], clinician: &str) {
    let server = binary::serve(&[("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())]);
    let client = reqwest::Client::new();
    for (id, body) in kept {
        let read = client
            .get(server.url(&format!("/v1/screenings/{id}")))
            .bearer_auth(clinician)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{id}");
        assert_eq!(&read.text().await.unwrap(), body, "{id}");
    }
    server.kill();
}

#[tokio::test]
async fn a_backup_that_cannot_serve_is_refused_with_why_and_the_old_database_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (data, other) = (dir.path().join("data"), dir.path().join("other"));
    let (kept, clinician) = old_data(&data).await;
    // A good backup of another directory, to spoil in each way.
    let (other_kept, _) = old_data(&other).await;
    let good = dir.path().join("good.db");
    let out = run(&other, &["backup", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&good).unwrap();

    let spoilt = |name: &str| {
        let file = dir.path().join(name);
        std::fs::copy(&good, &file).unwrap();
        file
    };
    let newer = spoilt("newer.db");
    edit(
        &newer,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from a newer release', 1, X'00', 0)",
    )
    .await;
    let changed = spoilt("changed.db");
    edit(
        &changed,
        "UPDATE _sqlx_migrations SET checksum = X'00' \
         WHERE version = (SELECT MIN(version) FROM _sqlx_migrations)",
    )
    .await;
    let failed = spoilt("failed.db");
    edit(
        &failed,
        "UPDATE _sqlx_migrations SET success = 0 \
         WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    let unguarded = spoilt("unguarded.db");
    edit(&unguarded, "DROP TRIGGER screening_events_no_delete").await;
    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let corrupt = dir.path().join("corrupt.db");
    let mut scrambled = bytes.clone();
    for b in &mut scrambled[bytes.len() / 2..bytes.len() / 2 + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&corrupt, &scrambled).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all\n".repeat(300)).unwrap();
    let foreign = dir.path().join("foreign.db");
    edit(
        &foreign,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('x')",
    )
    .await;

    let before = snapshot(&data);
    for (file, why) in [
        (&newer, "99990101000000"),
        (&changed, "checksum"),
        (&failed, "did not finish"),
        (&unguarded, "screening_events_no_delete"),
        (&truncated, "integrity"),
        (&corrupt, "integrity"),
        (&text, "not a SQLite database"),
        (&foreign, "not a facet-screen database"),
    ] {
        let out = run(&data, &["restore", file.to_str().unwrap(), "--force"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{} was restored", file.display());
        assert!(
            stderr.contains(why) && stderr.contains("nothing was changed"),
            "{}: refused naming {why}: {stderr}",
            file.display()
        );
        assert!(
            snapshot(&data) == before,
            "{}: the old database changed",
            file.display()
        );
        println!("{}: {}", file.display(), stderr.trim());
    }
    serves(&data, &kept, &clinician).await;

    // The good backup is restored over it (--force), and served.
    let out = run(&data, &["restore", good.to_str().unwrap(), "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("restoring") || n.contains("replaced"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let clinician = binary::make_key(&data, "clinician");
    serves(&data, &other_kept, &clinician).await;
}

/// A backup made by an older release (fewer migrations) is brought up to
/// date in the copy, before it is put in place: `serve` then starts on it
/// without migrating.
#[tokio::test]
async fn an_older_backup_is_migrated_forward_before_it_is_put_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("older-migrations");
    std::fs::create_dir(&migrations).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("migrations/sqlite"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let latest = files.pop().unwrap();
    for f in &files {
        std::fs::copy(f, migrations.join(f.file_name().unwrap())).unwrap();
    }
    let older = dir.path().join("older.db");
    sqlx::any::install_default_drivers();
    {
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}?mode=rwc", older.display()))
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(migrations.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = run(&data, &["restore", older.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = latest.file_name().unwrap().to_str().unwrap()[..4].to_string();
    assert!(said.contains("migrated forward"), "{said}");
    println!("{}: {said}", latest.display());
    let versions = {
        let pool = sqlx::AnyPool::connect(&format!(
            "sqlite://{}?mode=ro",
            data.join("facet-screen.db").display()
        ))
        .await
        .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    };
    assert_eq!(
        versions,
        version.parse::<i64>().unwrap(),
        "in place, migrated"
    );
    serves(&data, &[], "").await;
}

/// PostgreSQL is restored with its own tools into a new database (see the
/// README), which leaves the old one untouched by construction. What is
/// left to guarantee there is what `serve` does on a restored database
/// whose migrations are not this binary's: it refuses before changing
/// anything, even with a migration of its own still to run. On both
/// databases.
#[tokio::test]
async fn serve_refuses_a_database_migrated_by_a_newer_release_and_changes_nothing() {
    let db = TestDb::new().await;
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let pool = db.pool().await;
    let latest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from a newer release', TRUE, $1, 0)",
    )
    .bind(vec![0u8])
    .execute(&pool)
    .await
    .unwrap();
    let versions = async || -> Vec<i64> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let before = versions().await;

    let mut child = binary::command()
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused: {stderr}");
    assert!(stderr.contains("99990101000000"), "{stderr}");
    assert_eq!(
        versions().await,
        before,
        "migration {latest} was run on a database it refused"
    );
    pool.close().await;
}
