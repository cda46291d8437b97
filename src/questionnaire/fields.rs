//! The checked catalogue of answerable fields: what each answer may be, and
//! where each field sits in the answers' JSON groups.

use std::collections::HashMap;

/// What an answer may be, once the questionnaire is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Num {
        min: f64,
        max: f64,
    },
    Text {
        max_len: usize,
    },
    Choice(Vec<String>),
    Multi(Vec<String>),
    List {
        min: usize,
        max: usize,
        fields: Vec<Field>,
    },
}

impl Kind {
    /// The answer type's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Int { .. } => "integer",
            Kind::Num { .. } => "number",
            Kind::Text { .. } => "text",
            Kind::Choice(_) => "choice",
            Kind::Multi(_) => "multiple choice",
            Kind::List { .. } => "list",
        }
    }
}

/// One answerable field: a top-level item, or a field of a list's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub question: String,
    pub kind: Kind,
}

/// The checked catalogue of fields, indexed by id.
#[derive(Debug, Clone)]
pub struct Fields {
    pub(super) fields: Vec<Field>,
    pub(super) index: HashMap<String, usize>,
    /// JSON groups (`pain`) and the fields in each, in questionnaire order.
    pub(super) groups: Vec<(String, Vec<(String, usize)>)>,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, i: usize) -> &Field {
        &self.fields[i]
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Field)> {
        self.fields.iter().enumerate()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.id.as_str())
    }

    /// The JSON groups' names, in questionnaire order.
    pub(crate) fn groups(&self) -> impl Iterator<Item = (&str, &[(String, usize)])> {
        self.groups.iter().map(|(g, m)| (g.as_str(), m.as_slice()))
    }

    pub(crate) fn group(&self, name: &str) -> Option<&[(String, usize)]> {
        self.groups
            .iter()
            .find(|(g, _)| g == name)
            .map(|(_, v)| v.as_slice())
    }
}
