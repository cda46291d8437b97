//! HTTP: a thin layer over the domain. Routes, extractors, problem+json,
//! OpenAPI.

pub mod answers_schema;
pub mod caller;
pub mod cds;
pub mod deprecation;
mod errors;
pub mod evaluations;
pub mod export;
pub mod extract;
pub mod fhir;
pub mod fhir_answers;
pub mod health;
pub mod history;
pub mod json;
pub mod keys;
pub mod me;
pub mod openapi;
pub mod problem;
pub mod questionnaire;
pub mod request_log;
mod routes;
pub mod screenings;
pub mod serve;
pub mod stats;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::rules::live::LiveRules;
use crate::service::cds::CdsHooks;
use crate::service::{Callers, Exports, Keys, Readiness, Screenings, Statistics};
use crate::store::Committing;
use json::Json;
use problem::ApiError;
use serde_json::Value;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler shares, behind one `Arc`: a request clones one
/// pointer, not each part.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl AppState {
    pub fn new(app: App) -> Self {
        AppState(Arc::new(app))
    }
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

pub struct App {
    /// The caller of each request, from its API key.
    pub callers: Callers,
    /// The operations on screenings.
    pub screenings: Screenings,
    /// A clinic's API keys.
    pub keys: Keys,
    /// The rule set in use: take `current()` once per request.
    pub rules: LiveRules,
    /// The OpenAPI document of the rule set it was made for (its digest and
    /// profile), made again after a reload.
    pub openapi: arc_swap::ArcSwap<(String, Value)>,
    /// Whether the service can serve (the readiness probe's).
    pub readiness: Readiness,
    /// CDS Hooks: who may call, the screening service, feedback.
    pub cds: CdsHooks,
    /// The clinic's statistics.
    pub stats: Statistics,
    /// The clinic's record, exported.
    pub exports: Exports,
    /// How long an export waits for its client to read before it is cut.
    pub export_stall: Duration,
}

impl App {
    /// The OpenAPI document for the rule set in use.
    fn openapi(&self) -> Value {
        let rules = self.rules.current();
        let key = format!("{} {}", rules.digest, rules.profile);
        let cached = self.openapi.load();
        if cached.0 == key {
            return cached.1.clone();
        }
        let doc = openapi::document(&rules);
        self.openapi.store(Arc::new((key, doc.clone())));
        doc
    }
}

async fn openapi_document(State(app): State<AppState>) -> Json<Value> {
    Json(app.openapi())
}

pub fn router(
    state: AppState,
    timeout: Duration,
    cors: Option<CorsLayer>,
    metrics: bool,
) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let (routes, _) = routes::registry().split_for_parts();
    let router = routes
        .merge(
            // The vendored Swagger UI sets inline styles: its pages get the
            // relaxed policy, which the layer below then leaves in place.
            Router::new()
                .merge(
                    SwaggerUi::new("/docs")
                        .config(utoipa_swagger_ui::Config::from("/openapi.json")),
                )
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP_DOCS),
                )),
        )
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    // The layers, outermost first, composed into one stack and applied
    // once: each `Router::layer` call boxes every route again, and a
    // request then clones one box per layer (measured: about 2 µs a
    // request for the 14 layers).
    let layers = ServiceBuilder::new()
        // Before an id is set: a client's id that is not a short visible
        // token is dropped, so that a new one is made (never echoed, never
        // logged).
        .layer(MapRequestLayer::new(acceptable_request_id))
        .layer(SetRequestIdLayer::new(request_id.clone(), NewRequestId))
        // The request's log line: once the id is set, outside every layer
        // that may answer.
        .layer(request_log::RequestLogLayer)
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // The security headers: the strict policy unless a route set its own
        // (the API docs), no sniffing, no referrer, never framed, and not
        // cached unless a route says otherwise.
        .layer(unless_set(header::CACHE_CONTROL, "no-store"))
        .layer(always(header::X_FRAME_OPTIONS, "DENY"))
        .layer(always(header::REFERRER_POLICY, "no-referrer"))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(unless_set(header::CONTENT_SECURITY_POLICY, CSP))
        // CORS answers preflights itself: inside the security headers, so
        // that they carry them too.
        .option_layer(cors)
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal.into_response()
        }))
        .layer(axum::middleware::from_fn_with_state(timeout, deadline))
        .layer(MapResponseLayer::new(problem_for_bare_errors))
        // Counted by route template when metrics are on (inside the problem
        // layer: the status counted is the one answered).
        .option_layer(metrics.then(|| axum::middleware::from_fn(crate::monitoring::track)));
    router.layer(layers)
}

