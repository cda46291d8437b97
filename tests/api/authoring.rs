//! The rule set as the clinic's own: the contract is data checked at load,
//! CONTRACT.md is generated from it, the precedence is read from
//! outcomes.yaml, the words carry the profile's numbers and the answers'
//! counts, and `rules explain` traces an evaluation. Through the real
//! binary, without HTTP, except where the rule set is served.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::binary;
use crate::helpers::{case_answers, edit, rules_copy, rules_dir};

fn bin() -> Command {
    binary::command()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn check(dir: &std::path::Path) -> Output {
    bin().args(["rules", "check"]).arg(dir).output().unwrap()
}

/// `rules explain` on `answers` (written to a file), with extra arguments.
fn explain(answers: &Value, args: &[&str]) -> Output {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), answers.to_string()).unwrap();
    bin()
        .args(["rules", "explain"])
        .arg(file.path())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_committed_contract_md_is_what_rules_doc_generates() {
    let generated = ok(bin()
        .args(["rules", "doc"])
        .arg(rules_dir())
        .output()
        .unwrap());
    let committed = std::fs::read_to_string(rules_dir().join("CONTRACT.md")).unwrap();
    assert!(
        generated == committed,
        "rules/v1/CONTRACT.md drifted from its files: run `cargo run -q -- rules doc rules/v1 > rules/v1/CONTRACT.md`"
    );
    // It is the contract clinics read: every code, parameter and outcome.
    for text in [
        "| `DUAL_BLOCK` | block; required |",
        "fewer than 2 (blocks_required) entries of `diagnostic_blocks`",
        "| `block_relief_percent` | % | 50 | 80 |",
        "| `urgent_evaluation` |",
        "| `readiness.escort_available` | boolean |",
    ] {
        assert!(generated.contains(text), "{text}");
    }
}

#[tokio::test]
async fn a_rule_set_gains_a_question_and_a_caution_with_no_rust_changed_and_is_served() {
    let dir = rules_copy();
    let p = dir.path();
    edit(
        &p.join("questionnaire.yaml"),
        "      - id: readiness.escort_available\n",
        "      - id: readiness.smoker\n        question: Does the patient smoke?\n        type: boolean\n      - id: readiness.escort_available\n",
    );
    edit(
        &p.join("rules.yaml"),
        "  - code: ESCORT\n",
        "  - code: SMOKER\n    title: smokes\n    effect: caution\n    when: { field: readiness.smoker, is: true }\n    message: Smoking slows wound healing and raises anaesthetic risk.\n    next_step: Offer smoking cessation support before the procedure.\n    sources: [elective_surgery]\n  - code: ESCORT\n",
    );
    // Without its line in the contract the new rule is refused...
    let stderr = fails(check(p));
    assert!(
        stderr.contains(
            "rules.yaml: rule SMOKER: not a criterion of the contract: add it to contract.yaml"
        ),
        "{stderr}"
    );
    // ...and with it, the rule set passes and is served as it is.
    let contract = p.join("contract.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(
        &contract,
        format!("{text}  - {{ code: SMOKER, effect: caution, required: false, reads: [readiness.smoker] }}\n"),
    )
    .unwrap();
    let out = ok(check(p));
    assert!(out.contains("no problems found"), "{out}");

    let data = tempfile::tempdir().unwrap();
    let key = binary::make_key(data.path(), "intake");
    let server = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", data.path().to_str().unwrap()),
        ("FACET_SCREEN_RULES_DIR", p.to_str().unwrap()),
    ]);
    let client = reqwest::Client::new();
    let questionnaire = server.get_json("/v1/questionnaire").await;
    assert!(questionnaire.to_string().contains("readiness.smoker"));
    let mut answers = case_answers("ideal-candidate");
    answers["readiness"]["smoker"] = json!(true);
    let ev: Value = client
        .post(server.url("/v1/evaluations"))
        .bearer_auth(&key)
        .json(&answers)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ev["outcome"], "likely_candidate", "{ev}");
    let cautions: Vec<&str> = ev["cautions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(cautions, ["SMOKER"], "{ev}");
    // The digest in use is the copy's, not the built-in one's.
    let ready = server.get_json("/readyz").await;
    assert_eq!(ev["ruleset"]["digest"], ready["ruleset"]["digest"]);
    let built_in = ok(check(&rules_dir()));
    assert!(!built_in.contains(ready["ruleset"]["digest"].as_str().unwrap()));
    server.kill();
}

