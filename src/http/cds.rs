//! CDS Hooks 2.0: discovery, the screening service (cards from the same rules)
//! and feedback onto the screening's history. The CDS client authenticates
//! with a signed JWT from a configured trusted issuer (`iss`, `aud`, `exp`,
//! and a `jti` never seen before).

mod card;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path as FsPath;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use validator::Validate;

use super::AppState;
use super::extract::JsonBody;
use super::json::Json;
use super::problem::ApiError;
use crate::auth::{Clinic, RateLimiter};
use crate::fhir;
use crate::questionnaire::FieldError;
use crate::screening::ScreeningId;
use crate::screening::events::{CdsFeedbackData, EventData, FeedbackOutcome};
use crate::screening::review::ReasonCode;
use crate::screening::validation::{Invalid, from_json};
use crate::screening::{Actor, IdempotencyKey, timestamp};
use crate::service::ScreeningError;
use crate::service::Submitted;

pub const SERVICE_ID: &str = "facet-screen-neurectomy";
const REASON_SYSTEM: &str = "urn:facet-screen:review-reason";

/// A CDS client we trust: its JWT issuer, public key and clinic.
pub struct Issuer {
    pub iss: String,
    pub clinic: Clinic,
    key: DecodingKey,
    alg: Algorithm,
}

/// CDS Hooks settings: trusted issuers, the service's public URL (the JWT
/// audience, and the base of links in cards), how long a token may live,
/// and the rate of CDS requests allowed.
pub struct Cds {
    pub issuers: Vec<Issuer>,
    pub public_url: String,
    /// The longest a token may still be valid for, in seconds (CDS Hooks
    /// asks for short-lived tokens).
    pub max_token_secs: i64,
    /// Every request, by the address it comes from, before anything is
    /// decoded: what a token that fails its checks (a forged signature
    /// naming a trusted issuer, a replay) costs is its sender's quota. A
    /// table of at most `FACET_SCREEN_CDS_MAX_SOURCES` addresses.
    sources: RateLimiter<IpAddr>,
    /// The calls an issuer really made (signature checked, jti never seen
    /// before), by issuer: never spent by someone else's junk.
    signed: RateLimiter<String>,
}

/// Tokens larger than this are refused before anything is decoded.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew allowed between the CDS client and this service.
const SKEW_SECS: i64 = 60;
/// Feedback items taken in one request.
pub const MAX_FEEDBACK_ITEMS: usize = 20;

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

impl Cds {
    /// Reads the trusted issuers (a JSON array) from `path`, if any.
    pub fn load(
        path: Option<&FsPath>,
        public_url: String,
        max_token_secs: u64,
        per_minute: u32,
        max_sources: usize,
    ) -> anyhow::Result<Cds> {
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
        Ok(Cds {
            public_url: public_url.trim_end_matches('/').to_string(),
            max_token_secs: i64::try_from(max_token_secs).unwrap_or(i64::MAX),
            sources: RateLimiter::per_minute(per_minute, max_sources),
            signed: RateLimiter::per_minute(per_minute, issuers.len()),
            issuers,
        })
    }

    fn service_url(&self) -> String {
        format!("{}/cds-services/{SERVICE_ID}", self.public_url)
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    exp: i64,
    jti: String,
    #[serde(default)]
    iat: Option<i64>,
}

/// A CDS client whose JWT checked out.
pub struct CdsClient {
    pub iss: String,
    pub clinic: Clinic,
}

impl CdsClient {
    fn actor(&self) -> Actor {
        Actor {
            key_id: format!("cds:{}", self.iss),
            label: "CDS Hooks client".into(),
            clinician: None,
        }
    }
}

fn refuse(why: &'static str) -> ApiError {
    ApiError::Unauthorized(why)
}

/// What a CDS request is counted by before it is authenticated: its
/// address, or for IPv6 its /64 (one host commonly holds a whole /64, so
/// counting each address would count nothing).
fn source(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        },
        v4 => v4,
    }
}

