//! The declarative rule set: the questionnaire, the rules, the parameters of
//! each profile and the outcome texts, read from files, checked against each
//! other and against the contract, and compiled. Knows nothing of HTTP or
//! storage.

pub mod compile;
pub mod contract;
pub mod diff;
pub mod doc;
pub mod live;
pub mod logic;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::condition::Condition;
use crate::problem_list::{Problem, Problems};
use crate::questionnaire::{Fields, Kind, Questionnaire};
use compile::{Cond, Scope};
use contract::ContractFile;
use text::Text;

/// The files of a rule set, in digest order.
pub const FILES: [&str; 5] = [
    "questionnaire.yaml",
    "rules.yaml",
    "parameters.yaml",
    "outcomes.yaml",
    "contract.yaml",
];

/// What a rule does when its condition is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// A red flag: urgent evaluation, whatever else is true.
    Urgent,
    /// The pain is probably not from the facet joints, or the procedure does not fit.
    Exclude,
    /// Not met yet; can change with time or treatment.
    Defer,
    /// Something must be done or answered before a suggestion (e.g. imaging).
    Require,
    /// Not enough positive diagnostic blocks yet.
    Block,
    /// Listed with every outcome; never changes it.
    Caution,
    /// A supporting finding; listed, never decisive.
    Supports,
}

/// One of the six outcome codes of the contract, in the contract's default
/// precedence (a rule set's own order is `RuleSet::precedence`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    Serialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    UrgentEvaluation,
    UnlikelyCandidate,
    NotYetEligible,
    NeedsMoreInformation,
    NeedsDiagnosticBlock,
    LikelyCandidate,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::UrgentEvaluation,
        Outcome::UnlikelyCandidate,
        Outcome::NotYetEligible,
        Outcome::NeedsMoreInformation,
        Outcome::NeedsDiagnosticBlock,
        Outcome::LikelyCandidate,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// 0 for the highest (urgent), 5 for the lowest (likely candidate): the
    /// order of the review queue by priority. Fixed, because it is stored with
    /// each screening; the evaluation follows the rule set's own precedence.
    pub fn precedence(self) -> i64 {
        Outcome::ALL.iter().position(|o| *o == self).unwrap_or(5) as i64
    }
}

/// Which rules produced an evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RulesetRef {
    #[schema(value_type = String, example = "1.0.0")]
    pub version: Text,
    /// SHA-256 of the rule set's files.
    #[schema(value_type = String, example = "sha256:4f1c…")]
    pub digest: Text,
    #[schema(value_type = String, example = "cms_lcd")]
    pub profile: Text,
}

/// A published source a rule cites.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    version: String,
    questionnaire_version: String,
    sources: BTreeMap<String, Source>,
    rules: Vec<RuleDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    code: String,
    title: String,
    effect: Effect,
    #[serde(default)]
    required: bool,
    when: Condition,
    message: String,
    #[serde(default)]
    next_step: Option<String>,
    sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParametersFile {
    default_profile: String,
    parameters: BTreeMap<String, ParameterDoc>,
    profiles: BTreeMap<String, ProfileDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documentation for authors, read but not used
pub(crate) struct ParameterDoc {
    unit: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct ProfileDoc {
    title: String,
    values: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutcomesFile {
    disclaimer: String,
    outcomes: Vec<OutcomeText>,
    notes: Notes,
}

/// What an outcome says to a nurse.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeText {
    pub code: Outcome,
    pub label: String,
    pub summary: String,
    /// The outcome's own first step; `needs_more_information` has none, its
    /// steps come from what is missing and from its reasons.
    #[serde(default)]
    pub next_step: Option<String>,
}

/// A sentence added to the summary, and a step to the next steps, when the
/// evaluation's lists call for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub summary: String,
    #[serde(default)]
    pub next_step: Option<String>,
}

/// The conditional words of every evaluation. Each note is used only when
/// the list it speaks of is not empty, so the words follow the lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    /// A red flag is unanswered (the outcome is `needs_more_information`).
    pub red_flags_unanswered: Note,
    /// `needs_more_information` because of a `require` criterion that fired.
    pub requirements: Note,
    /// Required answers are listed as missing.
    pub missing_required: Note,
    /// Exclusions or deferrals already known behind an unanswered red flag.
    pub held: Note,
    /// `likely_candidate` or `needs_diagnostic_block` while answers that no
    /// criterion requires are still unknown.
    pub unknown_optional: Note,
    /// `likely_candidate` or `needs_diagnostic_block` while a criterion that
    /// is not required, but would change the outcome, is unknown.
    pub open_criteria: Note,
}

