//! CDS Hooks 2.0: discovery, the screening service (cards from the same rules)
//! and feedback onto the screening's history. The CDS client authenticates
//! with a signed JWT from a configured trusted issuer (`iss`, `aud`, `exp`,
//! and a `jti` never seen before).

use std::path::Path as FsPath;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::extract::JsonBody;
use super::problem::ApiError;
use super::{AppState, Committing};
use crate::auth::Clinic;
use crate::fhir;
use crate::questionnaire::FieldError;
use crate::rules::Outcome;
use crate::screening::record::{Actor, IdempotencyKey, ReasonCode, timestamp};
use crate::screening::{Evaluation, Screening, ScreeningId};
use crate::service::ServiceError;

pub const SERVICE_ID: &str = "facet-screen-neurectomy";
const REASON_SYSTEM: &str = "urn:facet-screen:review-reason";

/// A CDS client we trust: its JWT issuer, public key and clinic.
pub struct Issuer {
    pub iss: String,
    pub clinic: Clinic,
    key: DecodingKey,
    alg: Algorithm,
}

/// CDS Hooks settings: trusted issuers, and the service's public URL (the
/// JWT audience, and the base of links in cards).
pub struct Cds {
    pub issuers: Vec<Issuer>,
    pub public_url: String,
}

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
    pub fn load(path: Option<&FsPath>, public_url: String) -> anyhow::Result<Cds> {
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
            issuers,
            public_url: public_url.trim_end_matches('/').to_string(),
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
        // Which issuer: read before verifying, to pick its key.
        let payload = token
            .split('.')
            .nth(1)
            .ok_or(refuse("the token is not a JWT"))?;
        let unverified: Value = URL_SAFE_NO_PAD
            .decode(payload)
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
        let mut validation = Validation::new(issuer.alg);
        validation.set_issuer(&[&issuer.iss]);
        let service = app.cds.service_url();
        validation.set_audience(&[service.clone(), format!("{service}/feedback")]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &issuer.key, &validation)
            .map_err(|_| refuse("the token's signature, audience or expiry is not valid"))?
            .claims;
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
        Ok(CdsClient {
            iss: issuer.iss.clone(),
            clinic: issuer.clinic.clone(),
        })
    }
}

/// Discovery: the service this server offers.
#[utoipa::path(get, path = "/cds-services", tag = "cds-hooks",
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
                fhir::canonical(&app.rules)
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

fn indicator(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::UrgentEvaluation => "critical",
        Outcome::UnlikelyCandidate | Outcome::NotYetEligible => "warning",
        _ => "info",
    }
}

fn override_reasons() -> Value {
    use strum::VariantArray as _;
    ReasonCode::VARIANTS
        .iter()
        .map(|r| json!({"code": r.as_str(), "system": REASON_SYSTEM, "display": r.label()}))
        .collect()
}

