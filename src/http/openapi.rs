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
        license(name = "Proprietary", identifier = "LicenseRef-Proprietary"),
    ),
    servers((url = "/", description = "This facet-screen service (the host the document was read from)")),
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
        super::history::history,
        super::stats::get,
        super::export::get,
        super::keys::create,
        super::keys::list,
        super::keys::revoke,
    ),
    tags(
        (name = "questionnaire", description = "The questions, as data"),
        (name = "evaluations", description = "Stateless evaluation of answers"),
        (name = "screenings", description = "Stored screenings, the review queue and the audit trail"),
        (name = "operations", description = "Health and readiness"),
        (name = "keys", description = "A clinic's API keys, managed by its administrators"),
        (name = "cds-hooks", description = "CDS Hooks 2.0: discovery, the screening service and feedback; authenticated with a JWT from a trusted issuer"),
        (name = "fhir", description = "HL7 FHIR R4: the questionnaire as a Questionnaire; answers may also be sent as a QuestionnaireResponse"),
    )
)]
struct ApiDoc;

/// The answers a patient gives: generated from the questionnaire.
pub struct AnswersSchema;

impl PartialSchema for AnswersSchema {
    // PANIC SAFETY: the built-in rule set is embedded in the binary and
    // loaded by every test and at every start; the document is made from it.
    #[allow(clippy::expect_used)]
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

/// `conservative_care.physical_therapy` as a type name: `ConservativeCarePhysicalTherapy`.
fn type_name(id: &str) -> String {
    id.split(['.', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The answers' schema as named components, so that a generated client has
/// one type per section, per list entry and per set of options: sections
/// (`PainAnswers`), list entries (`DiagnosticBlocksEntry`) and enums (one
/// per option list; a list shared by several questions of a section is
/// named after the section, `ConservativeCareChoice`). Unknown is `null`:
/// `anyOf [the type, null]`, never `null` inside an enum.
struct AnswerTypes {
    components: Map<String, Value>,
    enums: Vec<(Vec<String>, String)>,
}

impl AnswerTypes {
    fn new(rules: &RuleSet) -> Self {
        // Which questions share each option list, to name it once.
        let mut uses: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        let mut note =
            |id: &str, options: &[String]| match uses.iter_mut().find(|(o, _)| o == options) {
                Some((_, ids)) => ids.push(id.to_string()),
                None => uses.push((options.to_vec(), vec![id.to_string()])),
            };
        for (_, f) in rules.fields.iter() {
            match &f.kind {
                Kind::Choice(o) | Kind::Multi(o) => note(&f.id, o),
                Kind::List { fields, .. } => {
                    for sub in fields {
                        if let Kind::Choice(o) | Kind::Multi(o) = &sub.kind {
                            note(&format!("{}_entry.{}", f.id, sub.id), o);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut types = AnswerTypes {
            components: Map::new(),
            enums: Vec::new(),
        };
        for (options, ids) in uses {
            let name = match ids.as_slice() {
                [one] => type_name(one),
                [first, ..] => format!(
                    "{}Choice",
                    type_name(first.split_once('.').map_or(first.as_str(), |(g, _)| g))
                ),
                [] => continue,
            };
            types
                .components
                .insert(name.clone(), json!({"type": "string", "enum": options}));
            types.enums.push((options, name));
        }
        types
    }

    // PANIC SAFETY: `new` names every option list of the rule set before
    // any field asks for one.
    #[allow(clippy::expect_used)]
    fn enum_name(&self, options: &[String]) -> &str {
        &self
            .enums
            .iter()
            .find(|(o, _)| o == options)
            .expect("every option list is named")
            .1
    }

    fn field(&mut self, f: &Field) -> Value {
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
                json!({"anyOf": [reference(self.enum_name(options)), {"type": "null"}]})
            }
            Kind::Multi(options) => json!({
                "type": nullable("array"), "uniqueItems": true,
                "items": reference(self.enum_name(options))
            }),
            Kind::List { min, max, fields } => {
                let name = format!("{}Entry", type_name(&f.id));
                let entry = object(
                    fields
                        .iter()
                        .map(|sub| (sub.id.clone(), self.field(sub)))
                        .collect::<Vec<_>>()
                        .into_iter(),
                );
                self.components.insert(name.clone(), entry);
                json!({"type": nullable("array"), "minItems": min, "maxItems": max, "items": reference(&name)})
            }
        };
        s["description"] = json!(f.question);
        s
    }
}

fn object(props: impl Iterator<Item = (String, Value)>) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props.collect::<Map<_, _>>()})
}

/// The answers' components: `Answers` (nested by group, every answer
/// optional and nullable, no other property allowed) and the named types it
/// refers to.
pub fn answer_components(rules: &RuleSet) -> Map<String, Value> {
    let mut types = AnswerTypes::new(rules);
    let mut groups: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut top = Map::new();
    for (_, f) in rules.fields.iter() {
        let schema = types.field(f);
        match f.id.split_once('.') {
            Some((group, name)) => match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, props)) => {
                    props.insert(name.into(), schema);
                }
                None => {
                    let mut props = Map::new();
                    props.insert(name.into(), schema);
                    groups.push((group.to_string(), props));
                    top.insert(group.to_string(), Value::Null);
                }
            },
            None => {
                top.insert(f.id.clone(), schema);
            }
        }
    }
    for (group, props) in groups {
        let name = format!("{}Answers", type_name(&group));
        types
            .components
            .insert(name.clone(), object(props.into_iter()));
        top.insert(
            group,
            json!({"anyOf": [reference(&name), {"type": "null"}]}),
        );
    }
    let mut answers = object(top.into_iter());
    answers["description"] = json!(format!(
        "Answers to questionnaire {} version {}. Every answer is optional: absent or null means unknown, never no.",
        rules.questionnaire.id, rules.questionnaire.version
    ));
    types.components.insert("Answers".into(), answers);
    types.components
}

/// JSON Schema of the answers (the top level; its parts are components).
// PANIC SAFETY: `answer_components` always makes `Answers`, a JSON Schema
// object that utoipa reads (the committed-document test reads it).
#[allow(clippy::expect_used)]
pub fn answers_schema(rules: &RuleSet) -> RefOr<Schema> {
    let answers = answer_components(rules)
        .remove("Answers")
        .expect("made above");
    serde_json::from_value(answers).expect("a valid JSON schema object")
}

/// The FHIR R4 and CDS Hooks 2.0 documents, as named schemas: the parts a
/// client reads or must send, other properties allowed as the standards do.
fn protocol_schemas() -> Map<String, Value> {
    let r = reference;
    let link = json!({"type": "object", "required": ["label", "url"], "properties": {
        "label": {"type": "string"}, "url": {"type": "string", "format": "uri"}, "type": {"type": "string"}}});
    let coding = json!({"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string"}, "system": {"type": "string"}, "display": {"type": "string"}}});
    let schemas = json!({
        "QuestionnaireResponse": {
            "description": "A FHIR R4 QuestionnaireResponse answering this service's Questionnaire (GET /fhir/Questionnaire/{id}); linkIds are the answer ids. Each question is answered at most once.",
            "type": "object", "required": ["resourceType", "questionnaire", "item"],
            "properties": {
                "resourceType": {"const": "QuestionnaireResponse"},
                "questionnaire": {"type": "string", "description": "The Questionnaire's canonical URL, optionally with |version"},
                "status": {"type": "string"},
                "item": {"type": "array", "items": r("QuestionnaireResponseItem")}
            }
        },
        "QuestionnaireResponseItem": {
            "type": "object", "required": ["linkId"],
            "properties": {
                "linkId": {"type": "string"},
                "text": {"type": "string"},
                "answer": {"type": "array", "items": {"type": "object", "description": "One valueBoolean, valueInteger, valueDecimal, valueString or valueCoding"}},
                "item": {"type": "array", "items": r("QuestionnaireResponseItem")}
            }
        },
        "OperationOutcome": {
            "description": "A FHIR R4 OperationOutcome: the problem, for clients that send Accept: application/fhir+json; an issue per bad field, its linkId in expression.",
            "type": "object", "required": ["resourceType", "issue"],
            "properties": {
                "resourceType": {"const": "OperationOutcome"},
                "issue": {"type": "array", "items": {"type": "object", "required": ["severity", "code"], "properties": {
                    "severity": {"type": "string"}, "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}}}}}
            }
        },
        "FhirQuestionnaire": {
            "description": "The questionnaire as a FHIR R4 Questionnaire.",
            "type": "object", "required": ["resourceType", "url", "version", "status", "item"],
            "properties": {
                "resourceType": {"const": "Questionnaire"},
                "id": {"type": "string"}, "url": {"type": "string"}, "version": {"type": "string"},
                "status": {"type": "string"}, "title": {"type": "string"},
                "item": {"type": "array", "items": {"type": "object"}}
            }
        },
        "FhirBundle": {
            "description": "A FHIR R4 searchset Bundle of Questionnaires.",
            "type": "object", "required": ["resourceType", "type"],
            "properties": {
                "resourceType": {"const": "Bundle"}, "type": {"const": "searchset"},
                "total": {"type": "integer"},
                "entry": {"type": "array", "items": {"type": "object", "properties": {
                    "fullUrl": {"type": "string"}, "resource": r("FhirQuestionnaire")}}}
            }
        },
        "CdsDiscovery": {
            "type": "object", "required": ["services"],
            "properties": {"services": {"type": "array", "items": {"type": "object",
                "required": ["hook", "id", "description"],
                "properties": {
                    "hook": {"type": "string"}, "id": {"type": "string"}, "title": {"type": "string"},
                    "description": {"type": "string"},
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                    "usageRequirements": {"type": "string"}}}}}
        },
        "CdsRequest": {
            "description": "A CDS Hooks 2.0 patient-view call; the prefetch carries the patient's newest QuestionnaireResponse (as a resource or a searchset Bundle).",
            "type": "object", "required": ["hook", "hookInstance", "context"],
            "properties": {
                "hook": {"const": "patient-view"},
                "hookInstance": {"type": "string"},
                "context": {"type": "object"},
                "prefetch": {"type": "object", "properties": {"questionnaireResponse": {"type": "object"}}}
            }
        },
        "CdsCards": {
            "type": "object", "required": ["cards"],
            "properties": {"cards": {"type": "array", "items": r("CdsCard")}}
        },
        "CdsCard": {
            "type": "object", "required": ["uuid", "summary", "indicator", "source"],
            "properties": {
                "uuid": {"type": "string", "description": "The screening's id, when one was stored"},
                "summary": {"type": "string", "maxLength": 140},
                "detail": {"type": "string", "description": "Markdown"},
                "indicator": {"enum": ["info", "warning", "critical"]},
                "source": {"type": "object", "required": ["label"], "properties": {
                    "label": {"type": "string"}, "url": {"type": "string", "format": "uri"}}},
                "links": {"type": "array", "items": link},
                "overrideReasons": {"type": "array", "items": coding}
            }
        },
        "CdsFeedback": {
            "description": "CDS Hooks 2.0 feedback on cards this service issued to the caller.",
            "type": "object", "required": ["feedback"], "additionalProperties": false,
            "properties": {"feedback": {"type": "array", "minItems": 1, "maxItems": crate::service::cds::MAX_FEEDBACK_ITEMS,
                "items": {"type": "object", "required": ["card", "outcome", "outcomeTimestamp"], "additionalProperties": false,
                    "properties": {
                        "card": {"type": "string", "format": "uuid"},
                        "outcome": {"enum": ["accepted", "overridden"]},
                        "acceptedSuggestions": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
                        "overrideReason": {"type": "object", "additionalProperties": false, "properties": {
                            "reason": coding, "userComment": {"type": "string", "maxLength": 2000}}},
                        "outcomeTimestamp": {"type": "string", "format": "date-time"},
                        "extension": {"type": "object"}}}}}
        }
    });
    match schemas {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

/// Names the FHIR and CDS bodies of each route, and says what a FHIR client
/// sends and gets back on the answer routes.
fn add_protocol_bodies(doc: &mut Value) {
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(protocol_schemas());
    }
    let json_body = |name: &str, content_type: &str| json!({"content": {content_type: {"schema": reference(name)}}});
    let paths = &mut doc["paths"];
    paths["/cds-services"]["get"]["responses"]["200"]["content"] =
        json_body("CdsDiscovery", "application/json")["content"].clone();
    let service = &mut paths["/cds-services/facet-screen-neurectomy"]["post"];
    service["requestBody"] = json_body("CdsRequest", "application/json");
    service["requestBody"]["required"] = json!(true);
    service["responses"]["200"]["content"] =
        json_body("CdsCards", "application/json")["content"].clone();
    let feedback = &mut paths["/cds-services/facet-screen-neurectomy/feedback"]["post"];
    feedback["requestBody"] = json_body("CdsFeedback", "application/json");
    feedback["requestBody"]["required"] = json!(true);
    feedback["responses"]["200"]["content"] =
        json!({"application/json": {"schema": {"type": "object", "additionalProperties": false}}});
    paths["/fhir/Questionnaire/{id}"]["get"]["responses"]["200"]["content"] =
        json_body("FhirQuestionnaire", "application/fhir+json")["content"].clone();
    paths["/fhir/Questionnaire"]["get"]["responses"]["200"]["content"] =
        json_body("FhirBundle", "application/fhir+json")["content"].clone();
    // Every body here is required: say so (a generator otherwise makes it
    // optional).
    for item in paths
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            if let Some(body) = op.get_mut("requestBody") {
                body["required"] = json!(true);
            }
        }
    }
    for (path, method) in [
        ("/v1/evaluations", "post"),
        ("/v1/screenings", "post"),
        ("/v1/screenings/{id}/answers", "put"),
    ] {
        let op = &mut paths[path][method];
        op["requestBody"]["content"]["application/fhir+json"] =
            json!({"schema": reference("QuestionnaireResponse")});
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

/// The document for `rules`.
/// The document for `rules`, as JSON (kept as JSON: some schemas, such as
/// "any value", do not survive a round trip through utoipa's types).
// PANIC SAFETY: utoipa's document always serializes, with components
// (the derive lists schemas); the committed-document test makes it.
#[allow(clippy::expect_used)]
pub fn document(rules: &RuleSet) -> Value {
    let doc = ApiDoc::openapi();
    let mut value = serde_json::to_value(&doc).expect("the document serializes");
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
    add_protocol_bodies(&mut value);
    add_examples(&mut value, rules);
    add_security(&mut value);
    value
}

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
            // Said, not left to a default: no credential here.
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                op["security"] = json!([]);
            }
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
                "No key, or a malformed, unknown, revoked or expired one (with `WWW-Authenticate: Bearer`)",
            );
            responses["403"] = problem("The key's role may not do this");
            // A route with a limit of its own (exports at once) keeps it.
            let limited = "The key is over its rate limit (with `Retry-After`)";
            let why = match responses["429"]["description"].as_str() {
                Some(own) => format!("{limited}, or: {own}"),
                None => limited.to_string(),
            };
            responses["429"] = problem(&why);
        }
    }
}

/// The document for the built-in rules, as committed in `openapi/openapi.json`.
pub fn committed_document() -> anyhow::Result<String> {
    let rules = RuleSet::load(&RuleFiles::embedded(), None).map_err(|p| anyhow::anyhow!("{p}"))?;
    Ok(serde_json::to_string_pretty(&document(&rules))? + "\n")
}
