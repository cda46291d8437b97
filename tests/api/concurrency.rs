//! Several instances on one database, as a clinic network runs them: the
//! database settles every race, nothing is shared in memory. Every test here
//! runs on SQLite and, in `.ci/run`, on PostgreSQL, where writers do not
//! queue behind one lock and read-then-write code fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary;
use crate::helpers::{Keys, TestApp, TestDb, case_answers, spawn_app, spawn_on, spawn_with};

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
        // and the twelve reads (one key's, counted in a few events), numbered
        // without a gap.
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
        let reads: i64 = events
            .iter()
            .filter(|e| e["kind"] == "viewed")
            .map(|e| e["data"]["count"].as_i64().unwrap())
            .sum();
        assert_eq!(reads, 12, "round {round}");
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
        let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "round {round}: {times:?}"
        );
    }
}

/// Holds off every writer of screenings for `hold`, from a connection of
/// the test's own (readers go on); returns once the lock is taken.
async fn hold_writes(db: &TestDb, hold: Duration) -> tokio::task::JoinHandle<()> {
    let pool = db.pool().await;
    let postgres = db.is_postgres();
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut conn = pool.acquire().await.unwrap();
        let begin = if postgres {
            "BEGIN; LOCK TABLE screenings IN EXCLUSIVE MODE"
        } else {
            "BEGIN IMMEDIATE"
        };
        sqlx::raw_sql(begin).execute(&mut *conn).await.unwrap();
        locked.send(()).unwrap();
        tokio::time::sleep(hold).await;
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await.unwrap();
    });
    is_locked.await.unwrap();
    task
}

#[tokio::test]
async fn a_write_past_the_deadline_is_answered_with_its_outcome_not_408() {
    let app = spawn_with(|s| s.request_timeout_secs = 1).await;
    let held = hold_writes(&app.db, Duration::from_millis(2500)).await;
    let started = Instant::now();
    let res = app
        .client
        .post(app.url("/v1/screenings"))
        .bearer_auth(&app.keys.intake)
        .header("idempotency-key", "slow-1")
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    // The deadline passed while the write waited for the database: the
    // answer is the write's outcome.
    assert!(started.elapsed() > Duration::from_secs(1));
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    held.await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/screenings/{id}")).await.status(), 200);
}

#[tokio::test]
async fn a_client_that_gives_up_finds_its_creation_by_its_key_or_none_was_made() {
    let app = spawn_with(|s| s.rate_limit = 1_000_000).await;
    let held = hold_writes(&app.db, Duration::from_millis(1500)).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let answers = case_answers("ideal-candidate");
    let gave_up = futures::future::join_all((0..8).map(|k| {
        impatient
            .post(app.url("/v1/screenings"))
            .bearer_auth(&app.keys.intake)
            .header("idempotency-key", format!("gave-up-{k}"))
            .json(&answers)
            .send()
    }))
    .await;
    assert!(
        gave_up.iter().all(Result::is_err),
        "every client gave up while the database was held"
    );
    held.await.unwrap();
    // Let what the server still had in hand finish: until the number stored
    // stays the same for a second (a slow machine may take a while).
    let count = || async {
        let page: Value = app.get("/v1/screenings").await.json().await.unwrap();
        page["items"].as_array().unwrap().len()
    };
    let settled_by = Instant::now() + Duration::from_secs(20);
    let mut stored_before = count().await;
    let mut steady = 0;
    while steady < 4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = count().await;
        steady = if now == stored_before { steady + 1 } else { 0 };
        stored_before = now;
        assert!(Instant::now() < settled_by, "the store never settled");
    }
    // Each client retries with its key: it gets the screening its first
    // request made, if that one was stored, and never a second one.
    let mut replayed = 0;
    for k in 0..8 {
        let res = app
            .client
            .post(app.url("/v1/screenings"))
            .bearer_auth(&app.keys.intake)
            .header("idempotency-key", format!("gave-up-{k}"))
            .json(&answers)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        replayed += usize::from(res.headers().get("idempotent-replayed").is_some());
    }
    let list: Value = app.get("/v1/screenings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 8, "one per key");
    // What was stored while the clients were away is exactly what their
    // retries found by key; the rest was not stored at all.
    assert_eq!(replayed, stored_before);
    println!("{stored_before} of 8 abandoned creations were stored and found by their key");
}

