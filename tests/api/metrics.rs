//! `/metrics` on an address of its own: the Prometheus text format, with
//! labels that never carry a patient value, a key, a key id or a raw path.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary;
use crate::helpers::{Keys, TestDb, case_answers};

/// Each sample of a scrape (`series value`), by its series.
fn samples(scraped: &str) -> BTreeMap<String, f64> {
    scraped
        .lines()
        .filter(|l| l.starts_with("facet_"))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.parse().unwrap()))
        .collect()
}

/// The real binary's own scrape, which only this test's requests reach:
/// every count is exact (a recorder shared by the tests running in this
/// process could only be read as "at least").
#[tokio::test]
async fn metrics_are_served_apart_with_route_templates_and_no_patient_data() {
    let db = TestDb::new().await;
    let keys = Keys::make(&db, "default").await;
    let server = binary::serve(&[
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_METRICS_ADDR", "127.0.0.1:0"),
    ]);
    let metrics = metrics_address(&server);
    let client = reqwest::Client::new();
    let get = async |key: &str, path: &str| {
        client
            .get(server.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    };
    let post = async |path: &str, answers: &Value| {
        client
            .post(server.url(path))
            .bearer_auth(&keys.intake)
            .json(answers)
            .send()
            .await
            .unwrap()
    };
    // Not on the API's address.
    assert_eq!(get(&keys.clinician, "/metrics").await.status(), 404);
    let mut answers = case_answers("ideal-candidate");
    answers["patient"]["external_ref"] = json!("MRN-SECRET-4711");
    let res = post("/v1/screenings", &answers).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["suggested_outcome"], "likely_candidate");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        get(&keys.clinician, &format!("/v1/screenings/{id}"))
            .await
            .status(),
        200
    );
    let res = post("/v1/evaluations", &case_answers("fracture-risk")).await;
    assert_eq!(res.status(), 200);
    let me: Value = get(&keys.clinician, "/v1/me").await.json().await.unwrap();
    let ready = server.get_json("/readyz").await;

    let res = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    let scraped = samples(&text);
    let count = |series: &str| {
        *scraped
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    // One of each request this test made, under its route template.
    let requests: BTreeMap<&str, f64> = scraped
        .iter()
        .filter(|(s, _)| s.starts_with("facet_http_requests_total{"))
        // `/healthz`: the start's own readiness checks, as many as it took.
        .filter(|(s, _)| !s.contains(r#"route="/healthz""#))
        .map(|(s, v)| (s.as_str(), *v))
        .collect();
    assert_eq!(
        requests,
        BTreeMap::from([
            (
                r#"facet_http_requests_total{route="/readyz",method="GET",status="200"}"#,
                1.0
            ),
            (
                r#"facet_http_requests_total{route="/v1/evaluations",method="POST",status="200"}"#,
                1.0
            ),
            (
                r#"facet_http_requests_total{route="/v1/me",method="GET",status="200"}"#,
                1.0
            ),
            (
                r#"facet_http_requests_total{route="/v1/screenings",method="POST",status="201"}"#,
                1.0
            ),
            (
                r#"facet_http_requests_total{route="/v1/screenings/{id}",method="GET",status="200"}"#,
                1.0
            ),
            (
                r#"facet_http_requests_total{route="unmatched",method="GET",status="404"}"#,
                1.0
            ),
        ]),
        "{text}"
    );
    assert_eq!(
        count(
            r#"facet_http_request_duration_seconds_count{route="/v1/screenings/{id}",method="GET"}"#
        ),
        1.0
    );
    // The creation and the evaluation, each evaluated once.
    let evaluations: BTreeMap<&str, f64> = scraped
        .iter()
        .filter(|(s, _)| s.starts_with("facet_evaluations_total{"))
        .map(|(s, v)| (s.as_str(), *v))
        .collect();
    assert_eq!(
        evaluations,
        BTreeMap::from([
            (
                r#"facet_evaluations_total{outcome="likely_candidate",profile="cms_lcd"}"#,
                1.0
            ),
            (
                r#"facet_evaluations_total{outcome="urgent_evaluation",profile="cms_lcd"}"#,
                1.0
            ),
        ]),
        "{text}"
    );
    // Four requests with a key: each looked up once, in the cache or not;
    // the first use of each of the two keys cannot have been cached.
    let lookups = |result: &str| {
        scraped
            .get(&format!(r#"facet_key_cache_total{{result="{result}"}}"#))
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(lookups("hit") + lookups("miss"), 4.0, "{text}");
    assert!(lookups("miss") >= 2.0, "{text}");
    // One screening stored durably.
    let backend = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(
        count(&format!(
            r#"facet_db_write_duration_seconds_count{{backend="{backend}"}}"#
        )),
        1.0
    );
    assert_eq!(
        count(&format!(
            r#"facet_ruleset_info{{version="{}",digest="{}",profile="cms_lcd"}}"#,
            ready["ruleset"]["version"].as_str().unwrap(),
            ready["ruleset"]["digest"].as_str().unwrap()
        )),
        1.0
    );
    for secret in [
        id,
        "MRN-SECRET-4711",
        me["key_id"].as_str().unwrap(),
        &keys.clinician[4..],
        &keys.intake[4..],
    ] {
        assert!(!text.contains(secret), "a label carries {secret}");
    }
}

/// The address of `/metrics`, from the server's own log line.
fn metrics_address(server: &binary::Served) -> String {
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("metrics at /metrics"))
        .unwrap_or_else(|| panic!("no metrics address logged:\n{log}"));
    let line: Value = serde_json::from_str(line).unwrap();
    line["fields"]["metrics"].as_str().unwrap().to_string()
}

/// The scrape, over a connection of its own that is closed after it.
async fn scrape(address: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(address).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.0 200"), "{out}");
    out
}

/// Every series of the API's request metrics in a scrape (without its value).
fn request_series(scraped: &str) -> BTreeSet<String> {
    scraped
        .lines()
        .filter(|l| l.starts_with("facet_http_"))
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_string()))
        .collect()
}

/// Each value a label takes in `series`.
fn label_values<'a>(series: &'a BTreeSet<String>, label: &str) -> BTreeSet<&'a str> {
    let prefix = format!("{label}=\"");
    series
        .iter()
        .flat_map(|s| s.split(['{', ',']))
        .filter_map(|pair| pair.strip_prefix(prefix.as_str()))
        .map(|v| v.trim_end_matches('}').trim_end_matches('"'))
        .collect()
}

