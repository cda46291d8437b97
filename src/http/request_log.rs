//! The request's one log line, written when its response is ready: the
//! method (`other` for one outside HTTP's standard set: a caller may name a
//! method after a patient), the route template (never the raw path or query), the request
//! id, the status, the latency, and the suggestion made, if any (never the
//! answers). A body, a query string or a header value is never logged.
//!
//! It is a plain event with these as its fields, without a `tracing` span
//! around the request. The span cost more than the whole line (about 6,000
//! instructions a request, callgrind on `benches/router.rs`): the registry's
//! slot, the span's fields formatted when it is made, and its entry and exit
//! on every poll. Events logged while a request is handled name its id
//! themselves, as a `request_id` field (`current_id()`), so that a key
//! revoked, a review recorded or a storage error can still be found beside
//! the request's own line.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Method, Request, Response};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use super::LoggedOutcome;

tokio::task_local! {
    /// The id of the request this task is handling.
    static REQUEST_ID: Option<HeaderValue>;
}

/// The id of the request being handled by this task, for the `request_id`
/// field of an event logged meanwhile: `request_id = current_id().as_str()`.
/// Empty outside a request, and in a task spawned by a handler: take it
/// before spawning.
pub fn current_id() -> RequestId {
    RequestId(REQUEST_ID.try_with(Clone::clone).ok().flatten())
}

/// A request's id, as logged.
#[derive(Clone, Debug, Default)]
pub struct RequestId(Option<HeaderValue>);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// Logs one line per request. Placed inside the layer that sets the request
/// id, and outside every layer that may answer (so that a preflight, a 413,
/// a timeout or a panic's 500 is logged too).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for RequestLog<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = LogOnResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The id the service set (or the client's, when acceptable).
        let id = req.headers().get("x-request-id").cloned();
        LogOnResponse {
            id: RequestId(id.clone()),
            // The route template, never the raw path or query.
            route: req.extensions().get::<MatchedPath>().cloned(),
            method: req.method().clone(),
            start: Instant::now(),
            inner: REQUEST_ID.scope(id, self.inner.call(req)),
        }
    }
}

pin_project! {
    pub struct LogOnResponse<F> {
        #[pin]
        inner: TaskLocalFuture<Option<HeaderValue>, F>,
        id: RequestId,
        method: Method,
        route: Option<MatchedPath>,
        start: Instant,
    }
}

impl<F, R, E> Future for LogOnResponse<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Ok(res) = &result {
            let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
            log(res, this.method, route, this.id, this.start.elapsed());
        }
        Poll::Ready(result)
    }
}

fn log<R>(res: &Response<R>, method: &Method, route: &str, id: &RequestId, latency: Duration) {
    tracing::info!(
        method = crate::monitoring::method_label(method),
        route,
        request_id = id.as_str(),
        status = res.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        outcome = res.extensions().get::<LoggedOutcome>().map(|o| o.0),
        replayed = res
            .headers()
            .contains_key("idempotent-replayed")
            .then_some(true),
        "request"
    );
}
