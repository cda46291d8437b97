//! facet-screen: screens patients as candidates for endoscopic medial branch
//! neurectomy and returns a suggestion, with its basis, for a clinician to
//! confirm.

pub mod auth;
pub mod cases;
pub mod condition;
pub mod config;
pub mod fhir;
pub mod http;
pub mod monitoring;
pub mod problem_list;
pub mod questionnaire;
pub mod rules;
pub mod screening;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
