//! The basis an evaluation lists: each finding with the answers its rule
//! read, and the answers still missing.

use serde_json::Value;

use super::{AnswerRead, Finding, Missing, Verdict};
use crate::questionnaire::Answers;
use crate::rules::logic::Truth;
use crate::rules::text::Text;
use crate::rules::{Rule, RuleSet, fill_counts};

/// The finding of `rule`: its words shared with the rule set, unless the
/// rule fills counts in.
pub(in crate::screening) fn finding(rules: &RuleSet, rule: &Rule, answers: &Answers) -> Finding {
    let counts = |text: &Text| match rule.counts {
        false => text.clone(),
        true => fill_counts(text, rule.cond.matched(answers).unwrap_or((0, 0))).into(),
    };
    Finding {
        code: rule.code.clone(),
        title: counts(&rule.title),
        effect: rule.effect,
        message: counts(&rule.message),
        answers: rule
            .reads
            .iter()
            .map(|&i| {
                let field = &rules.per_field[i];
                AnswerRead {
                    id: field.id.clone(),
                    question: field.question.clone(),
                    value: answers
                        .get(i)
                        .map_or(Value::Null, |v| v.to_json(&rules.fields.get(i).kind)),
                }
            })
            .collect(),
        sources: rule.sources.clone(),
        next_step: rule.next_step.as_ref().map(counts),
    }
}

/// Unanswered questions that some rule reads and that are asked (their
/// `show_when` is not false), and the fields of listed entries that a rule
/// cannot decide without; required first, then in questionnaire order.
pub(in crate::screening) fn missing(
    rules: &RuleSet,
    answers: &Answers,
    verdicts: &[Verdict],
) -> Vec<Missing> {
    let mut out = Vec::new();
    for (i, field) in rules.fields.iter() {
        let rules_of = &rules.per_field[i];
        if rules_of.read_by.is_empty() {
            continue;
        }
        // Unanswered, and asked (its `show_when` is not false).
        let missing = answers.get(i).is_none()
            && rules_of
                .shown_when
                .as_ref()
                .is_none_or(|c| c.eval(answers) != Truth::False);
        if missing {
            out.push(Missing {
                id: rules_of.id.clone(),
                question: rules_of.question.clone(),
                required: rules_of.required,
                needed_by: rules_of.read_by.clone(),
            });
        }
        // Entry fields, only for lists where a verdict has a gap: in entry
        // order then field order, each once, required when a required rule
        // cannot decide the entry without it.
        let Some(sub) = rules.entry_fields(i) else {
            continue;
        };
        if !verdicts.iter().any(|v| v.gaps.iter().any(|g| g.list == i)) {
            continue;
        }
        // By (entry, field of the entry).
        let mut entries: Vec<((usize, usize), Missing)> = Vec::new();
        for v in verdicts {
            for gap in v.gaps.iter().filter(|g| g.list == i) {
                for &j in &gap.fields {
                    let at = (gap.entry, j);
                    match entries.iter_mut().find(|(k, _)| *k == at) {
                        Some((_, m)) => {
                            m.required |= v.rule.required;
                            m.needed_by.push(v.rule.code.clone());
                        }
                        None => entries.push((
                            at,
                            Missing {
                                id: format!("{}[{}].{}", field.id, gap.entry, sub[j].id).into(),
                                question: sub[j].question.as_str().into(),
                                required: v.rule.required,
                                needed_by: vec![v.rule.code.clone()],
                            },
                        )),
                    }
                }
            }
        }
        entries.sort_by_key(|(at, _)| *at);
        out.extend(entries.into_iter().map(|(_, m)| m));
    }
    out.sort_by_key(|m| !m.required);
    out
}
