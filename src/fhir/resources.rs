//! The FHIR R4 resources this service answers (a Questionnaire, a searchset
//! Bundle of them, an OperationOutcome) and takes (a QuestionnaireResponse),
//! as types: the parts a client reads or must send, documented by the same
//! types that build them. Other properties are allowed, as FHIR does.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The `resourceType` of a Questionnaire.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum QuestionnaireType {
    Questionnaire,
}

/// The questionnaire as a FHIR R4 Questionnaire.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FhirQuestionnaire)]
pub struct Questionnaire {
    pub resource_type: QuestionnaireType,
    pub id: String,
    pub url: String,
    pub version: String,
    pub name: String,
    pub title: String,
    pub status: String,
    pub subject_type: Vec<String>,
    pub description: String,
    /// The sections (groups), each with its questions.
    #[schema(value_type = Vec<Object>)]
    pub item: Vec<Value>,
}

/// The `resourceType` of a Bundle.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum BundleType {
    Bundle,
}

/// The kind of a Bundle: the results of a search.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchSet {
    Searchset,
}

/// A FHIR R4 searchset Bundle of Questionnaires.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FhirBundle)]
pub struct Bundle {
    pub resource_type: BundleType,
    #[serde(rename = "type")]
    pub kind: SearchSet,
    pub total: usize,
    pub entry: Vec<BundleEntry>,
}

/// A Questionnaire found.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FhirBundleEntry)]
pub struct BundleEntry {
    pub full_url: String,
    pub resource: Questionnaire,
    pub search: BundleSearch,
}

/// Why an entry is in a searchset: `match`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FhirBundleSearch)]
pub struct BundleSearch {
    pub mode: String,
}

/// The `resourceType` of an OperationOutcome.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum OperationOutcomeType {
    OperationOutcome,
}

/// A FHIR R4 OperationOutcome: the problem, for clients that send
/// `Accept: application/fhir+json`; an issue per bad field, its linkId in
/// `expression`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    pub resource_type: OperationOutcomeType,
    pub issue: Vec<Issue>,
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OperationOutcomeIssue)]
pub struct Issue {
    /// `error`.
    pub severity: String,
    /// FHIR's issue type: `invalid`, `structure`, `security`, ...
    pub code: String,
    pub diagnostics: String,
    /// The field (linkId) at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expression: Option<Vec<String>>,
}

/// The `resourceType` of a QuestionnaireResponse.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum QuestionnaireResponseType {
    QuestionnaireResponse,
}

/// A FHIR R4 QuestionnaireResponse answering this service's Questionnaire
/// (GET /fhir/Questionnaire/{id}); linkIds are the answer ids. Each
/// question is answered at most once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    pub resource_type: QuestionnaireResponseType,
    /// The Questionnaire's canonical URL, optionally with |version.
    pub questionnaire: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status: Option<String>,
    pub item: Vec<QuestionnaireResponseItem>,
}

/// An item of a QuestionnaireResponse: a section, a question answered, or
/// a list entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponseItem {
    pub link_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub text: Option<String>,
    /// One valueBoolean, valueInteger, valueDecimal, valueString or
    /// valueCoding each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<Object>, nullable = false)]
    pub answer: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub item: Option<Vec<QuestionnaireResponseItem>>,
}
