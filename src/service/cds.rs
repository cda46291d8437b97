//! CDS Hooks 2.0: who may call (a trusted issuer's JWT, each `jti` once,
//! within its sender's and its issuer's rates), the screening service (the
//! prefetched QuestionnaireResponse evaluated and kept as a screening
//! pending review, answered with one card) and feedback onto the
//! screening's history. The words of the cards are `card`'s; feedback is
//! read by `feedback`.

mod card;
mod documents;
mod feedback;

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ScreeningError, Screenings, Unexpected};
use crate::auth::jwt::{self, Issuers, TokenError};
use crate::auth::{Clinic, RateLimiter, Wait};
use crate::fhir;
use crate::questionnaire::FieldError;
use crate::rules::Outcome;
use crate::screening::{Actor, IdempotencyKey, timestamp};
use crate::store::{Store, StoreError};

pub use documents::{
    CdsCard, CdsCards, CdsDiscovery, CdsLink, CdsPrefetch, CdsRequest, CdsService, CdsSource,
    HookName, Indicator,
};
pub use feedback::{Coding, FeedbackRequest, MAX_FEEDBACK_ITEMS};

pub const SERVICE_ID: &str = "facet-screen-neurectomy";
const REASON_SYSTEM: &str = "urn:facet-screen:review-reason";

/// CDS Hooks settings: trusted issuers, the service's public URL (the JWT
/// audience, and the base of links in cards), how long a token may live,
/// and the rate of CDS requests allowed.
pub struct CdsSettings {
    issuers: Issuers,
    public_url: String,
    /// The longest a token may still be valid for, in seconds (CDS Hooks
    /// asks for short-lived tokens).
    max_token_secs: i64,
    /// Every request, by the address it comes from, before anything is
    /// decoded: what a token that fails its checks (a forged signature
    /// naming a trusted issuer, a replay) costs is its sender's quota. A
    /// table of at most `FACET_SCREEN_CDS_MAX_SOURCES` addresses.
    sources: RateLimiter<IpAddr>,
    /// The calls an issuer really made (signature checked, jti never seen
    /// before), by issuer: never spent by someone else's junk.
    signed: RateLimiter<String>,
}

impl CdsSettings {
    /// Reads the trusted issuers (a JSON array) from `path`, if any.
    pub fn load(
        path: Option<&Path>,
        public_url: String,
        max_token_secs: u64,
        per_minute: u32,
        max_sources: usize,
    ) -> anyhow::Result<CdsSettings> {
        let issuers = Issuers::load(path)?;
        Ok(CdsSettings {
            public_url: public_url.trim_end_matches('/').to_string(),
            max_token_secs: i64::try_from(max_token_secs).unwrap_or(i64::MAX),
            sources: RateLimiter::per_minute(per_minute, max_sources),
            signed: RateLimiter::per_minute(per_minute, issuers.len()),
            issuers,
        })
    }
}

/// The route a token is for: its audience is exactly that route's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Service,
    Feedback,
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

/// Why a CDS call is not let in.
#[derive(Debug, thiserror::Error)]
pub enum CdsAuthError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Over its sender's or its issuer's rate, or a new address when the
    /// table of addresses is full: retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<Wait> for CdsAuthError {
    fn from(Wait(secs): Wait) -> Self {
        CdsAuthError::TooManyRequests(secs)
    }
}

/// Why a hook call or feedback was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CdsError {
    /// Not a call this service answers, or not valid feedback (each bad
    /// field named as the client wrote it).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// The prefetched QuestionnaireResponse does not match the
    /// questionnaire.
    #[error("invalid answers")]
    InvalidAnswers(Vec<FieldError>),
    /// Feedback on a card this service did not issue to this client.
    #[error("no such card")]
    UnknownCard,
    #[error(transparent)]
    Screening(#[from] ScreeningError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<StoreError> for CdsError {
    fn from(e: StoreError) -> Self {
        CdsError::Unexpected(e.into())
    }
}

/// What the screening service answers: its cards, and the outcome its card
/// shows (none when the patient has not answered yet).
pub struct Cards {
    pub body: CdsCards,
    pub outcome: Option<Outcome>,
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

/// The CDS Hooks service.
pub struct CdsHooks {
    settings: CdsSettings,
    screenings: Screenings,
    store: Store,
}

impl CdsHooks {
    pub fn new(settings: CdsSettings, screenings: Screenings, store: Store) -> Self {
        CdsHooks {
            settings,
            screenings,
            store,
        }
    }

    fn service_url(&self) -> String {
        format!("{}/cds-services/{SERVICE_ID}", self.settings.public_url)
    }

