//! `GET /v1/export`: the clinic's record as NDJSON, each screening as
//! stored with its whole history; administrators only; recorded; streamed.

use serde_json::{Value, json};

use crate::helpers::{Keys, TestApp, case_answers, spawn_app};

async fn export(app: &TestApp, key: &str, query: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(&format!("/v1/export{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    if status == 200 {
        let t = res.headers()["content-type"].to_str().unwrap();
        assert!(
            t == "application/x-ndjson" || t == "application/fhir+json",
            "{t}"
        );
    }
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn an_export_holds_each_screening_as_stored_with_its_whole_history() {
    let app = spawn_app().await;
    let start = chrono::Utc::now();
    let mut ids = Vec::new();
    for case in ["ideal-candidate", "fracture-risk", "nothing-answered"] {
        ids.push(
            app.create_screening(&case_answers(case)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let review = app
        .post_as(
            &app.keys.clinician,
            &format!("/v1/screenings/{}/review", ids[0]),
            &json!({"decision": "confirm", "clinician": "dr-okafor"}),
        )
        .await;
    assert_eq!(review.status(), 200);
    let mut expected = Vec::new();
    for id in &ids {
        let screening: Value = app
            .get(&format!("/v1/screenings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        let history: Value = app
            .get(&format!("/v1/screenings/{id}/history"))
            .await
            .json()
            .await
            .unwrap();
        expected.push(json!({"screening": screening, "history": history["events"]}));
    }
    let (status, body) = export(&app, &app.keys.admin, "").await;
    assert_eq!(status, 200);
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines, expected,
        "as stored, oldest first, with reads and the review on the history"
    );
    let kinds: Vec<&str> = lines[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "reviewed", "viewed"]);

    // A period: only what was created in it.
    let (_, none) = export(
        &app,
        &app.keys.admin,
        &format!(
            "?to={}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
    )
    .await;
    assert_eq!(none, "");
    // Another clinic's administrator exports nothing of ours; only administrators export.
    let other = Keys::make(&app.db, "st-marys").await;
    assert_eq!(export(&app, &other.admin, "").await, (200, String::new()));
    for key in [&app.keys.intake, &app.keys.clinician] {
        assert_eq!(export(&app, key, "").await.0, 403);
    }
    let (status, problem) = export(&app, &app.keys.admin, "?from=last-week").await;
    assert_eq!(status, 422);
    assert!(problem.contains("\"field\":\"from\""), "{problem}");

    // As FHIR: a Bundle with, per screening, its QuestionnaireResponse
    // (which reads back to the same answers) and its suggestion as a
    // GuidanceResponse recording the clinician's decision.
    let (status, body) = export(&app, &app.keys.admin, "?format=fhir").await;
    assert_eq!(status, 200);
    let bundle: Value = serde_json::from_str(&body).unwrap();
    std::fs::create_dir_all(crate::helpers::repo().join("target/fhir")).unwrap();
    std::fs::write(
        crate::helpers::repo().join("target/fhir/export-bundle.json"),
        &body,
    )
    .unwrap();
    assert_eq!(
        (bundle["resourceType"].as_str(), bundle["type"].as_str()),
        (Some("Bundle"), Some("collection"))
    );
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2 * expected.len());
    let rules =
        facet_screen::rules::RuleSet::load(&facet_screen::rules::RuleFiles::embedded(), None)
            .unwrap();
    for (pair, line) in entries.chunks(2).zip(&expected) {
        let (qr, gr) = (&pair[0]["resource"], &pair[1]["resource"]);
        assert_eq!(qr["id"], line["screening"]["id"]);
        let back = facet_screen::fhir::answers_from_response(&rules, qr).unwrap();
        let stored = &line["screening"]["answers"];
        let strip = |v: &Value| -> Value {
            // Our stored answers name unknown ones as null; FHIR leaves them out.
            let mut v = v.clone();
            if let Some(groups) = v.as_object_mut() {
                for g in groups.values_mut() {
                    if let Some(o) = g.as_object_mut() {
                        o.retain(|_, x| !x.is_null());
                    }
                }
                groups.retain(|_, g| !g.is_null() && g.as_object().is_none_or(|o| !o.is_empty()));
            }
            v
        };
        assert_eq!(strip(&back), strip(stored), "the answers read back");
        assert_eq!(gr["resourceType"], "GuidanceResponse");
        assert_eq!(gr["requestIdentifier"]["value"], pair[0]["fullUrl"]);
        assert_eq!(
            gr["reasonCode"][0]["coding"][0]["code"],
            line["screening"]["suggested_outcome"]
        );
    }
    let reviewed = &entries[1]["resource"];
    assert!(
        reviewed["note"]
            .to_string()
            .contains("Clinician's decision by dr-okafor"),
        "{reviewed}"
    );
    assert_eq!(entries[1]["resource"]["status"], "success");
    assert_eq!(
        entries[5]["resource"]["status"], "data-required",
        "nothing answered: data required"
    );
    let (_, empty) = export(&app, &other.admin, "?format=fhir").await;
    let empty: Value = serde_json::from_str(&empty).unwrap();
    assert_eq!(empty["entry"], json!([]));

    // Empty values (`?from=&to=`, a form's blank fields) leave the period
    // open, as leaving them out does: the README's command as written.
    let (status, open) = export(&app, &app.keys.admin, "?from=&to=").await;
    assert_eq!(
        (status, open.lines().count()),
        (200, expected.len()),
        "{open}"
    );

    // Each export is recorded: the key and the range.
    let pool = app.db.pool().await;
    let rows =
        sqlx::query("SELECT actor, range_to FROM exports WHERE clinic = 'default' ORDER BY at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows.len(),
        4,
        "the four exports that were allowed (the 422 and 403s are not)"
    );
    use sqlx::Row;
    let actor: String = rows[0].try_get("actor").unwrap();
    let me: Value = app
        .get_as(&app.keys.admin, "/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert!(actor.contains(me["key_id"].as_str().unwrap()), "{actor}");
    assert!(
        rows[1]
            .try_get::<Option<String>, _>("range_to")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        rows[3].try_get::<Option<String>, _>("range_to").unwrap(),
        None,
        "an empty `to` is no end"
    );
}

/// The server's peak resident memory, from /proc.
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    kib / 1024.0
}

/// 100,000 stored screenings exported by the real binary: every one sent,
/// and the server's peak memory stays under 64 MiB.
#[tokio::test]
async fn exporting_100000_screenings_streams_in_bounded_memory() {
    // It runs the binary on SQLite whatever the suite: once is enough.
    if std::env::var_os("FACET_SCREEN_TEST_POSTGRES").is_some() {
        return;
    }
    const N: i64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (intake, admin) = (
        crate::binary::make_key(&data, "intake"),
        crate::binary::make_key(&data, "admin"),
    );
    let env = [("FACET_SCREEN_DATA_DIR", data.to_str().unwrap())];
    let server = crate::binary::serve(&env);
    let client = reqwest::Client::new();
    let res = client
        .post(server.url("/v1/screenings"))
        .bearer_auth(&intake)
        .json(&case_answers("ideal-candidate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    server.kill();
    // The one real screening and its creation, copied N - 1 times.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&facet_screen::store::sqlite_url(&data).unwrap())
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {m}) \
         INSERT INTO screenings (id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at, priority, external_ref) \
         SELECT printf('00000000-0000-7000-8000-%012d', n), s.clinic, s.status, s.suggested, s.final_outcome, s.answers, s.evaluation, s.answers_version, s.review, \
                strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || n || ' seconds') || '.000000Z', s.updated_at, s.priority, s.external_ref \
         FROM c, (SELECT * FROM screenings LIMIT 1) s; \
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {m}) \
         INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
         SELECT printf('e-%d', n), printf('00000000-0000-7000-8000-%012d', n), 1, e.kind, e.at, e.actor, e.data \
         FROM c, (SELECT * FROM screening_events LIMIT 1) e;",
        m = N - 1
    )))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let server = crate::binary::serve(&env);
    let idle = peak_mib(server.pid());
    let started = std::time::Instant::now();
    let mut res = client
        .get(server.url("/v1/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (mut lines, mut bytes) = (0i64, 0usize);
    while let Some(chunk) = res.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as i64;
        bytes += chunk.len();
    }
    let peak = peak_mib(server.pid());
    println!(
        "exported {lines} screenings ({} MiB) in {:?}; the server's peak memory: {peak:.1} MiB (at start: {idle:.1} MiB)",
        bytes / (1024 * 1024),
        started.elapsed()
    );
    assert_eq!(lines, N);
    assert!(peak < 64.0, "peak memory {peak:.1} MiB");
    server.kill();
}

/// A screening stored under another rule set (one that also asked whether
/// the patient smokes, and each block's spinal level) exported as FHIR by
/// the rule set in use, which asks neither: both answers are in its
/// QuestionnaireResponse, with their values, apart from the questions the
/// Questionnaire in use asks; nothing of the record is dropped.
#[tokio::test]
async fn the_fhir_export_keeps_answers_the_questionnaire_in_use_does_not_ask() {
    const KEPT: &str = "not-in-questionnaire";
    let older = crate::helpers::rules_copy();
    let questionnaire = older.path().join("questionnaire.yaml");
    crate::helpers::edit(
        &questionnaire,
        "      - id: readiness.escort_available\n",
        "      - id: readiness.smoker\n        question: Does the patient smoke?\n        type: boolean\n      - id: readiness.escort_available\n",
    );
    crate::helpers::edit(
        &questionnaire,
        "          - id: relief_matches_anesthetic\n",
        "          - id: level\n            question: Spinal level\n            type: text\n            max_length: 16\n          - id: relief_matches_anesthetic\n",
    );
    let db = std::sync::Arc::new(crate::helpers::TestDb::new().await);
    let dir = older.path().to_path_buf();
    let then = crate::helpers::spawn_on(db.clone(), move |s| s.rules_dir = Some(dir)).await;
    let mut answers = case_answers("ideal-candidate");
    answers["readiness"]["smoker"] = json!(true);
    answers["diagnostic_blocks"][1]["level"] = json!("L4-L5");
    let created = then.create_screening(&answers).await;
    assert_eq!(created["answers"]["readiness"]["smoker"], true);

    let now = crate::helpers::spawn_on(db, |_| {}).await;
    let (status, body) = export(&now, &now.keys.admin, "?format=fhir").await;
    assert_eq!(status, 200);
    std::fs::create_dir_all(crate::helpers::repo().join("target/fhir")).unwrap();
    std::fs::write(
        crate::helpers::repo().join("target/fhir/export-bundle-kept-answers.json"),
        &body,
    )
    .unwrap();
    let bundle: Value = serde_json::from_str(&body).unwrap();
    let qr = &bundle["entry"][0]["resource"];
    assert_eq!(qr["resourceType"], "QuestionnaireResponse");
    assert_eq!(qr["id"], created["id"]);
    assert!(
        qr["questionnaire"].as_str().unwrap().ends_with("|1"),
        "the version they were answered under: {qr}"
    );
    let kept: Vec<(&str, &Value)> = qr["item"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["linkId"] == KEPT)
        .flat_map(|g| g["item"].as_array().unwrap())
        .map(|i| (i["linkId"].as_str().unwrap(), &i["answer"]))
        .collect();
    assert_eq!(
        kept,
        [
            (
                "diagnostic_blocks[1].level",
                &json!([{"valueString": "L4-L5"}])
            ),
            ("readiness.smoker", &json!([{"valueBoolean": true}])),
        ],
        "{qr}"
    );
    // Everything else is where the Questionnaire in use puts it, and our
    // own reader refuses the kept group by name rather than evaluate
    // without it.
    let rules =
        facet_screen::rules::RuleSet::load(&facet_screen::rules::RuleFiles::embedded(), None)
            .unwrap();
    let errors = facet_screen::fhir::answers_from_response(&rules, qr).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, [KEPT]);
    let mut without = qr.clone();
    without["item"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["linkId"] != KEPT);
    let mut expected = answers.clone();
    expected["readiness"]
        .as_object_mut()
        .unwrap()
        .remove("smoker");
    expected["diagnostic_blocks"][1]
        .as_object_mut()
        .unwrap()
        .remove("level");
    assert_eq!(
        facet_screen::fhir::answers_from_response(&rules, &without).unwrap(),
        expected
    );
}