impl FromRequestParts<AppState> for CdsClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<CdsClient, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(refuse(
                "send `Authorization: Bearer <JWT>` signed by a trusted CDS client",
            ))?;
        // Cheap checks first: nothing below costs a signature check.
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refuse("the token is over 8 KB"));
        }
        let segments: Vec<&str> = token.split('.').collect();
        if segments.len() != 3
            || segments.iter().any(|s| {
                s.is_empty()
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
        {
            return Err(refuse("the token is not a JWT"));
        }
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            app.cds.sources.check(&source(peer.ip()))?;
        }
        // Which issuer: read before verifying, to pick its key.
        let unverified: Value = URL_SAFE_NO_PAD
            .decode(segments[1])
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(refuse("the token is not a JWT"))?;
        let iss = unverified["iss"].as_str().unwrap_or_default();
        let issuer = app
            .cds
            .issuers
            .iter()
            .find(|i| i.iss == iss)
            .ok_or(refuse("the token's issuer is not trusted"))?;
        // The audience is exactly the route called.
        let mut audience = app.cds.service_url();
        if parts.uri.path().ends_with("/feedback") {
            audience.push_str("/feedback");
        }
        let mut validation = Validation::new(issuer.alg);
        validation.set_issuer(&[&issuer.iss]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = SKEW_SECS as u64;
        let claims = jsonwebtoken::decode::<Claims>(token, &issuer.key, &validation)
            .map_err(|_| refuse("the token's signature, audience, expiry or start is not valid"))?
            .claims;
        let now = chrono::Utc::now().timestamp();
        if claims.exp > now.saturating_add(app.cds.max_token_secs + SKEW_SECS) {
            return Err(refuse(
                "the token lives too long: CDS Hooks tokens are short-lived",
            ));
        }
        match claims.iat {
            None => return Err(refuse("the token has no iat")),
            Some(iat) if iat > now + SKEW_SECS => {
                return Err(refuse("the token was issued in the future"));
            }
            Some(_) => {}
        }
        if claims.jti.is_empty() {
            return Err(refuse("the token has no jti"));
        }
        // An expiry past what a time can hold is kept for ever, never as 1970
        // (the purge would then forget the jti and let the token be replayed).
        let expires = chrono::DateTime::from_timestamp(claims.exp, 0)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        if !app
            .store
            .claim_jwt_id(&claims.iss, &claims.jti, &timestamp(expires))
            .await?
        {
            return Err(refuse("the token was already used"));
        }
        // Counted against its issuer only now: a call it really made (its
        // signature checked, its jti never seen), so that junk naming it, or
        // a replay, costs the sender's quota (above) and never the issuer's.
        app.cds.signed.check(&issuer.iss)?;
        Ok(CdsClient {
            iss: issuer.iss.clone(),
            clinic: issuer.clinic.clone(),
        })
    }
}

/// Discovery: the service this server offers.
#[utoipa::path(get, path = "/cds-services", operation_id = "cdsDiscovery", tag = "cds-hooks",
    responses((status = 200, description = "CDS Hooks discovery", body = Object)))]
pub async fn discovery(State(app): State<AppState>) -> Json<Value> {
    Json(json!({"services": [{
        "hook": "patient-view",
        "id": SERVICE_ID,
        "title": "Endoscopic medial branch neurectomy screening",
        "description": "Screens the patient's answers to the facet-screen questionnaire and suggests candidacy for endoscopic medial branch neurectomy, with its basis, for a clinician to confirm.",
        "prefetch": {
            "questionnaireResponse": format!(
                "QuestionnaireResponse?questionnaire={}&subject={{{{context.patientId}}}}&_sort=-authored&_count=1",
                fhir::canonical(&app.rules.current())
            )
        },
        "usageRequirements": "The patient answered the facet-screen questionnaire (a QuestionnaireResponse)."
    }]}))
}

