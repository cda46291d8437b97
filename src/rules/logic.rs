//! Three-valued (Kleene) logic: an unanswered question is unknown, never false.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl std::ops::Not for Truth {
    type Output = Truth;

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl Truth {
    pub fn from_bool(b: bool) -> Self {
        if b { Truth::True } else { Truth::False }
    }

    /// Kleene conjunction: false wins, then unknown.
    pub fn and(self, other: Self) -> Self {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    pub fn or(self, other: Self) -> Self {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    pub fn all(items: impl IntoIterator<Item = Truth>) -> Self {
        items.into_iter().fold(Truth::True, Truth::and)
    }

    pub fn any(items: impl IntoIterator<Item = Truth>) -> Self {
        items.into_iter().fold(Truth::False, Truth::or)
    }
}

#[cfg(test)]
mod tests {
    use super::Truth::{self, False as F, True as T, Unknown as U};

    #[test]
    fn kleene_truth_tables() {
        let and = [
            (T, T, T),
            (T, F, F),
            (T, U, U),
            (F, F, F),
            (F, U, F),
            (U, U, U),
        ];
        for (a, b, want) in and {
            assert_eq!(a.and(b), want, "{a:?} and {b:?}");
            assert_eq!(b.and(a), want, "{b:?} and {a:?}");
        }
        let or = [
            (T, T, T),
            (T, F, T),
            (T, U, T),
            (F, F, F),
            (F, U, U),
            (U, U, U),
        ];
        for (a, b, want) in or {
            assert_eq!(a.or(b), want, "{a:?} or {b:?}");
            assert_eq!(b.or(a), want, "{b:?} or {a:?}");
        }
        assert_eq!(!U, U);
        assert_eq!(!T, F);
        assert_eq!(!F, T);
    }

    #[test]
    fn empty_all_is_true_and_empty_any_is_false() {
        assert_eq!(Truth::all([]), T);
        assert_eq!(Truth::any([]), F);
        assert_eq!(Truth::all([T, U, T]), U);
        assert_eq!(Truth::any([F, U, F]), U);
    }
}
