//! A log that nobody reads never stalls the API: the real binary with its
//! stdout a pipe this test stops reading. Past the log's buffer, lines are
//! dropped and counted (`facet_log_lines_dropped_total`), requests are
//! still answered at once, a warning with the count is logged once writing
//! resumes, and SIGTERM still ends the service promptly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary;
use crate::helpers::{Keys, TestDb};

/// A reader of the server's stdout that reads only while its gate is open.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<(bool, String)>, Condvar)>);

impl Gate {
    fn set(&self, open: bool) {
        self.0.0.lock().unwrap().0 = open;
        self.0.1.notify_all();
    }

    fn read(&self) -> String {
        self.0.0.lock().unwrap().1.clone()
    }

    /// Reads `out` line by line, waiting whenever the gate is closed.
    fn reader(&self, out: BufReader<ChildStdout>) -> std::thread::JoinHandle<()> {
        let gate = self.clone();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                let (lock, cv) = &*gate.0;
                let mut state = lock.lock().unwrap();
                state.1.push_str(&line);
                state.1.push('\n');
                while !state.0 {
                    state = cv.wait(state).unwrap();
                }
            }
        })
    }
}

struct Stalled {
    child: Child,
    api: String,
    metrics: String,
    gate: Gate,
}

impl Drop for Stalled {
    fn drop(&mut self) {
        // A test that failed midway leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.gate.set(true);
    }
}

/// Starts `serve`, reads its stdout up to the line that it listens, and
/// then reads no more until the gate is opened.
fn start(db: &TestDb) -> Stalled {
    let mut child: Child = binary::command()
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_METRICS_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_LOG_FORMAT", "json")
        .env("FACET_SCREEN_RATE_LIMIT", "100000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = err.read_to_end(&mut sink);
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut api, mut metrics) = (None, None);
    while api.is_none() {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "the server exited");
        let Ok(line) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let fields = &line["fields"];
        if fields["message"] == "metrics at /metrics" {
            metrics = fields["metrics"].as_str().map(String::from);
        }
        if fields["message"] == "facet-screen listening" {
            api = fields["address"].as_str().map(String::from);
        }
    }
    let gate = Gate::default();
    gate.reader(out);
    Stalled {
        child,
        api: api.unwrap(),
        metrics: metrics.expect("metrics before listening"),
        gate,
    }
}

/// `facet_log_lines_dropped_total`, scraped (0 before any was dropped).
async fn dropped(metrics: &str) -> u64 {
    let mut s = tokio::net::TcpStream::connect(metrics).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.lines()
        .find_map(|l| l.strip_prefix("facet_log_lines_dropped_total "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Sends 2,000 `/healthz`, 16 at a time, each answered within 10 s: a
/// request held by a full log waits for ever, so a generous bound tells it
/// from one that a loaded machine answers slowly.
async fn round(api: &str) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("http://{api}/healthz");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                for _ in 0..125 {
                    let res = client.get(&url).send().await;
                    assert!(
                        res.as_ref().is_ok_and(|r| r.status() == 200),
                        "/healthz was not answered within 10 s: {res:?}"
                    );
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Sends rounds of 2,000 `/healthz` until log lines are dropped, then one
/// more round. Returns how many were sent.
async fn requests_until_lines_are_dropped(api: &str, metrics: &str) -> usize {
    let before = dropped(metrics).await;
    let mut sent = 0;
    loop {
        round(api).await;
        sent += 2_000;
        if dropped(metrics).await > before {
            round(api).await;
            return sent + 2_000;
        }
        assert!(sent <= 100_000, "no line dropped after {sent} requests");
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_log_nobody_reads_drops_and_counts_lines_instead_of_stalling_requests_or_sigterm() {
    let db = TestDb::new().await;
    // The keys exist before the first start: nothing for stderr.
    Keys::make(&db, "default").await;
    let mut server = start(&db);

    // Nobody reads the log: every request is still answered within 10 s,
    // past the buffer.
    let started = Instant::now();
    let sent = requests_until_lines_are_dropped(&server.api, &server.metrics).await;
    let lost = dropped(&server.metrics).await;
    println!(
        "{sent} requests answered in {:?} with the log unread; {lost} lines dropped",
        started.elapsed()
    );

    // Reading resumes: one warning says how many lines were lost.
    server.gate.set(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    let warning = loop {
        let log = server.gate.read();
        if let Some(line) = log.lines().find(|l| l.contains("log lines were dropped")) {
            break serde_json::from_str::<Value>(line).unwrap();
        }
        assert!(Instant::now() < deadline, "no warning once reading resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert_eq!(warning["fields"]["dropped"], lost, "{warning}");
    let log = server.gate.read();
    assert_eq!(
        log.matches("log lines were dropped").count(),
        1,
        "one warning"
    );

    // Unread again, with more than the pipe holds waiting (about 500 KB),
    // then SIGTERM: the service ends within the drain deadline (20 s),
    // whatever its log.
    server.gate.set(false);
    round(&server.api).await;
    let stopping = Instant::now();
    sigterm(&server.child);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        if stopping.elapsed() > Duration::from_secs(20) {
            let _ = server.child.kill();
            panic!("SIGTERM with an unread log: still running after 20 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
    println!(
        "SIGTERM with an unread log: exited in {:?}",
        stopping.elapsed()
    );
}
