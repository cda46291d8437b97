//! `GET /v1/export` under abuse, through the real binary: exports run at
//! most N at once (429 with Retry-After beyond, before any body), each holds
//! at most one database connection (the API keeps answering), a reader that
//! stalls is cut after the stall timeout (its slot comes back, and it can
//! tell it was cut), and the SQLite WAL returns to a bounded size after a
//! slow export plus writes.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{self, Served};
use crate::helpers::{Keys, TestDb, case_answers};

/// Screenings in the record: an export of them (about 14 MB of NDJSON)
/// is far larger than what the sockets buffer, so a client that reads
/// nothing holds its export open.
const SCREENINGS: i64 = 2000;

/// A served binary on a fresh database holding `SCREENINGS` screenings
/// (one made through the API, copied), with `env` set.
async fn served_with(env: &[(&str, &str)]) -> (TestDb, Keys, Served) {
    let db = TestDb::new().await;
    facet_screen::store::Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let mut all = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    all.extend_from_slice(env);
    let server = binary::serve(&all);
    let res = reqwest::Client::new()
        .post(server.url("/v1/screenings"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    copy_screening(&db, SCREENINGS - 1).await;
    (db, keys, server)
}

/// The one stored screening and its creation, copied `n` times (created
/// on 2026-01-01, one a second).
async fn copy_screening(db: &TestDb, n: i64) {
    let pool = db.pool().await;
    let (id, created) = if db.is_postgres() {
        (
            "'00000000-0000-7000-8000-' || lpad(n::text, 12, '0')",
            "to_char(timestamp '2026-01-01' + n * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z'",
        )
    } else {
        (
            "printf('00000000-0000-7000-8000-%012d', n)",
            "strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || n || ' seconds') || '.000000Z'",
        )
    };
    let numbers = if db.is_postgres() {
        format!("generate_series(1, {n}) AS c(n)")
    } else {
        format!(
            "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) SELECT n FROM c) AS c"
        )
    };
    let event_id = id.replace("00000000-0000-7000-8000-", "e0000000-0000-7000-8000-");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO screenings (id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at, priority, external_ref) \
         SELECT {id}, s.clinic, s.status, s.suggested, s.final_outcome, s.answers, s.evaluation, s.answers_version, s.review, {created}, s.updated_at, s.priority, s.external_ref \
         FROM {numbers}, (SELECT * FROM screenings LIMIT 1) s; \
         INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
         SELECT {event_id}, {id}, 1, e.kind, e.at, e.actor, e.data \
         FROM {numbers}, (SELECT * FROM screening_events LIMIT 1) e;"
    )))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// An export asked for over a raw socket with a small receive buffer: its
/// response head is read, then nothing more until the caller reads.
async fn stalled_export(server: &Served, key: &str) -> (tokio::net::TcpStream, String) {
    let address = server.base.trim_start_matches("http://").to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address.parse().unwrap()).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /v1/export HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    (stream, String::from_utf8(head).unwrap())
}