    /// The client sending `token` (the bearer token, if any) from `from` to
    /// `hook`. Cheap checks first, then its sender's quota, before anything
    /// is decoded; its issuer's quota only once the call is one it really
    /// made (its signature checked, its `jti` never seen): junk naming an
    /// issuer, or a replay, costs its sender's quota and never the
    /// issuer's.
    pub async fn authenticate(
        &self,
        token: Option<&str>,
        from: Option<IpAddr>,
        hook: Hook,
    ) -> Result<CdsClient, CdsAuthError> {
        let settings = &self.settings;
        let token = jwt::shape(token)?;
        if let Some(ip) = from {
            settings.sources.check(&source(ip))?;
        }
        let mut audience = self.service_url();
        if hook == Hook::Feedback {
            audience.push_str("/feedback");
        }
        let now = chrono::Utc::now().timestamp();
        let verified = settings
            .issuers
            .verify(&token, &audience, now, settings.max_token_secs)?;
        let issuer = verified.issuer;
        if !self
            .store
            .claim_jwt_id(&issuer.iss, &verified.jti, &timestamp(verified.expires))
            .await
            .map_err(Unexpected::from)?
        {
            return Err(TokenError::Replayed.into());
        }
        settings.signed.check(&issuer.iss)?;
        Ok(CdsClient {
            iss: issuer.iss.clone(),
            clinic: issuer.clinic.clone(),
        })
    }

    /// Discovery: the service this server offers.
    pub fn discovery(&self) -> CdsDiscovery {
        let query = format!(
            "QuestionnaireResponse?questionnaire={}&subject={{{{context.patientId}}}}&_sort=-authored&_count=1",
            fhir::canonical(&self.screenings.rules())
        );
        CdsDiscovery {
            services: vec![CdsService {
                hook: "patient-view".into(),
                id: SERVICE_ID.into(),
                title: "Endoscopic medial branch neurectomy screening".into(),
                description: "Screens the patient's answers to the facet-screen questionnaire and suggests candidacy for endoscopic medial branch neurectomy, with its basis, for a clinician to confirm.".into(),
                prefetch: [("questionnaireResponse".to_string(), query)].into(),
                usage_requirements: "The patient answered the facet-screen questionnaire (a QuestionnaireResponse).".into(),
            }],
        }
    }

    /// A patient-view call: evaluates the prefetched QuestionnaireResponse,
    /// keeps it as a screening pending review (once per `hookInstance`: a
    /// retried call gets the same screening), and answers one card.
    pub async fn screen(&self, client: &CdsClient, request: &Value) -> Result<Cards, CdsError> {
        let key = hook_key(request)?;
        let Some(response) = prefetched_response(request) else {
            return Ok(Cards {
                body: card::no_response_card(&self.settings.public_url),
                outcome: None,
            });
        };
        let rules = self.screenings.rules();
        let answers =
            fhir::answers_from_response(&rules, &response).map_err(CdsError::InvalidAnswers)?;
        let created = self
            .screenings
            .create(
                &client.clinic,
                client.actor(),
                super::Submitted::new(rules, &answers),
                Some(key),
            )
            .await?;
        let (body, outcome) = card::card(&self.settings.public_url, &created.screening)?;
        Ok(Cards {
            body,
            outcome: Some(outcome),
        })
    }

    /// Feedback: whether the clinician accepted or overrode each card,
    /// recorded on its screening's history, all items in one transaction or
    /// none. Each card must be a screening that this client created in its
    /// clinic; any other is `UnknownCard`, exactly as if it did not exist.
    pub async fn feedback(&self, client: &CdsClient, body: Value) -> Result<(), CdsError> {
        let items = feedback::parse(body).map_err(CdsError::Invalid)?;
        let actor = client.actor();
        for (id, _) in &items {
            let creator = self.store.created_by(&client.clinic, *id).await?;
            if creator.is_none_or(|c| c.key_id != actor.key_id) {
                return Err(CdsError::UnknownCard);
            }
        }
        let at = timestamp(chrono::Utc::now());
        if !self
            .store
            .record_events(&client.clinic, &items, &at, &actor)
            .await?
        {
            return Err(CdsError::UnknownCard);
        }
        Ok(())
    }
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

/// A patient-view hook call's idempotency key: a retried call (same
/// `hookInstance`) gives the same screening.
fn hook_key(request: &Value) -> Result<IdempotencyKey, CdsError> {
    let bad = |field: &str, message: &str| {
        CdsError::Invalid(vec![FieldError {
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
    let digest = hex::encode(&Sha256::digest(instance.as_bytes())[..16]);
    IdempotencyKey::parse(&format!("cds:{digest}"))
        .ok_or_else(|| bad("hookInstance", "expected the hook instance's id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn a_retried_hook_call_has_the_same_key_and_another_call_another() {
        let call = |instance: &str| json!({"hook": "patient-view", "hookInstance": instance});
        let key = |v: &Value| hook_key(v).ok().map(|k| k.as_str().to_string());
        assert_eq!(key(&call("a")), key(&call("a")));
        assert_ne!(key(&call("a")), key(&call("b")));
        assert!(key(&json!({"hook": "order-select", "hookInstance": "a"})).is_none());
        assert!(key(&json!({"hook": "patient-view"})).is_none());
    }
}
