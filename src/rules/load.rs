//! Loading a rule set: its files parsed, checked against each other and
//! against the contract, and compiled for one profile.

use std::path::Path;

use super::compile::Scope;
use super::contract::ContractFile;
use super::outcome::check_outcomes;
use super::profile::check_parameters;
use super::rule::compile_rules;
use super::set::FieldRules;
use super::text::Text;
use super::yaml::{OutcomesFile, ParametersFile, RulesFile, parse};
use super::{FILES, OutcomeText, RuleFiles, RuleSet, RulesetRef};
use crate::problem_list::{Problem, Problems};
use crate::questionnaire::Questionnaire;

impl RuleSet {
    /// Reads, checks and compiles `files` for `profile` (the file's default
    /// when `None`), reporting every problem found.
    pub fn load(files: &RuleFiles, profile: Option<&str>) -> Result<RuleSet, Problems> {
        let [q_text, r_text, p_text, o_text, c_text] = &files.texts;
        let mut problems = Problems::default();
        let q = Questionnaire::parse(FILES[0], q_text);
        let r: Result<RulesFile, _> = parse(FILES[1], r_text);
        let p: Result<ParametersFile, _> = parse(FILES[2], p_text);
        let o: Result<OutcomesFile, _> = parse(FILES[3], o_text);
        let c: Result<ContractFile, _> = parse(FILES[4], c_text);
        let (q, r, p, o, c) = match (q, r, p, o, c) {
            (Ok(q), Ok(r), Ok(p), Ok(o), Ok(c)) => (q, r, p, o, c),
            (q, r, p, o, c) => {
                for e in [q.err(), r.err(), p.err(), o.err(), c.err()]
                    .into_iter()
                    .flatten()
                {
                    problems.extend(e);
                }
                return Err(problems);
            }
        };
        let (mut questionnaire, fields) = q;

        let profile = profile.unwrap_or(&p.default_profile).to_string();
        let params = check_parameters(&p, &profile, &mut problems);
        check_outcomes(&o, &mut problems);
        if r.questionnaire_version != questionnaire.version {
            problems.push(Problem::in_file(
                FILES[1],
                format!(
                    "questionnaire_version `{}` does not match questionnaire.yaml's version `{}`",
                    r.questionnaire_version, questionnaire.version
                ),
            ));
        }

        let scope = Scope {
            fields: &fields,
            params: &params,
        };
        let rules = compile_rules(&r, &scope, &mut problems);
        // Against what was written, so that a rule with an error in its
        // condition is not also reported as missing.
        c.check(&questionnaire.version, &fields, &r.rules, &mut problems);
        for rule in &rules {
            let ids: Vec<&str> = rule
                .reads
                .iter()
                .map(|&i| fields.get(i).id.as_str())
                .collect();
            c.check_reads(&rule.code, &ids, &mut problems);
        }

        let mut per_field: Vec<FieldRules> =
            fields.iter().map(|(_, f)| FieldRules::new(f)).collect();
        for item in questionnaire.sections.iter().flat_map(|s| &s.items) {
            let (Some(cond), Some(i)) = (&item.show_when, fields.find(&item.id)) else {
                continue;
            };
            if let Some(form) = cond.page_cannot_evaluate() {
                problems.push(Problem::at_path(
                    FILES[0],
                    &format!("item {}", item.id),
                    "show_when",
                    format!(
                        "{form} cannot be used in show_when: the intake form evaluates show_when itself and reads only all, any, not, unknown and tests against constants"
                    ),
                ));
            }
            let mut found = Vec::new();
            per_field[i].shown_when = scope.compile(cond, "show_when", &mut found);
            for (path, msg) in found {
                problems.push(Problem::at_path(
                    FILES[0],
                    &format!("item {}", item.id),
                    &path,
                    msg,
                ));
            }
        }

        for rule in &rules {
            for &i in &rule.reads {
                let field = &mut per_field[i];
                field.required |= rule.required;
                field.read_by.push(rule.code.clone());
            }
        }
        questionnaire.mark_required(|id| fields.find(id).is_some_and(|i| per_field[i].required));

        let mut profiles: Vec<String> = p.profiles.keys().cloned().collect();
        profiles.sort();
        let digest = files.digest();
        let set = RuleSet {
            questionnaire_version: Text::shared(&questionnaire.version),
            reference: RulesetRef {
                version: Text::shared(&r.version),
                digest: Text::shared(&digest),
                profile: Text::shared(&profile),
            },
            questionnaire,
            fields,
            per_field,
            rules,
            sources: r.sources,
            outcomes: o.outcomes.into_iter().map(OutcomeText::new).collect(),
            notes: o.notes,
            contract: c,
            disclaimer: Text::shared(o.disclaimer.trim()),
            version: r.version,
            digest,
            profile,
            profiles,
        };
        problems.into_result(set)
    }

    /// The rule set `serve` uses with these settings: the one in `dir`, or
    /// the built-in one; every problem with it otherwise, naming where.
    pub fn configured(dir: Option<&Path>, profile: Option<&str>) -> Result<RuleSet, String> {
        let origin = dir.map_or("built-in rules/v1".to_string(), |d| d.display().to_string());
        dir.map_or_else(|| Ok(RuleFiles::embedded()), RuleFiles::read_dir)
            .and_then(|f| RuleSet::load(&f, profile))
            .map_err(|problems| format!("the rule set in {origin} is invalid:\n{problems}"))
    }
}
