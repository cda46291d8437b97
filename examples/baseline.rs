//! The load benchmark's baseline: a minimal axum server built from the same
//! dependency versions as the service. It parses the same JSON body and
//! answers a response of the same size (read from the file named by
//! `BASELINE_RESPONSE`), with nothing else: no validation, rules, auth,
//! storage or logging. `benches/load.py` runs it beside the service, on
//! the port it names in its first line on stdout.
// A benchmark's baseline: a panic stops the run, which is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;

#[tokio::main]
async fn main() {
    let addr = std::env::var("BASELINE_ADDR").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let response: Arc<Bytes> = Arc::new(
        std::fs::read(std::env::var("BASELINE_RESPONSE").expect("BASELINE_RESPONSE names a file"))
            .expect("the response file reads")
            .into(),
    );
    let status = if std::env::var("BASELINE_STATUS").as_deref() == Ok("201") {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let handler = move |body: axum::Json<serde_json::Value>| {
        let response = response.clone();
        async move {
            // Touch the parsed body so that the parse is not optimised away.
            std::hint::black_box(body.0.as_object().map(|o| o.len()));
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                (*response).clone(),
            )
                .into_response()
        }
    };
    let app = Router::new()
        .route("/v1/evaluations", post(handler.clone()))
        .route("/v1/screenings", post(handler));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("binds");
    // The address bound (port 0 asks for any free one), for `benches/load.py`.
    println!(
        "baseline listening on {}",
        listener
            .local_addr()
            .expect("a bound listener has an address")
    );
    axum::serve(listener, app).await.expect("serves");
}
