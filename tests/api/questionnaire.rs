use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_form_can_be_rendered_from_the_questionnaire_alone() {
    let app = spawn_app().await;
    let q: Value = app
        .client
        .get(app.url("/v1/questionnaire"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["version"], "1");
    let sections = q["sections"].as_array().unwrap();
    let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids[..2],
        ["patient", "red_flags"],
        "red flags are asked early"
    );
    assert_eq!(sections[1]["emphasis"], "alert");
    let items: Vec<&Value> = sections
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .collect();
    let list_fields: usize = items
        .iter()
        .filter_map(|i| i["fields"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(
        (items.len(), list_fields),
        (35, 3),
        "the contract's 38 answers"
    );
    let item = |id: &str| *items.iter().find(|i| i["id"] == id).unwrap();

    let nrs = item("pain.intensity_nrs");
    assert_eq!(
        (
            nrs["type"].as_str(),
            nrs["min"].as_i64(),
            nrs["max"].as_i64()
        ),
        (Some("integer"), Some(0), Some(10))
    );
    assert_eq!(nrs["required"], true);
    let pt = item("conservative_care.physical_therapy");
    let options: Vec<&str> = pt["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        ["not_tried", "improved", "not_improved", "not_tolerated"]
    );
    assert_eq!(item("readiness.bmi")["unit"], "kg/m²");
    assert_eq!(item("readiness.bmi")["required"], false);
    assert!(item("conservative_care.duration_months")["show_when"]["any"].is_array());
    let blocks = item("diagnostic_blocks");
    assert_eq!(
        (blocks["type"].as_str(), blocks["max_items"].as_i64()),
        (Some("list"), Some(4))
    );
    assert_eq!(blocks["fields"].as_array().unwrap().len(), 3);
    assert_eq!(blocks["fields"][1]["required"], true);
}
