//! The OpenAPI 3.1 document, generated from the code and the rule set: the
//! answers' schema comes from the questionnaire, and the examples are real
//! evaluations of worked cases.

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{OpenApi as _, PartialSchema, ToSchema};

use crate::questionnaire::{Answers, Field, Kind};
use crate::rules::{RuleFiles, RuleSet};
use crate::screening::evaluate;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "facet-screen",
        description = "Screens patients as candidates for endoscopic medial branch neurectomy. Every result is a suggestion with its basis, for a clinician to confirm; it is not a diagnosis or a decision.",
    ),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::me::get,
        super::fhir::read,
        super::fhir::search,
        super::cds::discovery,
        super::cds::service,
        super::cds::feedback,
        super::questionnaire::get,
        super::questionnaire::sources,
        super::evaluations::create,
        super::screenings::create,
        super::screenings::list,
        super::screenings::get,
        super::screenings::review,
        super::screenings::correct,
        super::screenings::history,
    ),
    tags(
        (name = "questionnaire", description = "The questions, as data"),
        (name = "evaluations", description = "Stateless evaluation of answers"),
        (name = "screenings", description = "Stored screenings, the review queue and the audit trail"),
        (name = "operations", description = "Health and readiness"),
        (name = "cds-hooks", description = "CDS Hooks 2.0: discovery, the screening service and feedback; authenticated with a JWT from a trusted issuer"),
        (name = "fhir", description = "HL7 FHIR R4: the questionnaire as a Questionnaire; answers may also be sent as a QuestionnaireResponse"),
    )
)]
struct ApiDoc;

/// The answers a patient gives: generated from the questionnaire.
pub struct AnswersSchema;

impl PartialSchema for AnswersSchema {
    fn schema() -> RefOr<Schema> {
        let rules = RuleSet::load(&RuleFiles::embedded(), None)
            .expect("the built-in rule set is checked by the tests");
        answers_schema(&rules)
    }
}

impl ToSchema for AnswersSchema {
    fn name() -> Cow<'static, str> {
        "Answers".into()
    }
}

fn nullable(kind: &str) -> Value {
    json!([kind, "null"])
}

fn field_schema(f: &Field) -> Value {
    let mut s = match &f.kind {
        Kind::Bool => json!({"type": nullable("boolean")}),
        Kind::Int { min, max } => {
            json!({"type": nullable("integer"), "minimum": min, "maximum": max})
        }
        Kind::Num { min, max } => {
            json!({"type": nullable("number"), "minimum": min, "maximum": max})
        }
        Kind::Text { max_len } => json!({"type": nullable("string"), "maxLength": max_len}),
        Kind::Choice(options) => {
            let mut values: Vec<Value> = options.iter().map(|o| json!(o)).collect();
            values.push(Value::Null);
            json!({"type": nullable("string"), "enum": values})
        }
        Kind::Multi(options) => json!({
            "type": nullable("array"), "uniqueItems": true,
            "items": {"type": "string", "enum": options}
        }),
        Kind::List { min, max, fields } => json!({
            "type": nullable("array"), "minItems": min, "maxItems": max,
            "items": object(fields.iter().map(|f| (f.id.clone(), field_schema(f))))
        }),
    };
    s["description"] = json!(f.question);
    s
}

fn object(props: impl Iterator<Item = (String, Value)>) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props.collect::<Map<_, _>>()})
}

/// JSON Schema of the answers: nested by group, every answer optional and
/// nullable (unknown), no other property allowed.
pub fn answers_schema(rules: &RuleSet) -> RefOr<Schema> {
    let mut groups: Map<String, Value> = Map::new();
    for (_, f) in rules.fields.iter() {
        match f.id.split_once('.') {
            Some((group, name)) => {
                let g = groups.entry(group).or_insert_with(|| {
                    let mut o = object(std::iter::empty());
                    o["type"] = nullable("object");
                    o
                });
                g["properties"][name] = field_schema(f);
            }
            None => {
                groups.insert(f.id.clone(), field_schema(f));
            }
        }
    }
    let mut schema = object(groups.into_iter());
    schema["description"] = json!(format!(
        "Answers to questionnaire {} version {}. Every answer is optional: absent or null means unknown, never no.",
        rules.questionnaire.id, rules.questionnaire.version
    ));
    serde_json::from_value(schema).expect("a valid JSON schema object")
}

/// The worked cases shown as examples, by id.
const EXAMPLES: [(&str, &str); 3] = [
    ("ideal-candidate", "An ideal candidate"),
    ("cauda-equina", "An urgent case: new bladder dysfunction"),
    (
        "red-flags-not-asked",
        "Red flags not asked: more information needed",
    ),
];

/// The document for `rules`.
/// The document for `rules`, as JSON (kept as JSON: some schemas, such as
/// "any value", do not survive a round trip through utoipa's types).
pub fn document(rules: &RuleSet) -> Value {
    let mut doc = ApiDoc::openapi();
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert("Answers".into(), answers_schema(rules));
    }
    let mut value = serde_json::to_value(&doc).expect("the document serializes");
    // The domain type keeps its answers as raw JSON; they are `Answers`.
    value["components"]["schemas"]["Screening"]["properties"]["answers"] =
        json!({"$ref": "#/components/schemas/Answers"});
    add_examples(&mut value, rules);
    add_security(&mut value);
    value
}

