//! The intake form and the review page: static files built into the binary,
//! so the pages work on a closed network. They use the public API like any
//! clinic's client.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use strum::VariantArray as _;

use super::AppState;
use crate::rules::Outcome;
use crate::screening::review::ReasonCode;

fn file(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// The page, with the words the scripts show for codes (outcome labels from
/// the rule set, review reasons from the record) as a JSON data island: one
/// source for each, never copied into the scripts.
pub async fn index(State(app): State<AppState>) -> Response {
    let rules = app.rules.current();
    let outcomes: Map<String, Value> = Outcome::ALL
        .iter()
        .map(|o| (o.as_str().into(), json!(rules.outcome_text(*o).label)))
        .collect();
    let reasons: Map<String, Value> = ReasonCode::VARIANTS
        .iter()
        .map(|r| (r.as_str().into(), json!(r.label())))
        .collect();
    let words = json!({"outcomes": outcomes, "review_reasons": reasons})
        .to_string()
        .replace('<', "\\u003c");
    let page = include_str!("ui/index.html").replace("{{WORDS}}", &words);
    file("text/html; charset=utf-8", page)
}

/// The scripts (ES modules, as written: no build step) and the style sheet.
const ASSETS: &[(&str, &str)] = &[
    ("answers.js", include_str!("ui/answers.js")),
    ("app.js", include_str!("ui/app.js")),
    ("api.js", include_str!("ui/api.js")),
    ("changed.js", include_str!("ui/changed.js")),
    ("conditions.js", include_str!("ui/conditions.js")),
    ("corrections.js", include_str!("ui/corrections.js")),
    ("dom.js", include_str!("ui/dom.js")),
    ("drafts.js", include_str!("ui/drafts.js")),
    ("form.js", include_str!("ui/form.js")),
    ("form-changed.js", include_str!("ui/form-changed.js")),
    ("form-checks.js", include_str!("ui/form-checks.js")),
    ("form-controls.js", include_str!("ui/form-controls.js")),
    ("form-decided.js", include_str!("ui/form-decided.js")),
    ("form-draft.js", include_str!("ui/form-draft.js")),
    ("form-merge.js", include_str!("ui/form-merge.js")),
    ("form-result.js", include_str!("ui/form-result.js")),
    ("form-state.js", include_str!("ui/form-state.js")),
    ("form-submit.js", include_str!("ui/form-submit.js")),
    ("form-values.js", include_str!("ui/form-values.js")),
    ("keys.js", include_str!("ui/keys.js")),
    ("queue.js", include_str!("ui/queue.js")),
    ("results.js", include_str!("ui/results.js")),
    ("review.js", include_str!("ui/review.js")),
    ("state.js", include_str!("ui/state.js")),
    ("stats.js", include_str!("ui/stats.js")),
    ("unsaved.js", include_str!("ui/unsaved.js")),
    ("words.js", include_str!("ui/words.js")),
    ("style.css", include_str!("ui/style.css")),
];

pub async fn asset(Path(name): Path<String>) -> Result<Response, super::problem::ApiError> {
    let (name, body) = ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or(super::problem::ApiError::NotFound("file"))?;
    let content_type = if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    Ok(file(content_type, *body))
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// Every module a script imports is served: one left out of ASSETS
    /// would be a 404 and a page that never starts.
    #[test]
    fn every_imported_module_is_served() {
        for (name, body) in ASSETS {
            for part in body.split(" from \"./").skip(1) {
                let imported = &part[..part.find('"').unwrap()];
                assert!(
                    ASSETS.iter().any(|(n, _)| *n == imported),
                    "{name} imports {imported}, which is not served"
                );
            }
        }
    }
}
