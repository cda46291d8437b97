//! The caller of a request, from its `Authorization` header, and how a
//! refusal to authenticate (`AuthError`) becomes problem+json.
//! Authentication itself is `crate::auth`'s.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::problem::ApiError;
use super::request_log::current_id;
use crate::auth::{AuthError, Caller};

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Caller, ApiError> {
        // A header that is not text is no bearer token either.
        let authorization = match parts.headers.get(header::AUTHORIZATION) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| AuthError::NotBearer)?),
        };
        let (caller, last_use) = app.callers.authenticate(authorization).await?;
        if let Some(last_use) = last_use {
            let request_id = current_id();
            tokio::spawn(async move {
                if let Err(e) = last_use.record().await {
                    tracing::warn!(
                        request_id = request_id.as_str(),
                        error = %e,
                        "could not record a key's last use"
                    );
                }
            });
        }
        Ok(caller)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => ApiError::Unauthorized("send `Authorization: Bearer <key>`"),
            AuthError::NotBearer => {
                ApiError::Unauthorized("the Authorization header must be `Bearer <key>`")
            }
            AuthError::Malformed => ApiError::Unauthorized("the key is malformed"),
            AuthError::UnknownOrRevoked => {
                ApiError::Unauthorized("the key is unknown, revoked or expired")
            }
            AuthError::Forbidden(role) => ApiError::Forbidden(role.as_str()),
            AuthError::TooManyRequests(secs) => ApiError::TooManyRequests(secs),
            AuthError::Directory(why) => {
                tracing::error!(request_id = current_id().as_str(), error = %why, "the keys could not be read");
                ApiError::Internal
            }
        }
    }
}