/// Everything left on `stream` until the server closes it (a reset, after
/// a cut, ends it too).
async fn read_rest(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// A chunked body as read so far: its data, and whether it ended with the
/// last chunk (a body that was cut has none).
fn dechunk(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = raw[at..].windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size = std::str::from_utf8(&raw[at..at + eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else {
            return (body, false);
        };
        at += eol + 2;
        if size == 0 {
            return (body, raw[at..].starts_with(b"\r\n"));
        }
        if raw.len() < at + size + 2 {
            body.extend_from_slice(&raw[at..]);
            return (body, false);
        }
        body.extend_from_slice(&raw[at..at + size]);
        at += size + 2;
    }
}

fn lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

async fn export(server: &Served, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/v1/export"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// The API answers while exports run: the review queue, a creation, readiness.
async fn api_answers(server: &Served, keys: &Keys) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let list = client
        .get(server.url("/v1/screenings?limit=5"))
        .bearer_auth(&keys.clinician)
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.status(),
        200,
        "the list after {:?}: {}",
        started.elapsed(),
        list.text().await.unwrap_or_default()
    );
    let created = client
        .post(server.url("/v1/screenings"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("fracture-risk"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

/// A 429 that says when to come back, as problem+json, before any body.
async fn assert_refused(res: reqwest::Response) {
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(status, 429, "an export beyond the limit");
    assert!(retry.is_some_and(|s| s >= 1), "Retry-After: {retry:?}");
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/too-many-exports", "{problem}");
}

#[tokio::test]
async fn an_export_beyond_the_limit_gets_429_while_the_api_keeps_answering() {
    let (_db, keys, server) = served_with(&[
        ("FACET_SCREEN_MAX_EXPORTS", "2"),
        ("FACET_SCREEN_EXPORT_STALL_SECS", "300"),
    ])
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let (stream, head) = stalled_export(&server, &keys.admin).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(stream);
    }
    // Two exports hold their slots (their readers read nothing): the API
    // still has a connection, and a third export is refused.
    api_answers(&server, &keys).await;
    assert_refused(export(&server, &keys.admin).await).await;
    // Once their readers read, both end complete.
    for mut stream in held {
        let (body, complete) = dechunk(&read_rest(&mut stream).await);
        assert!(complete, "a complete chunked body");
        // Every screening, with or without the one created meanwhile.
        let n = lines(&body) as i64;
        assert!(n == SCREENINGS || n == SCREENINGS + 1, "{n} lines");
    }
}

#[tokio::test]
async fn four_exports_at_once_each_end_complete_or_are_refused_never_empty() {
    let (_db, keys, server) = served_with(&[]).await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (url, key) = (server.url("/v1/export"), keys.admin.clone());
            tokio::spawn(async move {
                let res = reqwest::Client::new()
                    .get(url)
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let retry = res.headers().get("retry-after").cloned();
                (status, retry, res.bytes().await.map_err(|e| e.to_string()))
            })
        })
        .collect();
    let mut complete = 0;
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        match status {
            200 => {
                let body = body.unwrap_or_else(|e| panic!("a 200 whose body was cut: {e}"));
                assert_eq!(
                    lines(&body),
                    SCREENINGS as usize,
                    "a 200 holds every screening"
                );
                complete += 1;
            }
            429 => assert!(retry.is_some(), "a 429 says when to retry"),
            other => panic!("an export answered {other}"),
        }
    }
    assert!(complete >= 1, "at least the first runs");
    api_answers(&server, &keys).await;
}

/// Waits (at most `limit`) until the server has logged `text`.
async fn logged(server: &Served, text: &str, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if server.log().contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_stalled_reader_is_cut_after_the_timeout_and_its_slot_comes_back() {
    let (_db, keys, server) = served_with(&[
        ("FACET_SCREEN_MAX_EXPORTS", "1"),
        ("FACET_SCREEN_EXPORT_STALL_SECS", "2"),
    ])
    .await;
    let started = Instant::now();
    let (mut stalled, head) = stalled_export(&server, &keys.admin).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // It holds the only slot: another export is refused; the API answers.
    assert_refused(export(&server, &keys.admin).await).await;
    api_answers(&server, &keys).await;

    // No progress for 2 s: the server cuts it, and says so.
    assert!(
        logged(&server, "export cut", Duration::from_secs(60)).await,
        "no cut logged:\n{}",
        server.log()
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    // The reader can tell: its body stops short, with no last chunk.
    let (body, complete) = dechunk(&read_rest(&mut stalled).await);
    assert!(!complete, "a cut body must not end as complete");
    assert!(lines(&body) < SCREENINGS as usize, "{} lines", lines(&body));

    // Its slot and its connection came back: a full export runs.
    let res = export(&server, &keys.admin).await;
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    assert_eq!(lines(&body), SCREENINGS as usize + 1);
    api_answers(&server, &keys).await;
}

/// The size of the SQLite WAL file beside the database of `db`.
fn wal_size(db: &TestDb) -> u64 {
    let file = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    std::fs::metadata(format!("{file}-wal")).map_or(0, |m| m.len())
}

/// `n` creations through the API, one at a time (each its own commit).
async fn create(server: &Served, keys: &Keys, n: usize) {
    let client = reqwest::Client::new();
    for _ in 0..n {
        let res = client
            .post(server.url("/v1/screenings"))
            .bearer_auth(&keys.intake)
            .json(&case_answers("ideal-candidate"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

#[tokio::test]
async fn the_sqlite_wal_returns_to_a_bounded_size_after_a_slow_export_and_writes() {
    const BOUND: u64 = 16 * 1024 * 1024;
    let (db, keys, server) = served_with(&[("FACET_SCREEN_EXPORT_STALL_SECS", "300")]).await;
    if db.is_postgres() {
        return; // PostgreSQL has no WAL file of ours to bound.
    }
    // A slow export: its reader reads nothing while 800 screenings are
    // created, then reads to the end.
    let (mut slow, head) = stalled_export(&server, &keys.admin).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    create(&server, &keys, 800).await;
    let during = wal_size(&db);
    let (body, complete) = dechunk(&read_rest(&mut slow).await);
    assert!(complete, "the slow export completes");
    assert!(lines(&body) >= SCREENINGS as usize);
    create(&server, &keys, 3).await;
    let after = wal_size(&db);
    println!(
        "WAL with a slow export: {:.1} MiB while it was open, {:.1} MiB after",
        mib(during),
        mib(after)
    );
    assert!(
        during <= BOUND && after <= BOUND,
        "the WAL grew to {:.1} MiB during the export and stayed at {:.1} MiB",
        mib(during),
        mib(after)
    );

    // Any other long reader (here a transaction of our own, open while 800
    // more are created) holds the WAL back while it reads; once it is gone,
    // the service's next writes cut the file back to the bound.
    let pool = db.pool().await;
    let mut reader = pool.begin().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM screenings")
        .fetch_one(&mut *reader)
        .await
        .unwrap();
    assert!(n > SCREENINGS);
    create(&server, &keys, 800).await;
    let held = wal_size(&db);
    reader.rollback().await.unwrap();
    pool.close().await;
    create(&server, &keys, 3).await;
    let after = wal_size(&db);
    println!(
        "WAL with a long reader: {:.1} MiB while it read, {:.1} MiB after",
        mib(held),
        mib(after)
    );
    assert!(held > BOUND, "the reader did hold the WAL back");
    assert!(
        after <= BOUND,
        "the WAL stayed at {:.1} MiB once the reader was gone",
        mib(after)
    );
}

/// A whole response read over a raw socket: its head, and its body as the
/// chunks carried it, with whether it ended with its last chunk.
async fn raw_export(server: &Served, key: &str) -> (String, Vec<u8>, bool) {
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            format!("GET /v1/export HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let all = read_rest(&mut stream).await;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let (body, complete) = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&all[split..])
    } else {
        (all[split..].to_vec(), true)
    };
    (head, body, complete)
}

#[tokio::test]
async fn an_export_that_cannot_start_says_so_and_one_that_fails_midway_never_ends_as_complete() {
    let (db, keys, server) = served_with(&[]).await;
    let pool = db.pool().await;
    let suggested: String = sqlx::query_scalar("SELECT suggested FROM screenings LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let set = async |n: i64, outcome: &str| {
        sqlx::query("UPDATE screenings SET suggested = $1 WHERE id = $2")
            .bind(outcome)
            .bind(format!("00000000-0000-7000-8000-{n:012}"))
            .execute(&pool)
            .await
            .unwrap();
    };
    let spoil = async |n: i64| set(n, "not-an-outcome").await;
    // The 150th screening cannot be read: the export has begun (200, the
    // first page sent), and its body stops short, with no last chunk.
    spoil(150).await;
    let (head, body, complete) = raw_export(&server, &keys.admin).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(!complete, "a body cut short must not end as complete");
    assert!(lines(&body) < 150, "{} lines", lines(&body));
    assert!(logged(&server, "export failed midway", Duration::from_secs(60)).await);

    // The first cannot be read: nothing was sent, and the status says so.
    spoil(1).await;
    let (head, body, _) = raw_export(&server, &keys.admin).await;
    assert!(head.starts_with("HTTP/1.1 500"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["status"], 500);

    // Both exports gave their slots back: once the record reads again, a
    // full export runs.
    set(1, &suggested).await;
    set(150, &suggested).await;
    let res = export(&server, &keys.admin).await;
    assert_eq!(res.status(), 200);
    assert_eq!(lines(&res.bytes().await.unwrap()), SCREENINGS as usize);
    api_answers(&server, &keys).await;
}
