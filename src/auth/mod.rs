//! Who may do what. Callers send `Authorization: Bearer <key>`; a key has a
//! role and a clinic. One table (`allows`) says what each role may do, and
//! every query is scoped to the caller's clinic. Plain Rust: the HTTP
//! extractor and the mapping of `AuthError` to problem+json live in `http`.

pub mod cache;
pub mod jwt;
mod limit;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

pub use cache::KeyCache;
pub use limit::{RateLimiter, Wait};

use crate::questionnaire::FieldError;
use crate::screening::Actor;
pub use crate::screening::Clinic;
use crate::screening::ScreeningId;
use crate::screening::printable::printable;
use crate::screening::validation::{Invalid, from_json};

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
    /// Administrators: their clinic's keys, statistics, history and screenings.
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
    /// Make, list and revoke the keys of one's own clinic.
    ManageKeys,
    /// The clinic's statistics (outcomes, overrides, time to review).
    ReadStats,
    /// The clinic's whole record, exported.
    Export,
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
            ReadScreening | ListScreenings | Review | ReadHistory | ReadStats
        ),
        Role::Admin => matches!(
            action,
            ReadScreening | ListScreenings | ReadHistory | ManageKeys | ReadStats | Export
        ),
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
    #[error("the key is unknown, revoked or expired")]
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
    // PANIC SAFETY: the operating system's random source fails only where
    // it does not exist; no key can be made safely without it, and the
    // request that asked for one is answered 500 by the panic layer.
    #[allow(clippy::expect_used)]
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

/// The stored digest of a presented key (hex), or `None` when it is not
/// shaped like one of ours.
pub fn digest(presented: &str) -> Option<String> {
    raw_digest(presented).map(hex::encode)
}

/// A key's SHA-256 digest as bytes: what the key cache is keyed by.
pub type RawDigest = [u8; 32];

/// The digest of a presented key as bytes, or `None` when it is not shaped
/// like one of ours.
pub fn raw_digest(presented: &str) -> Option<RawDigest> {
    let body = presented.strip_prefix("fsk_")?;
    (body.len() == 43
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| Sha256::digest(presented.as_bytes()).into())
}

/// What a key is for, as people read it: 1 to 100 printable characters
/// (`screening::printable`, the rule a clinician's name follows too),
/// trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub const RULE: &'static str = "a label is 1 to 100 printable characters";

    pub fn parse(raw: &str) -> Result<Label, &'static str> {
        let label = raw.trim();
        (!label.is_empty() && label.chars().count() <= 100 && printable(label))
            .then(|| Label(label.to_string()))
            .ok_or(Label::RULE)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a key stops working: a time in the future, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(Option<DateTime<Utc>>);

impl Expiry {
    pub const NEVER: Expiry = Expiry(None);
    pub const RULE: &'static str =
        "expected a time in the future with its offset (RFC 3339), such as 2027-01-31T17:00:00Z";

    /// An RFC 3339 time after `now`.
    pub fn parse(raw: &str, now: DateTime<Utc>) -> Result<Expiry, &'static str> {
        DateTime::parse_from_rfc3339(raw.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t > now)
            .map(|t| Expiry(Some(t)))
            .ok_or(Expiry::RULE)
    }

    pub fn at(self) -> Option<DateTime<Utc>> {
        self.0
    }
}

/// A key to store: everything but the secret, of which only the digest.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub digest: String,
    pub clinic: Clinic,
    pub role: Role,
    pub label: Label,
    pub expires: Expiry,
}

impl NewKey {
    /// A new key and its secret, to be shown once.
    // PANIC SAFETY: `digest` refuses only a secret that is not of the form
    // `Secret::generate` writes.
    #[allow(clippy::expect_used)]
    pub fn mint(clinic: Clinic, role: Role, label: Label, expires: Expiry) -> (NewKey, Secret) {
        let secret = Secret::generate();
        let key = NewKey {
            id: format!("key_{}", ScreeningId::new().to_string().replace('-', "")),
            digest: digest(secret.expose()).expect("a generated key is well formed"),
            clinic,
            role,
            label,
            expires,
        };
        (key, secret)
    }
}