const STANDARD: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
];

#[tokio::test]
async fn made_up_methods_and_unmatched_paths_never_become_labels_and_the_series_stay_bounded() {
    let db = TestDb::new().await;
    let server = binary::serve(&[
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_METRICS_ADDR", "127.0.0.1:0"),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ]);
    let metrics = metrics_address(&server);
    let client = reqwest::Client::new();
    let send = async |method: &str, path: &str| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        client
            .request(method, server.url(path))
            .send()
            .await
            .unwrap()
            .status()
    };
    // Every standard method, and one made up, to a route and to a path no
    // route matches.
    for method in STANDARD.iter().copied().chain(["PATIENTDOE0"]) {
        send(method, "/v1/screenings").await;
        send(method, "/patients/DOE-0/mrn-0").await;
    }
    let first = request_series(&scrape(&metrics).await);
    // Then 300 more made-up methods (named like a patient) and unmatched
    // paths: not one more series.
    for i in 1..=300 {
        let status = send(&format!("PATIENTDOE{i}"), "/v1/screenings").await;
        assert_eq!(status, 405);
        let status = send(
            &format!("PATIENTDOE{i}"),
            &format!("/patients/DOE-{i}/mrn-{i}"),
        )
        .await;
        assert_eq!(status, 404);
        send("GET", &format!("/patients/DOE-{i}/mrn-{i}")).await;
    }
    let scraped = scrape(&metrics).await;
    let second = request_series(&scraped);
    for caller in ["PATIENTDOE", "DOE-", "mrn-", "/patients"] {
        assert!(!scraped.contains(caller), "the scrape carries {caller}");
        assert!(!server.log().contains(caller), "the log carries {caller}");
    }
    assert_eq!(
        second, first,
        "300 more made-up methods and paths added series"
    );
    let methods = label_values(&second, "method");
    let allowed: BTreeSet<&str> = STANDARD.iter().copied().chain(["other"]).collect();
    assert!(methods.is_subset(&allowed), "{methods:?}");
    assert!(methods.contains("other"), "{methods:?}");
    let routes = label_values(&second, "route");
    // `/healthz`: the start's own readiness check.
    assert_eq!(
        routes,
        BTreeSet::from(["/healthz", "/v1/screenings", "unmatched"]),
        "route templates only"
    );
    println!(
        "{} request series after 609 requests with 301 made-up methods and 301 unmatched paths",
        second.len()
    );
}

/// A connection to the metrics port that says nothing.
async fn idle(address: &str) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(address).await.unwrap()
}

