//! A clinic's administrators manage its keys over HTTP: made (shown once),
//! listed (never the key), revoked, expired; always within their clinic.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Keys, TestApp, spawn_app, wait_until};

async fn send(
    app: &TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn make(app: &TestApp, admin: &str, body: Value) -> Value {
    let res = send(app, admin, reqwest::Method::POST, "/v1/keys", Some(body)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_admin_makes_a_key_that_works_at_once_lists_it_without_the_secret_and_revokes_it() {
    let app = spawn_app().await;
    let admin = app.keys.admin.clone();
    let made = make(
        &app,
        &admin,
        json!({"role": "intake", "label": "  Front desk  "}),
    )
    .await;
    let secret = made["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("fsk_") && secret.len() == 47);
    assert_eq!(made["info"]["label"], "Front desk", "trimmed");
    assert_eq!(made["info"]["clinic"], "default");
    assert_eq!(made["info"]["expires_at"], Value::Null);
    let id = made["info"]["id"].as_str().unwrap().to_string();

    // The new key works at once, as what it was made for.
    let me: Value = app.get_as(&secret, "/v1/me").await.json().await.unwrap();
    assert_eq!(
        (me["role"].as_str(), me["label"].as_str()),
        (Some("intake"), Some("Front desk"))
    );
    assert_eq!(
        app.post_as(&secret, "/v1/evaluations", &json!({}))
            .await
            .status(),
        200
    );

    // Listed, never with the key or its digest.
    let res = app.get_as(&admin, "/v1/keys").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let digest = facet_screen::auth::digest(&secret).unwrap();
    assert!(
        !text.contains(&secret[4..]) && !text.contains(&digest),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["role"], "intake");
    // Its first use is written down (after the answer, within moments;
    // polled with a deadline a loaded machine cannot miss).
    let mut used = Value::Null;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let list: Value = app.get_as(&admin, "/v1/keys").await.json().await.unwrap();
        used = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id.as_str())
            .unwrap()["last_used_at"]
            .clone();
        if used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used.is_string(), "its first use is recorded");

    // Revoked: refused from the next request on; revoking again changes nothing.
    let res = send(
        &app,
        &admin,
        reqwest::Method::DELETE,
        &format!("/v1/keys/{id}"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(app.get_as(&secret, "/v1/me").await.status(), 401);
    let again: Value = send(
        &app,
        &admin,
        reqwest::Method::DELETE,
        &format!("/v1/keys/{id}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
}

#[tokio::test]
async fn keys_stay_within_their_clinic_and_only_admins_manage_them() {
    let app = spawn_app().await;
    let other = Keys::make(&app.db, "st-marys").await;
    let theirs = make(
        &app,
        &other.admin,
        json!({"role": "clinician", "label": "st marys clinician"}),
    )
    .await;
    let their_id = theirs["info"]["id"].as_str().unwrap();

    // Our admin neither sees nor revokes their key: 404, as for no key.
    let ours: Value = app
        .get_as(&app.keys.admin, "/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        ours["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["clinic"] == "default"),
        "{ours}"
    );
    assert!(!ours.to_string().contains(their_id));
    let res = send(
        &app,
        &app.keys.admin,
        reqwest::Method::DELETE,
        &format!("/v1/keys/{their_id}"),
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(
        app.get_as(theirs["key"].as_str().unwrap(), "/v1/me")
            .await
            .status(),
        200,
        "still works"
    );
    let res = send(
        &app,
        &app.keys.admin,
        reqwest::Method::DELETE,
        "/v1/keys/key_nope",
        None,
    )
    .await;
    assert_eq!(res.status(), 404);

    // Nurses and clinicians may not manage keys.
    for key in [&app.keys.intake, &app.keys.clinician] {
        assert_eq!(app.get_as(key, "/v1/keys").await.status(), 403);
        let res = send(
            &app,
            key,
            reqwest::Method::POST,
            "/v1/keys",
            Some(json!({"role": "admin", "label": "x"})),
        )
        .await;
        assert_eq!(res.status(), 403);
        let res = send(
            &app,
            key,
            reqwest::Method::DELETE,
            &format!("/v1/keys/{their_id}"),
            None,
        )
        .await;
        assert_eq!(res.status(), 403);
    }

    // An admin cannot revoke the key it is signed in with (it would lock
    // itself out mid-task).
    let me: Value = app
        .get_as(&app.keys.admin, "/v1/me")
        .await
        .json()
        .await
        .unwrap();
    let res = send(
        &app,
        &app.keys.admin,
        reqwest::Method::DELETE,
        &format!("/v1/keys/{}", me["key_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.get_as(&app.keys.admin, "/v1/me").await.status(), 200);
}

#[tokio::test]
async fn a_bad_key_request_names_each_field_and_makes_nothing() {
    let app = spawn_app().await;
    let before: Value = app
        .get_as(&app.keys.admin, "/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let cases = [
        (json!({"role": "owner", "label": "x"}), "role"),
        (json!({"role": "intake"}), "label"),
        (json!({"role": "intake", "label": "   "}), "label"),
        (json!({"role": "intake", "label": "a\tb"}), "label"),
        (json!({"role": "intake", "label": "x".repeat(101)}), "label"),
        (
            json!({"role": "intake", "label": "x", "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"role": "intake", "label": "x", "expires_at": "next week"}),
            "expires_at",
        ),
        (
            json!({"role": "intake", "label": "x", "clinic": "st-marys"}),
            "clinic",
        ),
    ];
    for (body, field) in cases {
        let res = send(
            &app,
            &app.keys.admin,
            reqwest::Method::POST,
            "/v1/keys",
            Some(body.clone()),
        )
        .await;
        assert_eq!(res.status(), 422, "{body}");
        let problem: Value = res.json().await.unwrap();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {problem}");
    }
    // A label with a tab and a past expiry: both named at once.
    let res = send(
        &app,
        &app.keys.admin,
        reqwest::Method::POST,
        "/v1/keys",
        Some(json!({"role": "intake", "label": "a\tb", "expires_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    let after: Value = app
        .get_as(&app.keys.admin, "/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let ids = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after), "nothing was made");
}

/// The key's own expiry is the clock: a request answered before it is
/// accepted, one sent after it refused, whether the key was cached or not.
/// Nothing sleeps past the expiry hoping to land after it; the key is used
/// until it is refused. A machine too slow to answer once before the expiry
/// tries again with a key that lives twice as long.
#[tokio::test]
async fn an_expired_key_is_refused_like_a_revoked_one() {
    use chrono::{DateTime, Utc};
    let app = spawn_app().await;
    for lifetime in [1500, 3000, 6000, 12000, 24000] {
        let soon = Utc::now() + chrono::Duration::milliseconds(lifetime);
        let made = make(
            &app,
            &app.keys.admin,
            json!({"role": "clinician", "label": "locum", "expires_at": soon.to_rfc3339()}),
        )
        .await;
        let secret = made["key"].as_str().unwrap();
        let stored = made["info"]["expires_at"].as_str().unwrap();
        assert!(
            stored.starts_with(&soon.format("%Y-%m-%dT%H:%M:%S").to_string()),
            "{stored}"
        );
        let expires: DateTime<Utc> = stored.parse().unwrap();
        let mut accepted = 0;
        let refused = loop {
            let sent = Utc::now();
            let res = app.get_as(secret, "/v1/me").await;
            let answered = Utc::now();
            match res.status().as_u16() {
                200 => {
                    assert!(sent < expires, "accepted, sent {sent} after {expires}");
                    accepted += 1;
                }
                401 => {
                    assert!(
                        answered >= expires,
                        "refused at {answered}, before {expires}"
                    );
                    break res;
                }
                other => panic!("answered {other}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        if accepted == 0 {
            println!("no request answered within {lifetime} ms: a longer expiry");
            continue;
        }
        let problem: Value = refused.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("expired"),
            "{problem}"
        );
        // And from then on.
        assert_eq!(app.get_as(secret, "/v1/me").await.status(), 401);
        println!("accepted {accepted} times, then refused once expired");
        return;
    }
    panic!("not one request was answered before its key expired, even in 24 s");
}

#[test]
fn keys_create_expires_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        crate::binary::command()
            .args(args)
            .env("FACET_SCREEN_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let base = [
        "keys",
        "create",
        "--create-database",
        "--clinic",
        "default",
        "--role",
        "intake",
        "--label",
        "agency nurse",
        "--expires",
    ];
    let past = run(&[&base[..], &["2020-01-01T00:00:00Z"]].concat());
    assert!(!past.status.success());
    assert!(
        String::from_utf8_lossy(&past.stderr).contains("--expires: expected a time in the future")
    );
    let ok = run(&[&base[..], &["2099-01-31T17:00:00+01:00"]].concat());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let list = String::from_utf8(run(&["keys", "list"]).stdout).unwrap();
    let line = list.lines().find(|l| l.contains("agency nurse")).unwrap();
    assert_eq!(
        line.split_whitespace().nth(5),
        Some("2099-01-31T16:00:00.000000Z"),
        "{line}"
    );
}

/// Revocation beats the key cache, under load, across processes: two
/// instances of the real binary answer a stream of requests with one key
/// (so both have it cached) when `keys revoke`, a third process, revokes
/// it. No request sent more than 1 s after the revocation may pass. A key
/// revoked over HTTP on one instance is refused there on the next request.
#[tokio::test]
async fn under_load_a_revoked_key_stops_passing_within_a_second_on_every_instance() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let db = crate::helpers::TestDb::new().await;
    let store = facet_screen::store::Store::connect(&db.url).await.unwrap();
    let keys = Keys::make(&db, "default").await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "100000000"),
    ];
    let (a, b) = (crate::binary::serve(&env), crate::binary::serve(&env));
    let mint = async |label: &str| {
        let (new, secret) = facet_screen::auth::NewKey::mint(
            facet_screen::auth::Clinic::parse("default").unwrap(),
            facet_screen::auth::Role::Intake,
            facet_screen::auth::Label::parse(label).unwrap(),
            facet_screen::auth::Expiry::NEVER,
        );
        let info = store.insert_key(&new).await.unwrap();
        (info.id, secret.expose().to_string())
    };
    let (victim_id, victim) = mint("revoked under load").await;
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    // When each request was sent and what it was answered, as they come.
    let log: Arc<Mutex<Vec<(Instant, u16, usize)>>> = Arc::default();
    let mut clients = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let (client, stop, key, log) = (client.clone(), stop.clone(), victim.clone(), log.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let status = client
                    .get(format!("{base}/v1/me"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                log.lock().unwrap().push((sent, status, i % 2));
            }
        }));
    }
    // In use on both instances (so that both have it cached) before it is
    // revoked.
    wait_until("51 requests, some on each instance", || {
        let seen = log.lock().unwrap();
        seen.len() > 50 && (0..2).all(|n| seen.iter().any(|(_, _, on)| *on == n))
    })
    .await;
    // The revocation commits somewhere between these two instants (the
    // command's start and its exit): a request sent in between may pass or
    // not.
    let revoking = Instant::now();
    let out = crate::binary::command()
        .args(["keys", "revoke", &victim_id])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked = Instant::now();
    // Requests sent more than 1 s after the revocation, on each instance:
    // without them there would be nothing to refuse.
    wait_until(
        "20 requests on each instance sent more than 1 s after",
        || {
            let seen = log.lock().unwrap();
            (0..2).all(|n| {
                seen.iter()
                    .filter(|(t, _, on)| *on == n && *t > revoked + Duration::from_secs(1))
                    .count()
                    >= 20
            })
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let seen: Vec<(Instant, u16)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(t, s, _)| (*t, *s))
        .collect();
    let before = seen.iter().filter(|(t, _)| *t < revoking).count();
    assert!(before > 50, "the key was in use before: {before} requests");
    let refused: Vec<_> = seen
        .iter()
        .filter(|(t, s)| *t < revoking && *s != 200)
        .map(|(t, s)| (revoking.duration_since(*t), *s))
        .collect();
    assert!(
        refused.is_empty(),
        "refused before the revocation began (how long before, status): {refused:?}"
    );
    let late: Vec<_> = seen
        .iter()
        .filter(|(t, s)| *s == 200 && *t > revoked + Duration::from_secs(1))
        .collect();
    assert_eq!(
        late.len(),
        0,
        "requests that passed more than 1 s after the revocation"
    );
    assert!(seen.iter().all(|(_, s)| *s == 200 || *s == 401));
    let last_pass = seen
        .iter()
        .filter(|(t, s)| *s == 200 && *t >= revoked)
        .map(|(t, _)| t.duration_since(revoked))
        .max()
        .unwrap_or_default();
    println!(
        "{} requests; the last one accepted after the revocation was sent {last_pass:?} after it",
        seen.len()
    );

    // Revoked over HTTP on instance a: a refuses it on the next request,
    // b within 1 s.
    let (id, key) = mint("revoked over http").await;
    for base in [&a.base, &b.base] {
        let res = client
            .get(format!("{base}/v1/me"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = client
        .delete(format!("{}/v1/keys/{id}", a.base))
        .bearer_auth(&keys.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .get(format!("{}/v1/me", a.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "refused on the next request");
    let revoked = Instant::now();
    loop {
        // A request sent within the second may still pass; one sent after
        // it may not, however long its answer takes.
        let sent = revoked.elapsed();
        let res = client
            .get(format!("{}/v1/me", b.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        if res.status() == 401 {
            break;
        }
        assert!(
            sent < Duration::from_secs(1),
            "the other instance still accepts it, sent {sent:?} after"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill();
    b.kill();
}
