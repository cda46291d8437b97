//! The OpenAPI 3.1 document, generated from the code and the rule set: the
//! paths and their schemas come from the route registry (`super::routes`),
//! the credentials and refusals from what each operation declares
//! (`security`), the answers' schema from the questionnaire, and the
//! examples are real evaluations of worked cases.

mod security;

use serde_json::{Map, Value, json};
use utoipa::{Modify as _, OpenApi as _};

use super::answers_schema::answer_components;
use crate::fhir::OperationOutcome;
use crate::questionnaire::Answers;
use crate::rules::{RuleFiles, RuleSet};
use crate::screening::evaluate;

pub use security::{BEARER, CDS_JWT};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "facet-screen",
        description = "Screens patients as candidates for endoscopic medial branch neurectomy. Every result is a suggestion with its basis, for a clinician to confirm; it is not a diagnosis or a decision.",
        license(name = "Proprietary", identifier = "LicenseRef-Proprietary"),
    ),
    servers((url = "/", description = "This facet-screen service (the host the document was read from)")),
    // Named in words by the answer routes' 422.
    components(schemas(OperationOutcome)),
    tags(
        (name = "questionnaire", description = "The questions, as data"),
        (name = "evaluations", description = "Stateless evaluation of answers"),
        (name = "screenings", description = "Stored screenings, the review queue and the audit trail"),
        (name = "operations", description = "Health and readiness"),
        (name = "keys", description = "A clinic's API keys, managed by its administrators"),
        (name = "cds-hooks", description = "CDS Hooks 2.0: discovery, the screening service and feedback; authenticated with a JWT from a trusted issuer"),
        (name = "fhir", description = "HL7 FHIR R4: the questionnaire as a Questionnaire; answers sent as a QuestionnaireResponse go to the /fhir twins of the answer operations (POST /v1/evaluations/fhir, POST /v1/screenings/fhir, PUT /v1/screenings/{id}/answers/fhir)"),
    )
)]
struct ApiDoc;

/// The document for `rules`, as JSON (kept as JSON: some schemas, such as
/// "any value", do not survive a round trip through utoipa's types).
// PANIC SAFETY: utoipa's document always serializes, with components
// (the derive lists schemas); the committed-document test makes it.
#[allow(clippy::expect_used)]
pub fn document(rules: &RuleSet) -> Value {
    let mut api = ApiDoc::openapi();
    api.merge(super::routes::registry().into_openapi());
    security::Security.modify(&mut api);
    security::Bodies.modify(&mut api);
    let mut value = serde_json::to_value(&api).expect("the document serializes");
    let schemas = value["components"]["schemas"]
        .as_object_mut()
        .expect("the document has schemas");
    schemas.extend(answer_components(rules));
    // The domain type keeps its answers as raw JSON; they are `Answers`.
    for (schema, property) in [
        ("Screening", "answers"),
        ("AnswersCorrectedData", "previous_answers"),
    ] {
        value["components"]["schemas"][schema]["properties"][property] =
            json!({"$ref": "#/components/schemas/Answers"});
    }
    add_fhir_answers(&mut value);
    add_examples(&mut value, rules);
    value
}

/// Whether `op` takes answers: ours (`Answers`), or a FHIR
/// `QuestionnaireResponse`.
fn takes_answers(op: &Value) -> bool {
    let content = &op["requestBody"]["content"];
    content["application/json"]["schema"]["$ref"] == "#/components/schemas/Answers"
        || content["application/fhir+json"]["schema"]["$ref"]
            == "#/components/schemas/QuestionnaireResponse"
}

/// Says what a FHIR client gets back on the operations that take answers.
fn add_fhir_answers(doc: &mut Value) {
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
        .flat_map(|item| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
        });
    for op in operations.filter(|op| takes_answers(op)) {
        // In words, not as a second content type: generated clients read a
        // response's first content type only (openapi-python-client #1248),
        // and would read every problem as an OperationOutcome.
        let invalid = &mut op["responses"]["422"]["description"];
        *invalid = json!(format!(
            "{} A client that sends `Accept: application/fhir+json` gets the same as a FHIR OperationOutcome (`application/fhir+json`, schema `#/components/schemas/OperationOutcome`), an issue per bad field with its linkId.",
            invalid.as_str().unwrap_or_default()
        ));
    }
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

// PANIC SAFETY: a constant RFC 3339 time.
#[allow(clippy::expect_used)]
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

/// The document for the built-in rules, as committed in `openapi/openapi.json`.
pub fn committed_document() -> anyhow::Result<String> {
    let rules = RuleSet::load(&RuleFiles::embedded(), None).map_err(|p| anyhow::anyhow!("{p}"))?;
    Ok(serde_json::to_string_pretty(&document(&rules))? + "\n")
}