#[test]
fn the_contract_is_checked_whatever_the_version_and_names_what_is_wrong() {
    let dir = rules_copy();
    let p = dir.path();
    // A version bump no longer switches the check off.
    for file in ["questionnaire.yaml", "rules.yaml", "contract.yaml"] {
        let from = if file == "questionnaire.yaml" {
            "version: \"1\"\n"
        } else {
            "questionnaire_version: \"1\"\n"
        };
        let to = from.replace('1', "2");
        edit(&p.join(file), from, &to);
    }
    ok(check(p));
    // A rule reading a question its criterion does not have.
    edit(
        &p.join("rules.yaml"),
        "when: { field: readiness.escort_available, is: false }",
        "when: { any: [{ field: readiness.escort_available, is: false }, { field: readiness.bmi, gt: 60 }] }",
    );
    // A criterion whose effect the rule does not have.
    edit(
        &p.join("contract.yaml"),
        "code: BMI_HIGH, effect: caution",
        "code: BMI_HIGH, effect: defer",
    );
    // A criterion with no rule.
    let text = std::fs::read_to_string(p.join("contract.yaml")).unwrap();
    std::fs::write(
        p.join("contract.yaml"),
        format!("{text}  - {{ code: GHOST, effect: caution, required: false, reads: [readiness.ghost] }}\n"),
    )
    .unwrap();
    let stderr = fails(check(p));
    for want in [
        "rules.yaml: rule ESCORT: when: reads `readiness.bmi`, which the contract does not give this criterion (its questions: readiness.escort_available)",
        "rules.yaml: rule BMI_HIGH: the contract makes this criterion Defer, not required",
        "rules.yaml: criterion GHOST of the contract has no rule",
        "contract.yaml: criterion GHOST: reads: `readiness.ghost` is not a question of questionnaire.yaml",
    ] {
        assert!(stderr.contains(want), "{want}\nnot in:\n{stderr}");
    }
}

/// outcomes.yaml's `text` with the entry of outcome `code` moved to just
/// before the entry of `before` (neither may be the last entry).
fn moved(text: &str, code: &str, before: &str) -> String {
    let entry = |code: &str| {
        let start = text.find(&format!("  - code: {code}\n")).unwrap();
        let len = text[start + 1..].find("  - code: ").unwrap() + 1;
        &text[start..start + len]
    };
    let (moving, target) = (entry(code), entry(before));
    text.replacen(moving, "", 1)
        .replacen(target, &format!("{moving}{target}"), 1)
}

#[test]
fn precedence_is_read_from_outcomes_yaml_within_the_safe_orders() {
    use facet_screen::questionnaire::Answers;
    use facet_screen::rules::{RuleFiles, RuleSet};
    use facet_screen::screening::evaluate;

    // A known exclusion and a known deferral together.
    let mut answers = case_answers("leg-dominant");
    answers["pain"]["duration_months"] = json!(1);
    let outcome = |dir: &std::path::Path| {
        let set = RuleSet::load(&RuleFiles::read_dir(dir).unwrap(), None).unwrap();
        let a = Answers::parse(&set.fields, &answers).unwrap();
        let ev = evaluate(&set, &a, chrono::Utc::now());
        let codes: Vec<String> = ev.reasons.iter().map(|r| r.code.to_string()).collect();
        (ev.outcome.as_str().to_string(), codes)
    };
    assert_eq!(
        outcome(&rules_dir()),
        ("unlikely_candidate".into(), vec!["AXIAL_PAIN".into()])
    );

    // A programme that puts deferrals first gets them first.
    let dir = rules_copy();
    let outcomes = dir.path().join("outcomes.yaml");
    let text = std::fs::read_to_string(&outcomes).unwrap();
    std::fs::write(
        &outcomes,
        moved(&text, "unlikely_candidate", "needs_more_information"),
    )
    .unwrap();
    ok(check(dir.path()));
    assert_eq!(
        outcome(dir.path()),
        ("not_yet_eligible".into(), vec!["CHRONIC_PAIN".into()])
    );
    // `rules explain` walks the same order.
    let out = ok(explain(
        &answers,
        &["--rules-dir", dir.path().to_str().unwrap()],
    ));
    assert!(
        out.contains("   1. urgent_evaluation        no red-flag criterion is true\n-> 2. not_yet_eligible         deferrals true: CHRONIC_PAIN"),
        "{out}"
    );

    // `rules diff` names the change.
    let diff = ok(bin()
        .args(["rules", "diff"])
        .arg(rules_dir())
        .arg(dir.path())
        .output()
        .unwrap());
    assert!(
        diff.contains("precedence changed: urgent_evaluation > unlikely_candidate > not_yet_eligible > needs_more_information > needs_diagnostic_block > likely_candidate -> urgent_evaluation > not_yet_eligible > unlikely_candidate > needs_more_information > needs_diagnostic_block > likely_candidate"),
        "{diff}"
    );

    // A programme that asks for every required answer before a deferral:
    // an unknown required answer now holds a known deferral...
    std::fs::write(
        &outcomes,
        moved(&text, "needs_more_information", "not_yet_eligible"),
    )
    .unwrap();
    ok(check(dir.path()));
    let set = RuleSet::load(&RuleFiles::read_dir(dir.path()).unwrap(), None).unwrap();
    let mut deferred = case_answers("acute-pain");
    deferred["pain"]["intensity_nrs"] = Value::Null;
    let a = Answers::parse(&set.fields, &deferred).unwrap();
    let ev = evaluate(&set, &a, chrono::Utc::now());
    assert_eq!(ev.outcome.as_str(), "needs_more_information");
    // ...and, behind an unanswered red flag, the words promise what this
    // order will give once the red flags are answered, not the deferral.
    deferred["red_flags"]["saddle_anesthesia"] = Value::Null;
    let a = Answers::parse(&set.fields, &deferred).unwrap();
    let ev = evaluate(&set, &a, chrono::Utc::now());
    assert_eq!(ev.outcome.as_str(), "needs_more_information");
    assert_eq!(ev.held_findings[0].code, "CHRONIC_PAIN");
    assert!(
        ev.summary
            .contains("the suggestion will be: More information needed"),
        "{}",
        ev.summary
    );
    // Under the contract's order, the same answers promise the deferral.
    let default = RuleSet::load(&RuleFiles::embedded(), None).unwrap();
    let a = Answers::parse(&default.fields, &deferred).unwrap();
    let ev = evaluate(&default, &a, chrono::Utc::now());
    assert!(
        ev.summary
            .contains("the suggestion will be: Not yet eligible"),
        "{}",
        ev.summary
    );

    // Orders that would break a safety property are refused, each named.
    std::fs::write(
        &outcomes,
        moved(&text, "needs_diagnostic_block", "needs_more_information"),
    )
    .unwrap();
    let stderr = fails(check(dir.path()));
    assert!(
        stderr.contains(
            "outcomes.yaml: outcomes: needs_diagnostic_block must come after needs_more_information"
        ),
        "{stderr}"
    );
    std::fs::write(
        &outcomes,
        moved(&text, "urgent_evaluation", "not_yet_eligible"),
    )
    .unwrap();
    let stderr = fails(check(dir.path()));
    assert!(
        stderr.contains("urgent_evaluation must come first: a red flag wins whatever else is true"),
        "{stderr}"
    );
}

