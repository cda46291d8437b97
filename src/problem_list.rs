//! Problems found in a rule set's files, reported the way a compiler would:
//! file, the item or rule they are in, the path inside it, and what is wrong.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// The item or rule the problem is in (`rule CHRONIC_PAIN`), if any.
    pub at: Option<String>,
    /// Where inside it (`when.any[1].field`), if known.
    pub path: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn in_file(file: &str, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            at: None,
            path: None,
            message: message.into(),
        }
    }

    pub fn at(file: &str, at: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            at: Some(at.into()),
            path: None,
            message: message.into(),
        }
    }

    pub fn at_path(file: &str, at: &str, path: &str, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            at: Some(at.into()),
            path: (!path.is_empty()).then(|| path.into()),
            message: message.into(),
        }
    }

    /// A file that does not parse; serde's message carries line and column.
    pub fn syntax(file: &str, err: &dyn fmt::Display) -> Self {
        Problem::in_file(file, format!("syntax: {err}"))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(at) = &self.at {
            write!(f, ": {at}")?;
        }
        if let Some(path) = &self.path {
            write!(f, ": {path}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found, so that an author sees them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn one(p: Problem) -> Self {
        Problems(vec![p])
    }

    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }

    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was found.
    pub fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "error: {p}")?;
        }
        write!(f, "{} problem(s) found", self.0.len())
    }
}

impl std::error::Error for Problems {}