/// The screening service: evaluates the prefetched QuestionnaireResponse,
/// keeps it as a screening pending review, and answers one card.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy", tag = "cds-hooks",
    request_body(content = Object, description = "A CDS Hooks request for the patient-view hook"),
    responses(
        (status = 200, description = "Cards", body = Object),
        (status = 400, description = "Not a hook request", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No JWT, or one not signed by a trusted issuer, for another audience, expired or replayed", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The prefetched QuestionnaireResponse is not valid", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(name = "cds_service", skip_all)]
pub async fn service(
    State(app): State<AppState>,
    Extension(committing): Extension<Committing>,
    client: CdsClient,
    JsonBody(request): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let key = hook_key(&request)?;
    let Some(response) = prefetched_response(&request) else {
        return Ok(Json(no_response_card(&app.cds)));
    };
    let answers =
        fhir::answers_from_response(&app.rules, &response).map_err(ApiError::InvalidAnswers)?;
    committing.begin();
    let created = app
        .screenings
        .create(&client.clinic, client.actor(), &answers, Some(key))
        .await?;
    Ok(Json(card(&app.cds, &created.screening)?))
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

/// The card when the patient has not answered the questionnaire yet.
fn no_response_card(cds: &Cds) -> Value {
    json!({"cards": [{
        "uuid": uuid::Uuid::new_v4().to_string(),
        "summary": "facet-screen: no questionnaire response for this patient yet",
        "indicator": "info",
        "source": {"label": "facet-screen"},
        "links": [{"label": "Open the facet-screen intake form", "url": format!("{}/#/intake", cds.public_url), "type": "absolute"}],
    }]})
}

/// The card of a stored screening: its evaluation as issued (the first
/// one, on a retry), with the basis, a link to review it and the override
/// reasons.
fn card(cds: &Cds, screening: &Screening) -> Result<Value, ApiError> {
    let evaluation: Evaluation =
        serde_json::from_str(screening.evaluation.get()).map_err(|_| ApiError::Internal)?;
    let id = screening.id;
    let mut detail = format!("**{}**: {}\n", evaluation.outcome_label, evaluation.summary);
    if !evaluation.reasons.is_empty() {
        detail.push_str("\n**Why**\n");
        for r in &evaluation.reasons {
            detail.push_str(&format!("- {} ({}): {}\n", r.title, r.code, r.message));
        }
    }
    let required: Vec<_> = evaluation.missing.iter().filter(|m| m.required).collect();
    if !required.is_empty() {
        detail.push_str("\n**Missing answers**\n");
        for m in required {
            detail.push_str(&format!("- {}\n", m.question));
        }
    }
    detail.push_str("\n**Next steps**\n");
    for (i, s) in evaluation.next_steps.iter().enumerate() {
        detail.push_str(&format!("{}. {s}\n", i + 1));
    }
    detail.push_str(&format!("\n_{}_\n", evaluation.disclaimer));
    let mut summary = format!(
        "facet-screen: {} (a suggestion for a clinician to confirm)",
        evaluation.outcome_label
    );
    summary.truncate(140);
    tracing::info!(outcome = evaluation.outcome.as_str(), "cds card");
    Ok(json!({"cards": [{
        "uuid": id,
        "summary": summary,
        "detail": detail,
        "indicator": indicator(evaluation.outcome),
        "source": {
            "label": format!("facet-screen rules {} ({})", evaluation.ruleset.version, evaluation.ruleset.profile),
            "url": format!("{}/v1/sources", cds.public_url),
        },
        "links": [{"label": "Review the screening in facet-screen", "url": format!("{}/#/review/{id}", cds.public_url), "type": "absolute"}],
        "overrideReasons": override_reasons(),
    }]}))
}

/// Feedback: whether the clinician accepted or overrode each card, recorded
/// on the screening's history.
#[utoipa::path(post, path = "/cds-services/facet-screen-neurectomy/feedback", tag = "cds-hooks",
    request_body(content = Object, description = "CDS Hooks feedback"),
    responses(
        (status = 200, description = "Recorded"),
        (status = 401, description = "No valid JWT", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "A card this service did not issue", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid feedback", body = super::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn feedback(
    State(app): State<AppState>,
    client: CdsClient,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let items = body["feedback"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            ApiError::Invalid(vec![FieldError {
                field: "feedback".into(),
                message: "expected a non-empty array".into(),
            }])
        })?;
    let mut checked = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let outcome = item["outcome"].as_str().unwrap_or_default();
        if outcome != "accepted" && outcome != "overridden" {
            return Err(ApiError::Invalid(vec![FieldError {
                field: format!("feedback[{i}].outcome"),
                message: "expected accepted or overridden".into(),
            }]));
        }
        let card = item["card"]
            .as_str()
            .and_then(ScreeningId::parse)
            .ok_or(ApiError::NotFound("card"))?;
        checked.push((
            card,
            json!({
                "outcome": outcome,
                "override_reason": item["overrideReason"]["reason"]["code"],
                "user_comment": item["overrideReason"]["userComment"],
                "outcome_timestamp": item["outcomeTimestamp"],
            }),
        ));
    }
    app.screenings
        .record_feedback(&client.clinic, checked, &client.actor())
        .await
        .map_err(|e| match e {
            ServiceError::NotFound => ApiError::NotFound("card"),
            other => other.into(),
        })?;
    Ok(Json(json!({})))
}

/// Only this service exists: any other id is 404.
pub async fn unknown_service(Path(_id): Path<String>) -> ApiError {
    ApiError::NotFound("CDS service")
}
