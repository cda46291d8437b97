//! Hostile networks and callers: each fault found by an outsider's attack,
//! as a test that failed before its fix.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary;
use crate::helpers::{case_answers, spawn_app, spawn_with};

const FHIR: &str = "application/fhir+json";

/// After a hostile scenario, the same server still answers a real question
/// correctly: the worked case `ideal-candidate` is a likely candidate.
async fn still_evaluates(client: &reqwest::Client, base: &str, key: &str) {
    let res = client
        .post(format!("{base}/v1/evaluations"))
        .bearer_auth(key)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .expect("the server still answers");
    assert_eq!(res.status(), 200);
    let ev: Value = res.json().await.unwrap();
    assert_eq!(ev["outcome"], "likely_candidate", "{ev}");
}

/// The real binary after a hostile scenario: still running, no panic on
/// its stderr, and a real question answered correctly.
async fn unharmed(server: &mut binary::Served, key: &str) {
    server.assert_unharmed();
    still_evaluates(&reqwest::Client::new(), &server.base, key).await;
}

/// 6,000 unknown answers in one body just under 64 KiB.
fn many_unknown_answers() -> Value {
    let keys: Map<String, Value> = (0..6000).map(|i| (format!("x{i:04}"), json!(0))).collect();
    let body = json!({ "pain": keys });
    assert!(serde_json::to_vec(&body).unwrap().len() < 64 * 1024);
    body
}

#[tokio::test]
async fn thousands_of_bad_answers_give_a_small_422_for_json_and_fhir_clients() {
    let app = spawn_app().await;
    let body = many_unknown_answers();
    // JSON clients: 50 errors named, and the count of the rest.
    let res = app.evaluate(&body).await;
    assert_eq!(res.status(), 422);
    let text = res.text().await.unwrap();
    assert!(text.len() < 16 * 1024, "{} bytes", text.len());
    let problem: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(problem["errors"].as_array().unwrap().len(), 50);
    assert_eq!(problem["more_errors"], 5950);
    // FHIR clients (this answered 500): an OperationOutcome of the same.
    let res = app
        .client
        .post(app.url("/v1/evaluations"))
        .bearer_auth(&app.keys.intake)
        .header("accept", FHIR)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], FHIR);
    let outcome: Value = res.json().await.unwrap();
    let issues = outcome["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 51);
    assert_eq!(
        issues[50]["diagnostics"],
        "5950 more field(s) are not valid"
    );
    still_evaluates(&app.client, &app.address, &app.keys.intake).await;
}

#[tokio::test]
async fn a_clients_request_id_is_echoed_only_when_short_and_visible() {
    let app = spawn_app().await;
    let id_of = |sent: String| {
        let req = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", sent);
        async move {
            let res = req.send().await.unwrap();
            res.headers()["x-request-id"].to_str().unwrap().to_string()
        }
    };
    let fine = "a".repeat(128);
    assert_eq!(id_of(fine.clone()).await, fine);
    for bad in ["b".repeat(129), "has space".into(), "x".repeat(300 * 1024)] {
        let got = id_of(bad.clone()).await;
        assert_ne!(got, bad);
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "a new id: {got}");
    }
    still_evaluates(&app.client, &app.address, &app.keys.intake).await;
}

#[tokio::test]
async fn preflights_and_timeouts_carry_the_security_headers_and_408_is_a_problem() {
    let app = spawn_with(|s| {
        s.cors_origins = vec!["https://intake.example.org".into()];
        s.request_timeout_secs = 1;
    })
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/screenings"))
        .header("origin", "https://intake.example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://intake.example.org"
    );
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
    ] {
        assert!(preflight.headers().contains_key(h), "preflight lacks {h}");
    }
    // A body that never finishes: 408 after the deadline, as problem+json.
    let address = app.address.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/evaluations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"pain\":",
        app.keys.intake
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer))
        .await
        .expect("answered within 5 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(answer.contains("content-security-policy:"), "{answer}");
    assert!(answer.contains("\"status\":408"), "{answer}");
    still_evaluates(&app.client, &app.address, &app.keys.intake).await;
}

