//! The CPU a request costs inside the process, layer stack and handler
//! included, with no socket in the way: `POST /v1/evaluations` through the
//! service's real router (every layer, a real key, the rate limiter, the
//! request log line written to a sink) against a bare axum router that
//! parses the same body and answers the same bytes, as `benches/load.py`'s
//! baseline does. Rounds alternate baseline and service; the ratio is the
//! median of the rounds' ratios.
//!
//!     cargo bench --bench router [-- ROUNDS REQUESTS]
// A test that panics has failed, which is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
use facet_screen::config::{LogFormat, Settings};
use facet_screen::startup::Application;
use facet_screen::store::Store;
use facet_screen::telemetry;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn body() -> Bytes {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../rules/v1/cases/vignettes.json")).unwrap();
    let case = cases
        .into_iter()
        .find(|c| c["id"] == "ideal-candidate")
        .unwrap();
    serde_json::to_vec(&case["answers"]).unwrap().into()
}

fn baseline(response: Bytes) -> Router {
    Router::new().route(
        "/v1/evaluations",
        post(move |body: axum::Json<serde_json::Value>| async move {
            std::hint::black_box(body.0.as_object().map(|o| o.len()));
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                response,
            )
                .into_response()
        }),
    )
}

/// One request through `router`; the response's bytes.
async fn call(router: &Router, body: &Bytes, key: Option<&str>) -> Bytes {
    let mut req = Request::post("/v1/evaluations").header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::from(body.clone())).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body().collect().await.unwrap().to_bytes()
}

async fn time(router: &Router, body: &Bytes, key: Option<&str>, n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(call(router, body, key).await);
    }
    start.elapsed() / n as u32
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (rounds, n) = (*args.first().unwrap_or(&5), *args.get(1).unwrap_or(&20_000));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sink, _flush) = telemetry::batched::writer(std::io::sink());
    telemetry::init(LogFormat::Text, sink);
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let mut settings = Settings::from_env();
        settings.addr = "127.0.0.1:0".parse().unwrap();
        settings.rules_dir = None;
        settings.profile = None;
        settings.rate_limit = 100_000_000;
        settings.database.database_url = None;
        settings.database.data_dir = dir.path().to_path_buf();
        // The key first, so that the first start makes (and prints) no
        // admin key of its own.
        let store = Store::connect(&settings.database.url().unwrap()).await.unwrap();
        let (new, secret) = NewKey::mint(
            Clinic::parse("bench").unwrap(),
            Role::Intake,
            Label::parse("router bench").unwrap(),
            Expiry::NEVER,
        );
        store.insert_key(&new).await.unwrap();
        let key = secret.expose().to_string();
        let app = Application::build(&settings).await.unwrap();
        let service = app.router();
        let body = body();
        let response = call(&service, &body, Some(&key)).await;
        let base = baseline(response.clone());
        assert_eq!(call(&base, &body, None).await.len(), response.len());
        // Warm both (and the key cache, once its watcher has confirmed it).
        tokio::time::sleep(Duration::from_millis(300)).await;
        time(&base, &body, None, n / 4).await;
        time(&service, &body, Some(&key), n / 4).await;
        let mut ratios = Vec::new();
        let (mut bs, mut ss) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let b = time(&base, &body, None, n).await;
            let s = time(&service, &body, Some(&key), n).await;
            println!(
                "round {round}: baseline {:.2} µs, service {:.2} µs a request: service/baseline {:.2}x",
                b.as_secs_f64() * 1e6,
                s.as_secs_f64() * 1e6,
                s.as_secs_f64() / b.as_secs_f64()
            );
            ratios.push(s.as_secs_f64() / b.as_secs_f64());
            bs.push(b);
            ss.push(s);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let us = |v: &[Duration]| median(&mut v.iter().map(|d| d.as_secs_f64() * 1e6).collect());
        println!(
            "median: baseline {:.2} µs, service {:.2} µs; service costs {:.2}x the baseline's CPU in process ({rounds} rounds of {n} requests, {} B response)",
            us(&bs),
            us(&ss),
            median(&mut ratios),
            response.len()
        );
    });
}
