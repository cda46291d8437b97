//! A clinic always keeps an active administrator key: two administrators
//! revoking each other at the same moment, on two instances of the real
//! binary, cannot both succeed; an expired administrator key does not
//! count as one; and `keys revoke` keeps the last one unless told.

use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
use facet_screen::store::Store;
use reqwest::StatusCode;
use serde_json::Value;

use crate::binary;
use crate::helpers::TestDb;

/// A key of `clinic` with `role`: (id, secret).
async fn mint(store: &Store, clinic: &str, role: Role, label: &str) -> (String, String) {
    let (new, secret) = NewKey::mint(
        Clinic::parse(clinic).unwrap(),
        role,
        Label::parse(label).unwrap(),
        Expiry::NEVER,
    );
    let info = store.insert_key(&new).await.unwrap();
    (info.id, secret.expose().to_string())
}

/// An administrator key of `clinic` whose expiry has passed.
async fn expired_admin(db: &TestDb, store: &Store, clinic: &str) -> String {
    let (id, _) = mint(store, clinic, Role::Admin, "expired admin").await;
    sqlx::query("UPDATE api_keys SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(&id)
        .execute(&db.pool().await)
        .await
        .unwrap();
    id
}

/// The ids of the clinic's administrator keys neither revoked nor expired.
async fn active_admins(store: &Store, clinic: &str) -> Vec<String> {
    let now = chrono::Utc::now();
    store
        .list_clinic_keys(&Clinic::parse(clinic).unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.role == Role::Admin && k.usable_at(now))
        .map(|k| k.id)
        .collect()
}

#[tokio::test]
async fn two_admins_revoking_each_other_at_once_leave_one_and_the_other_is_told_409() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "100000"),
    ];
    let servers = [binary::serve(&env), binary::serve(&env)];
    let client = reqwest::Client::new();
    let mut conflicts = 0;
    for round in 0..20 {
        // A clinic of its own each round: two active administrators, and
        // one whose key has expired (not an administrator any more).
        let clinic = format!("race-{round}");
        let a = mint(&store, &clinic, Role::Admin, "admin a").await;
        let b = mint(&store, &clinic, Role::Admin, "admin b").await;
        expired_admin(&db, &store, &clinic).await;
        let (on_a, on_b) = if round % 2 == 0 {
            (&servers[0], &servers[1])
        } else {
            (&servers[1], &servers[0])
        };
        // Each key is known (cached) on the instance it calls.
        for (server, key) in [(on_a, &a.1), (on_b, &b.1)] {
            let res = client
                .get(server.url("/v1/me"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        let revoke = |server: &binary::Served, key: &str, id: &str| {
            client
                .delete(server.url(&format!("/v1/keys/{id}")))
                .bearer_auth(key.to_string())
                .send()
        };
        let (ra, rb) = tokio::join!(revoke(on_a, &a.1, &b.0), revoke(on_b, &b.1, &a.0));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let statuses = [ra.status(), rb.status()];
        assert!(
            statuses.contains(&StatusCode::OK),
            "round {round}: neither revocation passed: {statuses:?}"
        );
        assert_ne!(
            statuses,
            [StatusCode::OK, StatusCode::OK],
            "round {round}: both administrators revoked each other: the clinic has none left"
        );
        let loser = if ra.status() == StatusCode::OK {
            rb
        } else {
            ra
        };
        match loser.status() {
            StatusCode::CONFLICT => {
                conflicts += 1;
                assert_eq!(loser.headers()["content-type"], "application/problem+json");
                let problem: Value = loser.json().await.unwrap();
                let detail = problem["detail"].as_str().unwrap();
                assert!(detail.contains("last active administrator"), "{detail}");
            }
            // Its own key was revoked before this request was checked: it
            // is refused as any revoked key is.
            StatusCode::UNAUTHORIZED => {}
            other => panic!("round {round}: the other revocation answered {other}"),
        }
        assert_eq!(
            active_admins(&store, &clinic).await.len(),
            1,
            "round {round}: exactly one administrator remains"
        );
    }
    println!("{conflicts} of 20 rounds answered 409 (the others 401)");
    assert!(
        conflicts > 0,
        "the two revocations never overlapped: the race was not tried"
    );
}

#[tokio::test]
async fn an_expired_admin_key_is_not_an_administrator_that_remains() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let (a_id, a) = mint(&store, "north", Role::Admin, "admin a").await;
    let (b_id, _) = mint(&store, "north", Role::Admin, "admin b").await;
    let expired = expired_admin(&db, &store, "north").await;
    let server = binary::serve(&[("DATABASE_URL", db.url.as_str())]);
    let client = reqwest::Client::new();

    // Over HTTP: A revokes B (A remains).
    let res = client
        .delete(server.url(&format!("/v1/keys/{b_id}")))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(active_admins(&store, "north").await, [a_id.as_str()]);

    // On the command line: A is the last active administrator (the expired
    // key does not count), so it is kept...
    let revoke = |args: &[&str]| {
        binary::command()
            .args(["keys", "revoke"])
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = revoke(&[&a_id]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the last active administrator key of clinic `north`")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(active_admins(&store, "north").await, [a_id.as_str()]);
    // ...while the expired one may go, as may a key of another role.
    assert!(revoke(&[&expired]).status.success());
    let (intake, _) = mint(&store, "north", Role::Intake, "front desk").await;
    assert!(revoke(&[&intake]).status.success());
    // Told to, it revokes the last one too (a key that leaked), and says
    // how to make another.
    let out = revoke(&["--force", &a_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keys create --clinic north --role admin")
    );
    assert!(active_admins(&store, "north").await.is_empty());
}
