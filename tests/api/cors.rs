//! CORS origins are `https://` only, as the README says; plain `http://` is
//! accepted for a page on this machine alone (localhost, 127.0.0.1, [::1]),
//! for development. Any other `http://` origin is refused at start, naming
//! the entry.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::binary;
use crate::helpers::spawn_with;

#[test]
fn an_http_origin_that_is_not_loopback_is_refused_at_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (origins, bad) in [
        (
            "https://intake.example.org,http://intake.example.org",
            "http://intake.example.org",
        ),
        ("http://10.0.0.7:8080", "http://10.0.0.7:8080"),
        (
            "http://localhost.example.org",
            "http://localhost.example.org",
        ),
        (
            "http://127.0.0.1.nip.io:3000",
            "http://127.0.0.1.nip.io:3000",
        ),
    ] {
        let mut child = binary::command()
            .arg("serve")
            .env("FACET_SCREEN_DATA_DIR", &data)
            .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
            .env("FACET_SCREEN_CORS_ORIGINS", origins)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A refusal is at once; a service that started is stopped.
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{origins}: {stderr}");
        assert!(
            stderr.contains("FACET_SCREEN_CORS_ORIGINS") && stderr.contains(&format!("`{bad}`")),
            "{origins}: the bad entry is named: {stderr}"
        );
        assert!(stderr.contains("https"), "{stderr}");
        assert!(
            !data.join("facet-screen.db").exists(),
            "the database was touched"
        );
    }
}

#[tokio::test]
async fn loopback_http_origins_are_allowed_for_development() {
    let origins = [
        "https://intake.example.org",
        "http://localhost:5173",
        "http://127.0.0.1:8000",
        "http://[::1]:3000",
    ];
    let app =
        spawn_with(|s| s.cors_origins = origins.iter().map(|o| o.to_string()).collect()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/v1/screenings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    for origin in origins {
        let res = preflight(origin).await.unwrap();
        assert_eq!(
            res.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some(origin),
            "{origin}"
        );
    }
    // Another port of the same machine is another origin.
    let res = preflight("http://localhost:5174").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
