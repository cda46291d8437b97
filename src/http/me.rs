//! `GET /v1/me`: who the presented key is, so that a client (the web pages)
//! can offer what its role may do.

use serde::Serialize;
use utoipa::ToSchema;

use super::json::Json;
use crate::auth::{Caller, Role};

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub key_id: String,
    pub label: String,
    #[schema(value_type = String)]
    pub clinic: crate::auth::Clinic,
    pub role: Role,
}

/// The caller's key: its id, label, clinic and role (never the key itself).
#[utoipa::path(get, path = "/v1/me", operation_id = "getMe", tag = "operations", security(("bearer" = [])),
    responses((status = 200, description = "The presented key", body = Me)))]
pub async fn get(caller: Caller) -> Json<Me> {
    Json(Me {
        key_id: caller.key_id,
        label: caller.label,
        clinic: caller.clinic,
        role: caller.role,
    })
}
