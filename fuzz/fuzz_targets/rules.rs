//! Rule-file parsing: any text in rules.yaml (with the other files as
//! shipped) is either loaded or refused with problems; it never panics.
#![no_main]

use facet_screen::rules::{RuleFiles, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let files = RuleFiles::from_texts(
        "fuzz",
        [
            include_str!("../../rules/v1/questionnaire.yaml").into(),
            text.into(),
            include_str!("../../rules/v1/parameters.yaml").into(),
            include_str!("../../rules/v1/outcomes.yaml").into(),
            include_str!("../../rules/v1/contract.yaml").into(),
        ],
    );
    let _ = RuleSet::load(&files, None);
});
