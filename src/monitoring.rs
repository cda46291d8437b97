//! Prometheus metrics, served on an address of their own
//! (`FACET_SCREEN_METRICS_ADDR`) so that they are never exposed with the
//! API. Labels are route templates, methods, statuses, outcome codes,
//! profiles and the rule set's version and digest: never a patient value, a
//! key, a key id or a raw path. No label takes a value the caller chose:
//! a path no route matches is `unmatched`, a method outside the standard
//! set is `other`, so a caller cannot add series (nor memory) at will.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::rules::RuleSet;
use crate::store::Store;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Seconds: from 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder, once per process.
// PANIC SAFETY: the buckets are a non-empty constant, and this is the only
// place that installs a recorder, once (the OnceLock).
#[allow(clippy::expect_used)]
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .install_recorder()
            .expect("the only recorder of the process");
        describe_counter!(
            "facet_http_requests_total",
            "HTTP requests answered, by route template, method and status"
        );
        describe_histogram!(
            "facet_http_request_duration_seconds",
            "Time to answer, by route template and method"
        );
        describe_counter!(
            "facet_evaluations_total",
            "Evaluations made, by suggested outcome and threshold profile"
        );
        describe_gauge!(
            "facet_screenings_pending_review",
            "Screenings waiting for a clinician's review, all clinics"
        );
        describe_counter!(
            "facet_key_cache_total",
            "Key lookups, by result: hit (the cache) or miss (the database)"
        );
        describe_gauge!(
            "facet_db_pool_connections",
            "Database pool connections, by state"
        );
        describe_histogram!(
            "facet_db_write_duration_seconds",
            "Time to store a new screening durably, by backend"
        );
        describe_gauge!(
            "facet_ruleset_info",
            "The rule set in use: version, digest and profile as labels"
        );
        describe_counter!(
            crate::telemetry::batched::DROPPED_METRIC,
            "Log lines dropped because the log's output (stdout) did not keep up"
        );
        // Shown from the start (0), so that an alert can tell none from unknown.
        counter!(crate::telemetry::batched::DROPPED_METRIC).increment(0);
        handle
    })
}

/// A request's method as a label (and in the log): one of HTTP's standard
/// methods, or `other` for any method a caller made up (which may be a
/// patient's name, and would be a new series each).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Counts every answer of the API by its route template (never the path).
pub async fn track(req: Request, next: axum::middleware::Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    counter!("facet_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    histogram!("facet_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    res
}

/// The rule set in use changed (a reload): the info gauge follows it.
pub fn ruleset_changed(old: &RuleSet, new: &RuleSet) {
    gauge!("facet_ruleset_info", "version" => old.version.clone(), "digest" => old.digest.clone(), "profile" => old.profile.clone())
        .set(0.0);
    gauge!("facet_ruleset_info", "version" => new.version.clone(), "digest" => new.digest.clone(), "profile" => new.profile.clone())
        .set(1.0);
}

/// Connections `/metrics` serves at once: a scraper needs one or two. More
/// wait in the kernel's backlog, holding no descriptor of the service; this
/// many fit within the descriptors the API leaves spare
/// (`http::serve::RESERVED_DESCRIPTORS`).
pub const MAX_CONNECTIONS: usize = 16;

/// Serves `/metrics` on `listener` and samples the gauges every 5 s, with
/// the API's serve loop: its header timeout (which also closes an idle
/// connection) and a cap of its own, so that idle connections to this port
/// can neither take the descriptors the API needs nor stay open.
pub async fn serve(
    listener: tokio::net::TcpListener,
    header_read_timeout: Duration,
    rules: std::sync::Arc<RuleSet>,
    store: Store,
) {
    let handle = install();
    gauge!("facet_ruleset_info", "version" => rules.version.clone(), "digest" => rules.digest.clone(), "profile" => rules.profile.clone())
        .set(1.0);
    tokio::spawn(sample(store));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || async move {
            let mut res = handle.render().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }),
    );
    let limits = crate::http::serve::Limits::new(header_read_timeout, MAX_CONNECTIONS);
    // It stops with the process.
    if let Err(e) = crate::http::serve::serve(listener, app, limits, std::future::pending()).await {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}

async fn sample(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let (size, idle) = store.pool_use();
        gauge!("facet_db_pool_connections", "state" => "idle").set(idle as f64);
        gauge!("facet_db_pool_connections", "state" => "in_use")
            .set((size as usize).saturating_sub(idle) as f64);
        if let Ok(n) = store.pending_review_count().await {
            gauge!("facet_screenings_pending_review").set(n as f64);
        }
    }
}

/// The address to bind for metrics, checked apart from the API's.
pub fn check_addr(metrics: SocketAddr, api: SocketAddr) -> anyhow::Result<()> {
    if metrics.port() != 0 && metrics == api {
        anyhow::bail!("FACET_SCREEN_METRICS_ADDR must differ from FACET_SCREEN_ADDR");
    }
    Ok(())
}
