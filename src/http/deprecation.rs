//! A FHIR QuestionnaireResponse sent to the JSON answer routes
//! (`POST /v1/evaluations`, `POST /v1/screenings`,
//! `PUT /v1/screenings/{id}/answers` with `Content-Type:
//! application/fhir+json`) is deprecated: each has a twin under `/fhir`
//! that takes it. For a deprecation period the old way is still answered
//! as before, and says so (RFC 9745 `Deprecation`, RFC 8288 `Link` to the
//! successor), so a clinic's integration can find out before it stops.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::extract::is_fhir;

/// When the FHIR input on the JSON routes was deprecated (2026-12-02T00:00:00Z),
/// as RFC 9745 writes it: `@` and the Unix time.
pub const FHIR_ON_JSON_ROUTES: &str = "@1796169600";

/// Adds `Deprecation` and `Link: <path/fhir>; rel="successor-version"` to the
/// answer of a request that sent a QuestionnaireResponse to a JSON route,
/// whatever the answer (a refusal too).
pub async fn fhir_on_json_route(req: Request, next: Next) -> Response {
    if !is_fhir(req.headers().get(header::CONTENT_TYPE)) {
        return next.run(req).await;
    }
    // The path as routed (a screening id inside it at most): nothing in it
    // can break out of the link's brackets.
    let path = req.uri().path();
    let link = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        .then(|| format!("<{path}/fhir>; rel=\"successor-version\""))
        .and_then(|l| HeaderValue::from_str(&l).ok());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert("deprecation", HeaderValue::from_static(FHIR_ON_JSON_ROUTES));
    if let Some(link) = link {
        headers.append(header::LINK, link);
    }
    res
}
