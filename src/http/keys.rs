//! A clinic's keys, managed by its administrators: make one (shown once),
//! list them (never the key or its digest), revoke one. Every query is
//! scoped to the caller's clinic: another clinic's key id is a 404.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::extract::JsonBody;
use super::json::Json;
use super::problem::{ApiError, Problem};
use super::request_log::current_id;
use crate::auth::{Action, Caller, KeyInfo, KeyRequest};

/// A key just made: the secret is in this answer and nowhere else.
#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key to give to its holder. Shown once: it cannot be read again.
    #[schema(example = "fsk_3q2-7wEvg7bZ0l0WJ7l1sB3g0mQm3kHrrV2yKQpS1xM")]
    pub key: String,
    pub info: KeyInfo,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first, revoked and expired ones included.
    pub items: Vec<KeyInfo>,
}

/// Make a key for the caller's clinic.
///
/// Administrators only. The answer holds the key itself, once: only its
/// digest is kept.
#[utoipa::path(post, path = "/v1/keys", operation_id = "createKey", tag = "keys", security(("bearer" = [])),
    request_body = KeyRequest,
    responses(
        (status = 201, description = "Made; the key is shown this once", body = CreatedKey),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad role, label or expiry", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "create_key", skip_all)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(json): JsonBody,
) -> Result<Response, ApiError> {
    caller.may(Action::ManageKeys)?;
    let (new, secret) = KeyRequest::parse(json, caller.clinic.clone(), chrono::Utc::now())
        .map_err(ApiError::Invalid)?;
    let info = app.keys.create(&new).await?;
    tracing::info!(
        request_id = current_id().as_str(),
        key_id = %info.id,
        role = info.role.as_str(),
        "key made"
    );
    let mut res = (
        StatusCode::CREATED,
        Json(CreatedKey {
            key: secret.expose().to_string(),
            info,
        }),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The keys of the caller's clinic.
///
/// Administrators only. Never the key or its digest.
#[utoipa::path(get, path = "/v1/keys", operation_id = "listKeys", tag = "keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The clinic's keys", body = KeyList),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(State(app): State<AppState>, caller: Caller) -> Result<Json<KeyList>, ApiError> {
    caller.may(Action::ManageKeys)?;
    let items = app.keys.list(&caller.clinic).await?;
    Ok(Json(KeyList { items }))
}

/// Revoke a key of the caller's clinic.
///
/// Administrators only. It is refused from its next request on, here and on
/// every other instance. Revoking a revoked key changes nothing. The key a
/// request is signed with cannot revoke itself (409): that would lock its
/// administrator out mid-task. Nor can the clinic's last active (neither
/// revoked nor expired) administrator key be revoked (409), even by two
/// administrators revoking each other at the same moment: one of them is
/// refused.
#[utoipa::path(delete, path = "/v1/keys/{id}", operation_id = "revokeKey", tag = "keys", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Revoked", body = KeyInfo),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key in this clinic", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key this request is signed with, or the clinic's last active administrator key", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "revoke_key", skip_all)]
pub async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    caller.may(Action::ManageKeys)?;
    let info = app.keys.revoke(&caller, &id).await?;
    tracing::info!(request_id = current_id().as_str(), key_id = %info.id, "key revoked");
    Ok(Json(info))
}
