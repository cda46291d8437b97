//! Requests read from JSON: their shape by serde, their field rules by
//! `validator`, every problem named by its path and none echoing a value.

use validator::Validate;

use crate::questionnaire::FieldError;

/// Why a request body is not valid.
pub enum Invalid<T> {
    /// It does not have the request's shape: nothing was read.
    Shape(Vec<FieldError>),
    /// It has the shape, and these fields break their rules.
    Fields(Box<T>, Vec<FieldError>),
}

/// A typed request from JSON: its shape by serde, its field rules by
/// `validator`. Every problem is named by its path; no message carries the
/// value sent.
pub fn from_json<T: serde::de::DeserializeOwned + Validate>(
    json: serde_json::Value,
) -> Result<T, Invalid<T>> {
    let req: T = serde_path_to_error::deserialize(json).map_err(|e| {
        let message = value_free(&e.inner().to_string());
        let path = match e.path().to_string() {
            p if p == "." => String::new(),
            p => p,
        };
        // serde names a missing field only in its message.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (missing, path.is_empty()) {
            (Some(name), true) => name.to_string(),
            (Some(name), false) => format!("{path}.{name}"),
            (None, _) => path,
        };
        Invalid::Shape(vec![FieldError { field, message }])
    })?;
    match req.validate() {
        Ok(()) => Ok(req),
        Err(e) => Err(Invalid::Fields(Box::new(req), flatten(&e, ""))),
    }
}

/// serde's message without the value that was sent: `unknown variant
/// `X`, expected `a` or `b`` becomes `expected `a` or `b``. Missing and
/// unknown fields keep their message, which names only the field.
fn value_free(message: &str) -> String {
    if message.starts_with("missing field") || message.starts_with("unknown field") {
        return message.to_string();
    }
    match message.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => "invalid value".to_string(),
    }
}

pub(crate) fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// validator's nested errors as field paths.
pub fn flatten(errors: &validator::ValidationErrors, prefix: &str) -> Vec<FieldError> {
    use validator::ValidationErrorsKind as K;
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            K::Field(errs) => out.extend(errs.iter().map(|e| FieldError {
                field: path.clone(),
                message: match (&e.message, e.code.as_ref()) {
                    (Some(m), _) => m.to_string(),
                    (None, "length") => {
                        let min = e.params.get("min").map(|v| v.to_string());
                        let max = e.params.get("max").map(|v| v.to_string());
                        match (min, max) {
                            (Some(min), Some(max)) => {
                                format!("expected from {min} to {max} characters")
                            }
                            (None, Some(max)) => format!("expected at most {max} characters"),
                            (Some(min), None) => format!("expected at least {min} characters"),
                            (None, None) => "invalid length".into(),
                        }
                    }
                    (None, code) => format!("invalid ({code})"),
                },
            })),
            K::Struct(inner) => out.extend(flatten(inner, &path)),
            K::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{path}[{i}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}
