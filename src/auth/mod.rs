//! Who may do what. Callers send `Authorization: Bearer <key>`; a key has a
//! role and a clinic. One table (`allows`) says what each role may do, and
//! every query is scoped to the caller's clinic.

mod limit;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use limit::RateLimiter;

use crate::http::AppState;
use crate::http::problem::ApiError;
use crate::screening::record::Actor;

/// What a key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Intake nurses and referring clinics: evaluate, create and correct screenings, read them.
    Intake,
    /// Clinicians: the review queue, reviews, history.
    Clinician,
    /// Administrators: history and screenings (keys are managed from the command line).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Intake, Role::Clinician, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Everything a route does that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Evaluate,
    CreateScreening,
    ReadScreening,
    ListScreenings,
    CorrectAnswers,
    Review,
    ReadHistory,
}

/// The permission table: the one place that says who may do what.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Intake => matches!(
            action,
            Evaluate | CreateScreening | ReadScreening | ListScreenings | CorrectAnswers
        ),
        Role::Clinician => matches!(
            action,
            ReadScreening | ListScreenings | Review | ReadHistory
        ),
        Role::Admin => matches!(action, ReadScreening | ListScreenings | ReadHistory),
    }
}

/// A clinic's slug: 1 to 64 of a-z, 0-9 and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic(String);

impl Clinic {
    pub fn parse(s: &str) -> Result<Clinic, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Clinic(s.to_string()))
            .ok_or_else(|| "a clinic is 1 to 64 characters of a-z, 0-9 and -".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new key's secret: `fsk_` and 256 random bits. Shown once; only its
/// digest is stored.
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        Secret(format!("fsk_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The stored digest of a presented key, or `None` when it is not shaped
/// like one of ours.
pub fn digest(presented: &str) -> Option<String> {
    let body = presented.strip_prefix("fsk_")?;
    (body.len() == 43
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| hex::encode(Sha256::digest(presented.as_bytes())))
}

/// A key as the service knows it (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub clinic: String,
    pub role: Role,
    pub label: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub label: String,
    pub clinic: String,
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller's role allows `action`.
    pub fn may(&self, action: Action) -> Result<(), ApiError> {
        if allows(self.role, action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(self.role.as_str()))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            key_id: self.key_id.clone(),
            label: self.label.clone(),
            clinician: None,
        }
    }
}

/// Shared state of authentication: the rate limiter, and when each key's
/// `last_used_at` was last written (at most once a minute, not per request).
pub struct Auth {
    pub limiter: RateLimiter,
    last_used: Mutex<HashMap<String, Instant>>,
}

const LAST_USED_EVERY: Duration = Duration::from_secs(60);

impl Auth {
    pub fn new(per_minute: u32) -> Arc<Auth> {
        Arc::new(Auth {
            limiter: RateLimiter::per_minute(per_minute),
            last_used: Mutex::default(),
        })
    }

    fn last_used_due(&self, key_id: &str) -> bool {
        let mut map = self.last_used.lock().expect("not poisoned");
        let now = Instant::now();
        match map.get(key_id) {
            Some(t) if now.duration_since(*t) < LAST_USED_EVERY => false,
            _ => {
                map.insert(key_id.to_string(), now);
                true
            }
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("send `Authorization: Bearer <key>`"))?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <key>`",
            ))?;
        let hash = digest(presented).ok_or(ApiError::Unauthorized("the key is malformed"))?;
        let key = app
            .store
            .key_by_hash(&hash)
            .await?
            .filter(|k| k.revoked_at.is_none())
            .ok_or(ApiError::Unauthorized("the key is unknown or revoked"))?;
        app.auth.limiter.check(&key.id)?;
        if app.auth.last_used_due(&key.id) {
            let (store, id) = (app.store.clone(), key.id.clone());
            tokio::spawn(async move {
                if let Err(e) = store.touch_key(&id).await {
                    tracing::warn!(error = %e, "could not record a key's last use");
                }
            });
        }
        Ok(Caller {
            key_id: key.id,
            label: key.label,
            clinic: key.clinic,
            role: key.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_only_their_digest_is_kept() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 47);
        let d = digest(a.expose()).unwrap();
        assert_eq!(d.len(), 64);
        assert!(!d.contains(&a.expose()[4..]));
        assert_eq!(format!("{a:?}"), "Secret(…)");
    }

    #[test]
    fn malformed_keys_have_no_digest() {
        for k in [
            "",
            "fsk_",
            "fsk_short",
            "Bearer x",
            &format!("xyz_{}", "a".repeat(43)),
            &format!("fsk_{}!", "a".repeat(42)),
        ] {
            assert!(digest(k).is_none(), "{k}");
        }
    }

    #[test]
    fn clinics_are_slugs() {
        assert!(Clinic::parse("st-marys-2").is_ok());
        for bad in ["", "St Marys", "a/b", &"x".repeat(65)] {
            assert!(Clinic::parse(bad).is_err(), "{bad}");
        }
    }
}