/// `rounds` rounds of 12 reads on `reads` racing 2 reviews, one on each base.
async fn race_reads_and_reviews(
    client: &reqwest::Client,
    intake: &str,
    clinician: &str,
    reads: &str,
    reviews: [&str; 2],
    rounds: usize,
) {
    for round in 0..rounds {
        let created: Value = client
            .post(format!("{reads}/v1/screenings"))
            .bearer_auth(intake)
            .json(&case_answers("ideal-candidate"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        let mut tasks = Vec::new();
        // Two reviews (one on each base), then twelve reads.
        let targets = reviews
            .iter()
            .map(|base| Some(*base))
            .chain(std::iter::repeat_n(None, 12));
        for review_on in targets {
            let (client, id, clinician) = (client.clone(), id.clone(), clinician.to_string());
            let req = match review_on {
                Some(base) => client
                    .post(format!("{base}/v1/screenings/{id}/review"))
                    .json(&json!({"decision": "confirm", "clinician": "dr-a"})),
                None => client.get(format!("{reads}/v1/screenings/{id}")),
            };
            let is_review = review_on.is_some();
            tasks.push(tokio::spawn(async move {
                let status = req.bearer_auth(clinician).send().await.unwrap().status();
                (is_review, status.as_u16())
            }));
        }
        let mut reviewed = Vec::new();
        for t in tasks {
            let (is_review, status) = t.await.unwrap();
            assert!(status < 500, "round {round}: a {status}");
            if is_review {
                reviewed.push(status);
            }
        }
        reviewed.sort();
        assert_eq!(reviewed, [200, 409], "round {round}");
    }
}

#[tokio::test]
async fn two_processes_on_one_database_agree_and_a_revocation_reaches_both() {
    let db = TestDb::new().await;
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    let (a, b) = (binary::serve(&env), binary::serve(&env));
    let client = reqwest::Client::new();

    // 16 clients send 400 creations; each key goes to both at once.
    let answers = Arc::new(case_answers("ideal-candidate"));
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (client, answers, intake) = (client.clone(), answers.clone(), keys.intake.clone());
        let bases = [a.base.clone(), b.base.clone()];
        tasks.push(tokio::spawn(async move {
            let mut bad = Vec::new();
            for k in 0..25 {
                let key = format!("two-{c}-{k}");
                let send = |base: &str| {
                    client
                        .post(format!("{base}/v1/screenings"))
                        .bearer_auth(&intake)
                        .header("idempotency-key", &key)
                        .json(&*answers)
                        .send()
                };
                let (x, y) = tokio::join!(send(&bases[0]), send(&bases[1]));
                let (x, y) = (x.unwrap(), y.unwrap());
                if x.status() != 201 || y.status() != 201 {
                    bad.push((key.clone(), x.status().as_u16(), y.status().as_u16()));
                    continue;
                }
                let (x, y): (Value, Value) = (x.json().await.unwrap(), y.json().await.unwrap());
                if x["id"] != y["id"] {
                    bad.push((key.clone(), 0, 0));
                }
            }
            bad
        }));
    }
    for t in tasks {
        let bad = t.await.unwrap();
        assert!(bad.is_empty(), "{bad:?}");
    }
    let pool = db.pool().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM screenings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 400, "exactly one screening per key");

    // Reads on one instance race reviews on both.
    race_reads_and_reviews(
        &client,
        &keys.intake,
        &keys.clinician,
        &a.base,
        [&a.base, &b.base],
        5,
    )
    .await;

    // A key revoked by `keys revoke` (a third process) is refused by a
    // running instance within 1 s.
    let store = facet_screen::store::Store::connect(&db.url).await.unwrap();
    let (new, secret) = facet_screen::auth::NewKey::mint(
        facet_screen::auth::Clinic::parse("default").unwrap(),
        facet_screen::auth::Role::Intake,
        facet_screen::auth::Label::parse("to revoke").unwrap(),
        facet_screen::auth::Expiry::NEVER,
    );
    let info = store.insert_key(&new).await.unwrap();
    let me = |base: String| {
        client
            .get(format!("{base}/v1/me"))
            .bearer_auth(secret.expose())
            .send()
    };
    assert_eq!(me(b.base.clone()).await.unwrap().status(), 200);
    let out = binary::command()
        .args(["keys", "revoke", &info.id])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked = Instant::now();
    loop {
        // Measured to when the request was sent: one sent within the second
        // may pass, however late its answer comes back.
        let sent = revoked.elapsed();
        if me(b.base.clone()).await.unwrap().status() == 401 {
            break;
        }
        assert!(
            sent < Duration::from_secs(1),
            "still accepted when sent {sent:?} after its revocation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "revocation reached the other instance in {:?}",
        revoked.elapsed()
    );
    a.kill();
    b.kill();
}

/// Makes every new screening fail to be written, as a full disk does, until
/// `allow_writes`. PostgreSQL: a trigger raising SQLSTATE 53100 (disk_full);
/// SQLite: a trigger that aborts.
async fn refuse_writes(pool: &sqlx::AnyPool, postgres: bool) {
    let sql = if postgres {
        "CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN \
           RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; \
         END; $$ LANGUAGE plpgsql; \
         CREATE TRIGGER disk_full BEFORE INSERT ON screenings FOR EACH ROW EXECUTE FUNCTION disk_full();"
    } else {
        "CREATE TRIGGER disk_full BEFORE INSERT ON screenings \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
    };
    sqlx::raw_sql(sql).execute(pool).await.unwrap();
}

async fn allow_writes(pool: &sqlx::AnyPool) {
    let sql = if pool
        .connect_options()
        .database_url
        .scheme()
        .starts_with("postgres")
    {
        "DROP TRIGGER disk_full ON screenings"
    } else {
        "DROP TRIGGER disk_full"
    };
    sqlx::raw_sql(sql).execute(pool).await.unwrap();
}

#[tokio::test]
async fn a_database_that_refuses_writes_mid_load_loses_nothing_and_claims_nothing() {
    let app = Arc::new(spawn_with(|s| s.rate_limit = 1_000_000).await);
    let pool = app.db.pool().await;
    let answers = Arc::new(case_answers("ideal-candidate"));
    let create = |k: String| {
        let (app, answers) = (app.clone(), answers.clone());
        tokio::spawn(async move {
            let res = app
                .client
                .post(app.url("/v1/screenings"))
                .bearer_auth(&app.keys.intake)
                .header("idempotency-key", &k)
                .json(&*answers)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry_after = res.headers().contains_key("retry-after");
            let body: Value = res.json().await.unwrap();
            (k, status, retry_after, body)
        })
    };
    // Load before, during and after: 16 at once each time.
    let mut acked = Vec::new();
    for phase in ["before", "full", "after"] {
        match phase {
            "full" => refuse_writes(&pool, app.db.is_postgres()).await,
            "after" => allow_writes(&pool).await,
            _ => {}
        }
        let tasks: Vec<_> = (0..16).map(|i| create(format!("{phase}-{i}"))).collect();
        for t in tasks {
            let (key, status, retry_after, body) = t.await.unwrap();
            match phase {
                "full" => {
                    assert!(status >= 500, "{key}: {status} while the disk is full");
                    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
                    if app.db.is_postgres() {
                        // A full disk passes: try again later.
                        assert_eq!(status, 503, "{key}");
                        assert!(retry_after, "{key}: no Retry-After");
                    }
                }
                _ => {
                    assert_eq!(status, 201, "{key} ({phase})");
                    acked.push(body["id"].as_str().unwrap().to_string());
                }
            }
        }
    }
    // Every acknowledged screening is there, and nothing else.
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM screenings")
        .fetch_all(&pool)
        .await
        .unwrap();
    acked.sort();
    let mut stored = stored;
    stored.sort();
    assert_eq!(stored, acked);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn housekeeping_purges_what_expired_once_whatever_the_number_of_instances() {
    let app = spawn_app().await;
    for key in ["old-1", "old-2", "fresh"] {
        let res = app
            .client
            .post(app.url("/v1/screenings"))
            .bearer_auth(&app.keys.intake)
            .header("idempotency-key", key)
            .json(&case_answers("ideal-candidate"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let pool = app.db.pool().await;
    sqlx::query("UPDATE idempotency_keys SET created_at = '2026-01-01T00:00:00.000000Z' WHERE key LIKE 'old-%'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO cds_jwt_ids (iss, jti, expires_at) VALUES ('i', 'expired', '2026-01-01T00:00:00.000000Z'), ('i', 'live', '9999-12-31T23:59:59.999999Z')")
        .execute(&pool)
        .await
        .unwrap();
    // Two instances' stores run it at the same moment: one does the run.
    let (a, b) = (
        facet_screen::store::Store::connect(&app.db.url)
            .await
            .unwrap(),
        facet_screen::store::Store::connect(&app.db.url)
            .await
            .unwrap(),
    );
    // The service's own schedule ran at its start: two hours later, it is due.
    let hour = chrono::Duration::hours(1);
    let now = chrono::Utc::now() + hour * 2;
    let (x, y) = tokio::join!(a.purge_expired(now, hour), b.purge_expired(now, hour));
    let runs: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(
        runs,
        [facet_screen::store::Purged {
            jwt_ids: 1,
            idempotency_keys: 2
        }]
    );
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, ["fresh"]);
    let jtis: Vec<String> = sqlx::query_scalar("SELECT jti FROM cds_jwt_ids")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(jtis, ["live"]);
    // Within the interval, nobody runs it again.
    assert_eq!(a.purge_expired(now + hour / 2, hour).await.unwrap(), None);
    assert!(a.purge_expired(now + hour, hour).await.unwrap().is_some());
}
