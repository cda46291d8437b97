//! Logging, set up once. Request logs carry method, route template, status,
//! latency and request id: never a body, a query string or a header value.

pub mod batched;
pub mod fields;
pub mod time;

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber writing to `writer` (stdout in production).
pub fn init<W>(format: LogFormat, writer: W)
where
    W: for<'a> fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_timer(time::Rfc3339Micros)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .fmt_fields(fields::PlainFields)
                    .with_timer(time::Rfc3339Micros)
                    .with_target(false)
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(writer),
            )
            .try_init(),
    };
}
