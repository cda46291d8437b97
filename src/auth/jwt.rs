//! CDS Hooks clients' tokens: a JWT signed (ES384 or RS384) by a trusted
//! issuer, for the route called (`aud`), short-lived (`exp`, `iat`), with a
//! `jti`. Checked cheapest first: its size and shape before anything is
//! decoded (`shape`), then its issuer, signature and claims (`verify`).
//! Whether its `jti` was used before, and how often its sender and issuer
//! may call, are for the caller to say.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Clinic;

/// Tokens larger than this are refused before anything is decoded.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew allowed between the CDS client and this service.
const SKEW_SECS: i64 = 60;

/// Why a token is refused: what is wrong with it, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Missing,
    TooLarge,
    NotJwt,
    UntrustedIssuer,
    Invalid,
    LivesTooLong,
    NoIat,
    IssuedInFuture,
    NoJti,
    /// Its `jti` was used before (the caller's to say).
    Replayed,
}

impl TokenError {
    /// What the caller is told.
    pub fn why(self) -> &'static str {
        match self {
            TokenError::Missing => {
                "send `Authorization: Bearer <JWT>` signed by a trusted CDS client"
            }
            TokenError::TooLarge => "the token is over 8 KB",
            TokenError::NotJwt => "the token is not a JWT",
            TokenError::UntrustedIssuer => "the token's issuer is not trusted",
            TokenError::Invalid => "the token's signature, audience, expiry or start is not valid",
            TokenError::LivesTooLong => {
                "the token lives too long: CDS Hooks tokens are short-lived"
            }
            TokenError::NoIat => "the token has no iat",
            TokenError::IssuedInFuture => "the token was issued in the future",
            TokenError::NoJti => "the token has no jti",
            TokenError::Replayed => "the token was already used",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.why())
    }
}

impl std::error::Error for TokenError {}

/// A CDS client we trust: its JWT issuer, public key and clinic.
pub struct Issuer {
    pub iss: String,
    pub clinic: Clinic,
    key: DecodingKey,
    alg: Algorithm,
}

/// The trusted issuers.
#[derive(Default)]
pub struct Issuers(Vec<Issuer>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerFile {
    iss: String,
    clinic: String,
    /// ES384 or RS384, as CDS Hooks requires.
    #[serde(default = "es384")]
    alg: String,
    public_key_pem: String,
}

fn es384() -> String {
    "ES384".into()
}

/// The claims read beyond those `Validation` checks (`iss`, `aud`, `nbf`).
#[derive(Deserialize)]
struct Claims {
    exp: i64,
    jti: String,
    #[serde(default)]
    iat: Option<i64>,
}

/// A token that passed the cheap checks (present, at most 8 KB, three
/// base64url segments): nothing decoded yet.
pub struct Shaped<'a> {
    token: &'a str,
    payload: &'a str,
}

/// `token` (the bearer token sent, if any) if it has a JWT's size and
/// shape.
pub fn shape(token: Option<&str>) -> Result<Shaped<'_>, TokenError> {
    let token = token.ok_or(TokenError::Missing)?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let mut segments = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenError::NotJwt);
    };
    let base64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !token.split('.').all(base64url) {
        return Err(TokenError::NotJwt);
    }
    Ok(Shaped { token, payload })
}

/// A token whose issuer, signature, audience, times and `jti` checked out.
pub struct Verified<'a> {
    pub issuer: &'a Issuer,
    pub jti: String,
    /// When it expires; an expiry past what a time can hold is the end of
    /// time, never 1970 (a purge would then forget the `jti`, and let the
    /// token be replayed).
    pub expires: DateTime<Utc>,
}

impl Issuers {
    /// Reads the trusted issuers (a JSON array) from `path`, if any.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Issuers> {
        let mut issuers = Vec::new();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)?;
            let files: Vec<IssuerFile> = serde_json::from_str(&text)?;
            for f in files {
                let (key, alg) = match f.alg.as_str() {
                    "ES384" => (
                        DecodingKey::from_ec_pem(f.public_key_pem.as_bytes())?,
                        Algorithm::ES384,
                    ),
                    "RS384" => (
                        DecodingKey::from_rsa_pem(f.public_key_pem.as_bytes())?,
                        Algorithm::RS384,
                    ),
                    other => anyhow::bail!("issuer {}: alg {other} is not ES384 or RS384", f.iss),
                };
                let clinic = Clinic::parse(&f.clinic).map_err(anyhow::Error::msg)?;
                issuers.push(Issuer {
                    iss: f.iss,
                    clinic,
                    key,
                    alg,
                });
            }
        }
        Ok(Issuers(issuers))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `token`, if a trusted issuer signed it for `audience`, it is valid
    /// at `now` (Unix seconds) for at most `max_secs` more, was not issued
    /// in the future, and has a `jti`.
    pub fn verify(
        &self,
        token: &Shaped<'_>,
        audience: &str,
        now: i64,
        max_secs: i64,
    ) -> Result<Verified<'_>, TokenError> {
        // Which issuer: read before verifying, to pick its key.
        let unverified: serde_json::Value = URL_SAFE_NO_PAD
            .decode(token.payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::NotJwt)?;
        let iss = unverified["iss"].as_str().unwrap_or_default();
        let issuer = self
            .0
            .iter()
            .find(|i| i.iss == iss)
            .ok_or(TokenError::UntrustedIssuer)?;
        let mut validation = Validation::new(issuer.alg);
        validation.set_issuer(&[&issuer.iss]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = SKEW_SECS as u64;
        let claims = jsonwebtoken::decode::<Claims>(token.token, &issuer.key, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.exp > now.saturating_add(max_secs.saturating_add(SKEW_SECS)) {
            return Err(TokenError::LivesTooLong);
        }
        match claims.iat {
            None => return Err(TokenError::NoIat),
            Some(iat) if iat > now + SKEW_SECS => return Err(TokenError::IssuedInFuture),
            Some(_) => {}
        }
        if claims.jti.is_empty() {
            return Err(TokenError::NoJti);
        }
        Ok(Verified {
            issuer,
            jti: claims.jti,
            expires: DateTime::from_timestamp(claims.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_token_of_a_jwt_size_and_shape_is_decoded() {
        assert_eq!(shape(None).err(), Some(TokenError::Missing));
        let long = format!("a.{}.c", "b".repeat(MAX_TOKEN_BYTES));
        assert_eq!(shape(Some(&long)).err(), Some(TokenError::TooLarge));
        for bad in ["a.b", "a.b.c.d", "a..c", "a.b+.c", "a.b.c="] {
            assert_eq!(shape(Some(bad)).err(), Some(TokenError::NotJwt), "{bad}");
        }
        assert!(shape(Some("a-_.B0.c")).is_ok());
    }
}
