//! `facet-screen rules check` and start-up refusal, through the real binary.

use std::process::Command;

use crate::helpers::{edit, rules_copy, rules_dir};

/// Runs `rules check` on `dir`, which must fail, and returns what it said.
fn check_fails(dir: &std::path::Path) -> String {
    let out = bin().args(["rules", "check"]).arg(dir).output().unwrap();
    assert!(
        !out.status.success(),
        "rules check accepted {}",
        dir.display()
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_facet-screen"))
}

#[test]
fn rules_check_runs_the_worked_cases() {
    let out = bin()
        .args(["rules", "check"])
        .arg(rules_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no problems found"));
    assert!(
        stdout.lines().any(|l| l.ends_with("passed, 0 failed")),
        "{stdout}"
    );
}

#[test]
fn an_unknown_question_id_is_refused_with_its_file_rule_and_a_hint() {
    let dir = rules_copy();
    edit(
        &dir.path().join("rules.yaml"),
        "{ field: pain.duration_months, lt:",
        "{ field: pain.duraton_months, lt:",
    );
    let stderr = check_fails(dir.path());
    assert!(
        stderr.contains("rules.yaml: rule CHRONIC_PAIN: when.field: unknown question id `pain.duraton_months` (did you mean `pain.duration_months`?)"),
        "{stderr}"
    );

    // The service refuses to start on it, with the same message.
    let out = bin()
        .arg("serve")
        .env("FACET_SCREEN_RULES_DIR", dir.path())
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown question id `pain.duraton_months`"),
        "{stderr}"
    );
}

#[test]
fn type_errors_unknown_values_duplicates_and_missing_criteria_are_all_reported() {
    let dir = rules_copy();
    let rules = dir.path().join("rules.yaml");
    // An enum compared to a number.
    edit(
        &rules,
        "{ field: conservative_care.physical_therapy, in: [not_tried, improved] }",
        "{ field: conservative_care.physical_therapy, gte: 3 }",
    );
    // An unknown enum value.
    edit(
        &rules,
        "in: [not_tried, improved] }",
        "in: [not_tried, helped] }",
    );
    // A duplicate code, which also leaves STEROID_INJECTIONS_FAILED with no rule.
    edit(
        &rules,
        "code: STEROID_INJECTIONS_FAILED",
        "code: MEDICATIONS_FAILED",
    );
    // An unknown parameter.
    edit(&rules, "{ param: min_pain_nrs }", "{ param: min_pain_nrz }");
    let stderr = check_fails(dir.path());
    for expected in [
        // The operator as written, not always `lt`.
        "rule PT_FAILED: when.gte: `gte` compares numbers, but `conservative_care.physical_therapy` is a choice question",
        "rule MEDICATIONS_FAILED: when.in: `helped` is not an option of `conservative_care.medications`",
        "rule MEDICATIONS_FAILED: code: duplicate criterion code",
        "criterion STEROID_INJECTIONS_FAILED of the contract has no rule",
        "rule PAIN_SEVERITY: when.lt: unknown parameter `min_pain_nrz` (did you mean `min_pain_nrs`?)",
        "problem(s) found",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let dir = rules_copy();
    edit(
        &dir.path().join("parameters.yaml"),
        "default_profile: cms_lcd",
        "default_profile: [cms_lcd",
    );
    let stderr = check_fails(dir.path());
    assert!(
        stderr.contains("parameters.yaml: syntax:") && stderr.contains("line"),
        "{stderr}"
    );
}

#[test]
fn a_changed_threshold_shows_in_the_worked_cases() {
    let dir = rules_copy();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::copy(
        rules_dir().join("cases/vignettes.json"),
        dir.path().join("cases/vignettes.json"),
    )
    .unwrap();
    edit(
        &dir.path().join("parameters.yaml"),
        "block_relief_percent: 80",
        "block_relief_percent: 85",
    );
    let out = bin()
        .args(["rules", "check", "--profile", "cms_lcd"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL exactly-80"), "{stdout}");
    assert!(stdout.contains("22 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_show_when_the_form_cannot_evaluate_is_refused() {
    for (cond, form) in [
        (
            "{ field: pain.duration_months, gte: { param: min_pain_months } }",
            "a `{param: ...}`",
        ),
        (
            "{ some: { of: diagnostic_blocks, where: { field: kind, eq: medial_branch_block } } }",
            "`some`",
        ),
    ] {
        let dir = rules_copy();
        edit(
            &dir.path().join("questionnaire.yaml"),
            "show_when:\n          not: { field: imaging.modalities, empty: true }",
            &format!("show_when: {cond}"),
        );
        let stderr = check_fails(dir.path());
        assert!(
            stderr.contains("questionnaire.yaml")
                && stderr.contains("item imaging.alternative_diagnosis")
                && stderr.contains(&format!("{form} cannot be used in show_when")),
            "{stderr}"
        );
    }
}

#[test]
fn an_unknown_parameter_in_the_words_is_a_load_error() {
    let dir = rules_copy();
    edit(
        &dir.path().join("rules.yaml"),
        "once the pain has lasted {min_pain_months} months",
        "once the pain has lasted {min_pain_month} months",
    );
    let stderr = check_fails(dir.path());
    assert!(
        stderr.contains(
            "rules.yaml: rule CHRONIC_PAIN: next_step: unknown parameter `{min_pain_month}`"
        ),
        "{stderr}"
    );
}

/// `includes` tests a multiple choice: a new caution reading whether CT was
/// done fires on it, and only then; a wrong option or question is named.
#[test]
fn includes_tests_a_multiple_choice() {
    use facet_screen::questionnaire::Answers;
    use facet_screen::rules::{RuleFiles, RuleSet};
    use facet_screen::screening::evaluate;
    let dir = rules_copy();
    let rules = dir.path().join("rules.yaml");
    edit(
        &rules,
        "  - code: ANTICOAGULATION\n",
        "  - code: CT_DONE\n    title: CT done\n    effect: caution\n    when: { field: imaging.modalities, includes: ct }\n    message: A CT was done.\n    next_step: Check the CT report.\n    sources: [programme]\n  - code: ANTICOAGULATION\n",
    );
    let contract = dir.path().join("contract.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(
        &contract,
        format!("{text}  - {{ code: CT_DONE, effect: caution, required: false, reads: [imaging.modalities] }}\n"),
    )
    .unwrap();
    let out = bin()
        .args(["rules", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let set = RuleSet::load(&RuleFiles::read_dir(dir.path()).unwrap(), None).unwrap();
    let cautions = |modalities: serde_json::Value| {
        let answers = serde_json::json!({"imaging": {"modalities": modalities}});
        let answers = Answers::parse(&set.fields, &answers).unwrap();
        evaluate(&set, &answers, chrono::Utc::now())
            .cautions
            .iter()
            .map(|c| c.code.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        cautions(serde_json::json!(["xray", "ct"]))
            .iter()
            .any(|c| c == "CT_DONE")
    );
    assert!(
        !cautions(serde_json::json!(["xray", "mri"]))
            .iter()
            .any(|c| c == "CT_DONE")
    );
    assert!(
        !cautions(serde_json::json!([]))
            .iter()
            .any(|c| c == "CT_DONE")
    );
    assert!(
        !cautions(serde_json::Value::Null)
            .iter()
            .any(|c| c == "CT_DONE"),
        "unknown: not fired"
    );

    edit(&rules, "includes: ct }", "includes: pet }");
    let stderr = check_fails(dir.path());
    assert!(
        stderr.contains(
            "rule CT_DONE: when.includes: `pet` is not an option of `imaging.modalities`"
        ),
        "{stderr}"
    );
    edit(
        &rules,
        "{ field: imaging.modalities, includes: pet }",
        "{ field: pain.low_back, includes: ct }",
    );
    let stderr = check_fails(dir.path());
    assert!(stderr.contains("rule CT_DONE: when.includes: `includes` tests a multiple choice, but `pain.low_back` is a"), "{stderr}");
}

/// `rules diff OLD NEW`: a draft that raises the relief threshold, adds a
/// caution and a question, rewords a criterion and drops one.
#[test]
fn rules_diff_lists_what_a_draft_changes() {
    let dir = rules_copy();
    let (rules, params, questions) = (
        dir.path().join("rules.yaml"),
        dir.path().join("parameters.yaml"),
        dir.path().join("questionnaire.yaml"),
    );
    // The threshold under cms_lcd only (its first `block_relief_percent: 80`).
    edit(
        &params,
        "      block_relief_percent: 80\n",
        "      block_relief_percent: 90\n",
    );
    edit(
        &rules,
        "  - code: ANTICOAGULATION\n",
        "  - code: SMOKER\n    title: smokes\n    effect: caution\n    when: { field: readiness.smoker, is: true }\n    message: Smoking slows healing.\n    next_step: Offer help to stop smoking.\n    sources: [programme]\n  - code: ANTICOAGULATION\n",
    );
    edit(
        &questions,
        "      - id: readiness.active_infection\n",
        "      - id: readiness.smoker\n        question: Does the patient smoke?\n        type: boolean\n      - id: readiness.active_infection\n",
    );
    edit(
        &rules,
        "    message: Smoking slows healing.",
        "    message: Smoking slows healing and raises anaesthetic risk.",
    );
    edit(
        &rules,
        "Arrange a diagnostic medial branch block (first or confirmatory).",
        "Arrange the next diagnostic medial branch block.",
    );
    let out = bin()
        .args(["rules", "diff"])
        .arg(rules_dir())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "criteria added: SMOKER (caution)",
        "criterion changed: DUAL_BLOCK (next_step)",
        "parameter changed: cms_lcd.block_relief_percent: 80 -> 90",
        "questions added: readiness.smoker",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    assert!(!text.contains("asra_2020"), "{text}");
    let json = bin()
        .args(["rules", "diff", "--format", "json"])
        .arg(dir.path())
        .arg(rules_dir())
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        d["criteria_removed"],
        serde_json::json!(["SMOKER (caution)"])
    );
    assert_eq!(
        d["questions_removed"],
        serde_json::json!(["readiness.smoker"])
    );
    assert_eq!(d["parameters_changed"][0]["from"], 90.0);
    // The same set: nothing.
    let same = bin()
        .args(["rules", "diff"])
        .arg(rules_dir())
        .arg(rules_dir())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(same.stdout).unwrap(),
        "no change to criteria, parameters, questions or precedence\n"
    );
}