/// The newest QuestionnaireResponse in the prefetch (a resource or a Bundle).
fn prefetched_response(request: &Value) -> Option<Value> {
    let p = &request["prefetch"]["questionnaireResponse"];
    match p["resourceType"].as_str() {
        Some("QuestionnaireResponse") => Some(p.clone()),
        Some("Bundle") => p["entry"]
            .as_array()?
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["resourceType"] == "QuestionnaireResponse")
            .cloned(),
        _ => None,
    }
}

/// The screening service: evaluates the prefetched QuestionnaireResponse,
/// keeps it as a screening pending review, and answers one card.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy", operation_id = "cdsScreen", tag = "cds-hooks",
    request_body(content = Object, description = "A CDS Hooks request for the patient-view hook"),
    responses(
        (status = 200, description = "Cards", body = Object),
        (status = 400, description = "Not a hook request", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No JWT, or one not signed by a trusted issuer, for another audience, expired or replayed", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The prefetched QuestionnaireResponse is not valid", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many CDS requests from this address, or signed calls of this issuer; or the table of addresses counted is full and this address is new (with `Retry-After`)", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "cds_service", skip_all)]
pub async fn service(
    State(app): State<AppState>,
    client: CdsClient,
    JsonBody(request): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let key = hook_key(&request)?;
    let Some(response) = prefetched_response(&request) else {
        return Ok(Json(card::no_response_card(&app.cds)));
    };
    let rules = app.rules.current();
    let answers =
        fhir::answers_from_response(&rules, &response).map_err(ApiError::InvalidAnswers)?;
    let created = app
        .screenings
        .create(
            &client.clinic,
            client.actor(),
            Submitted::new(rules, &answers),
            Some(key),
        )
        .await?;
    Ok(Json(card::card(&app.cds, &created.screening)?))
}

/// A patient-view hook call's idempotency key: a retried call (same
/// `hookInstance`) gives the same screening.
fn hook_key(request: &Value) -> Result<IdempotencyKey, ApiError> {
    let bad = |field: &str, message: &str| {
        ApiError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    };
    if request["hook"] != "patient-view" {
        return Err(bad("hook", "this service answers the patient-view hook"));
    }
    let instance = request["hookInstance"]
        .as_str()
        .ok_or_else(|| bad("hookInstance", "expected the hook instance's id"))?;
    Ok(IdempotencyKey::parse(&format!(
        "cds:{}",
        hex::encode(&Sha256::digest(instance.as_bytes())[..16])
    ))
    .expect("a hex key is valid"))
}

/// A CDS Hooks 2.0 feedback request.
#[derive(Debug, Deserialize, serde::Serialize, Validate)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    #[validate(length(min = 1, max = 20), nested)]
    feedback: Vec<FeedbackItem>,
}

#[derive(Debug, Deserialize, serde::Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FeedbackItem {
    /// The card's uuid: the screening it was made from.
    #[validate(custom(function = "a_card_id"))]
    card: String,
    outcome: FeedbackOutcome,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    accepted_suggestions: Option<Vec<AcceptedSuggestion>>,
    #[serde(default)]
    #[validate(nested)]
    override_reason: Option<OverrideReason>,
    /// When the clinician acted (ISO 8601).
    #[validate(custom(function = "a_timestamp"))]
    outcome_timestamp: String,
    /// Extensions are allowed by CDS Hooks; they are not kept.
    #[serde(default)]
    #[allow(dead_code)]
    extension: Option<Value>,
}

#[derive(Debug, Deserialize, serde::Serialize, Validate)]
#[serde(deny_unknown_fields)]
struct AcceptedSuggestion {
    #[validate(length(min = 1, max = 128))]
    #[allow(dead_code)]
    id: String,
}

#[derive(Debug, Deserialize, serde::Serialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OverrideReason {
    #[serde(default)]
    #[validate(nested)]
    reason: Option<Coding>,
    #[serde(default)]
    #[validate(length(max = 2000))]
    user_comment: Option<String>,
}

/// One of the override reasons the card offered.
#[derive(Debug, Deserialize, serde::Serialize, Validate)]
#[serde(deny_unknown_fields)]
struct Coding {
    #[validate(custom(function = "a_reason_code"))]
    code: String,
    #[validate(custom(function = "our_reason_system"))]
    system: String,
    #[serde(default)]
    #[validate(length(max = 200))]
    #[allow(dead_code)]
    display: Option<String>,
}