fn add_examples(doc: &mut Value, rules: &RuleSet) {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("../../rules/v1/cases/vignettes.json"))
            .unwrap_or_default();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-01T09:00:00Z")
        .expect("a fixed time")
        .to_utc();
    let mut requests = Map::new();
    let mut responses = Map::new();
    for (id, summary) in EXAMPLES {
        let Some(answers) = cases
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["answers"].clone())
        else {
            continue;
        };
        let Ok(parsed) = Answers::parse(&rules.fields, &answers) else {
            continue;
        };
        let evaluation = evaluate(rules, &parsed, at);
        requests.insert(id.into(), json!({"summary": summary, "value": answers}));
        responses.insert(id.into(), json!({"summary": summary, "value": evaluation}));
    }
    let op = &mut doc["paths"]["/v1/evaluations"]["post"];
    op["requestBody"]["content"]["application/json"]["examples"] = Value::Object(requests);
    op["responses"]["200"]["content"]["application/json"]["examples"] = Value::Object(responses);
    op["responses"]["422"]["content"]["application/problem+json"]["example"] = json!({
        "type": "/problems/invalid-answers",
        "title": "Some answers are not valid",
        "status": 422,
        "detail": "2 answer(s) do not match the questionnaire: see `errors`. Leave an answer out, or send null, when it is unknown.",
        "errors": [
            {"field": "pain.intensity_nrs", "message": "expected an integer from 0 to 10, or null for unknown"},
            {"field": "diagnostic_blocks[1].pain_relief_percent", "message": "expected an integer from 0 to 100, or null for unknown"}
        ]
    });
}

/// Routes anyone may call: nothing on them holds patient data.
pub const PUBLIC_PATHS: [&str; 9] = [
    "/cds-services",
    "/healthz",
    "/readyz",
    "/v1/questionnaire",
    "/v1/sources",
    "/openapi.json",
    "/docs",
    "/fhir/Questionnaire",
    "/fhir/Questionnaire/{id}",
];

/// The CDS Hooks routes: a CDS client presents a signed JWT, not an API key.
pub const CDS_JWT_PATHS: [&str; 2] = [
    "/cds-services/facet-screen-neurectomy",
    "/cds-services/facet-screen-neurectomy/feedback",
];

/// Every other route needs a credential: an API key, or on the CDS Hooks
/// routes a signed JWT. Declared on each operation, with the refusals it
/// can get.
fn add_security(doc: &mut Value) {
    doc["components"]["securitySchemes"]["bearer"] = json!({
        "type": "http",
        "scheme": "bearer",
        "description": "An API key made with `facet-screen keys create`; it carries a role (intake, clinician, admin) and a clinic."
    });
    doc["components"]["securitySchemes"]["cdsJwt"] = json!({
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "CDS Hooks 2.0: a JWT signed (ES384 or RS384) by a trusted issuer (FACET_SCREEN_CDS_ISSUERS), with `iss`, `aud` (this route's URL), `exp` and a `jti` used once. The issuer's clinic owns the screenings it creates."
    });
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if PUBLIC_PATHS.contains(&path.as_str()) {
            continue;
        }
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        let cds = CDS_JWT_PATHS.contains(&path.as_str());
        for op in ops.values_mut() {
            op["security"] = if cds {
                json!([{"cdsJwt": []}])
            } else {
                json!([{"bearer": []}])
            };
            let has_body = op.get("requestBody").is_some();
            let responses = &mut op["responses"];
            // Every operation that reads a body (or a query) can be refused
            // before it looks at the content.
            if (has_body || path == "/v1/screenings") && responses.get("400").is_none() {
                responses["400"] = problem("Malformed JSON, query or header");
            }
            if has_body {
                let too_large = format!("The body is over {} KiB", super::BODY_LIMIT / 1024);
                for (status, why) in [
                    ("413", too_large.as_str()),
                    ("415", "The body is not sent as JSON"),
                ] {
                    if responses.get(status).is_none() {
                        responses[status] = problem(why);
                    }
                }
                // Keep the answers in status order, wherever they came from.
                if let Some(map) = responses.as_object_mut() {
                    let mut sorted: Vec<(String, Value)> =
                        std::mem::take(map).into_iter().collect();
                    sorted.sort_by(|a, b| a.0.cmp(&b.0));
                    map.extend(sorted);
                }
            }
            if cds {
                // Roles and the per-key rate limit are the API keys'; the
                // route documents its own 401.
                continue;
            }
            responses["401"] = problem(
                "No key, or a malformed, unknown or revoked one (with `WWW-Authenticate: Bearer`)",
            );
            responses["403"] = problem("The key's role may not do this");
            responses["429"] = problem("The key is over its rate limit (with `Retry-After`)");
        }
    }
}

/// The document for the built-in rules, as committed in `openapi/openapi.json`.
pub fn committed_document() -> anyhow::Result<String> {
    let rules = RuleSet::load(&RuleFiles::embedded(), None).map_err(|p| anyhow::anyhow!("{p}"))?;
    Ok(serde_json::to_string_pretty(&document(&rules))? + "\n")
}
