//! The CDS Hooks 2.0 documents this service answers (discovery, cards) and
//! takes (a hook request), as types: the same types build the answers and
//! document them, so the OpenAPI document says what is sent. The feedback
//! request is `feedback::FeedbackRequest`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::feedback::Coding;

/// CDS Hooks discovery: the services this server offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsDiscovery {
    pub services: Vec<CdsService>,
}

/// A CDS service, as discovery describes it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsService {
    /// The hook it answers.
    pub hook: String,
    pub id: String,
    pub title: String,
    pub description: String,
    /// The FHIR queries the client runs before calling, by key.
    pub prefetch: BTreeMap<String, String>,
    pub usage_requirements: String,
}

/// The hook a call is for: this service answers `patient-view`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum HookName {
    #[serde(rename = "patient-view")]
    PatientView,
}

/// A CDS Hooks 2.0 patient-view call; the prefetch carries the patient's
/// newest QuestionnaireResponse (as a resource or a searchset Bundle).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsRequest {
    pub hook: HookName,
    pub hook_instance: String,
    #[schema(value_type = Object)]
    pub context: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub prefetch: Option<CdsPrefetch>,
}

/// What the client prefetched for the call.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsPrefetch {
    /// A QuestionnaireResponse, or a searchset Bundle of them (the newest
    /// is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, nullable = false)]
    pub questionnaire_response: Option<Value>,
}

/// The cards a call is answered with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsCards {
    pub cards: Vec<CdsCard>,
}

/// A CDS Hooks card.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsCard {
    /// The screening's id, when one was stored.
    pub uuid: String,
    #[schema(max_length = 140)]
    pub summary: String,
    /// Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<String>,
    pub indicator: Indicator,
    pub source: CdsSource,
    pub links: Vec<CdsLink>,
    /// The reasons a clinician may give for overriding the suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub override_reasons: Option<Vec<Coding>>,
}

/// How urgent a card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    Info,
    Warning,
    Critical,
}

/// Where a card's words come from.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsSource {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri", nullable = false)]
    pub url: Option<String>,
}

/// A link a card offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsLink {
    pub label: String,
    #[schema(format = "uri")]
    pub url: String,
    /// `absolute`: a page to open.
    #[serde(rename = "type")]
    pub kind: String,
}
