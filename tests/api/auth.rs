//! Who may do what: credentials, roles, clinic isolation, limits, headers.

use std::process::Command;

use facet_screen::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Keys, TestApp, case_answers, spawn_app, spawn_with};

/// Sends `method path` with `key` (none when `None`), and a body when needed.
async fn call(app: &TestApp, key: Option<&str>, method: Method, path: &str) -> reqwest::Response {
    let mut req = app.client.request(method.clone(), app.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if method == Method::POST && path.ends_with("/review") {
        req = req.json(&json!({"decision": "confirm", "clinician": "dr-okafor"}));
    } else if method != Method::GET {
        req = req.json(&case_answers("ideal-candidate"));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn each_role_may_do_exactly_what_the_table_allows() {
    let app = spawn_app().await;
    // (route, intake, clinician, admin): allowed or refused with 403.
    let table: [(Method, &str, [bool; 3]); 9] = [
        (Method::GET, "/v1/stats", [false, true, true]),
        (Method::GET, "/v1/keys", [false, false, true]),
        (Method::POST, "/v1/evaluations", [true, false, false]),
        (Method::POST, "/v1/screenings", [true, false, false]),
        (Method::GET, "/v1/screenings", [true, true, true]),
        (Method::GET, "/v1/screenings/{id}", [true, true, true]),
        (
            Method::PUT,
            "/v1/screenings/{id}/answers",
            [true, false, false],
        ),
        (
            Method::POST,
            "/v1/screenings/{id}/review",
            [false, true, false],
        ),
        (
            Method::GET,
            "/v1/screenings/{id}/history",
            [false, true, true],
        ),
    ];
    for (method, route, allowed) in table {
        for (role, allowed) in [Role::Intake, Role::Clinician, Role::Admin]
            .into_iter()
            .zip(allowed)
        {
            // A fresh pending screening for each call, so reviews can succeed.
            let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
                .as_str()
                .unwrap()
                .to_string();
            let path = route.replace("{id}", &id);
            let res = call(&app, Some(app.keys.of(role)), method.clone(), &path).await;
            let status = res.status().as_u16();
            if allowed {
                assert!(
                    (200..300).contains(&status),
                    "{role:?} {method} {route}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{role:?} {method} {route}");
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["type"], "/problems/forbidden");
            }
        }
    }
}

#[tokio::test]
async fn without_a_valid_key_every_protected_route_is_401() {
    let app = spawn_app().await;
    let id = app.create_screening(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = facet_screen::store::Store::connect(&app.db.url)
        .await
        .unwrap();
    let (new, secret) = facet_screen::auth::NewKey::mint(
        facet_screen::auth::Clinic::parse("default").unwrap(),
        Role::Admin,
        facet_screen::auth::Label::parse("to revoke").unwrap(),
        facet_screen::auth::Expiry::NEVER,
    );
    let info = revoked.insert_key(&new).await.unwrap();
    revoked
        .revoke_key(&info.id, facet_screen::store::LastAdmin::Keep)
        .await
        .unwrap();
    let unknown = format!("fsk_{}", "A".repeat(43));
    let routes = [
        (Method::POST, "/v1/evaluations".to_string()),
        (Method::POST, "/v1/screenings".to_string()),
        (Method::GET, "/v1/screenings".to_string()),
        (Method::GET, format!("/v1/screenings/{id}")),
        (Method::PUT, format!("/v1/screenings/{id}/answers")),
        (Method::POST, format!("/v1/screenings/{id}/review")),
        (Method::GET, format!("/v1/screenings/{id}/history")),
    ];
    for (method, path) in routes {
        for key in [
            None,
            Some("not-a-key"),
            Some(unknown.as_str()),
            Some(secret.expose()),
        ] {
            let res = call(&app, key, method.clone(), &path).await;
            assert_eq!(res.status(), 401, "{method} {path} with {key:?}");
            assert!(
                res.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer")
            );
            assert_eq!(res.headers()["content-type"], "application/problem+json");
        }
    }
    // A Basic header is refused too.
    let res = app
        .client
        .get(app.url("/v1/screenings"))
        .basic_auth("u", Some("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn public_routes_need_no_key() {
    let app = spawn_app().await;
    for path in [
        "/v1/questionnaire",
        "/v1/sources",
        "/cds-services",
        "/fhir/Questionnaire",
        "/fhir/Questionnaire/facet-screen-intake-v1",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs/",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn clinics_never_see_each_other() {
    let app = spawn_app().await;
    let other = Keys::make(&app.db, "st-marys").await;
    let ours = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs: Value = app
        .post_as(
            &other.intake,
            "/v1/screenings",
            &case_answers("pt-not-tried"),
        )
        .await
        .json()
        .await
        .unwrap();
    let theirs = theirs["id"].as_str().unwrap().to_string();

    for (keys, foreign, own) in [(&app.keys, &theirs, &ours), (&other, &ours, &theirs)] {
        for key in [&keys.intake, &keys.clinician, &keys.admin] {
            for path in [
                format!("/v1/screenings/{foreign}"),
                format!("/v1/screenings/{foreign}/history"),
            ] {
                let res = app.get_as(key, &path).await;
                let status = res.status();
                // As if it did not exist (403 where the role may not read history at all).
                assert!(
                    status == 404 || (status == 403 && path.ends_with("history")),
                    "{path}: {status}"
                );
            }
            let list: Value = app
                .get_as(key, "/v1/screenings")
                .await
                .json()
                .await
                .unwrap();
            let ids: Vec<&str> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap())
                .collect();
            assert_eq!(ids, [own.as_str()]);
        }
        let res = app
            .post_as(
                &keys.clinician,
                &format!("/v1/screenings/{foreign}/review"),
                &json!({"decision": "confirm", "clinician": "x"}),
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    // The same idempotency key in two clinics makes two screenings.
    for keys in [&app.keys, &other] {
        let res = app
            .client
            .post(app.url("/v1/screenings"))
            .bearer_auth(&keys.intake)
            .header("idempotency-key", "shared-1")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
}

#[tokio::test]
async fn a_revoked_key_stops_on_the_next_request() {
    let app = spawn_app().await;
    assert_eq!(app.get("/v1/screenings").await.status(), 200);
    let store = facet_screen::store::Store::connect(&app.db.url)
        .await
        .unwrap();
    let keys = store.list_keys().await.unwrap();
    let clinician = keys
        .iter()
        .find(|k| k.role == Role::Clinician && k.clinic.as_str() == "default")
        .unwrap();
    // Revoked through this instance: refused on the very next request,
    // though the key is in its cache.
    let res = app
        .client
        .delete(app.url(&format!("/v1/keys/{}", clinician.id)))
        .bearer_auth(&app.keys.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/v1/screenings").await.status(), 401);
    assert_eq!(
        app.get_as(&app.keys.intake, "/v1/screenings")
            .await
            .status(),
        200,
        "other keys go on"
    );
}

#[tokio::test]
async fn every_event_names_the_key_and_reads_are_recorded() {
    let app = spawn_app().await;
    let id = app.create_screening(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get_as(&app.keys.intake, &format!("/v1/screenings/{id}"))
        .await;
    app.get_as(&app.keys.admin, &format!("/v1/screenings/{id}"))
        .await;
    let history: Value = app
        .get_as(&app.keys.admin, &format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let events: Vec<(&str, &str)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["actor"]["label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("created", "intake test key"),
            ("viewed", "intake test key"),
            ("viewed", "admin test key")
        ]
    );
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let app = spawn_with(|s| s.rate_limit = 3).await;
    for _ in 0..3 {
        assert_eq!(app.get("/v1/screenings").await.status(), 200);
    }
    let res = app.get("/v1/screenings").await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // Per key: another key is not affected.
    assert_eq!(
        app.get_as(&app.keys.intake, "/v1/screenings")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_cors_is_for_listed_origins_only() {
    let app = spawn_with(|s| s.cors_origins = vec!["https://intake.example.org".into()]).await;
    let res = app
        .client
        .get(app.url("/v1/questionnaire"))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    // Errors carry them too; the vendored API docs may use inline styles,
    // never inline scripts.
    for (path, inline_styles) in [("/no/such/route", false), ("/docs/", true)] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert_eq!(
            csp.contains("style-src 'self' 'unsafe-inline'"),
            inline_styles,
            "{path}: {csp}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{path}");
    }

    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/v1/screenings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://intake.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://intake.example.org"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let no_cors = spawn_app().await;
    let res = no_cors
        .client
        .get(no_cors.url("/v1/questionnaire"))
        .header("origin", "https://intake.example.org")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

fn bin() -> Command {
    crate::binary::command()
}

/// Starts `serve` on `dir`, waits until it listens, stops it, and returns
/// what it wrote to stderr.
fn serve_once(dir: &std::path::Path) -> String {
    let server = crate::binary::serve(&[("FACET_SCREEN_DATA_DIR", dir.to_str().unwrap())]);
    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    stderr
}

#[test]
fn the_first_run_admin_key_is_printed_once_and_keys_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve_once(dir.path());
    let keys: Vec<&str> = first
        .split_whitespace()
        .filter(|w| w.starts_with("fsk_"))
        .collect();
    assert_eq!(keys.len(), 1, "{first}");
    assert!(
        first.contains(&format!(
            "facet-screen keys create --data-dir {} --clinic default --role intake",
            dir.path().display()
        )),
        "{first}"
    );
    let second = serve_once(dir.path());
    assert!(!second.contains("fsk_"), "printed again: {second}");

    let out = bin()
        .args([
            "keys",
            "create",
            "--clinic",
            "st-marys",
            // The first start made clinic `default`'s admin key: this is a
            // second clinic, started on purpose.
            "--new-clinic",
            "--role",
            "intake",
            "--label",
            "front desk",
        ])
        .env("FACET_SCREEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with("fsk_") && secret.len() == 47);

    let list = bin()
        .args(["keys", "list"])
        .env("FACET_SCREEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains("front desk")
            && list.contains("st-marys")
            && list.contains("first-run admin key"),
        "{list}"
    );
    assert!(!list.contains("fsk_"), "keys list never shows a key");
    assert!(!list.contains(&secret[4..20]));
    let id = list
        .lines()
        .find(|l| l.contains("front desk"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let revoke = bin()
        .args(["keys", "revoke", &id])
        .env("FACET_SCREEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let list = bin()
        .args(["keys", "list"])
        .env("FACET_SCREEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let line = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .find(|l| l.contains("front desk"))
        .unwrap()
        .to_string();
    let expires = line.split_whitespace().nth(5).unwrap();
    assert_eq!(expires, "never", "{line}");
    let revoked_at = line.split_whitespace().nth(6).unwrap();
    assert!(revoked_at.starts_with("20"), "revoked time shown: {line}");

    let bad = bin()
        .args([
            "keys", "create", "--clinic", "St Marys", "--role", "intake", "--label", "x",
        ])
        .env("FACET_SCREEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a clinic is"));
}