/// A new request id: a random UUID (v4), written straight into the header's
/// bytes (tower-http's `MakeRequestUuid` formats it into a `String` first,
/// then copies that).
#[derive(Clone, Copy, Debug, Default)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut buf = [0; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// The outcome a response suggested, for the request's log line.
#[derive(Debug, Clone, Copy)]
pub struct LoggedOutcome(pub &'static str);

/// CORS for the configured origins only; none configured, no CORS at all
/// (browsers then allow same-origin requests only).
/// Each origin must be `https://host[:port]` exactly: no wildcard (a
/// service holding patient data names the pages it trusts), no path, and
/// not plain `http://` (a page anyone on the path can change), except a
/// page on this machine (`http://localhost`, `http://127.0.0.1`,
/// `http://[::1]`, with any port) for development.
pub fn cors(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let bad = || {
                format!("`{o}` is not an origin: expected https://host[:port], without a path (no wildcard)")
            };
            let uri: axum::http::Uri = o.parse().map_err(|_| bad())?;
            let bare = uri.path_and_query().is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
                && !o.ends_with('/');
            let Some(host) = uri.host().filter(|_| bare && !o.contains('*')) else {
                return Err(bad());
            };
            match uri.scheme_str() {
                Some("https") => {}
                Some("http") if matches!(host, "localhost" | "127.0.0.1" | "[::1]") => {}
                Some("http") => {
                    return Err(format!(
                        "`{o}` is plain http: origins must be https://host[:port] (http:// only for localhost, 127.0.0.1 or [::1], in development)"
                    ));
                }
                _ => return Err(bad()),
            }
            HeaderValue::from_str(o).map_err(|_| bad())
        })
        .collect::<Result<_, String>>()?;
    if origins.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::LOCATION,
                header::ETAG,
                header::LINK,
                HeaderName::from_static("deprecation"),
                HeaderName::from_static("x-request-id"),
            ]),
    ))
}

/// Strict content security policy: scripts and styles from this server only,
/// no inline script, never framed. The vendored Swagger UI sets inline
/// styles, so its pages allow those (still no inline script).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";
const CSP_DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
                        base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The longest request id a client may send.
pub const MAX_REQUEST_ID: usize = 128;

fn acceptable_request_id(mut req: Request) -> Request {
    let acceptable = req.headers().get("x-request-id").is_none_or(|v| {
        !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.as_bytes().iter().all(u8::is_ascii_graphic)
    });
    if !acceptable {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// A header every response carries.
fn always(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// A header every response carries unless its route set its own.
fn unless_set(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The request deadline: 408 (problem+json) for a request that takes longer,
/// unless a write of its own was already handed to the database (the store
/// marks it, whichever route writes: `store::Committing`); then the write's
/// outcome is the answer. For a client that asked for FHIR, an error
/// answered (the 408 too) becomes a FHIR `OperationOutcome`.
async fn deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let wants_fhir = extract::is_fhir(req.headers().get(header::ACCEPT));
    let committing = Committing::default();
    let run = committing.scope(next.run(req));
    tokio::pin!(run);
    let res = match tokio::time::timeout(timeout, &mut run).await {
        Ok(res) => res,
        Err(_) if committing.begun() => run.await,
        Err(_) => ApiError::for_status(StatusCode::REQUEST_TIMEOUT).into_response(),
    };
    fhir::outcome_for_fhir_clients(wants_fhir, res).await
}

/// Any error answered without a body of ours from inside this layer (the
/// framework's 405, 413, ...) becomes problem+json too. Not yet the CORS
/// preflights: that layer sits outside this one, so its answers carry
/// neither a problem body nor the security headers (the hostile-network
/// issue moves it inside).
fn problem_for_bare_errors(res: Response) -> Response {
    let status = res.status();
    if (status.is_client_error() || status.is_server_error())
        && !res.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut out = ApiError::for_status(status).into_response();
        for (name, value) in res.headers() {
            if name != header::CONTENT_LENGTH && !out.headers().contains_key(name) {
                out.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return out;
    }
    res
}
