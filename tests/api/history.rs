//! A screening's history, read a page at a time: its changes and its reads
//! merged in order, every event seen once across pages.

use serde_json::Value;

use crate::binary::{self, Served};
use crate::helpers::{Keys, TestDb, case_answers, spawn_app};

/// The real binary on a fresh database, with `env` on top.
async fn served(env: &[(&str, &str)]) -> (TestDb, Keys, Served) {
    let db = TestDb::new().await;
    let keys = Keys::make(&db, "default").await;
    let mut all = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ];
    all.extend_from_slice(env);
    let server = binary::serve(&all);
    (db, keys, server)
}

async fn get(client: &reqwest::Client, base: &str, key: &str, path: &str) -> reqwest::Response {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

async fn json_of(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200, "{:?}", res.url().path());
    res.json().await.unwrap()
}

async fn create(client: &reqwest::Client, base: &str, keys: &Keys) -> String {
    let res = client
        .post(format!("{base}/v1/screenings"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("pt-not-tried"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn correct(client: &reqwest::Client, base: &str, keys: &Keys, id: &str) {
    let res = client
        .put(format!("{base}/v1/screenings/{id}/answers"))
        .bearer_auth(&keys.intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Every page from `first`, following `next`: the events and the number of
/// pages.
async fn all_pages(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    first: &str,
) -> (Vec<Value>, usize) {
    let (mut events, mut pages, mut next) = (Vec::new(), 0, Some(first.to_string()));
    while let Some(path) = next {
        let page = json_of(get(client, base, key, &path).await).await;
        pages += 1;
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_string);
        assert!(pages < 1000, "a history that never ends");
    }
    (events, pages)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// Numbered 1, 2, 3... without a gap or a repeat, and in time order.
fn assert_numbered_in_order(events: &[Value]) {
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn a_history_one_event_longer_than_a_page_comes_in_two_pages_each_event_once_in_order() {
    let (_db, keys, server) = served(&[]).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let id = create(&client, &base, &keys).await;
    for _ in 0..40 {
        json_of(
            get(
                &client,
                &base,
                &keys.clinician,
                &format!("/v1/screenings/{id}"),
            )
            .await,
        )
        .await;
    }
    correct(&client, &base, &keys, &id).await;
    for _ in 0..59 {
        json_of(get(&client, &base, &keys.admin, &format!("/v1/screenings/{id}")).await).await;
    }
    let mut expected = vec!["created"];
    expected.extend(["viewed"; 40]);
    expected.push("answers_corrected");
    expected.extend(["viewed"; 59]);

    // 101 events: a page of 100 (the default), then one.
    let history = format!("/v1/screenings/{id}/history");
    let first = json_of(get(&client, &base, &keys.clinician, &history).await).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 100);
    let next = first["next"].as_str().expect("a next page").to_string();
    let last = json_of(get(&client, &base, &keys.clinician, &next).await).await;
    assert_eq!(last["events"].as_array().unwrap().len(), 1);
    assert_eq!(last["next"], Value::Null);
    let mut whole: Vec<Value> = first["events"].as_array().unwrap().clone();
    whole.extend(last["events"].as_array().unwrap().iter().cloned());
    assert_eq!(kinds(&whole), expected);
    assert_numbered_in_order(&whole);

    // Any page size gives the same events, each once.
    let (paged, pages) = all_pages(
        &client,
        &base,
        &keys.clinician,
        &format!("{history}?limit=7"),
    )
    .await;
    assert_eq!(pages, 15);
    assert_eq!(paged, whole);
    let one =
        json_of(get(&client, &base, &keys.admin, &format!("{history}?limit=500")).await).await;
    assert_eq!(one["events"].as_array().unwrap(), &whole);
    assert_eq!(one["next"], Value::Null);

    // Events added while a client pages come after, once.
    let page = json_of(
        get(
            &client,
            &base,
            &keys.clinician,
            &format!("{history}?limit=50"),
        )
        .await,
    )
    .await;
    json_of(
        get(
            &client,
            &base,
            &keys.clinician,
            &format!("/v1/screenings/{id}"),
        )
        .await,
    )
    .await;
    let (rest, _) = all_pages(
        &client,
        &base,
        &keys.clinician,
        page["next"].as_str().unwrap(),
    )
    .await;
    let mut seen: Vec<Value> = page["events"].as_array().unwrap().clone();
    seen.extend(rest);
    assert_eq!(seen.len(), 102);
    assert_eq!(seen[..101], whole[..]);
    assert_eq!(seen[101]["kind"], "viewed");
    assert_numbered_in_order(&seen);
}

#[tokio::test]
async fn bad_history_parameters_are_named() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A cursor of the other screening's history.
    for _ in 0..2 {
        app.get(&format!("/v1/screenings/{other}")).await;
    }
    let page: Value = app
        .get(&format!("/v1/screenings/{other}/history?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    let foreign = page["next"]
        .as_str()
        .unwrap()
        .split("cursor=")
        .nth(1)
        .unwrap()
        .to_string();

    let history = format!("/v1/screenings/{id}/history");
    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("limit=501", vec!["limit"]),
        ("limit=-1", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("cursor=zzz", vec!["cursor"]),
        (&format!("cursor={foreign}"), vec!["cursor"]),
        (
            "limit=0&cursor=zzz&colour=red",
            vec!["colour", "cursor", "limit"],
        ),
    ] {
        let res = app.get(&format!("{history}?{query}")).await;
        assert_eq!(res.status(), 422, "{query}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.unwrap();
        let mut named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        named.sort();
        assert_eq!(named, fields, "{query}");
    }
    for limit in [1, 500] {
        let res = app.get(&format!("{history}?limit={limit}")).await;
        assert_eq!(res.status(), 200, "limit={limit}");
    }
}
