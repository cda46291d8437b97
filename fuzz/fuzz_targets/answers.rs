//! Answer validation: any request body is either parsed and evaluated or
//! refused with field errors; it never panics.
#![no_main]

use std::sync::LazyLock;

use facet_screen::http::extract::parse_strict;
use facet_screen::questionnaire::Answers;
use facet_screen::rules::{RuleFiles, RuleSet};
use facet_screen::screening::evaluate;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::load(&RuleFiles::embedded(), None).expect("the built-in rules load"));

fuzz_target!(|data: &[u8]| {
    let Ok(json) = parse_strict(data) else { return };
    if let Ok(answers) = Answers::parse(&RULES.fields, &json) {
        let evaluation = evaluate(&RULES, &answers, chrono::DateTime::UNIX_EPOCH);
        assert!(evaluation.requires_clinician_confirmation);
    }
});
