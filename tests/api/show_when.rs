//! The intake form hides questions with its own evaluator of `show_when`
//! (`src/http/ui/conditions.js`). It must agree with the server's over every
//! question that has one, for every combination of the answers it reads.

use facet_screen::questionnaire::{Answers, Kind};
use facet_screen::rules::logic::Truth;
use facet_screen::rules::{RuleFiles, RuleSet};
use serde_json::{Map, Value, json};

use crate::helpers::repo;

/// Values to try for a question: unknown first, then its typical answers.
fn values(kind: &Kind) -> Vec<Option<Value>> {
    let mut out = vec![None];
    match kind {
        Kind::Bool => out.extend([Some(json!(true)), Some(json!(false))]),
        Kind::Choice(options) => out.extend(options.iter().map(|o| Some(json!(o)))),
        Kind::Multi(options) => {
            out.push(Some(json!([])));
            out.extend(options.iter().map(|o| Some(json!([o]))));
            out.push(Some(json!(options)));
        }
        Kind::Int { min, max } => {
            let mut n: Vec<i64> = vec![*min, *max, (min + max) / 2];
            n.extend((0..=12).filter(|x| x >= min && x <= max));
            out.extend(n.into_iter().map(|x| Some(json!(x))));
        }
        Kind::Num { min, max } => {
            out.extend([*min, *max, (min + max) / 2.0, 2.5, 3.0].map(|x| Some(json!(x))))
        }
        Kind::Text { .. } => out.push(Some(json!("x"))),
        Kind::List { .. } => out.push(Some(json!([]))),
    }
    out
}

#[test]
fn the_page_and_the_server_agree_on_every_show_when() {
    let rules = RuleSet::load(&RuleFiles::embedded(), None).unwrap();
    let served = serde_json::to_value(&rules.questionnaire).unwrap();
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (i, field) in rules.fields.iter() {
        let Some(cond) = &rules.per_field[i].shown_when else {
            continue;
        };
        // The condition as the page receives it.
        let item = served["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["items"].as_array().unwrap())
            .find(|it| it["id"] == field.id.as_str())
            .unwrap();
        let mut reads = Vec::new();
        cond.reads(&mut reads);
        // Every combination of the answers the condition reads.
        let mut combos: Vec<Vec<(usize, Option<Value>)>> = vec![vec![]];
        for &r in &reads {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values(&rules.fields.get(r).kind).into_iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((r, v));
                        c
                    })
                })
                .collect();
        }
        for combo in combos {
            let mut nested = Map::new();
            let mut flat = Map::new();
            for (r, v) in &combo {
                let Some(v) = v else { continue };
                let id = &rules.fields.get(*r).id;
                flat.insert(id.clone(), v.clone());
                let (group, name) = id.split_once('.').unwrap();
                nested
                    .entry(group)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .unwrap()
                    .insert(name.into(), v.clone());
            }
            let answers = Answers::parse(&rules.fields, &Value::Object(nested)).unwrap();
            expected.push((field.id.clone(), combo.clone(), cond.eval(&answers)));
            cases.push(json!({"cond": item["show_when"], "answers": flat}));
        }
    }
    assert!(cases.len() > 50, "{} cases", cases.len());
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&cases).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(repo().join("tests/ui/conditions_check.mjs"))
        .arg(file.path())
        .output()
        .expect("node is needed for this test (Debian: apt-get install nodejs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page.len(), expected.len());
    for ((id, combo, server), page) in expected.iter().zip(&page) {
        let server = match server {
            Truth::True => json!(true),
            Truth::False => json!(false),
            Truth::Unknown => Value::Null,
        };
        assert_eq!(*page, server, "show_when of {id} with {combo:?}");
    }
}
