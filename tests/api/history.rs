//! A screening's history, read a page at a time: its changes and its reads
//! merged in order, every event seen once across pages, and repeated reads
//! by one key kept as one event with a count, on every database and across
//! instances.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{self, Served};
use crate::helpers::{Keys, TestDb, case_answers, spawn_app};

/// The real binary on a fresh database, with `env` on top.
async fn served(env: &[(&str, &str)]) -> (TestDb, Keys, Served) {
    let db = TestDb::new().await;
    let keys = Keys::make(&db, "default").await;
    let mut all = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    all.extend_from_slice(env);
    let server = binary::serve(&all);
    (db, keys, server)
}

async fn get(client: &reqwest::Client, base: &str, key: &str, path: &str) -> reqwest::Response {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

async fn json_of(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200, "{:?}", res.url().path());
    res.json().await.unwrap()
}

async fn create(client: &reqwest::Client, base: &str, keys: &Keys) -> String {
    let res = client
        .post(format!("{base}/v1/screenings"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("pt-not-tried"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn correct(client: &reqwest::Client, base: &str, keys: &Keys, id: &str) {
    let res = client
        .put(format!("{base}/v1/screenings/{id}/answers"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Every page from `first`, following `next`: the events and the number of
/// pages.
async fn all_pages(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    first: &str,
) -> (Vec<Value>, usize) {
    let (mut events, mut pages, mut next) = (Vec::new(), 0, Some(first.to_string()));
    while let Some(path) = next {
        let page = json_of(get(client, base, key, &path).await).await;
        pages += 1;
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_string);
        assert!(pages < 1000, "a history that never ends");
    }
    (events, pages)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// Numbered 1, 2, 3... without a gap or a repeat, and in time order.
fn assert_numbered_in_order(events: &[Value]) {
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn a_history_one_event_longer_than_a_page_comes_in_two_pages_each_event_once_in_order() {
    // Every read its own event, so that 99 reads make 99 events.
    let (_db, keys, server) = served(&[("FACET_SCREEN_VIEW_WINDOW_SECS", "0")]).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let id = create(&client, &base, &keys).await;
    for _ in 0..40 {
        json_of(
            get(
                &client,
                &base,
                &keys.clinician,
                &format!("/v1/screenings/{id}"),
            )
            .await,
        )
        .await;
    }
    correct(&client, &base, &keys, &id).await;
    for _ in 0..59 {
        json_of(get(&client, &base, &keys.admin, &format!("/v1/screenings/{id}")).await).await;
    }
    let mut expected = vec!["created"];
    expected.extend(["viewed"; 40]);
    expected.push("answers_corrected");
    expected.extend(["viewed"; 59]);

    // 101 events: a page of 100 (the default), then one.
    let history = format!("/v1/screenings/{id}/history");
    let first = json_of(get(&client, &base, &keys.clinician, &history).await).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 100);
    let next = first["next"].as_str().expect("a next page").to_string();
    let last = json_of(get(&client, &base, &keys.clinician, &next).await).await;
    assert_eq!(last["events"].as_array().unwrap().len(), 1);
    assert_eq!(last["next"], Value::Null);
    let mut whole: Vec<Value> = first["events"].as_array().unwrap().clone();
    whole.extend(last["events"].as_array().unwrap().iter().cloned());
    assert_eq!(kinds(&whole), expected);
    assert_numbered_in_order(&whole);
    assert!(
        whole
            .iter()
            .all(|e| e["kind"] != "viewed" || e["data"]["count"] == 1)
    );

    // Any page size gives the same events, each once.
    let (paged, pages) = all_pages(
        &client,
        &base,
        &keys.clinician,
        &format!("{history}?limit=7"),
    )
    .await;
    assert_eq!(pages, 15);
    assert_eq!(paged, whole);
    let one =
        json_of(get(&client, &base, &keys.admin, &format!("{history}?limit=500")).await).await;
    assert_eq!(one["events"].as_array().unwrap(), &whole);
    assert_eq!(one["next"], Value::Null);

    // Events added while a client pages come after, once.
    let page = json_of(
        get(
            &client,
            &base,
            &keys.clinician,
            &format!("{history}?limit=50"),
        )
        .await,
    )
    .await;
    json_of(
        get(
            &client,
            &base,
            &keys.clinician,
            &format!("/v1/screenings/{id}"),
        )
        .await,
    )
    .await;
    let (rest, _) = all_pages(
        &client,
        &base,
        &keys.clinician,
        page["next"].as_str().unwrap(),
    )
    .await;
    let mut seen: Vec<Value> = page["events"].as_array().unwrap().clone();
    seen.extend(rest);
    assert_eq!(seen.len(), 102);
    assert_eq!(seen[..101], whole[..]);
    assert_eq!(seen[101]["kind"], "viewed");
    assert_numbered_in_order(&seen);
}

#[tokio::test]
async fn bad_history_parameters_are_named() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A cursor of the other screening's history.
    for _ in 0..2 {
        app.get(&format!("/v1/screenings/{other}")).await;
    }
    let page: Value = app
        .get(&format!("/v1/screenings/{other}/history?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    let foreign = page["next"]
        .as_str()
        .unwrap()
        .split("cursor=")
        .nth(1)
        .unwrap()
        .to_string();

    let history = format!("/v1/screenings/{id}/history");
    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("limit=501", vec!["limit"]),
        ("limit=-1", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("cursor=zzz", vec!["cursor"]),
        (&format!("cursor={foreign}"), vec!["cursor"]),
        (
            "limit=0&cursor=zzz&colour=red",
            vec!["colour", "cursor", "limit"],
        ),
    ] {
        let res = app.get(&format!("{history}?{query}")).await;
        assert_eq!(res.status(), 422, "{query}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.unwrap();
        let mut named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        named.sort();
        assert_eq!(named, fields, "{query}");
    }
    for limit in [1, 500] {
        let res = app.get(&format!("{history}?limit={limit}")).await;
        assert_eq!(res.status(), 200, "limit={limit}");
    }
    // A parameter given twice is a malformed query: 400, as documented.
    let res = app.get(&format!("{history}?limit=1&limit=2")).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(
        doc["paths"]["/v1/screenings/{id}/history"]["get"]["responses"]["400"].is_object(),
        "the 400 is documented"
    );
}

#[tokio::test]
async fn repeated_reads_by_one_key_are_one_event_with_a_count_until_the_record_changes() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("pt-not-tried")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = async |key: &str| {
        let res = app.get_as(key, &format!("/v1/screenings/{id}")).await;
        assert_eq!(res.status(), 200);
    };
    for _ in 0..5 {
        read(&app.keys.clinician).await;
    }
    for _ in 0..3 {
        read(&app.keys.admin).await;
    }
    for _ in 0..2 {
        read(&app.keys.clinician).await;
    }
    // A correction: a read after it is a read of other answers.
    let res = app
        .client
        .put(app.url(&format!("/v1/screenings/{id}/answers")))
        .bearer_auth(&app.keys.intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    read(&app.keys.clinician).await;

    let history: Value = app
        .get_as(&app.keys.admin, &format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let events = history["events"].as_array().unwrap();
    assert_eq!(
        kinds(events),
        ["created", "viewed", "viewed", "answers_corrected", "viewed"]
    );
    assert_numbered_in_order(events);
    let viewed: Vec<(&str, i64)> = events
        .iter()
        .filter(|e| e["kind"] == "viewed")
        .map(|e| {
            (
                e["actor"]["label"].as_str().unwrap(),
                e["data"]["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        viewed,
        [
            ("clinician test key", 7),
            ("admin test key", 3),
            ("clinician test key", 1)
        ]
    );
    for e in events.iter().filter(|e| e["kind"] == "viewed") {
        let (first, last) = (
            e["data"]["first"].as_str().unwrap(),
            e["data"]["last"].as_str().unwrap(),
        );
        assert_eq!(first, e["at"].as_str().unwrap());
        assert!(first <= last, "{e}");
    }
    // The clinician's first event runs from before the administrator's
    // reads to after them.
    assert!(events[1]["data"]["last"].as_str() > events[2]["data"]["first"].as_str());
    assert_eq!(events[4]["data"]["first"], events[4]["data"]["last"]);
}

#[tokio::test]
async fn a_read_after_the_window_is_a_new_event() {
    let (_db, keys, server) = served(&[("FACET_SCREEN_VIEW_WINDOW_SECS", "1")]).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let id = create(&client, &base, &keys).await;
    let read = format!("/v1/screenings/{id}");
    json_of(get(&client, &base, &keys.clinician, &read).await).await;
    // Longer than the window: whatever the load, the second read is at
    // least this long after the first.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    json_of(get(&client, &base, &keys.clinician, &read).await).await;
    let history = json_of(
        get(
            &client,
            &base,
            &keys.clinician,
            &format!("/v1/screenings/{id}/history"),
        )
        .await,
    )
    .await;
    let events = history["events"].as_array().unwrap();
    assert_eq!(kinds(events), ["created", "viewed", "viewed"]);
    assert!(
        events[1..].iter().all(|e| e["data"]["count"] == 1),
        "{history}"
    );
}

#[tokio::test]
async fn concurrent_reads_by_one_key_on_two_instances_are_each_counted_once() {
    let (db, keys, a) = served(&[]).await;
    let b = binary::serve(&[
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ]);
    let client = reqwest::Client::new();
    for round in 0..5 {
        let id = create(&client, &a.base, &keys).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let base = if i % 2 == 0 { &a.base } else { &b.base }.clone();
            let key = if i < 25 { &keys.clinician } else { &keys.admin }.clone();
            let (client, path) = (client.clone(), format!("/v1/screenings/{id}"));
            tasks.push(tokio::spawn(async move {
                get(&client, &base, &key, &path).await.status().as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200, "round {round}");
        }
        let history = json_of(
            get(
                &client,
                &a.base,
                &keys.clinician,
                &format!("/v1/screenings/{id}/history"),
            )
            .await,
        )
        .await;
        let events = history["events"].as_array().unwrap();
        assert_numbered_in_order(events);
        let mut counts: Vec<(&str, i64)> = events
            .iter()
            .filter(|e| e["kind"] == "viewed")
            .map(|e| {
                (
                    e["actor"]["label"].as_str().unwrap(),
                    e["data"]["count"].as_i64().unwrap(),
                )
            })
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            [("admin test key", 15), ("clinician test key", 25)],
            "round {round}: one event per key, no read lost: {history}"
        );
    }
}

#[tokio::test]
async fn the_database_allows_a_read_only_to_be_counted_again() {
    let app = spawn_app().await;
    let id = app.create_screening(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&format!("/v1/screenings/{id}")).await.status(), 200);
    let pool = app.db.pool().await;
    for sql in [
        "UPDATE screening_views SET at = 'x'",
        "UPDATE screening_views SET actor = '{}'",
        "UPDATE screening_views SET screening_id = screening_id || 'x'",
        "UPDATE screening_views SET reads = reads - 1",
        "UPDATE screening_views SET reads = reads + 2, last_at = '2999-01-01T00:00:00.000000Z'",
        "UPDATE screening_views SET reads = reads + 1, last_at = '2000-01-01T00:00:00.000000Z'",
        "UPDATE screening_views SET follows = 12345",
        "DELETE FROM screening_views",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // Counting one more read, later, is the one change allowed.
    sqlx::query(
        "UPDATE screening_views SET reads = reads + 1, last_at = '2999-01-01T00:00:00.000000Z'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let history: Value = app
        .get(&format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["events"][1]["data"]["count"], 2);
}

#[tokio::test]
async fn a_view_window_longer_than_a_day_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for window in ["86401", "-1", "15m"] {
        let out = binary::command()
            .arg("serve")
            .env("FACET_SCREEN_DATA_DIR", &data)
            .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
            .env("FACET_SCREEN_VIEW_WINDOW_SECS", window)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{window}: {stderr}");
        assert!(stderr.contains("view-window-secs"), "{window}: {stderr}");
        assert!(!data.join("facet-screen.db").exists(), "{window}");
    }
    // A day is the longest.
    let server = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", data.to_str().unwrap()),
        ("FACET_SCREEN_VIEW_WINDOW_SECS", "86400"),
    ]);
    assert_eq!(server.get_json("/healthz").await["status"], "ok");
}

#[tokio::test]
async fn reads_kept_before_the_upgrade_are_one_event_each_and_a_key_s_next_read_joins_its_latest() {
    use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
    use facet_screen::screening::record::timestamp;

    // A database as the release before this one left it.
    let db = TestDb::new().await;
    let pool = db.pool().await;
    let mut migrator = if db.is_postgres() {
        sqlx::migrate!("./migrations/postgres")
    } else {
        sqlx::migrate!("./migrations/sqlite")
    };
    let before = if db.is_postgres() { 11 } else { 10 };
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= before)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator.run(&pool).await.unwrap();
    let (mut legacy, secret) = NewKey::mint(
        Clinic::parse("default").unwrap(),
        Role::Clinician,
        Label::parse("legacy clinician").unwrap(),
        Expiry::NEVER,
    );
    legacy.id = "key_legacy".into();
    let actor = r#"{"key_id":"key_legacy","label":"legacy clinician"}"#;
    let other = r#"{"key_id":"key_other","label":"front desk"}"#;
    let ago = |minutes: i64| timestamp(chrono::Utc::now() - chrono::TimeDelta::minutes(minutes));
    let id = "0190b4a2-0000-7000-8000-0000000000aa";
    sqlx::query(
        "INSERT INTO screenings (id, clinic, status, suggested, answers, evaluation, answers_version, created_at, updated_at) \
         VALUES ($1, 'default', 'pending_review', 'not_yet_eligible', '{}', '{}', 1, $2, $3)",
    )
    .bind(id)
    .bind(ago(30))
    .bind(ago(30))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
         VALUES ('e1', $1, 1, 'created', $2, $3, '{\"suggested_outcome\":\"not_yet_eligible\",\"answers_version\":1}')",
    )
    .bind(id)
    .bind(ago(30))
    .bind(other)
    .execute(&pool)
    .await
    .unwrap();
    for (minutes, who) in [(10, actor), (5, actor), (4, other)] {
        sqlx::query("INSERT INTO screening_views (screening_id, at, actor) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(ago(minutes))
            .bind(who)
            .execute(&pool)
            .await
            .unwrap();
    }

    // Upgraded: each read kept is an event of one read, as it was.
    let store = facet_screen::store::Store::connect(&db.url).await.unwrap();
    store.insert_key(&legacy).await.unwrap();
    let app = crate::helpers::spawn_on(std::sync::Arc::new(db), |_| {}).await;
    let history = format!("/v1/screenings/{id}/history");
    let counts = async || {
        let page: Value = app.get(&history).await.json().await.unwrap();
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["actor"]["key_id"].as_str().unwrap().to_string(),
                    e["data"]["count"].as_i64().unwrap_or(0),
                )
            })
            .collect::<Vec<_>>()
    };
    let event = |kind: &str, key: &str, count: i64| (kind.to_string(), key.to_string(), count);
    assert_eq!(
        counts().await,
        [
            event("created", "key_other", 0),
            event("viewed", "key_legacy", 1),
            event("viewed", "key_legacy", 1),
            event("viewed", "key_other", 1),
        ]
    );
    // The key reads again, 5 minutes after its last read: counted with it.
    let res = app
        .get_as(secret.expose(), &format!("/v1/screenings/{id}"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        counts().await,
        [
            event("created", "key_other", 0),
            event("viewed", "key_legacy", 1),
            event("viewed", "key_legacy", 2),
            event("viewed", "key_other", 1),
        ]
    );
    // The rows kept stay as they were.
    let err = sqlx::query("UPDATE screening_views SET at = 'x'")
        .execute(&app.db.pool().await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}
