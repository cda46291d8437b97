//! CDS Hooks 2.0 over HTTP: discovery, the screening service and feedback.
//! Who may call, what a call does and the cards' words are
//! `service::cds`'s; here the token and the sender's address are read from
//! the request, and the answers mapped to HTTP.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::extract::JsonBody;
use super::json::Json;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use crate::service::cds::{
    CdsAuthError, CdsCards, CdsClient, CdsDiscovery, CdsError, CdsRequest, FeedbackRequest, Hook,
};

impl FromRequestParts<AppState> for CdsClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<CdsClient, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        let from = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let hook = if parts.uri.path().ends_with("/feedback") {
            Hook::Feedback
        } else {
            Hook::Service
        };
        Ok(app.cds.authenticate(token, from, hook).await?)
    }
}

impl From<CdsAuthError> for ApiError {
    fn from(e: CdsAuthError) -> Self {
        match e {
            CdsAuthError::Token(refused) => ApiError::Unauthorized(refused.why()),
            CdsAuthError::TooManyRequests(secs) => ApiError::TooManyRequests(secs),
            CdsAuthError::Unexpected(e) => e.into(),
        }
    }
}

impl From<CdsError> for ApiError {
    fn from(e: CdsError) -> Self {
        match e {
            CdsError::Invalid(errors) => ApiError::Invalid(errors),
            CdsError::InvalidAnswers(errors) => ApiError::InvalidAnswers(errors),
            CdsError::UnknownCard => ApiError::NotFound("card"),
            CdsError::Screening(e) => e.into(),
            CdsError::Unexpected(e) => e.into(),
        }
    }
}

/// Discovery: the service this server offers.
#[utoipa::path(get, path = "/cds-services", operation_id = "cdsDiscovery", tag = "cds-hooks",
    responses((status = 200, description = "CDS Hooks discovery", body = CdsDiscovery)))]
pub async fn discovery(State(app): State<AppState>) -> Json<CdsDiscovery> {
    Json(app.cds.discovery())
}

/// The screening service: evaluates the prefetched QuestionnaireResponse,
/// keeps it as a screening pending review, and answers one card.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy", operation_id = "cdsScreen", tag = "cds-hooks", security(("cdsJwt" = [])),
    request_body(content = CdsRequest, description = "A CDS Hooks request for the patient-view hook"),
    responses(
        (status = 200, description = "Cards", body = CdsCards),
        (status = 400, description = "Not a hook request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No JWT, or one not signed by a trusted issuer, for another audience, expired or replayed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The prefetched QuestionnaireResponse is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many CDS requests from this address, or signed calls of this issuer; or the table of addresses counted is full and this address is new (with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "cds_service", skip_all)]
pub async fn service(
    State(app): State<AppState>,
    client: CdsClient,
    JsonBody(request): JsonBody,
) -> Result<Json<CdsCards>, ApiError> {
    let cards = app.cds.screen(&client, &request).await?;
    if let Some(outcome) = cards.outcome {
        tracing::info!(
            request_id = current_id().as_str(),
            outcome = outcome.as_str(),
            "cds card"
        );
    }
    Ok(Json(cards.body))
}

/// Feedback taken: an empty object.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CdsFeedbackRecorded {}

/// Feedback: whether the clinician accepted or overrode each card, recorded
/// on the screening's history, all items or none.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy/feedback", operation_id = "cdsFeedback", tag = "cds-hooks", security(("cdsJwt" = [])),
    request_body(content = FeedbackRequest, description = "CDS Hooks 2.0 feedback: 1 to 20 items"),
    responses(
        (status = 200, description = "Recorded", body = CdsFeedbackRecorded),
        (status = 401, description = "No valid JWT", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A card this service did not issue to this client", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid feedback", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many CDS requests from this address, or signed calls of this issuer; or the table of addresses counted is full and this address is new (with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn feedback(
    State(app): State<AppState>,
    client: CdsClient,
    JsonBody(body): JsonBody,
) -> Result<Json<CdsFeedbackRecorded>, ApiError> {
    app.cds.feedback(&client, body).await?;
    Ok(Json(CdsFeedbackRecorded {}))
}

/// Only this service exists: any other id is 404.
pub async fn unknown_service(Path(_id): Path<String>) -> ApiError {
    ApiError::NotFound("CDS service")
}