/// `POST /v1/keys`: a key for the caller's own clinic.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    pub role: Role,
    /// What the key is for: shown in the key list and on every history
    /// entry the key leaves.
    #[schema(
        example = "Front desk, Tuesday nurse",
        min_length = 1,
        max_length = 100
    )]
    pub label: String,
    /// When the key stops working (RFC 3339, in the future). Left out: it
    /// works until revoked.
    #[serde(default)]
    #[schema(format = DateTime, example = "2027-01-31T17:00:00Z")]
    pub expires_at: Option<String>,
}

impl KeyRequest {
    /// The key to mint for `clinic`, or every bad field named.
    pub fn parse(
        json: serde_json::Value,
        clinic: Clinic,
        now: DateTime<Utc>,
    ) -> Result<(NewKey, Secret), Vec<FieldError>> {
        let req = match from_json::<KeyRequest>(json) {
            Ok(req) => req,
            Err(Invalid::Shape(errors) | Invalid::Fields(_, errors)) => return Err(errors),
        };
        let mut errors = Vec::new();
        let error = |field: &str, message: &str| FieldError {
            field: field.into(),
            message: message.into(),
        };
        let label = Label::parse(&req.label)
            .map_err(|m| errors.push(error("label", m)))
            .ok();
        let expires = match req.expires_at.as_deref() {
            None => Some(Expiry::NEVER),
            Some(raw) => Expiry::parse(raw, now)
                .map_err(|m| errors.push(error("expires_at", m)))
                .ok(),
        };
        match (label, expires) {
            (Some(label), Some(expires)) if errors.is_empty() => {
                Ok(NewKey::mint(clinic, req.role, label, expires))
            }
            _ => Err(errors),
        }
    }
}

/// A key as the service knows it: never the secret, nor its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KeyInfo {
    #[schema(example = "key_019a6b2c9d4e7f00a1b2c3d4e5f60718")]
    pub id: String,
    #[schema(value_type = String, example = "st-marys")]
    pub clinic: Clinic,
    pub role: Role,
    pub label: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Written at most once a minute.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// When it stops (or stopped) working on its own; null: never.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl KeyInfo {
    /// Neither revoked nor past its expiry at `now`.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.as_deref().is_none_or(|at| {
                DateTime::parse_from_rfc3339(at).is_ok_and(|at| at.with_timezone(&Utc) > now)
            })
    }
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
    /// Verified keys by digest; see `cache` for why revocation still wins.
    pub keys: KeyCache,
    last_used: Mutex<HashMap<String, Instant>>,
}

const LAST_USED_EVERY: Duration = Duration::from_secs(60);

impl Auth {
    pub fn new(per_minute: u32) -> Arc<Auth> {
        Arc::new(Auth {
            // Counted once a key is known: as many as there are keys.
            limiter: RateLimiter::per_minute(per_minute, usize::MAX),
            keys: KeyCache::default(),
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
        let digest = raw_digest(presented).ok_or(AuthError::Malformed)?;
        let now = Utc::now();
        let key = match self.keys.get(&digest) {
            Some(key) => {
                metrics::counter!("facet_key_cache_total", "result" => "hit").increment(1);
                key
            }
            None => {
                metrics::counter!("facet_key_cache_total", "result" => "miss").increment(1);
                let epoch = self.keys.epoch();
                let found = keys.key_by_digest(&hex::encode(digest)).await?;
                let key = Arc::new(found.ok_or(AuthError::UnknownOrRevoked)?);
                // Only a known, usable key is kept: never an unknown one.
                if key.usable_at(now) {
                    self.keys.put(&digest, &key, epoch);
                }
                key
            }
        };
        if !key.usable_at(now) {
            return Err(AuthError::UnknownOrRevoked);
        }
        self.limiter.check(&key.id)?;
        Ok(Caller {
            key_id: key.id.clone(),
            label: key.label.clone(),
            clinic: key.clinic.clone(),
            role: key.role,
        })
    }

    /// Whether this key's last use is due to be written down again.
    pub fn last_used_due(&self, key_id: &str) -> bool {
        // A panic elsewhere while holding it leaves times that are still times.
        let mut map = self
            .last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        // The cache's key (bytes) and the stored one (hex) are one digest.
        assert_eq!(hex::encode(raw_digest(a.expose()).unwrap()), d);
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
