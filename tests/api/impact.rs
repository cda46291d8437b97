//! `facet-screen rules impact`: the stored screenings of the database that
//! `serve` uses, evaluated with a draft, reported as transitions. Seeded
//! through the service (no HTTP), read by the real binary, on SQLite and on
//! PostgreSQL.

use serde_json::{Value, json};

use crate::binary;
use crate::helpers::{TestDb, case_answers, edit, rules_copy, rules_dir};
use facet_screen::rules::RuleFiles;
use facet_screen::rules::RuleSet;
use facet_screen::rules::live::LiveRules;
use facet_screen::screening::{Actor, Clinic};
use facet_screen::service::Screenings;
use facet_screen::store::Store;

/// Stores a screening of `clinic` for each of `answers`; their ids.
async fn seed(db: &TestDb, clinic: &str, answers: &[Value]) -> Vec<String> {
    let store = Store::connect(&db.url).await.unwrap();
    let rules = RuleSet::load(&RuleFiles::embedded(), None).unwrap();
    let screenings = Screenings::new(LiveRules::new(rules), store);
    let clinic = Clinic::parse(clinic).unwrap();
    let mut ids = Vec::new();
    for a in answers {
        let actor = Actor {
            key_id: "seed".into(),
            label: "seed".into(),
            clinician: None,
        };
        let created = screenings
            .create(&clinic, actor, screenings.submitted(a), None)
            .await
            .unwrap();
        ids.push(created.screening.id.to_string());
    }
    ids
}

fn impact(db: &TestDb, args: &[&str]) -> std::process::Output {
    binary::command()
        .args(["rules", "impact"])
        .args(args)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap()
}

fn json_of(out: std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn rules_impact_counts_the_transitions_a_draft_would_make_on_stored_screenings() {
    let db = TestDb::new().await;
    // Blocks of 90% and 85%: positive at 80%, one negative at 90%.
    let likely = seed(&db, "default", &vec![case_answers("ideal-candidate"); 3]).await;
    // Two blocks of 95%: positive either way.
    let mut strong = case_answers("ideal-candidate");
    strong["diagnostic_blocks"][1]["pain_relief_percent"] = json!(95);
    seed(&db, "default", &[strong]).await;
    let deferred = seed(&db, "default", &[case_answers("acute-pain")]).await;
    let other_clinic = seed(&db, "north", &[case_answers("ideal-candidate")]).await;

    // The programme's draft: the block threshold from 80% to 90%.
    let draft = rules_copy();
    edit(
        &draft.path().join("parameters.yaml"),
        "      block_relief_percent: 80\n",
        "      block_relief_percent: 90\n",
    );
    let dir = draft.path().to_str().unwrap();
    let report = json_of(impact(&db, &[dir, "--format", "json"]));
    assert_eq!(report["screenings"], 6, "{report}");
    assert_eq!(report["changed"], 5, "{report}");
    let transitions = report["transitions"].as_array().unwrap();
    assert_eq!(transitions.len(), 2, "{report}");
    let t = &transitions[0];
    assert_eq!(
        (&t["from"], &t["to"], &t["count"]),
        (
            &json!("likely_candidate"),
            &json!("unlikely_candidate"),
            &json!(4)
        )
    );
    assert_eq!(t["criteria"], json!(["BLOCK_NEGATIVE"]));
    let examples: Vec<String> = serde_json::from_value(t["examples"].clone()).unwrap();
    assert!(likely.iter().all(|id| examples.contains(id)), "{t}");
    // A deferral becomes an exclusion, which outranks it: the exclusion is
    // what is new.
    let t = &transitions[1];
    assert_eq!(
        (&t["from"], &t["to"], &t["count"]),
        (
            &json!("not_yet_eligible"),
            &json!("unlikely_candidate"),
            &json!(1)
        )
    );
    assert_eq!(t["criteria"], json!(["BLOCK_NEGATIVE"]));
    assert_eq!(t["examples"], json!(deferred));
    assert_eq!(report["unreadable"]["count"], 0);
    assert_eq!(report["stored_differs"], 0);
    assert_eq!(report["draft"]["profile"], "cms_lcd");

    // One clinic only.
    let north = json_of(impact(&db, &[dir, "--clinic", "north", "--format", "json"]));
    assert_eq!(
        (&north["screenings"], &north["changed"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(north["transitions"][0]["examples"], json!(other_clinic));
    // From a date: none stored after it.
    let later = json_of(impact(
        &db,
        &[dir, "--from", "2999-01-01", "--format", "json"],
    ));
    assert_eq!(later["screenings"], 0);

    // Switching profile: one block of at least 50% suffices under asra_2020.
    let one_block = seed(&db, "default", &[case_answers("one-positive-block")]).await;
    let built_in = rules_dir().display().to_string();
    let asra = json_of(impact(
        &db,
        &[
            built_in.as_str(),
            "--profile",
            "asra_2020",
            "--format",
            "json",
        ],
    ));
    let to_likely = asra["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["from"] == "needs_diagnostic_block")
        .unwrap_or_else(|| panic!("{asra}"));
    assert_eq!(to_likely["to"], "likely_candidate");
    assert_eq!(to_likely["criteria"], json!(["DUAL_BLOCK"]));
    assert_eq!(to_likely["examples"], json!(one_block));

    // A draft that removed a question cannot read the screenings that
    // answered it: counted and listed apart, not dropped.
    let removed = rules_copy();
    let p = removed.path();
    edit(
        &p.join("questionnaire.yaml"),
        "      - id: readiness.escort_available\n        question: Can a responsible adult take the patient home after the procedure?\n        type: boolean\n",
        "",
    );
    let rules_text = std::fs::read_to_string(p.join("rules.yaml")).unwrap();
    let start = rules_text.find("  - code: ESCORT\n").unwrap();
    let end = rules_text.find("  - code: REFERRAL\n").unwrap();
    std::fs::write(
        p.join("rules.yaml"),
        format!("{}{}", &rules_text[..start], &rules_text[end..]),
    )
    .unwrap();
    edit(
        &p.join("contract.yaml"),
        "  - { code: ESCORT, effect: caution, required: false, reads: [readiness.escort_available] }\n",
        "",
    );
    let out = impact(&db, &[p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("screenings: 7; another suggestion under the draft: 0 (0.0%)"),
        "{table}"
    );
    assert!(table.contains("unreadable (counted apart): 7"), "{table}");
    assert!(
        table.contains("(by the draft): readiness.escort_available: "),
        "{table}"
    );
    // Ids and field names only: no answer values in the report.
    assert!(!table.contains("\"escort_available\": true"));

    // A data directory with no database is refused, not created.
    let empty = tempfile::tempdir().unwrap();
    let out = binary::command()
        .args(["rules", "impact"])
        .arg(p)
        .env("FACET_SCREEN_DATA_DIR", empty.path().join("typo"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no database in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!empty.path().join("typo").exists());
}
