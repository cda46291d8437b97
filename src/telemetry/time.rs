//! The log's timestamp: RFC 3339 in UTC with microseconds, as
//! tracing-subscriber's `SystemTime` writes it (`2026-12-01T02:43:35.359250Z`),
//! made by `humantime`, which fills one buffer and writes it once, where
//! tracing-subscriber writes seven padded numbers through `write!` (about
//! 2,500 instructions a line, callgrind on `benches/router.rs`). A time
//! that `humantime` does not write (before 1970, after 9999) is left to
//! tracing-subscriber.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The first second `humantime` does not write (year 10000).
const YEAR_10000: u64 = 253_402_300_800;

#[derive(Clone, Copy, Debug, Default)]
pub struct Rfc3339Micros;

impl Rfc3339Micros {
    fn format(now: SystemTime, w: &mut Writer<'_>) -> fmt::Result {
        match now.duration_since(UNIX_EPOCH) {
            Ok(since) if since.as_secs() < YEAR_10000 => {
                write!(w, "{}", humantime::format_rfc3339_micros(now))
            }
            _ => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

impl FormatTime for Rfc3339Micros {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        Self::format(SystemTime::now(), w)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use tracing_subscriber::fmt::format::Writer;
    use tracing_subscriber::fmt::time::FormatTime;

    use super::Rfc3339Micros;

    fn at(secs: u64, micros: u32) -> String {
        let mut out = String::new();
        let time = UNIX_EPOCH + Duration::new(secs, micros * 1000 + 999);
        Rfc3339Micros::format(time, &mut Writer::new(&mut out)).unwrap();
        out
    }

    #[test]
    fn writes_what_tracing_subscriber_writes() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        // A leap day, and the last microsecond of a year (nanoseconds cut).
        assert_eq!(at(1_709_208_000, 42), "2024-02-29T12:00:00.000042Z");
        assert_eq!(at(1_798_761_599, 999_999), "2026-12-31T23:59:59.999999Z");
        assert_eq!(at(253_402_300_799, 1), "9999-12-31T23:59:59.000001Z");
        // The same clock read by both, to the second (retried across a
        // second's boundary).
        for _ in 0..3 {
            let (mut ours, mut theirs) = (String::new(), String::new());
            Rfc3339Micros
                .format_time(&mut Writer::new(&mut ours))
                .unwrap();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut theirs))
                .unwrap();
            assert_eq!(ours.len(), theirs.len(), "{ours} {theirs}");
            if ours[..19] == theirs[..19] {
                return;
            }
        }
        panic!("the two clocks never agreed to the second");
    }

    #[test]
    fn a_time_humantime_does_not_write_is_left_to_tracing_subscriber() {
        // tracing-subscriber reads the clock itself: it writes the clock's
        // time, which is the one that was asked for in real use.
        let mut out = String::new();
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        Rfc3339Micros::format(before, &mut Writer::new(&mut out)).unwrap();
        assert_eq!(out.len(), "1970-01-01T00:00:00.000000Z".len(), "{out}");
        assert!(out.ends_with('Z'), "{out}");
    }
}
