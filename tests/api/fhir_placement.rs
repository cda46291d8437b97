//! A FHIR QuestionnaireResponse is read only where the Questionnaire puts
//! each item: an answer whose linkId sits anywhere else (under another
//! question's answer, inside another item, in the wrong section, at the top
//! level, inside a listed block) is refused with 422 naming the linkId and
//! where it was found, never silently left unread. A red flag left unread
//! would be a patient told "needs more information" instead of "urgent".

use serde_json::{Value, json};

use crate::fhir::{questionnaire, response_to};
use crate::helpers::{TestApp, case_answers, spawn_app};

const FHIR: &str = "application/fhir+json";
const RED_FLAG: &str = "red_flags.saddle_anesthesia";

/// The ideal candidate's answers with the cauda-equina red flag left out of
/// its section: as a client mapped them, in canonical form.
async fn without_red_flag(app: &TestApp) -> Value {
    let q = questionnaire(app).await;
    let mut answers = case_answers("ideal-candidate");
    answers["red_flags"]
        .as_object_mut()
        .unwrap()
        .remove("saddle_anesthesia");
    response_to(&q, &answers)
}

/// The cauda-equina red flag, answered yes.
fn red_flag() -> Value {
    json!({"linkId": RED_FLAG, "answer": [{"valueBoolean": true}]})
}

fn section<'a>(qr: &'a mut Value, link: &str) -> &'a mut Value {
    qr["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["linkId"] == link)
        .unwrap()
}

fn item<'a>(qr: &'a mut Value, section_link: &str, link: &str) -> &'a mut Value {
    section(qr, section_link)["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["linkId"] == link)
        .unwrap()
}

/// The red flag placed somewhere the Questionnaire does not put it, with
/// the words the refusal must use for where it was found.
fn misplacements(base: &Value) -> Vec<(&'static str, Value, &'static str, &'static str)> {
    let mut out = Vec::new();

    let mut qr = base.clone();
    item(&mut qr, "section-pain", "pain.low_back")["answer"][0]["item"] = json!([red_flag()]);
    out.push((
        "under another question's answer",
        qr,
        RED_FLAG,
        "under an answer to `pain.low_back`",
    ));

    let mut qr = base.clone();
    item(&mut qr, "section-pain", "pain.low_back")["item"] = json!([red_flag()]);
    out.push((
        "inside another question",
        qr,
        RED_FLAG,
        "inside `pain.low_back`",
    ));

    let mut qr = base.clone();
    section(&mut qr, "section-pain")["item"]
        .as_array_mut()
        .unwrap()
        .push(red_flag());
    out.push((
        "in the wrong section",
        qr,
        RED_FLAG,
        "inside `section-pain`",
    ));

    let mut qr = base.clone();
    qr["item"].as_array_mut().unwrap().push(red_flag());
    out.push(("at the top level", qr, RED_FLAG, "at the top level"));

    let mut qr = base.clone();
    item(&mut qr, "section-diagnostic_blocks", "diagnostic_blocks")["item"]
        .as_array_mut()
        .unwrap()
        .push(red_flag());
    out.push((
        "inside a listed block",
        qr,
        RED_FLAG,
        "inside `diagnostic_blocks`",
    ));

    let mut qr = base.clone();
    item(&mut qr, "section-diagnostic_blocks", "diagnostic_blocks")["item"][0]["answer"][0]["item"] =
        json!([red_flag()]);
    out.push((
        "under an answer inside a listed block",
        qr,
        RED_FLAG,
        "under an answer to `diagnostic_blocks[].kind`",
    ));

    let mut qr = base.clone();
    let red_flags = section(&mut qr, "section-red_flags").clone();
    let mut nested = json!({"linkId": "section-red_flags", "item": [red_flag()]});
    nested["text"] = red_flags["text"].clone();
    section(&mut qr, "section-pain")["item"]
        .as_array_mut()
        .unwrap()
        .push(nested);
    out.push((
        "its own section nested inside another",
        qr,
        "section-red_flags",
        "inside `section-pain`",
    ));
    out
}

async fn post(app: &TestApp, path: &str, body: &Value, accept_fhir: bool) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(path))
        .bearer_auth(&app.keys.intake)
        .header("content-type", FHIR)
        .body(serde_json::to_vec(body).unwrap());
    if accept_fhir {
        req = req.header("accept", FHIR);
    }
    req.send().await.unwrap()
}

/// The refusal names `link` alone, says where it was found, and echoes no value.
fn assert_names(problem: &Value, link: &str, found: &str, what: &str) {
    let errors = problem["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, [link], "{what}: {problem}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains(found), "{what}: {message}");
    let belongs = if link == RED_FLAG {
        "`section-red_flags`"
    } else {
        "at the top level"
    };
    assert!(
        message.contains(belongs),
        "{what}: the refusal says where the questionnaire puts it: {message}"
    );
    let text = problem.to_string();
    assert!(
        !text.contains("valueBoolean") && !text.contains("true"),
        "{what}: no value echoed: {text}"
    );
}

