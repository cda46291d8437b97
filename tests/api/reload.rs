//! Reload without downtime: the real binary, under a steady stream of
//! evaluations, is sent SIGHUP after a parameter changes. It checks the rule
//! set again (every profile, every worked case beside it) and switches at
//! once if all pass, without one failed request; every response names the
//! rule set that produced it. A rule set that does not load, or whose worked
//! cases fail, is refused with the reason logged, and the one in use stays.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::binary;
use crate::helpers::{PATIENCE, case_answers, edit, rules_copy, rules_dir, wait_until};

/// Polls `/readyz` until its digest is not `old` (or `PATIENCE` passes).
async fn digest_after(server: &binary::Served, old: &str) -> String {
    let started = Instant::now();
    loop {
        let ready = server.get_json("/readyz").await;
        let digest = ready["ruleset"]["digest"].as_str().unwrap().to_string();
        if digest != old || started.elapsed() > PATIENCE {
            return digest;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the log holds `line` (or `PATIENCE` passes); whether it does.
async fn logged(server: &binary::Served, line: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if server.log().contains(line) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn sighup_switches_to_a_checked_rule_set_without_a_failed_request_and_refuses_a_bad_one() {
    let rules = rules_copy();
    let data = tempfile::tempdir().unwrap();
    let key = binary::make_key(data.path(), "intake");
    let server = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", data.path().to_str().unwrap()),
        ("FACET_SCREEN_RULES_DIR", rules.path().to_str().unwrap()),
        ("FACET_SCREEN_RATE_LIMIT", "1000000"),
    ]);
    let client = reqwest::Client::new();
    let old = digest_after(&server, "").await;

    // Blocks of 90% and 85% relief: positive at 80%, not at 90%.
    let answers = case_answers("ideal-candidate");
    let evaluate = {
        let (client, url, key, answers) = (
            client.clone(),
            server.url("/v1/evaluations"),
            key.clone(),
            answers.clone(),
        );
        move || {
            let request = client.post(&url).bearer_auth(&key).json(&answers);
            async move {
                let res = request.send().await.unwrap();
                (
                    res.status().as_u16(),
                    res.json::<Value>().await.unwrap_or_default(),
                )
            }
        }
    };
    let (status, ev) = evaluate().await;
    assert_eq!(
        (status, ev["outcome"].as_str()),
        (200, Some("likely_candidate"))
    );

    // A steady stream of evaluations from four clients throughout: each
    // answer's status, outcome and rule set digest, as they come.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(u16, String, String)>>> = Arc::default();
    let mut load = Vec::new();
    for _ in 0..4 {
        let (stop, evaluate, seen) = (stop.clone(), evaluate.clone(), seen.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, ev) = evaluate().await;
                seen.lock().unwrap().push((
                    status,
                    ev["outcome"].as_str().unwrap_or_default().to_string(),
                    ev["ruleset"]["digest"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
        }));
    }
    wait_until("20 evaluations before the change", || {
        seen.lock().unwrap().len() >= 20
    })
    .await;

    // The programme moves the block threshold from 80% to 90%.
    edit(
        &rules.path().join("parameters.yaml"),
        "      block_relief_percent: 80\n",
        "      block_relief_percent: 90\n",
    );
    server.signal("HUP");
    let new = digest_after(&server, &old).await;
    assert_ne!(new, old, "the digest did not change:\n{}", server.log());
    let (status, ev) = evaluate().await;
    assert_eq!(status, 200);
    assert_eq!(ev["outcome"], "unlikely_candidate", "{ev}");
    assert_eq!(ev["ruleset"]["digest"], new.as_str());
    let negative = &ev["reasons"][0];
    assert_eq!(negative["code"], "BLOCK_NEGATIVE");
    assert!(
        negative["message"]
            .as_str()
            .unwrap()
            .contains("less than 90% relief"),
        "{negative}"
    );
    assert!(logged(&server, "SIGHUP: rule set reloaded").await);
    // The questionnaire, the OpenAPI document and /readyz follow.
    let doc = server.get_json("/openapi.json").await;
    assert!(
        doc.to_string().contains(&new),
        "the OpenAPI document names the new digest"
    );

    let switched = seen.lock().unwrap().len();
    wait_until("20 evaluations after the switch", || {
        seen.lock().unwrap().len() >= switched + 20
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    // Not one failed request, and each response is whole: the outcome of
    // the rule set it names, never the outcome of one with the other's name.
    let failed: Vec<_> = seen.iter().filter(|(s, _, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} failed: {failed:?}",
        failed.len(),
        seen.len()
    );
    let before = seen
        .iter()
        .filter(|(_, o, d)| o == "likely_candidate" && *d == old)
        .count();
    let after = seen
        .iter()
        .filter(|(_, o, d)| o == "unlikely_candidate" && *d == new)
        .count();
    assert_eq!(before + after, seen.len(), "a response mixed two rule sets");
    assert!(before > 0 && after > 0, "{before} before, {after} after");

    // A rule set that does not load is refused; the one in use stays.
    edit(
        &rules.path().join("rules.yaml"),
        "{ field: pain.duration_months, lt:",
        "{ field: pain.duraton_months, lt:",
    );
    server.signal("HUP");
    assert!(
        logged(
            &server,
            "SIGHUP: the rule set was not reloaded; the one in use stays"
        )
        .await,
        "{}",
        server.log()
    );
    assert!(
        server
            .log()
            .contains("unknown question id `pain.duraton_months`")
    );
    let (status, ev) = evaluate().await;
    assert_eq!(
        (status, ev["ruleset"]["digest"].as_str()),
        (200, Some(new.as_str()))
    );

    // So is one whose worked cases fail: the cases beside the rules expect
    // 80%, and the author has not updated them.
    edit(
        &rules.path().join("rules.yaml"),
        "{ field: pain.duraton_months, lt:",
        "{ field: pain.duration_months, lt:",
    );
    let cases = rules.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    std::fs::copy(
        rules_dir().join("cases/vignettes.json"),
        cases.join("vignettes.json"),
    )
    .unwrap();
    let refusals = server.log().matches("was not reloaded").count();
    server.signal("HUP");
    wait_until("the third SIGHUP's refusal", || {
        server.log().matches("was not reloaded").count() > refusals
    })
    .await;
    let log = server.log();
    let last = log
        .lines()
        .rev()
        .find(|l| l.contains("was not reloaded"))
        .unwrap();
    assert!(last.contains("worked case exactly-80"), "{last}");
    let (_, ev) = evaluate().await;
    assert_eq!(ev["ruleset"]["digest"], new.as_str());
    // No answer reached the log.
    assert!(!log.contains("\"intensity_nrs\""), "answers in the log");
}
