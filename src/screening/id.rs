//! The identifiers a screening is known and kept by: its id, its clinic,
//! and the idempotency key of the request that created it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A screening's id: a random UUID (v7: time-ordered, not guessable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScreeningId(Uuid);

impl ScreeningId {
    pub fn new() -> Self {
        ScreeningId(Uuid::now_v7())
    }

    /// `None` for anything that is not a UUID.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(ScreeningId)
    }
}

impl Default for ScreeningId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for ScreeningId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A clinic's slug: 1 to 64 of a-z, 0-9 and `-`. Every screening and every
/// key belongs to one; nothing is ever read across clinics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Clinic(String);

impl Clinic {
    pub fn parse(s: &str) -> Result<Clinic, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Clinic(s.to_string()))
            .ok_or_else(|| "a clinic is 1 to 64 characters of a-z, 0-9 and -".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Clinic {
    type Error = String;
    fn try_from(s: String) -> Result<Clinic, String> {
        Clinic::parse(&s)
    }
}

impl From<Clinic> for String {
    fn from(c: Clinic) -> String {
        c.0
    }
}

impl std::fmt::Display for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

/// A client's `Idempotency-Key`: 1 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| IdempotencyKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("a-b_c.1").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("with space").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_none());
    }
}
