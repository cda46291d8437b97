use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["ruleset"]["profile"], "cms_lcd");
    assert!(
        ready["ruleset"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"].len(), 36);
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "given-by-caller")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "given-by-caller");
}

#[test]
fn sigterm_as_soon_as_it_answers_is_a_graceful_stop() {
    // The signal handlers are installed before anything is served: a stop
    // that comes right after the first answer exits 0, never by the signal's
    // default action.
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let server =
            crate::binary::serve(&[("FACET_SCREEN_DATA_DIR", dir.path().to_str().unwrap())]);
        let (status, _, stderr) = server.terminate();
        assert!(status.success(), "round {round}: {status}\n{stderr}");
    }
}
