//! The one rule for a name people read on the record (a clinician's name on
//! a review, a key's label): every character in it is shown as itself.
//! Letters of any script, punctuation, symbols and the joiners and variation
//! selectors some scripts and emoji need are; what is not shown, or changes
//! how the rest is shown, is refused.

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

/// A default-ignorable character (Unicode's Default_Ignorable_Code_Point):
/// shown as nothing at all, so that "Dr. O\u{200b}kafor" reads as "Dr.
/// Okafor" and is another name. The soft hyphen, the combining grapheme
/// joiner, the Arabic letter mark, the Hangul fillers, the Khmer inherent
/// vowels, the Mongolian variation selectors and vowel separator, the
/// zero-width space, joiners and directional marks, the word joiner and the
/// invisible operators, the variation selectors, the byte order mark, the
/// shorthand and musical format controls, the tags, and the code points
/// kept for more of them.
fn ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// A symbol or pictograph (not a letter, digit or space, not ASCII), which
/// a presentation selector may follow: U+2695 U+FE0F is the emoji ⚕️.
fn symbol(c: char) -> bool {
    !c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !ignorable(c)
}

/// A Han ideograph, which an ideographic variation selector may follow.
fn han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{3ffff}')
}

/// Whether ignorable `c`, between `before` and `after`, is one a script
/// needs where it stands: a joiner (U+200C, U+200D) anywhere but between
/// two ASCII characters (Persian, the Indic scripts and emoji sequences use
/// them; between Latin letters one only hides); a presentation selector
/// after a symbol; a variation selector after a Han ideograph (a name's
/// kanji variant) or a symbol; a Mongolian variation selector after a
/// Mongolian letter. Every other ignorable character is refused.
fn needed(c: char, before: Option<char>, after: Option<char>) -> bool {
    let ascii = |x: Option<char>| x.is_none_or(|x| x.is_ascii());
    match c {
        '\u{200c}' | '\u{200d}' => !(ascii(before) && ascii(after)),
        '\u{fe0e}' | '\u{fe0f}' => before.is_some_and(symbol),
        '\u{fe00}'..='\u{fe0d}' | '\u{e0100}'..='\u{e01ef}' => {
            before.is_some_and(|b| han(b) || symbol(b))
        }
        '\u{180b}'..='\u{180d}' | '\u{180f}' => {
            before.is_some_and(|b| ('\u{1820}'..='\u{18aa}').contains(&b))
        }
        _ => false,
    }
}

/// Every character of `text` is shown as itself.
pub fn printable(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().all(|(i, &c)| {
        let before = i.checked_sub(1).map(|j| chars[j]);
        !hidden(c) && (!ignorable(c) || needed(c, before, chars.get(i + 1).copied()))
    })
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

    #[test]
    fn invisible_characters_are_refused_where_no_script_needs_them() {
        // Each default-ignorable range, at its first and last character.
        for c in [
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{1160}',
            '\u{17b4}',
            '\u{17b5}',
            '\u{180b}',
            '\u{180e}',
            '\u{180f}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2060}',
            '\u{2064}',
            '\u{206f}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{fff0}',
            '\u{fff8}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e0100}',
            '\u{e0fff}',
        ] {
            assert!(
                !printable(&format!("Dr. O{c}kafor")),
                "{c:?} between Latin letters"
            );
            assert!(!printable(&format!("{c}Okafor")), "{c:?} first");
            assert!(!printable(&format!("Okafor{c}")), "{c:?} last");
        }
        // Where a script needs them: a Persian name's non-joiner, a
        // Malayalam chillu written with a joiner before a space, an emoji
        // sequence, a kanji's variant, a Mongolian letter's variant.
        for name in [
            "\u{645}\u{647}\u{200c}\u{633}\u{627}",
            "\u{d05}\u{d30}\u{d41}\u{d23}\u{d4d}\u{200d} K",
            "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
            "\u{845b}\u{e0100}\u{57ce}",
            "\u{1820}\u{180b}\u{1822}",
        ] {
            assert!(printable(name), "{name:?}");
        }
        // The same selectors after what they cannot change.
        for name in [
            "O\u{fe0f}kafor",
            "\u{d6}\u{e0100}kafor",
            "a\u{180b}b",
            "\u{200d}",
        ] {
            assert!(!printable(name), "{name:?}");
        }
    }
}