/// The placeholders each kind of text may use.
const OUTCOME_PLACEHOLDERS: &[&str] = &["reasons"];
const NOTE_PLACEHOLDERS: &[&str] = &[
    "reasons",
    "missing_count",
    "unknown_count",
    "held",
    "held_outcome",
    "open",
];

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub code: String,
    pub title: String,
    pub effect: Effect,
    pub required: bool,
    pub message: String,
    pub next_step: Option<String>,
    pub sources: Vec<String>,
    pub cond: Cond,
    /// Top-level fields the condition reads.
    pub reads: Vec<usize>,
    /// Its words use `{matched}` or `{listed}`.
    pub counts: bool,
}

/// The text of a rule set's files, from a directory or built into the binary.
#[derive(Debug, Clone)]
pub struct RuleFiles {
    /// Where they came from, for messages.
    pub origin: String,
    texts: [String; 5],
}

impl RuleFiles {
    /// The rule set in `rules/v1`, as built into the binary.
    pub fn embedded() -> Self {
        RuleFiles {
            origin: "built-in rules/v1".into(),
            texts: [
                include_str!("../../rules/v1/questionnaire.yaml").into(),
                include_str!("../../rules/v1/rules.yaml").into(),
                include_str!("../../rules/v1/parameters.yaml").into(),
                include_str!("../../rules/v1/outcomes.yaml").into(),
                include_str!("../../rules/v1/contract.yaml").into(),
            ],
        }
    }

    /// A rule set from the text of its files, in `FILES` order.
    pub fn from_texts(origin: &str, texts: [String; 5]) -> Self {
        RuleFiles {
            origin: origin.into(),
            texts,
        }
    }

    pub fn read_dir(dir: &Path) -> Result<Self, Problems> {
        let mut problems = Problems::default();
        let texts = FILES.map(|name| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                problems.push(Problem::in_file(
                    &dir.join(name).display().to_string(),
                    format!("cannot read: {e}"),
                ));
                String::new()
            })
        });
        problems.into_result(RuleFiles {
            origin: dir.display().to_string(),
            texts,
        })
    }

    /// `sha256:` and the hex digest of every file, name and length framed.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (name, text) in FILES.iter().zip(&self.texts) {
            h.update(name.as_bytes());
            h.update([0]);
            h.update((text.len() as u64).to_be_bytes());
            h.update(text.as_bytes());
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

/// A loaded, checked and compiled rule set for one profile.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The questionnaire as served (with `required` filled in).
    pub questionnaire: Questionnaire,
    pub fields: Fields,
    /// When each field is asked (`show_when`), compiled; `None`: always.
    pub visibility: Vec<Option<Cond>>,
    pub rules: Vec<Rule>,
    pub sources: BTreeMap<String, Source>,
    /// The outcome texts in precedence order, highest first, as written in
    /// outcomes.yaml: the evaluation takes the first that applies.
    pub outcomes: Vec<OutcomeText>,
    pub notes: Notes,
    pub contract: ContractFile,
    pub disclaimer: String,
    pub version: String,
    pub digest: String,
    pub profile: String,
    pub profiles: Vec<String>,
    /// Per field: read by a required rule.
    pub required: Vec<bool>,
    /// Per field: the codes of the rules that read it.
    pub read_by: Vec<Vec<String>>,
    /// The texts above that evaluations carry, shared and escaped once.
    pub words: text::Words,
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, Problems> {
    serde_norway::from_str(text).map_err(|e| Problems::one(Problem::syntax(file, &e)))
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

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

        let mut visibility = vec![None; fields.len()];
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
            visibility[i] = scope.compile(cond, "show_when", &mut found);
            for (path, msg) in found {
                problems.push(Problem::at_path(
                    FILES[0],
                    &format!("item {}", item.id),
                    &path,
                    msg,
                ));
            }
        }

        let mut required = vec![false; fields.len()];
        let mut read_by = vec![Vec::new(); fields.len()];
        for rule in &rules {
            for &i in &rule.reads {
                required[i] |= rule.required;
                read_by[i].push(rule.code.clone());
            }
        }
        questionnaire.mark_required(|id| fields.find(id).is_some_and(|i| required[i]));

        let mut profiles: Vec<String> = p.profiles.keys().cloned().collect();
        profiles.sort();
        let mut set = RuleSet {
            questionnaire,
            fields,
            visibility,
            rules,
            sources: r.sources,
            outcomes: o.outcomes,
            notes: o.notes,
            contract: c,
            disclaimer: o.disclaimer.trim().to_string(),
            version: r.version,
            digest: files.digest(),
            profile,
            profiles,
            required,
            read_by,
            // Made from the rest, just below.
            words: text::Words::default(),
        };
        set.words = text::Words::new(&set);
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

    /// Which rules these are: version, content digest and profile.
    pub fn reference(&self) -> RulesetRef {
        self.words.reference.clone()
    }

    /// The outcomes, highest precedence first (outcomes.yaml's order).
    pub fn precedence(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.outcomes.iter().map(|t| t.code)
    }

    /// Where `outcome` stands in this rule set's precedence: 0 is highest.
    pub fn rank(&self, outcome: Outcome) -> usize {
        self.precedence()
            .position(|o| o == outcome)
            .expect("load checks that every outcome is listed")
    }

    pub fn outcome_text(&self, outcome: Outcome) -> &OutcomeText {
        &self.outcomes[self.outcome_index(outcome)]
    }

    /// The outcome's label, shared.
    pub fn outcome_label(&self, outcome: Outcome) -> text::Text {
        self.words.labels[self.outcome_index(outcome)].clone()
    }

    /// The outcome's summary as written, shared: for an evaluation whose
    /// summary says nothing more (no placeholder filled, no note added).
    pub fn outcome_summary(&self, outcome: Outcome) -> Text {
        self.words.summaries[self.outcome_index(outcome)].clone()
    }

    fn outcome_index(&self, outcome: Outcome) -> usize {
        self.outcomes
            .iter()
            .position(|t| t.code == outcome)
            .expect("load checks that every outcome has a text")
    }

    /// The list's entry fields, when field `i` is a list.
    pub fn entry_fields(&self, i: usize) -> Option<&[crate::questionnaire::Field]> {
        match &self.fields.get(i).kind {
            Kind::List { fields, .. } => Some(fields),
            _ => None,
        }
    }
}

