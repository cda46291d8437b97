//! The text of a rule set's files: read from a directory or built into the
//! binary, and their digest.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::problem_list::{Problem, Problems};

/// The files of a rule set, in digest order.
pub const FILES: [&str; 5] = [
    "questionnaire.yaml",
    "rules.yaml",
    "parameters.yaml",
    "outcomes.yaml",
    "contract.yaml",
];

/// The text of a rule set's files, from a directory or built into the binary.
#[derive(Debug, Clone)]
pub struct RuleFiles {
    /// Where they came from, for messages.
    pub origin: String,
    pub(super) texts: [String; 5],
}

impl RuleFiles {
    /// The rule set in `rules/v1`, as built into the binary.
    pub fn embedded() -> Self {
        RuleFiles {
            origin: "built-in rules/v1".into(),
            texts: [
                include_str!("../../rules/v1/questionnaire.yaml").into(),
                include_str!("../../rules/v1/rules.yaml").into(),
                include_str!("../../rules/v1/parameters.yaml").into(),
                include_str!("../../rules/v1/outcomes.yaml").into(),
                include_str!("../../rules/v1/contract.yaml").into(),
            ],
        }
    }

    /// A rule set from the text of its files, in `FILES` order.
    pub fn from_texts(origin: &str, texts: [String; 5]) -> Self {
        RuleFiles {
            origin: origin.into(),
            texts,
        }
    }

    pub fn read_dir(dir: &Path) -> Result<Self, Problems> {
        let mut problems = Problems::default();
        let texts = FILES.map(|name| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                problems.push(Problem::in_file(
                    &dir.join(name).display().to_string(),
                    format!("cannot read: {e}"),
                ));
                String::new()
            })
        });
        problems.into_result(RuleFiles {
            origin: dir.display().to_string(),
            texts,
        })
    }

    /// `sha256:` and the hex digest of every file, name and length framed.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (name, text) in FILES.iter().zip(&self.texts) {
            h.update(name.as_bytes());
            h.update([0]);
            h.update((text.len() as u64).to_be_bytes());
            h.update(text.as_bytes());
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}
