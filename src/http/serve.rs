//! Serving connections with the limits a hostile network needs, which
//! `axum::serve` does not set: hyper's header-read timeout (it also bounds a
//! kept-alive connection left idle between requests), a cap on open
//! connections set under the process's descriptor limit, and a backoff when
//! accepting fails (say, out of descriptors) instead of a busy loop. Each
//! request carries its peer's address (`ConnectInfo`). On the stop signal
//! no connection is accepted any more, and those open are given a deadline
//! to finish their requests.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Ends the connection a request came on, whatever it is doing: a handler
/// whose client stopped reading its answer (an export) cannot reach it
/// through the answer's body, which the connection no longer polls. Each
/// request carries its connection's (an extension).
#[derive(Clone)]
pub struct CutConnection(Arc<tokio::sync::Notify>);

impl CutConnection {
    pub fn cut(&self) {
        self.0.notify_one();
    }
}

/// Descriptors kept for everything but the API's client connections (the
/// database pool, the rule files, logs, and the metrics listener's
/// `monitoring::MAX_CONNECTIONS`).
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// How long connections may take to finish after the stop signal.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a request's headers within this, and a kept-alive
    /// connection is closed after this long without a new request.
    pub header_read_timeout: Duration,
    /// Open connections at most; more wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Limits {
    /// `max_connections` 0 means: derived from the descriptor limit.
    pub fn new(header_read_timeout: Duration, max_connections: usize) -> Limits {
        let ceiling = descriptor_ceiling();
        let max_connections = match max_connections {
            0 => ceiling,
            n if n > ceiling => {
                tracing::warn!(
                    configured = n,
                    ceiling,
                    "FACET_SCREEN_MAX_CONNECTIONS is above what the descriptor limit allows; using the ceiling"
                );
                ceiling
            }
            n => n,
        };
        Limits {
            header_read_timeout,
            max_connections,
        }
    }
}

/// Connections the descriptor limit leaves room for (RLIMIT_NOFILE).
fn descriptor_ceiling() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        1024
    };
    let room = soft
        .saturating_sub(RESERVED_DESCRIPTORS)
        .max(soft / 2)
        .max(16);
    usize::try_from(room).unwrap_or(usize::MAX)
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tracing::info!(
        address = %listener.local_addr()?,
        max_connections = limits.max_connections,
        header_read_timeout_secs = limits.header_read_timeout.as_secs(),
        "connection limits"
    );
    tokio::pin!(signal);
    let mut backoff = Duration::from_millis(5);
    let mut last_warning: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // Closed only by stopping: no connection is taken after.
                Err(_) => break,
            },
            () = &mut signal => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff = Duration::from_millis(5);
                    accepted
                }
                Err(e) => {
                    if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                        tracing::warn!(error = %e, "cannot accept a connection; backing off");
                        last_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let cut = CutConnection(Arc::default());
        let cut_here = cut.0.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(cut.clone());
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {})) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Timeouts and clients that leave end here; nothing to report.
            // A cut drops the connection: its socket is closed.
            tokio::select! {
                _ = connection => {}
                () = cut_here.notified() => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_DEADLINE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open at the shutdown deadline were closed");
    }
    Ok(())
}