fn check_parameters(
    p: &ParametersFile,
    profile: &str,
    problems: &mut Problems,
) -> BTreeMap<String, f64> {
    let file = FILES[2];
    if !p.profiles.contains_key(&p.default_profile) {
        problems.push(Problem::in_file(
            file,
            format!("default_profile `{}` is not a profile", p.default_profile),
        ));
    }
    for name in COUNTS {
        if p.parameters.contains_key(name) {
            problems.push(Problem::at(
                file,
                format!("parameter {name}"),
                format!(
                    "`{name}` is a count filled from the answers: name the parameter otherwise"
                ),
            ));
        }
    }
    for (name, prof) in &p.profiles {
        for key in p.parameters.keys() {
            if !prof.values.contains_key(key) {
                problems.push(Problem::at(
                    file,
                    format!("profile {name}"),
                    format!("does not set parameter `{key}`"),
                ));
            }
        }
        for key in prof.values.keys() {
            if !p.parameters.contains_key(key) {
                problems.push(Problem::at(
                    file,
                    format!("profile {name}"),
                    format!("sets `{key}`, which is not declared under parameters"),
                ));
            }
        }
    }
    match p.profiles.get(profile) {
        Some(prof) => prof.values.clone(),
        None => {
            let names: Vec<&str> = p.profiles.keys().map(String::as_str).collect();
            problems.push(Problem::in_file(
                file,
                format!("no profile `{profile}` (profiles: {})", names.join(", ")),
            ));
            // Check the rules against the declared names all the same.
            p.parameters.keys().map(|k| (k.clone(), 0.0)).collect()
        }
    }
}

