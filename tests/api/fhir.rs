//! FHIR R4: the Questionnaire, QuestionnaireResponse round trips for every
//! worked case, and OperationOutcome errors. Every resource the service
//! emits here, and every response sent, is written under `target/fhir/`,
//! where `tests/fhir/validate.py` checks it against the FHIR R4 definitions.

use serde_json::{Value, json};

use crate::helpers::{TestApp, cases, repo, spawn_app};

const FHIR: &str = "application/fhir+json";

fn save(name: &str, value: &Value) {
    let dir = repo().join("target/fhir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_vec_pretty(value).unwrap(),
    )
    .unwrap();
}

pub async fn questionnaire(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/fhir/Questionnaire/facet-screen-intake-v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], FHIR);
    res.json().await.unwrap()
}

fn find<'a>(items: &'a [Value], link: &str) -> Option<&'a Value> {
    items.iter().find_map(|i| {
        if i["linkId"] == link {
            Some(i)
        } else {
            find(
                i["item"].as_array().map(Vec::as_slice).unwrap_or_default(),
                link,
            )
        }
    })
}

fn answer_of(ty: &str, v: &Value) -> Value {
    match ty {
        "boolean" => json!({"valueBoolean": v}),
        "integer" => json!({"valueInteger": v}),
        "decimal" => json!({"valueDecimal": v}),
        "string" => json!({"valueString": v}),
        _ => json!({"valueCoding": {"code": v}}),
    }
}

/// Answers the questionnaire as a client would, from our answers JSON.
pub fn response_to(q: &Value, answers: &Value) -> Value {
    let mut groups = Vec::new();
    for section in q["item"].as_array().unwrap() {
        let mut items = Vec::new();
        for item in section["item"].as_array().unwrap() {
            let (link, ty) = (
                item["linkId"].as_str().unwrap(),
                item["type"].as_str().unwrap(),
            );
            if ty == "display" {
                continue;
            }
            let value = match link.split_once('.') {
                Some((g, n)) => &answers[g][n],
                None => &answers[link],
            };
            if value.is_null() {
                continue;
            }
            if ty == "group" {
                let entries = value.as_array().unwrap();
                if entries.is_empty() {
                    items.push(json!({"linkId": link}));
                }
                for entry in entries {
                    let subs: Vec<Value> = item["item"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| s["type"] != "display")
                        .filter_map(|s| {
                            let sl = s["linkId"].as_str().unwrap();
                            let v = &entry[sl.rsplit('.').next().unwrap()];
                            (!v.is_null()).then(|| json!({"linkId": sl, "answer": [answer_of(s["type"].as_str().unwrap(), v)]}))
                        })
                        .collect();
                    items.push(json!({"linkId": link, "item": subs}));
                }
            } else if let Some(list) = value.as_array() {
                let codes: Vec<Value> = if list.is_empty() {
                    vec![json!("none")]
                } else {
                    list.clone()
                };
                items.push(json!({"linkId": link, "answer": codes.iter().map(|c| answer_of("choice", c)).collect::<Vec<_>>()}));
            } else {
                items.push(json!({"linkId": link, "answer": [answer_of(ty, value)]}));
            }
        }
        if !items.is_empty() {
            groups.push(json!({"linkId": section["linkId"], "item": items}));
        }
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("{}|{}", q["url"].as_str().unwrap(), q["version"].as_str().unwrap()),
        "status": "completed",
        "item": groups,
    })
}

