//! Names people read on the record: a clinician's name on a review, a key's
//! label. Both are refused, by field, in plain words and never echoed, when
//! they hold a character that is not shown as itself (a control character,
//! a line break, a bidirectional override, an invisible character); both
//! by the same one check.

use serde_json::{Value, json};

use crate::helpers::{case_answers, spawn_app};

/// Characters that are not shown as themselves: controls (C0, DEL, C1),
/// line and paragraph separators, and the bidirectional overrides and
/// isolates that reorder what follows them.
const HIDDEN: [char; 12] = [
    '\u{0}', '\u{7}', '\t', '\n', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{202a}', '\u{2066}',
    '\u{2028}', '\u{2029}',
];

/// A name with `c` inside it (not at either end, where it might be trimmed).
fn hiding(c: char) -> String {
    format!("dr-SECRET{c}someone-else")
}

#[tokio::test]
async fn a_clinician_name_that_hides_characters_is_refused_by_name_and_never_echoed() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/screenings/{id}/review");
    for name in HIDDEN.map(hiding) {
        let res = app
            .post_as(
                &app.keys.clinician,
                &path,
                &json!({"decision": "confirm", "clinician": name}),
            )
            .await;
        assert_eq!(res.status(), 422, "{name:?}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{name:?}"
        );
        let text = res.text().await.unwrap();
        assert!(!text.contains("SECRET"), "{name:?} echoed: {text}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["clinician"], "{name:?}: {text}");
    }
    // Nothing was recorded: still pending, no review on the history.
    let record: Value = app
        .get(&format!("/v1/screenings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "pending_review");
    let history: Value = app
        .get(&format!("/v1/screenings/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        history["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] != "reviewed"),
        "{history}"
    );

    // Names in any script are taken as written (trimmed), joiners included.
    let name = "Dr. Zoë O’Brien-Nuñez \u{645}\u{647}\u{200c}\u{633}\u{627}";
    let res = app
        .post_as(
            &app.keys.clinician,
            &path,
            &json!({"decision": "confirm", "clinician": format!("  {name} ")}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let reviewed: Value = res.json().await.unwrap();
    assert_eq!(reviewed["review"]["clinician"], name);
}

#[tokio::test]
async fn a_key_label_is_held_to_the_same_rule_as_a_clinician_name() {
    let app = spawn_app().await;
    for label in HIDDEN.map(hiding) {
        let res = app
            .post_as(
                &app.keys.admin,
                "/v1/keys",
                &json!({"role": "intake", "label": label}),
            )
            .await;
        assert_eq!(res.status(), 422, "{label:?}");
        let text = res.text().await.unwrap();
        assert!(!text.contains("SECRET"), "{label:?} echoed: {text}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["errors"][0]["field"], "label", "{text}");
        assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{text}");
    }
}
#[tokio::test]
async fn review_reasons_read_in_us_english_and_keep_their_codes() {
    let app = spawn_app().await;
    // The review page's words.
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#""clinical_judgement":"Clinical judgment""#),
        "the review page's reasons"
    );
    assert!(!page.contains("Clinical judgement"));
    // An override with the code clinics integrate against is still taken.
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post_as(
            &app.keys.clinician,
            &format!("/v1/screenings/{id}/review"),
            &json!({"decision": "override", "final_outcome": "not_yet_eligible",
                "reason": {"code": "clinical_judgement"}, "clinician": "dr-okafor"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let reviewed: Value = res.json().await.unwrap();
    assert_eq!(reviewed["review"]["reason"]["code"], "clinical_judgement");
}

/// Characters no one sees and no script needs in a name, each of which
/// makes one name look like another ("Dr. O\u{200b}kafor" reads as "Dr.
/// Okafor"): a zero-width space, the word joiner, the byte order mark, a
/// soft hyphen, the Mongolian vowel separator, and other default-ignorable
/// characters (a combining grapheme joiner, Hangul fillers, the Arabic
/// letter mark and the left-to-right mark, an invisible operator, a tag).
const INVISIBLE: [char; 13] = [
    '\u{200b}',
    '\u{2060}',
    '\u{feff}',
    '\u{ad}',
    '\u{180e}',
    '\u{34f}',
    '\u{115f}',
    '\u{3164}',
    '\u{ffa0}',
    '\u{61c}',
    '\u{200e}',
    '\u{2062}',
    '\u{e0041}',
];

/// What a refused name is told, in the words of the person who typed it.
const PLAIN: &str =
    "Type the name with letters, spaces and punctuation only: it holds a hidden character";

#[tokio::test]
async fn a_name_with_an_invisible_character_is_refused_in_plain_words() {
    let app = spawn_app().await;
    let id = app.create_screening(&case_answers("ideal-candidate")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/screenings/{id}/review");
    for c in INVISIBLE.into_iter().chain(['\n', '\u{202e}']) {
        let name = hiding(c);
        let res = app
            .post_as(
                &app.keys.clinician,
                &path,
                &json!({"decision": "confirm", "clinician": name}),
            )
            .await;
        assert_eq!(res.status(), 422, "{c:?}");
        let text = res.text().await.unwrap();
        assert!(!text.contains("SECRET"), "{c:?} echoed: {text}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["errors"][0]["field"], "clinician", "{c:?}: {text}");
        assert_eq!(problem["errors"][0]["message"], PLAIN, "{c:?}: {text}");
        // A key's label follows the same rule.
        let res = app
            .post_as(
                &app.keys.admin,
                "/v1/keys",
                &json!({"role": "intake", "label": name}),
            )
            .await;
        assert_eq!(res.status(), 422, "label {c:?}");
    }
    // The joiners and variation selectors scripts and emoji need are taken:
    // a Persian name with a zero-width non-joiner, a kanji with its
    // ideographic variation selector, an emoji joined with U+200D.
    let name =
        "\u{645}\u{647}\u{200c}\u{633}\u{627} \u{845b}\u{e0100} \u{1f469}\u{200d}\u{2695}\u{fe0f}";
    let res = app
        .post_as(
            &app.keys.clinician,
            &path,
            &json!({"decision": "confirm", "clinician": name}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let reviewed: Value = res.json().await.unwrap();
    assert_eq!(reviewed["review"]["clinician"], name);
}
