//! Micro-benchmarks of the rules engine on its own: validating one answer set
//! against the questionnaire, and evaluating the whole rule set on it. A
//! regression in either shows here without HTTP in the way.
//!
//!     cargo bench --bench rules
// A test that panics has failed, which is what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use facet_screen::questionnaire::Answers;
use facet_screen::rules::{RuleFiles, RuleSet};
use facet_screen::screening::evaluate;

fn case(id: &str) -> serde_json::Value {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../rules/v1/cases/vignettes.json")).unwrap();
    cases.into_iter().find(|c| c["id"] == id).unwrap()["answers"].clone()
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::load(&RuleFiles::embedded(), None).unwrap();
    let now = chrono::Utc::now();
    for id in ["ideal-candidate", "nothing-answered"] {
        let json = case(id);
        let answers = Answers::parse(&rules.fields, &json).unwrap();
        c.bench_function(&format!("validate/{id}"), |b| {
            b.iter(|| Answers::parse(&rules.fields, std::hint::black_box(&json)).unwrap())
        });
        c.bench_function(&format!("evaluate/{id}"), |b| {
            b.iter(|| evaluate(&rules, std::hint::black_box(&answers), now))
        });
    }
    c.bench_function("load_rule_set", |b| {
        b.iter(|| RuleSet::load(&RuleFiles::embedded(), None).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