async fn post_fhir(
    app: &TestApp,
    path: &str,
    body: &Value,
    accept_fhir: bool,
) -> reqwest::Response {
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

#[tokio::test]
async fn the_questionnaire_is_a_fhir_questionnaire_generated_from_the_same_data() {
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    save("Questionnaire", &q);
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["status"], "active");
    assert_eq!(q["version"], "1");
    let items = q["item"].as_array().unwrap();
    assert_eq!(items[1]["linkId"], "section-red_flags");
    assert_eq!(items[1]["type"], "group");
    let nrs = find(items, "pain.intensity_nrs").unwrap();
    assert_eq!(
        (nrs["type"].as_str(), nrs["required"].as_bool()),
        (Some("integer"), Some(true))
    );
    let ext: Vec<(&str, &Value)> = nrs["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["url"].as_str().unwrap(), &e["valueInteger"]))
        .collect();
    assert!(ext.contains(&(
        "http://hl7.org/fhir/StructureDefinition/minValue",
        &json!(0)
    )));
    assert!(ext.contains(&(
        "http://hl7.org/fhir/StructureDefinition/maxValue",
        &json!(10)
    )));
    let pt = find(items, "conservative_care.physical_therapy").unwrap();
    assert_eq!(pt["answerOption"].as_array().unwrap().len(), 4);
    let duration = find(items, "conservative_care.duration_months").unwrap();
    assert_eq!(duration["type"], "decimal");
    assert_eq!(duration["enableBehavior"], "any");
    assert_eq!(duration["enableWhen"].as_array().unwrap().len(), 9);
    let blocks = find(items, "diagnostic_blocks").unwrap();
    assert_eq!(
        (blocks["type"].as_str(), blocks["repeats"].as_bool()),
        (Some("group"), Some(true))
    );
    assert!(find(items, "diagnostic_blocks[].pain_relief_percent").is_some());
    assert_eq!(find(items, "imaging.modalities").unwrap()["repeats"], true);

    let found: Value = app
        .client
        .get(app.url(&format!(
            "/fhir/Questionnaire?url={}",
            q["url"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (found["resourceType"].as_str(), found["total"].as_i64()),
        (Some("Bundle"), Some(1))
    );
    assert_eq!(found["entry"][0]["resource"], q);
    save("Bundle-search", &found);
    let none: Value = app
        .client
        .get(app.url("/fhir/Questionnaire?url=https://elsewhere.example/Q"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);
    assert_eq!(
        app.client
            .get(app.url("/fhir/Questionnaire/other"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_questionnaire_response_gives_the_same_outcome_as_the_json_api_for_every_worked_case() {
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    let rules =
        facet_screen::rules::RuleSet::load(&facet_screen::rules::RuleFiles::embedded(), None)
            .unwrap();
    let mut n = 0;
    for case in cases().into_iter().filter(|c| c.profile.is_none()) {
        let response = response_to(&q, &case.answers);
        save(&format!("QuestionnaireResponse-{}", case.id), &response);
        let via_fhir: Value = post_fhir(&app, "/v1/evaluations/fhir", &response, false)
            .await
            .json()
            .await
            .unwrap();
        let via_json: Value = app.evaluate(&case.answers).await.json().await.unwrap();
        assert_eq!(via_fhir["outcome"], via_json["outcome"], "{}", case.id);
        assert_eq!(via_fhir["reasons"], via_json["reasons"], "{}", case.id);
        assert_eq!(via_fhir["missing"], via_json["missing"], "{}", case.id);
        assert_eq!(
            via_fhir["outcome"],
            json!(case.expected.outcome),
            "{}",
            case.id
        );
        // The same answers as our own export writes them (with texts and
        // displays): read back where the Questionnaire puts each item.
        let ours = facet_screen::fhir::response_from_answers(
            &rules,
            &case.answers,
            None,
            &case.id,
            "2026-01-01T00:00:00.000000Z",
        );
        let via_ours: Value = post_fhir(&app, "/v1/evaluations/fhir", &ours, false)
            .await
            .json()
            .await
            .unwrap();
        for part in ["outcome", "reasons", "missing"] {
            assert_eq!(via_ours[part], via_json[part], "{}: {part}", case.id);
        }
        n += 1;
    }
    assert!(n >= 27);
    // A screening too.
    let response = response_to(&q, &crate::helpers::case_answers("ideal-candidate"));
    let res = post_fhir(&app, "/v1/screenings/fhir", &response, false).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(
        created["answers"],
        crate::helpers::case_answers("ideal-candidate")
    );
}

#[tokio::test]
async fn a_bad_questionnaire_response_names_the_link_id_and_fhir_clients_get_an_operation_outcome()
{
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    let mut other = response_to(&q, &json!({}));
    other["questionnaire"] = json!("https://elsewhere.example/Questionnaire/phq9");
    let res = post_fhir(&app, "/v1/evaluations/fhir", &other, false).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "questionnaire");

    let mut bad = response_to(&q, &crate::helpers::case_answers("ideal-candidate"));
    bad["item"][0]["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "patient.shoe_size", "answer": [{"valueInteger": 42}]}));
    bad["item"][2]["item"][1] =
        json!({"linkId": "pain.duration_months", "answer": [{"valueString": "a year"}]});
    let res = post_fhir(&app, "/v1/evaluations/fhir", &bad, true).await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], FHIR);
    let outcome: Value = res.json().await.unwrap();
    save("OperationOutcome", &outcome);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let mut paths: Vec<&str> = outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expression"][0].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["pain.duration_months", "patient.shoe_size"]);
    assert!(
        outcome["issue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["severity"] == "error" && i["code"] == "invalid")
    );

    // An out-of-range answer is caught by the same validation as JSON.
    let mut range = response_to(&q, &json!({"pain": {"intensity_nrs": 7}}));
    range["item"][0]["item"][0]["answer"][0]["valueInteger"] = json!(11);
    let body: Value = post_fhir(&app, "/v1/evaluations/fhir", &range, false)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["errors"][0]["field"], "pain.intensity_nrs");
}

/// A response that answers `red_flags.significant_trauma` twice: true, then
/// false. Taking the last would silently drop a red flag.
pub fn answered_twice(q: &Value) -> Value {
    let mut answers = crate::helpers::case_answers("ideal-candidate");
    answers["red_flags"]["significant_trauma"] = json!(true);
    let mut qr = response_to(q, &answers);
    let red_flags = qr["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["linkId"] == "section-red_flags")
        .unwrap();
    red_flags["item"].as_array_mut().unwrap().push(
        json!({"linkId": "red_flags.significant_trauma", "answer": [{"valueBoolean": false}]}),
    );
    qr
}

async fn send_fhir(app: &TestApp, method: reqwest::Method, path: &str, body: &Value) -> Value {
    let res = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.keys.intake)
        .header("content-type", FHIR)
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "{path}");
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["red_flags.significant_trauma"], "{path}: {body}");
    body
}

#[tokio::test]
async fn a_question_answered_twice_is_refused_wherever_a_response_enters() {
    let app = spawn_app().await;
    let q = questionnaire(&app).await;
    let twice = answered_twice(&q);
    let body = send_fhir(&app, reqwest::Method::POST, "/v1/evaluations/fhir", &twice).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{body}"
    );
    send_fhir(&app, reqwest::Method::POST, "/v1/screenings/fhir", &twice).await;
    let created = app
        .create_screening(&crate::helpers::case_answers("ideal-candidate"))
        .await;
    let id = created["id"].as_str().unwrap();
    send_fhir(
        &app,
        reqwest::Method::PUT,
        &format!("/v1/screenings/{id}/answers/fhir"),
        &twice,
    )
    .await;
    // Nothing was stored by the refused creation, and the correction left
    // the screening as it was.
    let list: Value = app.get("/v1/screenings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let record: Value = app
        .get(&format!("/v1/screenings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["answers_version"], 1);

    // Two answers inside one item of a question that takes one.
    let mut two = response_to(&q, &crate::helpers::case_answers("ideal-candidate"));
    for group in two["item"].as_array_mut().unwrap() {
        for item in group["item"].as_array_mut().into_iter().flatten() {
            if item["linkId"] == "red_flags.significant_trauma" {
                item["answer"] = json!([{"valueBoolean": true}, {"valueBoolean": false}]);
            }
        }
    }
    let body = send_fhir(&app, reqwest::Method::POST, "/v1/evaluations/fhir", &two).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("several answers"),
        "{body}"
    );

    // A field answered twice inside one listed block.
    let mut block = response_to(&q, &crate::helpers::case_answers("ideal-candidate"));
    let blocks = block["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["linkId"] == "section-diagnostic_blocks")
        .unwrap();
    blocks["item"][0]["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "linkId": "diagnostic_blocks[].pain_relief_percent",
            "answer": [{"valueInteger": 10}]
        }));
    let res = post_fhir(&app, "/v1/evaluations/fhir", &block, false).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["field"], "diagnostic_blocks[].pain_relief_percent",
        "{body}"
    );
}