#[test]
fn bad_configuration_exits_2_before_touching_the_database_and_loses_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = binary::command()
        .arg("serve")
        .env("FACET_SCREEN_DATA_DIR", &data)
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_CORS_ORIGINS", "*")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("FACET_SCREEN_CORS_ORIGINS") && stderr.contains("no wildcard"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !data.join("facet-screen.db").exists(),
        "the database was touched"
    );
    // Corrected, the first start makes the admin key and prints it.
    let server = binary::serve(&[("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())]);
    let (_, _, stderr) = server.terminate();
    assert_eq!(stderr.matches("fsk_").count(), 1, "{stderr}");
}

#[tokio::test]
async fn the_data_is_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = binary::serve_after(
        "umask 022;",
        &[("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())],
    );
    let out = binary::command()
        .args([
            "keys", "create", "--clinic", "default", "--role", "intake", "--label", "k",
        ])
        .env("FACET_SCREEN_DATA_DIR", &data)
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // A write, so that the WAL and its index exist while it runs.
    let res = reqwest::Client::new()
        .post(server.url("/v1/screenings"))
        .bearer_auth(key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for file in [
        "facet-screen.db",
        "facet-screen.db-wal",
        "facet-screen.db-shm",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    server.terminate();
    // A directory that others can read is warned about at start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = binary::serve(&[("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())]);
    let (_, stdout, _) = server.terminate();
    assert!(stdout.contains("can be read by other users"), "{stdout}");
}

/// Raises this test process's own descriptor limit to its hard limit, so
/// that it can hold more connections than the server under test.
pub(crate) fn raise_own_descriptor_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the given struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    limit.rlim_cur
}

const HALF_HEADERS: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let key = binary::make_key(dir.path(), "intake");
    let mut server = binary::serve(&[("FACET_SCREEN_DATA_DIR", dir.path().to_str().unwrap())]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&address).await.unwrap();
    s.write_all(HALF_HEADERS).await.unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    // The server closes it (with or without a word) well within 15 s: the
    // end of the stream, or a reset.
    let closed = tokio::time::timeout(Duration::from_secs(15), s.read_to_end(&mut rest))
        .await
        .expect("closed within 15 s");
    let said = String::from_utf8_lossy(&rest);
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "cut off with at most a 408: {closed:?} {said}"
    );
    println!(
        "a half-header connection was closed after {:?} ({closed:?})",
        started.elapsed()
    );
    // Closed by the server, not by its end.
    unharmed(&mut server, &key).await;
    server.kill();
}

#[tokio::test]
async fn slow_clients_beyond_the_descriptor_limit_do_not_shut_everyone_out() {
    assert!(
        raise_own_descriptor_limit() >= 2200,
        "this test needs 2,200 descriptors"
    );
    let dir = tempfile::tempdir().unwrap();
    let key = binary::make_key(dir.path(), "intake");
    let mut server = binary::serve_after(
        "ulimit -Sn 1024;",
        &[("FACET_SCREEN_DATA_DIR", dir.path().to_str().unwrap())],
    );
    let address = server.base.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..1050 {
        // Some wait in the kernel's backlog; all hold a descriptor here.
        let mut s = tokio::net::TcpStream::connect(&address).await.unwrap();
        let _ = s.write_all(HALF_HEADERS).await;
        slow.push(s);
    }
    let opened = std::time::Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    loop {
        if let Ok(res) = client.get(format!("{}/healthz", server.base)).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(
            opened.elapsed() < Duration::from_secs(20),
            "/healthz did not answer within 20 s of 1,050 slow connections"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "1,050 slow connections opened in {:?} (those past the cap wait until the first are cut off); /healthz answered {:?} after the last, {:?} after the first",
        opened - started,
        opened.elapsed(),
        started.elapsed()
    );
    drop(slow);
    unharmed(&mut server, &key).await;
    server.kill();
}