#[test]
fn the_words_count_the_blocks_with_the_profiles_numbers() {
    let message = |answers: &Value, profile: &str| -> String {
        let out = ok(explain(
            answers,
            &["--profile", profile, "--format", "json"],
        ));
        let v: Value = serde_json::from_str(&out).unwrap();
        v["evaluation"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "DUAL_BLOCK")
            .map(|r| r["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no DUAL_BLOCK in {v}"))
    };
    let one = case_answers("one-positive-block");
    assert!(
        message(&one, "cms_lcd").starts_with(
            "1 of 2 positive medial branch blocks (each at least 80% relief) documented."
        ),
        "{}",
        message(&one, "cms_lcd")
    );
    let none = case_answers("no-block-yet");
    assert!(
        message(&none, "asra_2020").starts_with(
            "0 of 1 positive medial branch blocks (each at least 50% relief) documented."
        ),
        "{}",
        message(&none, "asra_2020")
    );

    // A count outside a rule with one list is refused at load.
    let dir = rules_copy();
    edit(
        &dir.path().join("rules.yaml"),
        "message: The pain has lasted less than {min_pain_months} months",
        "message: The pain has lasted less than {min_pain_months} months ({matched})",
    );
    let stderr = fails(check(dir.path()));
    assert!(
        stderr.contains("rule CHRONIC_PAIN: message: {matched} and {listed} count the entries of the rule's `some` or `fewer_than`: they need a rule with exactly one"),
        "{stderr}"
    );
}

#[test]
fn rules_explain_shows_each_rules_truth_the_answers_read_and_why() {
    let mut answers = case_answers("ideal-candidate");
    answers["pain"]["duration_months"] = Value::Null;
    let out = ok(explain(&answers, &[]));
    // Every rule, with its truth value and what it read.
    assert!(
        out.contains("  unknown  defer required    CHRONIC_PAIN: pain.duration_months = null\n           undecided: holds the outcome at needs_more_information"),
        "{out}"
    );
    assert!(
        out.contains(
            "  false    urgent required   RF_NEURO_DEFICIT: red_flags.progressive_weakness = false"
        ),
        "{out}"
    );
    // The outcomes walked in precedence order, down to the one given.
    assert!(
        out.contains("   3. not_yet_eligible         no deferral is true\n-> 4. needs_more_information   required criteria undecided: CHRONIC_PAIN; required answers missing: 1"),
        "{out}"
    );
    assert!(out.contains("\nneeds_more_information: More information is needed"));

    // The same as JSON, for tools.
    let v: Value = serde_json::from_str(&ok(explain(&answers, &["--format", "json"]))).unwrap();
    assert_eq!(v["outcome"], "needs_more_information");
    assert_eq!(v["rules"].as_array().unwrap().len(), 32);
    let chronic = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "CHRONIC_PAIN")
        .unwrap();
    assert_eq!(chronic["truth"], "unknown");
    assert_eq!(chronic["undecided"], true);
    assert_eq!(v["steps"].as_array().unwrap().len(), 4);
    assert_eq!(v["evaluation"]["requires_clinician_confirmation"], true);

    // Bad answers: the field and what is wrong, and a failure.
    let stderr = fails(explain(&json!({"pain": {"intensity_nrs": 11}}), &[]));
    assert!(stderr.contains("pain.intensity_nrs"), "{stderr}");
}
