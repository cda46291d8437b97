//! A text of an evaluation, shared with the rule set that holds it: the rule
//! set's words are copied into no evaluation, and escaped for JSON once,
//! when the rule set loads, rather than on every response.
//!
//! Measured on `POST /v1/evaluations` (ideal candidate, 2 KB answered):
//! escaping the rule set's texts again for each response was the largest
//! single cost of the request in the process (about 20,000 of 127,000
//! instructions, `serde_json::ser::format_escaped_str`), and copying them
//! into each evaluation came next.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A text of an evaluation. Written as a JSON string whatever its origin;
/// equal to another with the same characters.
///
/// For serde_json only: a shared text is written as a serde_json raw
/// value, which serde_json (`to_string`, `to_vec`, `to_writer`, `to_value`)
/// writes as the string; any other serializer would see serde_json's
/// private raw-value struct instead. Evaluations are only ever written as
/// JSON; a new format would write `as_str()`.
#[derive(Clone, Default)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// One of the rule set's texts, with its JSON form (quoted, escaped).
    Shared(Arc<Escaped>),
    /// Made for one evaluation (a count filled in, an entry's path), or
    /// read back from storage.
    Owned(String),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Owned(String::new())
    }
}

struct Escaped {
    text: Box<str>,
    json: Box<RawValue>,
}

impl Text {
    /// A text to be shared by many evaluations: escaped now, once.
    // PANIC SAFETY: a `&str` always serializes, to a JSON string.
    #[allow(clippy::expect_used)]
    pub fn shared(text: &str) -> Text {
        let json = serde_json::to_string(text).expect("a string always serializes");
        let json = RawValue::from_string(json).expect("a serialized string is JSON");
        Text(Repr::Shared(Arc::new(Escaped {
            text: text.into(),
            json,
        })))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Shared(s) => &s.text,
            Repr::Owned(s) => s,
        }
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            // serde_json writes a raw value as it is: the string, quoted
            // and escaped when it was made (`to_value` parses it back).
            Repr::Shared(shared) => shared.json.serialize(s),
            Repr::Owned(text) => s.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(Repr::Owned(text))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(Repr::Owned(text.to_string()))
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: &str =
        "a \"quoted\" word, a back\\slash, a tab\t, a line\nbreak, \u{1} and é → ✓";

    #[test]
    fn shared_and_owned_texts_are_written_alike() {
        let (shared, owned) = (Text::shared(AWKWARD), Text::from(AWKWARD));
        let plain = serde_json::to_string(AWKWARD).unwrap();
        assert_eq!(serde_json::to_string(&shared).unwrap(), plain);
        assert_eq!(serde_json::to_string(&owned).unwrap(), plain);
        assert_eq!(
            serde_json::to_string_pretty(&[&shared]).unwrap(),
            serde_json::to_string_pretty(&[AWKWARD]).unwrap()
        );
        assert_eq!(shared, owned);
        assert_eq!(shared.as_str(), AWKWARD);
    }

    #[test]
    fn a_shared_text_becomes_a_json_string_value_and_reads_back() {
        let shared = Text::shared(AWKWARD);
        assert_eq!(
            serde_json::to_value(&shared).unwrap(),
            serde_json::Value::String(AWKWARD.into())
        );
        let back: Text = serde_json::from_str(&serde_json::to_string(&shared).unwrap()).unwrap();
        assert_eq!(back, shared);
    }
}
