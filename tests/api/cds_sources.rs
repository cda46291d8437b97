//! Before any signature is checked, CDS Hooks requests are counted by the
//! address they come from, in a table of bounded size; a token that names a
//! trusted issuer but fails its signature check costs its sender's quota,
//! never the issuer's. The real binary, called from several loopback
//! addresses (127.0.0.0/8 is all loopback on Linux).

use std::net::{IpAddr, Ipv4Addr};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::binary;
use crate::cds::{ISS, SERVICE, key};
use crate::cds_cards::{hook_call, issuers_file, token_for};
use crate::helpers::TestDb;

/// A client whose connections come from 127.0.`a`.`b`.
fn from(a: u8, b: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, a, b)))
        .build()
        .unwrap()
}

/// A token naming the trusted issuer, well formed, with a signature that
/// is not its key's.
fn forged(base: &str, jti: &str) -> String {
    named(ISS, base, jti)
}

/// A token naming `iss`, with a signature that is not its key's.
fn named(iss: &str, base: &str, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": iss, "aud": format!("{base}{SERVICE}"), "exp": now + 300, "iat": now, "jti": jti});
    let mut header = Header::new(Algorithm::ES384);
    header.typ = Some("JWT".into());
    let good = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(key("trusted-private").as_bytes()).unwrap(),
    )
    .unwrap();
    let (signed, _) = good.rsplit_once('.').unwrap();
    format!("{signed}.{}", "A".repeat(128))
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(format!("{base}{SERVICE}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forged_tokens_naming_the_trusted_issuer_never_lock_the_real_ehr_out() {
    let db = TestDb::new().await;
    let issuers = issuers_file();
    let server = binary::serve(&[
        ("DATABASE_URL", &db.url),
        ("FACET_SCREEN_CDS_ISSUERS", issuers.path().to_str().unwrap()),
        ("FACET_SCREEN_CDS_RATE_LIMIT", "5"),
    ]);
    let base = server.base.as_str();
    // From one address: refused for their signature, then for their number.
    let attacker = from(0, 2);
    let mut statuses = Vec::new();
    for i in 0..8 {
        let res = call(
            &attacker,
            base,
            &forged(base, &format!("one-{i}")),
            &json!({}),
        )
        .await;
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    // From many addresses, each under its own quota: 30 forged tokens, six
    // times the issuer's quota of 5.
    for a in 1..=10 {
        let attacker = from(1, a);
        for i in 0..3 {
            let res = call(
                &attacker,
                base,
                &forged(base, &format!("many-{a}-{i}")),
                &json!({}),
            )
            .await;
            assert_eq!(res.status(), 401);
        }
    }
    // The real EHR, from its own address: its signed calls pass, up to its
    // own quota.
    let ehr = from(0, 3);
    let hook = hook_call(base, "ideal-candidate", "the-real-ehr").await;
    for i in 0..2 {
        let res = call(&ehr, base, &token_for(base, &format!("ehr-{i}")), &hook).await;
        assert_eq!(res.status(), 200, "signed call {i} of the real EHR");
    }
}

#[tokio::test]
async fn the_table_of_addresses_is_bounded_and_a_new_address_past_it_is_told_to_wait() {
    let db = TestDb::new().await;
    let issuers = issuers_file();
    let server = binary::serve(&[
        ("DATABASE_URL", &db.url),
        ("FACET_SCREEN_CDS_ISSUERS", issuers.path().to_str().unwrap()),
        // A quota of 5 a minute: an address is remembered for a minute
        // after its last request, far longer than this test takes.
        ("FACET_SCREEN_CDS_RATE_LIMIT", "5"),
        ("FACET_SCREEN_CDS_MAX_SOURCES", "8"),
    ]);
    let base = server.base.as_str();
    // Tokens of an issuer nobody trusts, one from each of 8 addresses.
    let junk = |jti: &str| named("https://nobody.example", base, jti);
    for b in 1..=8 {
        let res = call(&from(2, b), base, &junk(&format!("fill-{b}")), &json!({})).await;
        assert_eq!(res.status(), 401, "address {b} of 8");
    }
    // One more address: refused before anything is decoded or remembered.
    let res = call(&from(2, 9), base, &junk("one-more"), &json!({})).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    // Even with a good token: a new address waits while the table is full.
    let hook = hook_call(base, "ideal-candidate", "full-table").await;
    let res = call(&from(2, 10), base, &token_for(base, "new-address"), &hook).await;
    assert_eq!(res.status(), 429);
    // An address already counted goes on being answered.
    let res = call(&from(2, 1), base, &token_for(base, "known-address"), &hook).await;
    assert_eq!(res.status(), 200);
}
