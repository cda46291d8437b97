//! The first-run admin key is shown once, on stderr. When stderr cannot show
//! it (closed, /dev/null, /dev/full), the service refuses to start (exit
//! status 3) with no key made, says on its log why and how to make one,
//! and the next start with a working stderr shows the key, which works.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::binary;
use crate::helpers::{PATIENCE, TestDb};

/// `serve` with stderr redirected by `redirect` (a shell's `exec 2>...`);
/// its exit status, or `None` when it started listening instead, and its
/// log.
fn serve_with_stderr(db: &TestDb, redirect: &str) -> (Option<ExitStatus>, String) {
    let bin = binary::command().get_program().to_owned();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("{redirect} exec \"$0\" serve"))
        .arg(bin)
        .env_remove("FACET_SCREEN_DATA_DIR")
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", &db.url)
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut log = String::new();
    let status = loop {
        while let Ok(line) = rx.try_recv() {
            log.push_str(&line);
            log.push('\n');
        }
        if log.contains("facet-screen listening") {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        assert!(Instant::now() < deadline, "neither exited nor listened");
        std::thread::sleep(Duration::from_millis(20));
    };
    // What it wrote last: every line until its stdout ends, which it does
    // now that the process has exited.
    loop {
        match rx.recv_timeout(PATIENCE) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(e) => panic!("its stdout did not end: {e}"),
        }
    }
    (status, log)
}

fn keys_list(db: &TestDb) -> String {
    let out = binary::command()
        .args(["keys", "list"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_first_key_that_stderr_cannot_show_is_not_made_and_the_service_refuses_to_start() {
    for (redirect, what) in [
        ("exec 2>&-;", "closed"),
        ("exec 2>/dev/null;", "/dev/null"),
        ("exec 2>/dev/full;", "/dev/full"),
    ] {
        let db = TestDb::new().await;
        let (status, log) = serve_with_stderr(&db, redirect);
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(3),
            "stderr {what}: exit status 3, not {status:?}:\n{log}"
        );
        assert!(
            log.contains("keys create") && log.contains("--role admin"),
            "stderr {what}: the log says how to make a key:\n{log}"
        );
        assert!(!log.contains("fsk_"), "the key is never logged");
        let list = keys_list(&db);
        assert_eq!(
            list.lines().count(),
            1,
            "stderr {what}: no key made:\n{list}"
        );

        // Started again with stderr working, the first key is made and shown
        // then, and it works.
        let env: [(&str, &str); 1] = [("DATABASE_URL", &db.url)];
        let server = binary::serve(&env);
        let client = reqwest::Client::new();
        let (_, _, stderr) = {
            let deadline = Instant::now() + PATIENCE;
            let key = loop {
                if let Some(key) = server
                    .stderr()
                    .split_whitespace()
                    .find(|w| w.starts_with("fsk_"))
                {
                    break key.to_string();
                }
                assert!(Instant::now() < deadline, "no key shown on stderr");
                std::thread::sleep(Duration::from_millis(20));
            };
            let me = client
                .get(server.url("/v1/me"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(me.status(), 200, "stderr {what}: the key shown works");
            server.terminate()
        };
        assert_eq!(stderr.matches("fsk_").count(), 1, "{stderr}");
        println!("stderr {what}: refused with exit status 3 and no key; shown on the next start");
    }
}
