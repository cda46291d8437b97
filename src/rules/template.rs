//! The placeholders in the rule set's words: which each text may use,
//! checked when the rule set loads, and filled in from the profile's
//! parameters (at load) and from the answers (at each evaluation).

use std::collections::BTreeMap;

use super::FILES;
use crate::problem_list::{Problem, Problems};

/// The placeholders each kind of text may use.
pub(super) const OUTCOME_PLACEHOLDERS: &[&str] = &["reasons"];
pub(super) const NOTE_PLACEHOLDERS: &[&str] = &[
    "reasons",
    "missing_count",
    "unknown_count",
    "held",
    "held_outcome",
    "open",
];

/// The `{name}` placeholders of a text, with a problem for each unknown one.
pub(super) fn check_placeholders(at: &str, text: &str, allowed: &[&str], problems: &mut Problems) {
    for name in text
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(n, _)| n)
    {
        if !allowed.contains(&name) {
            problems.push(Problem::at(
                FILES[3],
                at.to_string(),
                format!(
                    "unknown placeholder `{{{name}}}` (this text may use: {})",
                    allowed
                        .iter()
                        .map(|a| format!("{{{a}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
}

/// The placeholders a rule's words may use besides its profile's
/// parameters, filled from the answers when it fires: `{matched}` and
/// `{listed}`, the entries of its `some` or `fewer_than` list that match its
/// `where`, and all the entries listed.
pub const COUNTS: [&str; 2] = ["matched", "listed"];

/// `text` with each `{name}` replaced by the value of parameter `name` in
/// the profile (a whole number without decimals), and the counts left for
/// the evaluation; the first unknown name otherwise.
pub fn fill_params(text: &str, params: &BTreeMap<String, f64>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(after.to_string());
        };
        let name = &after[..close];
        if COUNTS.contains(&name) {
            out.push_str(&rest[open..open + close + 2]);
        } else {
            let value = params.get(name).ok_or_else(|| name.to_string())?;
            if value.fract() == 0.0 && value.abs() < 1e15 {
                out.push_str(&format!("{}", *value as i64));
            } else {
                out.push_str(&value.to_string());
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `text` with the counts filled in (see `COUNTS`).
pub fn fill_counts(text: &str, (matched, listed): (usize, usize)) -> String {
    text.replace("{matched}", &matched.to_string())
        .replace("{listed}", &listed.to_string())
}
