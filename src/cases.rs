//! Worked cases kept beside the rules (`cases/*.json`): answers and the
//! expected outcome, criteria, cautions and missing answers. `rules check`
//! runs them so that a clinical author sees the effect of a change without
//! writing Rust.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::questionnaire::Answers;
use crate::rules::{Outcome, RuleFiles, RuleSet};
use crate::screening::evaluate;

#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// The profile the case is written for; the rule set's default if absent.
    #[serde(default)]
    pub profile: Option<String>,
    pub answers: Value,
    pub expected: Expected,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub outcome: Outcome,
    /// Criterion codes that must appear among the reasons.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// The cautions, exactly.
    #[serde(default)]
    pub cautions: Option<Vec<String>>,
    /// The required missing answers, exactly.
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    /// The exclusions and deferrals held behind an unanswered red flag, exactly.
    #[serde(default)]
    pub held: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct CaseResult {
    pub id: String,
    pub file: String,
    pub failures: Vec<String>,
}

/// Reads every `*.json` file in `dir` (sorted), each an array of cases.
pub fn read_cases(dir: &Path) -> Result<Vec<(String, Case)>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
        let cases: Vec<Case> = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        out.extend(cases.into_iter().map(|c| (name.clone(), c)));
    }
    Ok(out)
}

/// Loads the rule set in `dir` for `profile` (its default when `None`) as
/// `rules check` checks it: every profile loads, and every worked case in
/// `dir/cases` passes. Otherwise, what is wrong.
pub fn load_checked(dir: &Path, profile: Option<&str>) -> Result<RuleSet, String> {
    let files = RuleFiles::read_dir(dir).map_err(|p| p.to_string())?;
    let rules = RuleSet::load(&files, profile).map_err(|p| p.to_string())?;
    for p in &rules.profiles {
        RuleSet::load(&files, Some(p)).map_err(|problems| format!("profile {p}: {problems}"))?;
    }
    let cases_dir = dir.join("cases");
    if cases_dir.is_dir() {
        let cases = read_cases(&cases_dir)?;
        let failed: Vec<String> = run(&files, &cases, chrono::Utc::now())
            .into_iter()
            .filter(|r| !r.failures.is_empty())
            .map(|r| {
                format!(
                    "worked case {} ({}): {}",
                    r.id,
                    r.file,
                    r.failures.join("; ")
                )
            })
            .collect();
        if !failed.is_empty() {
            return Err(format!(
                "{} worked case(s) failed: {}",
                failed.len(),
                failed.join(" | ")
            ));
        }
    }
    Ok(rules)
}

/// Runs the cases; each under its own profile.
pub fn run(
    files: &RuleFiles,
    cases: &[(String, Case)],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<CaseResult> {
    let mut loaded: Vec<(Option<String>, Result<RuleSet, String>)> = Vec::new();
    cases
        .iter()
        .map(|(file, case)| {
            let rules = match loaded.iter().find(|(p, _)| *p == case.profile) {
                Some((_, r)) => r.clone(),
                None => {
                    let r =
                        RuleSet::load(files, case.profile.as_deref()).map_err(|e| e.to_string());
                    loaded.push((case.profile.clone(), r.clone()));
                    r
                }
            };
            let failures = match rules {
                Err(e) => vec![format!("rule set does not load: {e}")],
                Ok(rules) => check(&rules, case, now),
            };
            CaseResult {
                id: case.id.clone(),
                file: file.clone(),
                failures,
            }
        })
        .collect()
}

fn check(rules: &RuleSet, case: &Case, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let answers = match Answers::parse(&rules.fields, &case.answers) {
        Ok(a) => a,
        Err(errors) => {
            return errors
                .into_iter()
                .map(|e| format!("invalid answer {}: {}", e.field, e.message))
                .collect();
        }
    };
    compare(&case.expected, &evaluate(rules, &answers, now))
}

/// How an evaluation differs from what a case expects (empty: it passes).
pub fn compare(want: &Expected, ev: &crate::screening::Evaluation) -> Vec<String> {
    let mut failures = Vec::new();
    if ev.outcome != want.outcome {
        failures.push(format!(
            "outcome: expected {}, got {}",
            want.outcome.as_str(),
            ev.outcome.as_str()
        ));
    }
    let reasons: BTreeSet<&str> = ev.reasons.iter().map(|f| f.code.as_str()).collect();
    for code in &want.criteria {
        if !reasons.contains(code.as_str()) {
            failures.push(format!("reasons: expected {code} among {reasons:?}"));
        }
    }
    if let Some(cautions) = &want.cautions {
        let got: BTreeSet<&str> = ev.cautions.iter().map(|f| f.code.as_str()).collect();
        let want: BTreeSet<&str> = cautions.iter().map(String::as_str).collect();
        if got != want {
            failures.push(format!("cautions: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(held) = &want.held {
        let got: Vec<&str> = ev.held_findings.iter().map(|f| f.code.as_str()).collect();
        if got != *held {
            failures.push(format!("held findings: expected {held:?}, got {got:?}"));
        }
    }
    if let Some(missing) = &want.missing {
        let got: BTreeSet<&str> = ev
            .missing
            .iter()
            .filter(|m| m.required)
            .map(|m| m.id.as_str())
            .collect();
        let want: BTreeSet<&str> = missing.iter().map(String::as_str).collect();
        if got != want {
            failures.push(format!(
                "missing (required): expected {want:?}, got {got:?}"
            ));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_pass_their_worked_cases() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/v1/cases");
        let cases = read_cases(&dir).unwrap();
        assert!(cases.len() >= 21);
        let results = run(&RuleFiles::embedded(), &cases, chrono::Utc::now());
        let failed: Vec<_> = results.iter().filter(|r| !r.failures.is_empty()).collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}