/// `feedback[0].override_reason.user_comment` as the JSON names it:
/// `feedback[0].overrideReason.userComment`.
fn camel_case_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn invalid(code: &'static str, message: &'static str) -> validator::ValidationError {
    validator::ValidationError::new(code).with_message(message.into())
}

fn a_card_id(s: &str) -> Result<(), validator::ValidationError> {
    ScreeningId::parse(s)
        .map(|_| ())
        .ok_or_else(|| invalid("card", "expected the uuid of a card this service issued"))
}

fn a_timestamp(s: &str) -> Result<(), validator::ValidationError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|_| ())
        .map_err(|_| {
            invalid(
                "timestamp",
                "expected an ISO 8601 time such as 2026-11-25T09:00:00Z",
            )
        })
}

/// The review reason a card's override reason code names.
fn reason_code(code: &str) -> Option<ReasonCode> {
    use strum::VariantArray as _;
    ReasonCode::VARIANTS
        .iter()
        .copied()
        .find(|r| r.as_str() == code)
}

fn a_reason_code(s: &str) -> Result<(), validator::ValidationError> {
    reason_code(s)
        .map(|_| ())
        .ok_or_else(|| invalid("reason", "expected one of the card's overrideReasons codes"))
}

fn our_reason_system(s: &str) -> Result<(), validator::ValidationError> {
    (s == REASON_SYSTEM).then_some(()).ok_or_else(|| {
        invalid(
            "system",
            "expected the system of the card's overrideReasons",
        )
    })
}

/// Feedback: whether the clinician accepted or overrode each card, recorded
/// on the screening's history, all items or none.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy/feedback", operation_id = "cdsFeedback", tag = "cds-hooks",
    request_body(content = Object, description = "CDS Hooks 2.0 feedback: 1 to 20 items"),
    responses(
        (status = 200, description = "Recorded"),
        (status = 401, description = "No valid JWT", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "A card this service did not issue to this client", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid feedback", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many CDS requests from this address, or signed calls of this issuer; or the table of addresses counted is full and this address is new (with `Retry-After`)", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn feedback(
    State(app): State<AppState>,
    client: CdsClient,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let request = match from_json::<FeedbackRequest>(body) {
        Ok(r) => r,
        Err(Invalid::Shape(errors)) => return Err(ApiError::Invalid(errors)),
        // validator names Rust fields; the client wrote CDS Hooks' names.
        Err(Invalid::Fields(_, errors)) => {
            return Err(ApiError::Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: camel_case_path(&e.field),
                        message: e.message,
                    })
                    .collect(),
            ));
        }
    };
    let items = request
        .feedback
        .iter()
        .map(|item| {
            let card = ScreeningId::parse(&item.card).expect("validated");
            let reason = item.override_reason.as_ref();
            let data = EventData::CdsFeedback(CdsFeedbackData {
                outcome: item.outcome,
                outcome_timestamp: item.outcome_timestamp.clone(),
                override_reason: reason
                    .and_then(|r| r.reason.as_ref())
                    .and_then(|c| reason_code(&c.code)),
                user_comment: reason.and_then(|r| r.user_comment.clone()),
            });
            (card, data)
        })
        .collect();
    app.screenings
        .record_feedback(&client.clinic, &client.actor(), items)
        .await
        .map_err(|e| match e {
            ScreeningError::NotFound => ApiError::NotFound("card"),
            other => other.into(),
        })?;
    Ok(Json(json!({})))
}

/// Only this service exists: any other id is 404.
pub async fn unknown_service(Path(_id): Path<String>) -> ApiError {
    ApiError::NotFound("CDS service")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_source_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source(a), source(b));
        assert_eq!(source(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_ne!(source(a), source(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        let v4: IpAddr = "127.0.2.9".parse().unwrap();
        assert_eq!(source(v4), v4);
    }
}
