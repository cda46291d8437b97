//! A JSON body extractor whose every rejection is a problem+json answer.
//! Stricter than plain JSON: a duplicated key in an object is refused, since
//! it makes an answer ambiguous (which value did the nurse mean?).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::Value;

use super::problem::ApiError;
use crate::service::Submitted;

/// The request body as JSON, not yet interpreted.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        parse_strict(&json_bytes(req, state).await?).map(JsonBody)
    }
}

/// The body of a request sent as JSON (`application/json` or any
/// `application/*+json`), within the body limit.
async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let json_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
        })
        .unwrap_or(false);
    if !json_type {
        return Err(ApiError::UnsupportedMediaType);
    }
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedJson("the body could not be read".into())
        }
    })
}

/// Parses JSON, refusing duplicated keys. serde_json's messages say where
/// (line, column) and, for a duplicate, which key: never a value.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, ApiError> {
    crate::questionnaire::body::strict_value(bytes).map_err(ApiError::MalformedJson)
}

/// Answers in a request body: our JSON (`application/json`), parsed in one
/// pass against the rule set in use, or (deprecated, see
/// `super::deprecation`) a FHIR `QuestionnaireResponse`
/// (`application/fhir+json`) mapped by `linkId`. A body that is not JSON is
/// refused here (400); answers that do not match the questionnaire are
/// refused by the operation (422), after the caller's permission.
pub struct AnswersBody(pub Submitted);

impl FromRequest<super::AppState> for AnswersBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &super::AppState) -> Result<Self, ApiError> {
        if is_fhir(req.headers().get(header::CONTENT_TYPE)) {
            // Deprecated here: `ResponseBody`'s routes take it.
            let ResponseBody(submitted) = ResponseBody::from_request(req, app).await?;
            return Ok(AnswersBody(submitted));
        }
        let bytes = json_bytes(req, app).await?;
        app.screenings
            .submitted_body(&bytes)
            .map(AnswersBody)
            .map_err(ApiError::MalformedJson)
    }
}

/// Answers sent as a FHIR `QuestionnaireResponse` (sent as
/// `application/fhir+json`, or any other JSON type), mapped by `linkId`
/// into our answers. A body that is not JSON is refused (400), and a
/// response that does not match the questionnaire (422), each bad item
/// named by its linkId.
pub struct ResponseBody(pub Submitted);

impl FromRequest<super::AppState> for ResponseBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &super::AppState) -> Result<Self, ApiError> {
        let JsonBody(value) = JsonBody::from_request(req, app).await?;
        let rules = app.rules.current();
        let json =
            crate::fhir::answers_from_response(&rules, &value).map_err(ApiError::InvalidAnswers)?;
        Ok(ResponseBody(Submitted::new(rules, &json)))
    }
}

/// Whether a content type or accept header names FHIR JSON.
pub fn is_fhir(value: Option<&axum::http::HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/fhir+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a": 1, "a": 2}"#).is_err());
        assert!(parse_strict(br#"{"p": [{"k": 1, "k": 1}]}"#).is_err());
        assert_eq!(
            parse_strict(br#"{"a": {"b": [1, 2.5, null]}}"#).unwrap()["a"]["b"][1],
            2.5
        );
    }

    #[test]
    fn deep_nesting_huge_numbers_and_trailing_data_are_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_strict(deep.as_bytes()).is_err());
        assert!(parse_strict(b"1e400").is_err());
        assert!(parse_strict(b"{} {}").is_err());
        assert!(parse_strict(b"\xff").is_err());
    }
}