#[tokio::test]
async fn a_red_flag_nested_inside_another_item_is_refused_naming_it_and_where_it_was_found() {
    let app = spawn_app().await;
    let base = without_red_flag(&app).await;
    // Without the red flag the answers are complete but for it: the
    // suggestion waits for it (it must not be read as "no").
    let res = post(&app, "/v1/evaluations/fhir", &base, false).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "needs_more_information");

    for (what, qr, link, found) in misplacements(&base) {
        let res = post(&app, "/v1/evaluations/fhir", &qr, false).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            status, 422,
            "{what}: outcome {} instead of a refusal",
            body["outcome"]
        );
        assert_eq!(body["type"], "/problems/invalid-answers", "{what}: {body}");
        assert_names(&body, link, found, what);
    }

    // A FHIR client gets an OperationOutcome whose issue's expression names it.
    let (what, qr, _, found) = misplacements(&base).remove(0);
    let res = post(&app, "/v1/evaluations/fhir", &qr, true).await;
    assert_eq!(res.status(), 422, "{what}");
    assert_eq!(res.headers()["content-type"], FHIR);
    let outcome: Value = res.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let issues = outcome["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{outcome}");
    assert_eq!(issues[0]["expression"], json!([RED_FLAG]));
    assert_eq!(issues[0]["code"], "invalid");
    assert!(
        issues[0]["diagnostics"].as_str().unwrap().contains(found),
        "{outcome}"
    );
}

#[tokio::test]
async fn a_misplaced_answer_stores_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let base = without_red_flag(&app).await;
    let created = app.create_screening(&case_answers("ideal-candidate")).await;
    let id = created["id"].as_str().unwrap();
    for (what, qr, link, found) in misplacements(&base) {
        let res = post(&app, "/v1/screenings/fhir", &qr, false).await;
        assert_eq!(res.status(), 422, "{what}: creation");
        assert_names(&res.json().await.unwrap(), link, found, what);
        let res = app
            .client
            .put(app.url(&format!("/v1/screenings/{id}/answers/fhir")))
            .bearer_auth(&app.keys.intake)
            .header("content-type", FHIR)
            .body(serde_json::to_vec(&qr).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{what}: correction");
        assert_names(&res.json().await.unwrap(), link, found, what);
    }
    let list: Value = app.get("/v1/screenings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let record: Value = app
        .get(&format!("/v1/screenings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["answers_version"], 1);
}

#[tokio::test]
async fn every_other_misplaced_or_malformed_item_is_named() {
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    let base = response_to(&q, &case_answers("ideal-candidate"));
    let refused = async |qr: &Value| -> Value {
        let res = post(&app, "/v1/evaluations/fhir", qr, false).await;
        assert_eq!(res.status(), 422);
        res.json().await.unwrap()
    };

    // A question of one section answered in another.
    let mut qr = base.clone();
    let moved = {
        let pain = section(&mut qr, "section-pain")["item"]
            .as_array_mut()
            .unwrap();
        let at = pain
            .iter()
            .position(|i| i["linkId"] == "pain.intensity_nrs")
            .unwrap();
        pain.remove(at)
    };
    section(&mut qr, "section-exam")["item"]
        .as_array_mut()
        .unwrap()
        .push(moved);
    let body = refused(&qr).await;
    assert_eq!(body["errors"][0]["field"], "pain.intensity_nrs", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("inside `section-exam`") && message.contains("`section-pain`"),
        "{message}"
    );

    // A block's field outside its block.
    let mut qr = base.clone();
    section(&mut qr, "section-diagnostic_blocks")["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "diagnostic_blocks[].pain_relief_percent", "answer": [{"valueInteger": 10}]}));
    let body = refused(&qr).await;
    assert_eq!(
        body["errors"][0]["field"], "diagnostic_blocks[].pain_relief_percent",
        "{body}"
    );
    assert!(!body.to_string().contains("10"), "no value echoed: {body}");

    // An `item` or `answer` that is not a list is refused, not skipped.
    let mut qr = base.clone();
    item(&mut qr, "section-pain", "pain.low_back")["item"] = red_flag();
    let body = refused(&qr).await;
    assert_eq!(body["errors"][0]["field"], "pain.low_back", "{body}");
    let mut qr = base.clone();
    item(&mut qr, "section-red_flags", "red_flags.significant_trauma")["answer"] =
        json!({"valueBoolean": true});
    let body = refused(&qr).await;
    assert_eq!(
        body["errors"][0]["field"], "red_flags.significant_trauma",
        "{body}"
    );

    // A group (a section, a list) takes no answer of its own.
    let mut qr = base.clone();
    section(&mut qr, "section-red_flags")["answer"] = json!([{"valueBoolean": true}]);
    let body = refused(&qr).await;
    assert_eq!(body["errors"][0]["field"], "section-red_flags", "{body}");
}
