//! A screening's events as recorded. Each kind is written as its own type
//! and read back as it; an event an earlier release recorded in a shape
//! this one no longer writes (a read kept with the changes, as `{}`, before
//! reads had a table of their own; CDS feedback from before its items were
//! checked) is answered as it was recorded, in the history and in the
//! export, never refused as unreadable. On either database.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn events_an_earlier_release_recorded_are_answered_as_they_were_recorded() {
    let app = spawn_app().await;
    let id = app.create_screening(&json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let earlier = [
        (2_i64, "viewed", "{}"),
        (
            3,
            "cds_feedback",
            r#"{"outcome":"accepted","override_reason":{"code":7},"user_comment":["seen"],"outcome_timestamp":null}"#,
        ),
    ];
    let pool = app.db.pool().await;
    let at = facet_screen::screening::timestamp(chrono::Utc::now());
    for (seq, kind, data) in earlier {
        sqlx::query(
            "INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(format!("earlier-{seq}"))
        .bind(&id)
        .bind(seq)
        .bind(kind)
        .bind(&at)
        .bind(r#"{"key_id":"key_earlier","label":"an earlier release's client"}"#)
        .bind(data)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let expected = |events: &Value| {
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(events[0]["kind"], "created");
        assert_eq!(
            events[0]["data"],
            json!({"suggested_outcome": "needs_more_information", "answers_version": 1})
        );
        for (event, (seq, kind, data)) in events[1..].iter().zip(earlier) {
            assert_eq!(event["seq"], seq);
            assert_eq!(event["kind"], kind);
            assert_eq!(event["data"], serde_json::from_str::<Value>(data).unwrap());
            assert_eq!(event["actor"]["key_id"], "key_earlier");
        }
    };

    let res = app.get(&format!("/v1/screenings/{id}/history")).await;
    assert_eq!(res.status(), 200);
    let history: Value = res.json().await.unwrap();
    expected(&history["events"]);

    let res = app.get_as(&app.keys.admin, "/v1/export").await;
    assert_eq!(res.status(), 200);
    let line: Value = serde_json::from_str(res.text().await.unwrap().trim()).unwrap();
    assert_eq!(line["screening"]["id"], id.as_str());
    expected(&line["history"]);
}
