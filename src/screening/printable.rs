//! The one rule for a name people read on the record (a clinician's name on
//! a review, a key's label): every character in it is shown as itself.
//! Letters of any script, punctuation, symbols and the joiners some scripts
//! and emoji need are; what is not shown, or changes how the rest is shown,
//! is refused.

/// A character that is not shown as itself: a control character (C0, DEL,
/// C1: a tab, a line feed, a terminal escape), a line or paragraph
/// separator, or a bidirectional embedding, override or isolate, which
/// reorders the text after it (U+202E shows "dr-a\u{202e}fed" as "dr-adef").
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Every character of `text` is shown as itself.
pub fn printable(text: &str) -> bool {
    !text.chars().any(hidden)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn names_in_any_script_pass_and_hidden_characters_do_not() {
        for name in [
            "dr-okafor",
            "Dr. Zoë O’Brien-Nuñez",
            "\u{645}\u{647}\u{200c}\u{633}\u{627}",
            "Front desk \u{1f469}\u{200d}\u{2695}\u{fe0f}",
        ] {
            assert!(printable(name), "{name:?}");
        }
        for c in [
            '\0', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{2029}',
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            assert!(!printable(&format!("dr{c}a")), "{c:?}");
        }
    }
}