/// The connections `/metrics` serves at once (`monitoring::MAX_CONNECTIONS`).
const METRICS_CONNECTIONS: usize = 16;

/// Whether the server has closed `s` (the end of the stream or a reset),
/// without waiting.
fn closed(s: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    match s.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// The header timeout the server is given here, in seconds.
const HEADER_TIMEOUT: u64 = 5;

#[tokio::test]
async fn idle_connections_to_the_metrics_port_are_capped_and_closed_after_the_header_timeout() {
    let db = TestDb::new().await;
    let server = binary::serve(&[
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_METRICS_ADDR", "127.0.0.1:0"),
        (
            "FACET_SCREEN_HEADER_TIMEOUT_SECS",
            &HEADER_TIMEOUT.to_string(),
        ),
    ]);
    let metrics = metrics_address(&server);
    // One less than the cap: a scrape is still answered beside them, while
    // every one of them is still open (had it waited for the header
    // timeout to close them, they would be closed by now).
    let opened = Instant::now();
    let mut held = Vec::new();
    for _ in 0..METRICS_CONNECTIONS - 1 {
        held.push(idle(&metrics).await);
    }
    tokio::time::timeout(Duration::from_secs(60), scrape(&metrics))
        .await
        .expect("a scrape beside 15 idle connections is answered");
    let open = held.iter().filter(|s| !closed(s)).count();
    assert_eq!(
        open,
        METRICS_CONNECTIONS - 1,
        "the scrape waited until idle connections were closed"
    );
    // One more: the cap is reached, and a scrape waits until the idle ones
    // are closed, which the header timeout does.
    held.push(idle(&metrics).await);
    tokio::time::timeout(Duration::from_secs(60), scrape(&metrics))
        .await
        .expect("the idle connections are closed after the header timeout");
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_secs(HEADER_TIMEOUT),
        "answered after {waited:?}: the 17th connection was served beside 16 others"
    );
    for mut s in held {
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut rest))
            .await
            .expect("closed by the server")
            .unwrap_or(0);
        assert!(n < 1024, "closed with at most a short answer");
    }
    println!(
        "16 idle connections to /metrics closed; the next scrape answered {waited:?} after the first was opened"
    );
}

#[tokio::test]
async fn idle_metrics_connections_past_the_descriptor_limit_do_not_shut_the_api_out() {
    assert!(
        crate::hostile::raise_own_descriptor_limit() >= 2400,
        "this test needs 2,400 descriptors"
    );
    let db = TestDb::new().await;
    let server = binary::serve_after(
        "ulimit -Sn 1024;",
        &[
            ("DATABASE_URL", db.url.as_str()),
            ("FACET_SCREEN_METRICS_ADDR", "127.0.0.1:0"),
            ("FACET_SCREEN_HEADER_TIMEOUT_SECS", "30"),
        ],
    );
    let metrics = metrics_address(&server);
    // 1,100 at once: those the server neither takes nor queues (its backlog
    // is full) are given up after 3 s. Before its cap, the metrics listener
    // took all 1,100, and the API could accept nothing more.
    let opening: Vec<_> = (0..1100)
        .map(|_| {
            let metrics = metrics.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(3), idle(&metrics))
                    .await
                    .ok()
            })
        })
        .collect();
    let mut held = Vec::new();
    for o in opening {
        held.extend(o.await.unwrap());
    }
    assert!(
        held.len() > METRICS_CONNECTIONS,
        "{} connections opened",
        held.len()
    );
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // Well within the header timeout (30 s): nothing was cut off yet.
    for _ in 0..20 {
        let res = client.get(server.url("/healthz")).send().await;
        assert!(
            res.as_ref().is_ok_and(|r| r.status() == 200),
            "/healthz beside {} idle metrics connections: {res:?}",
            held.len()
        );
    }
    println!(
        "20 /healthz answered in {:?} beside {} idle metrics connections",
        started.elapsed(),
        held.len()
    );
    drop(held);
}
