use serde_json::Value;

use crate::helpers::{repo, spawn_app};

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = facet_screen::http::openapi::committed_document().unwrap();
    let path = repo().join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[tokio::test]
async fn the_document_is_served_and_describes_every_route() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/evaluations",
        "/v1/questionnaire",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["cdsJwt"]["bearerFormat"],
        "JWT"
    );
    // The document declares a credential exactly where the server asks for
    // one: each operation is called without any, and answers 401 or not.
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = app.url(&path.replace("{id}", &uuid::Uuid::new_v4().to_string()));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app.client.request(method.clone(), url);
            if op.get("requestBody").is_some() {
                req = req.json(&serde_json::json!({}));
            }
            let status = req.send().await.unwrap().status();
            let security = op["security"].as_array().filter(|s| !s.is_empty());
            assert_eq!(
                security.is_some(),
                status == 401,
                "{method} {path}: answered {status} without a credential"
            );
            let Some(security) = security else { continue };
            let scheme = security[0].as_object().unwrap().keys().next().unwrap();
            if path.starts_with("/cds-services/") {
                // A CDS client signs a JWT; roles and key rate limits are
                // not theirs.
                assert_eq!(scheme, "cdsJwt", "{method} {path}");
                assert!(op["responses"]["403"].is_null(), "{method} {path}");
            } else {
                assert_eq!(scheme, "bearer", "{method} {path}");
                for status in ["401", "403", "429"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} documents {status}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked} operations with a credential");
    // Which operations ask for which credential, pinned by name: a route
    // that gains or loses its security by accident (in its handler and its
    // `#[utoipa::path]` alike, which the check above cannot see) fails here.
    let mut by_scheme: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let scheme = op["security"]
                .as_array()
                .and_then(|s| s.first())
                .and_then(|r| r.as_object()?.keys().next().cloned())
                .unwrap_or_else(|| "none".into());
            let id = op["operationId"].as_str().unwrap().to_string();
            by_scheme.entry(scheme).or_default().push(id);
        }
    }
    for ids in by_scheme.values_mut() {
        ids.sort();
    }
    assert_eq!(
        by_scheme["none"],
        [
            "cdsDiscovery",
            "getHealth",
            "getQuestionnaire",
            "getReadiness",
            "getSources",
            "readFhirQuestionnaire",
            "searchFhirQuestionnaires",
        ],
        "the public operations"
    );
    assert_eq!(by_scheme["cdsJwt"], ["cdsFeedback", "cdsScreen"]);
    assert_eq!(by_scheme.len(), 3, "{by_scheme:?}");
    assert!(by_scheme["bearer"].len() >= 13, "{by_scheme:?}");
    let schemas = &doc["components"]["schemas"];
    let answers = &schemas["Answers"];
    assert_eq!(answers["additionalProperties"], false);
    assert_eq!(
        answers["properties"]["pain"]["anyOf"][0]["$ref"],
        "#/components/schemas/PainAnswers"
    );
    assert_eq!(
        schemas["PainAnswers"]["properties"]["intensity_nrs"]["maximum"],
        10
    );
    // An option list is one named enum; unknown is null beside it, never in it.
    let care = &schemas["ConservativeCareAnswers"]["properties"];
    for q in ["physical_therapy", "medications", "steroid_injections"] {
        assert_eq!(
            care[q]["anyOf"],
            serde_json::json!([{"$ref": "#/components/schemas/ConservativeCareChoice"}, {"type": "null"}]),
            "{q}"
        );
    }
    // What generated clients need: one name per operation, words for every
    // answer.
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                ids.insert(id.to_string()),
                "{method} {path}: operationId {id:?} again"
            );
            // One content type per body: openapi-python-client (0.29, its
            // issue #1451) writes a client that fails on import for a
            // required body with two. FHIR has operations of its own.
            if let Some(content) = op["requestBody"]["content"].as_object() {
                assert_eq!(
                    content.len(),
                    1,
                    "{method} {path} takes {:?}",
                    content.keys().collect::<Vec<_>>()
                );
            }
            for (status, res) in op["responses"].as_object().unwrap() {
                assert!(
                    res["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
    let examples = &doc["paths"]["/v1/evaluations"]["post"]["responses"]["200"]["content"]["application/json"]
        ["examples"];
    assert_eq!(
        examples["ideal-candidate"]["value"]["outcome"],
        "likely_candidate"
    );
    assert_eq!(
        examples["cauda-equina"]["value"]["outcome"],
        "urgent_evaluation"
    );
}

#[tokio::test]
async fn interactive_docs_are_served_from_the_binary() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    // Every asset the page loads comes from this server.
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let res = app
            .client
            .get(app.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("unpkg.com") && !body.contains("jsdelivr"),
            "{asset} loads nothing from a CDN"
        );
    }
}
