//! Which version of a screening a client read, and which it expects to
//! change: the screening's entity tag (`ETag`) and the `If-Match` condition
//! of a review or a correction (RFC 9110, sections 8.8.3 and 13.1.1).
//!
//! The tag is strong and changes whenever what a client reads of the
//! screening changes: `"3"` for answers version 3 pending review, and
//! `"3-reviewed"` once a clinician has reviewed it. Clients treat it as
//! opaque: they send back what they were given.

use super::record::{Screening, Status};

/// What a screening's representation is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub answers: i64,
    pub reviewed: bool,
}

impl Version {
    pub fn of(screening: &Screening) -> Version {
        Version {
            answers: screening.answers_version,
            reviewed: screening.status != Status::PendingReview,
        }
    }

    /// The tag between its quotes.
    fn opaque(self) -> String {
        if self.reviewed {
            format!("{}-reviewed", self.answers)
        } else {
            self.answers.to_string()
        }
    }

    /// The `ETag` header's value: a strong tag, quotes included.
    pub fn etag(self) -> String {
        format!("\"{}\"", self.opaque())
    }
}

/// An `If-Match` condition: `*` (any current version), or a list of tags,
/// one of which must be the screening's own by strong comparison: a weak
/// tag (`W/"3"`) never matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    /// The strong tags listed, each without its quotes; the weak ones are
    /// dropped, since they cannot match.
    Tags(Vec<String>),
}

/// `If-Match` does not follow the grammar: `*`, or a comma-separated list
/// of entity tags such as `"3"` (quotes included) or `W/"3"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedIfMatch;

impl IfMatch {
    /// The condition of every `If-Match` field of a request (several fields
    /// are one list, as HTTP says); `None` when there is none. Strict: a
    /// field that does not follow the grammar is refused, never read as a
    /// tag that cannot match (which would answer "changed" for a typo).
    pub fn parse<'a>(
        fields: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Option<IfMatch>, MalformedIfMatch> {
        let mut any = false;
        let mut fields_seen = 0;
        let mut elements = 0;
        let mut tags = Vec::new();
        for field in fields {
            fields_seen += 1;
            let field = field.trim_ascii();
            if field == b"*" {
                any = true;
                elements += 1;
                continue;
            }
            elements += parse_list(field, &mut tags)?;
        }
        match (fields_seen, any) {
            (0, _) => Ok(None),
            // `*` stands alone, and a list holds at least one tag.
            (1, true) => Ok(Some(IfMatch::Any)),
            (_, true) => Err(MalformedIfMatch),
            (_, false) if elements == 0 => Err(MalformedIfMatch),
            (_, false) => Ok(Some(IfMatch::Tags(tags))),
        }
    }

    /// Whether a screening at `version` meets the condition.
    pub fn matches(&self, version: Version) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.contains(&version.opaque()),
        }
    }
}

/// The entity tags of one field (`#entity-tag`: empty elements allowed),
/// the strong ones pushed on `tags`; how many tags it held.
fn parse_list(field: &[u8], tags: &mut Vec<String>) -> Result<usize, MalformedIfMatch> {
    let mut rest = field;
    let mut count = 0;
    loop {
        rest = rest.trim_ascii_start();
        if let Some(after) = rest.strip_prefix(b",") {
            rest = after;
            continue;
        }
        if rest.is_empty() {
            return Ok(count);
        }
        let (weak, quoted) = match rest.strip_prefix(b"W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let body = quoted.strip_prefix(b"\"").ok_or(MalformedIfMatch)?;
        let end = body
            .iter()
            .position(|&b| b == b'"')
            .ok_or(MalformedIfMatch)?;
        let opaque = &body[..end];
        // etagc: visible ASCII but the double quote, or obs-text.
        if !opaque
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return Err(MalformedIfMatch);
        }
        if !weak {
            tags.push(String::from_utf8_lossy(opaque).into_owned());
        }
        count += 1;
        rest = body[end + 1..].trim_ascii_start();
        match rest.first() {
            None | Some(b',') => {}
            Some(_) => return Err(MalformedIfMatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fields: &[&str]) -> Result<Option<IfMatch>, MalformedIfMatch> {
        IfMatch::parse(fields.iter().map(|f| f.as_bytes()))
    }

    fn tags(list: &[&str]) -> Option<IfMatch> {
        Some(IfMatch::Tags(list.iter().map(|t| t.to_string()).collect()))
    }

    const PENDING_3: Version = Version {
        answers: 3,
        reviewed: false,
    };

    #[test]
    fn the_tag_changes_with_the_answers_and_with_the_review() {
        assert_eq!(PENDING_3.etag(), "\"3\"");
        let reviewed = Version {
            reviewed: true,
            ..PENDING_3
        };
        assert_eq!(reviewed.etag(), "\"3-reviewed\"");
        let next = Version {
            answers: 4,
            ..PENDING_3
        };
        assert_ne!(next.etag(), PENDING_3.etag());
    }

    #[test]
    fn lists_star_and_several_fields_read_as_http_says() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["*"]), Ok(Some(IfMatch::Any)));
        assert_eq!(parse(&[" * "]), Ok(Some(IfMatch::Any)));
        assert_eq!(parse(&["\"3\""]), Ok(tags(&["3"])));
        assert_eq!(parse(&["\"1\", \"3\""]), Ok(tags(&["1", "3"])));
        assert_eq!(parse(&["\"1\",\"3\" ,"]), Ok(tags(&["1", "3"])));
        assert_eq!(parse(&[", \"1\""]), Ok(tags(&["1"])));
        assert_eq!(parse(&["\"1\"", "\"3\""]), Ok(tags(&["1", "3"])));
        // A comma inside a tag is part of it.
        assert_eq!(parse(&["\"a,b\""]), Ok(tags(&["a,b"])));
        assert_eq!(parse(&["\"\""]), Ok(tags(&[""])));
        // Weak tags are well formed, and dropped: they never match.
        assert_eq!(parse(&["W/\"3\""]), Ok(tags(&[])));
        assert_eq!(parse(&["W/\"3\", \"4\""]), Ok(tags(&["4"])));
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "",
            " ",
            ",",
            "3",
            "'3'",
            "\"3",
            "3\"",
            "\"3\" \"4\"",
            "\"3\"x",
            "w/\"3\"",
            "W/3",
            "W/ \"3\"",
            "*, \"3\"",
            "**",
            "\"a b\"",
        ] {
            assert_eq!(parse(&[bad]), Err(MalformedIfMatch), "{bad:?}");
        }
        assert_eq!(parse(&["*", "\"3\""]), Err(MalformedIfMatch));
        assert_eq!(parse(&["*", "*"]), Err(MalformedIfMatch));
        assert_eq!(parse(&["\"3\"", ""]), Ok(tags(&["3"])));
    }

    #[test]
    fn matching_is_strong_and_exact() {
        let m = |fields: &[&str], v: Version| parse(fields).unwrap().unwrap().matches(v);
        assert!(m(&["\"3\""], PENDING_3));
        assert!(m(&["\"9\", \"3\""], PENDING_3));
        assert!(m(&["*"], PENDING_3));
        assert!(!m(&["W/\"3\""], PENDING_3));
        assert!(!m(&["\"03\""], PENDING_3));
        let reviewed = Version {
            reviewed: true,
            ..PENDING_3
        };
        assert!(!m(&["\"3\""], reviewed));
        assert!(m(&["\"3-reviewed\""], reviewed));
    }
}
