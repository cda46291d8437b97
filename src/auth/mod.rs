//! Who may do what. Callers send `Authorization: Bearer <key>`; a key has a
//! role and a clinic. One table (`allows`) says what each role may do, and
//! every query is scoped to the caller's clinic. Plain Rust: the HTTP
//! extractor and the mapping of `AuthError` to problem+json live in `http`.

mod limit;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use limit::RateLimiter;

pub use crate::screening::Clinic;
use crate::screening::ScreeningId;
use crate::screening::record::Actor;

/// What a key may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
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

/// Why a request is not let through. Every message names what is wrong
/// with the credential, never the credential.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("send `Authorization: Bearer <key>`")]
    Missing,
    #[error("the Authorization header must be `Bearer <key>`")]
    NotBearer,
    #[error("the key is malformed")]
    Malformed,
    #[error("the key is unknown or revoked")]
    UnknownOrRevoked,
    #[error("the {} role may not do this", .0.as_str())]
    Forbidden(Role),
    /// Over the per-key rate: retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// The keys could not be read.
    #[error("the key directory failed: {0}")]
    Directory(String),
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

/// A key to store: everything but the secret, of which only the digest.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub digest: String,
    pub clinic: Clinic,
    pub role: Role,
    pub label: String,
}

impl NewKey {
    /// A new key and its secret, to be shown once.
    pub fn mint(clinic: Clinic, role: Role, label: &str) -> (NewKey, Secret) {
        let secret = Secret::generate();
        let key = NewKey {
            id: format!("key_{}", ScreeningId::new().to_string().replace('-', "")),
            digest: digest(secret.expose()).expect("a generated key is well formed"),
            clinic,
            role,
            label: label.to_string(),
        };
        (key, secret)
    }
}

/// A key as the service knows it (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub clinic: Clinic,
    pub role: Role,
    pub label: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Where keys are looked up (the store).
pub trait KeyDirectory {
    fn key_by_digest(
        &self,
        digest: &str,
    ) -> impl Future<Output = Result<Option<KeyInfo>, AuthError>> + Send;
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub label: String,
    pub clinic: Clinic,
    pub role: Role,
}

impl Caller {
    /// `Forbidden` unless the caller's role allows `action`.
    pub fn may(&self, action: Action) -> Result<(), AuthError> {
        if allows(self.role, action) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(self.role))
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

    /// The caller presenting `authorization` (the header's value): a known,
    /// unrevoked key within its rate.
    pub async fn authenticate(
        &self,
        keys: &impl KeyDirectory,
        authorization: Option<&str>,
    ) -> Result<Caller, AuthError> {
        let presented = authorization
            .ok_or(AuthError::Missing)?
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or(AuthError::NotBearer)?;
        let digest = digest(presented).ok_or(AuthError::Malformed)?;
        let key = keys
            .key_by_digest(&digest)
            .await?
            .filter(|k| k.revoked_at.is_none())
            .ok_or(AuthError::UnknownOrRevoked)?;
        self.limiter.check(&key.id)?;
        Ok(Caller {
            key_id: key.id,
            label: key.label,
            clinic: key.clinic,
            role: key.role,
        })
    }

    /// Whether this key's last use is due to be written down again.
    pub fn last_used_due(&self, key_id: &str) -> bool {
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