/// The `{name}` placeholders of a text, with a problem for each unknown one.
fn check_placeholders(at: &str, text: &str, allowed: &[&str], problems: &mut Problems) {
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

fn check_outcomes(o: &OutcomesFile, problems: &mut Problems) {
    for t in &o.outcomes {
        let at = format!("outcome {}", t.code.as_str());
        check_placeholders(&at, &t.summary, OUTCOME_PLACEHOLDERS, problems);
        if t.next_step.is_none() && t.code != Outcome::NeedsMoreInformation {
            problems.push(Problem::at(FILES[3], at, "this outcome needs a next step"));
        }
    }
    let n = &o.notes;
    for (name, note) in [
        ("red_flags_unanswered", &n.red_flags_unanswered),
        ("requirements", &n.requirements),
        ("missing_required", &n.missing_required),
        ("held", &n.held),
        ("unknown_optional", &n.unknown_optional),
        ("open_criteria", &n.open_criteria),
    ] {
        let at = format!("notes.{name}");
        check_placeholders(&at, &note.summary, NOTE_PLACEHOLDERS, problems);
        if let Some(step) = &note.next_step {
            check_placeholders(&at, step, NOTE_PLACEHOLDERS, problems);
        }
    }
    let codes: Vec<Outcome> = o.outcomes.iter().map(|t| t.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    if sorted != Outcome::ALL {
        problems.push(Problem::in_file(
            FILES[3],
            format!(
                "outcomes must list each of the six outcome codes once, in precedence order (highest first): {}",
                Outcome::ALL.map(Outcome::as_str).join(", ")
            ),
        ));
        return;
    }
    // The order is the programme's, within what keeps the screening safe.
    if codes[0] != Outcome::UrgentEvaluation {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "urgent_evaluation must come first: a red flag wins whatever else is true",
        ));
    }
    if codes[5] != Outcome::LikelyCandidate {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "likely_candidate must come last: it applies only when nothing else does",
        ));
    }
    let at = |o: Outcome| codes.iter().position(|c| *c == o);
    if at(Outcome::NeedsDiagnosticBlock) < at(Outcome::NeedsMoreInformation) {
        problems.push(Problem::at(
            FILES[3],
            "outcomes",
            "needs_diagnostic_block must come after needs_more_information: an outcome that moves the patient towards the procedure never hides an unknown answer (only outcomes that stop or defer it may outrank needs_more_information)",
        ));
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

fn compile_rules(r: &RulesFile, scope: &Scope, problems: &mut Problems) -> Vec<Rule> {
    let file = FILES[1];
    let mut rules: Vec<Rule> = Vec::new();
    for doc in &r.rules {
        let at = format!("rule {}", doc.code);
        let mut bad =
            |path: &str, msg: String| problems.push(Problem::at_path(file, &at, path, msg));
        if !is_code(&doc.code) {
            bad("code", "a criterion code is UPPER_SNAKE_CASE".into());
        }
        if r.rules
            .iter()
            .take_while(|x| !std::ptr::eq(*x, doc))
            .any(|x| x.code == doc.code)
        {
            bad("code", "duplicate criterion code".into());
        }
        if doc.title.trim().is_empty() || doc.message.trim().is_empty() {
            bad("message", "title and message must not be empty".into());
        }
        if doc.sources.is_empty() {
            bad("sources", "cite at least one source".into());
        }
        for s in &doc.sources {
            if !r.sources.contains_key(s) {
                bad(
                    "sources",
                    format!("unknown source `{s}`: declare it under `sources`"),
                );
            }
        }
        match doc.effect {
            Effect::Caution | Effect::Supports if doc.required => bad(
                "required",
                format!("a {:?} rule never needs its answers", doc.effect).to_lowercase(),
            ),
            Effect::Urgent if !doc.required => bad(
                "required",
                "red flags are mandatory: an urgent rule must be `required: true`".into(),
            ),
            Effect::Supports => {}
            _ if doc.next_step.is_none() => {
                bad("next_step", "this effect needs a next step".into())
            }
            _ => {}
        }
        let mut found = Vec::new();
        let cond = scope.compile(&doc.when, "when", &mut found);
        for (path, msg) in found {
            problems.push(Problem::at_path(file, &at, &path, msg));
        }
        // The profile's numbers in the words: `{min_pain_months}`.
        let mut words = |path: &str, text: &str| match fill_params(text, scope.params) {
            Ok(filled) => filled,
            Err(unknown) => {
                problems.push(Problem::at_path(
                    file,
                    &at,
                    path,
                    format!(
                        "unknown parameter `{{{unknown}}}`; the parameters are: {} (and the counts {{matched}}, {{listed}})",
                        scope.params.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
                text.to_string()
            }
        };
        let title = words("title", &doc.title);
        let message = words("message", doc.message.trim());
        let next_step = doc.next_step.as_deref().map(|s| words("next_step", s));
        let Some(cond) = cond else { continue };
        let counts = [&title, &message]
            .into_iter()
            .chain(&next_step)
            .any(|t| COUNTS.iter().any(|c| t.contains(&format!("{{{c}}}"))));
        if counts && cond.quantifiers() != 1 {
            problems.push(Problem::at_path(
                file,
                &at,
                "message",
                "{matched} and {listed} count the entries of the rule's `some` or `fewer_than`: they need a rule with exactly one",
            ));
        }
        let mut reads = Vec::new();
        cond.reads(&mut reads);
        rules.push(Rule {
            code: doc.code.clone(),
            title,
            effect: doc.effect,
            required: doc.required,
            message,
            next_step,
            sources: doc.sources.clone(),
            cond,
            reads,
            counts,
        });
    }
    rules
}
