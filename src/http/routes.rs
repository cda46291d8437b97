//! Every route, registered once: each documented handler with `routes!`,
//! which takes its path, method and documentation from its
//! `#[utoipa::path]`, so the router and the OpenAPI document cannot
//! disagree. The few routes left out of the document (the web pages, the
//! document itself, an unknown CDS service) are plain axum routes here.

use axum::routing::{get, post};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::{
    AppState, cds, deprecation, evaluations, export, fhir, fhir_answers, health, history, keys, me,
    questionnaire, screenings, stats, ui,
};

/// A JSON answer route that still takes a QuestionnaireResponse for a
/// deprecation period, and says so when it is sent one.
fn fhir_deprecated(routes: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, router) = routes;
    let layer = axum::middleware::from_fn(deprecation::fhir_on_json_route);
    (schemas, paths, router.layer(layer))
}

/// The routes, with the documentation of each (paths and the schemas they
/// name; the document's info, security and examples are `openapi`'s).
pub fn registry() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(me::get))
        .routes(routes!(fhir::read))
        .routes(routes!(fhir::search))
        .routes(routes!(cds::discovery))
        .routes(routes!(cds::service))
        .routes(routes!(cds::feedback))
        .routes(routes!(questionnaire::get))
        .routes(routes!(questionnaire::sources))
        .routes(fhir_deprecated(routes!(evaluations::create)))
        .routes(routes!(fhir_answers::evaluate))
        .routes(fhir_deprecated(routes!(screenings::create)))
        .routes(routes!(screenings::list))
        .routes(routes!(fhir_answers::create))
        .routes(routes!(screenings::get))
        .routes(routes!(screenings::review))
        .routes(fhir_deprecated(routes!(screenings::correct)))
        .routes(routes!(fhir_answers::correct))
        .routes(routes!(history::history))
        .routes(routes!(stats::get))
        .routes(routes!(export::get))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::revoke))
        // Not in the document: pages, the document, and CDS services that
        // do not exist.
        .route("/", get(ui::index))
        .route("/ui/{file}", get(ui::asset))
        .route("/openapi.json", get(super::openapi_document))
        .route("/cds-services/{id}", post(cds::unknown_service))
}
