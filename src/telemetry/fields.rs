//! The text log's fields, written exactly as tracing-subscriber's
//! `DefaultFields` writes them (`name=value`, strings quoted as `{:?}`
//! quotes them), with less work for the common values.
//!
//! `DefaultFields` writes every field through three nested `write!` calls,
//! and every string through `str`'s `Debug`, which looks each character up
//! in Unicode's tables. The request's line has seven fields; they were
//! about 8,000 instructions of it (callgrind on `benches/router.rs`). Here a
//! string of printable ASCII without a quote or a backslash (which `Debug`
//! would leave as it is) is written directly, and other values with one
//! `write!`. The rest (the message, other strings, errors, any field when
//! colours are on) is handed to `DefaultVisitor` itself, so that escaping
//! and colours stay the crate's own. A unit test compares the
//! two over the same events, byte for byte.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};

/// `DefaultFields`, with the common values written directly.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainFields;

impl<'a> MakeVisitor<Writer<'a>> for PlainFields {
    type Visitor = PlainVisitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> PlainVisitor<'a> {
        PlainVisitor {
            writer: target,
            is_empty: true,
            result: Ok(()),
        }
    }
}

pub struct PlainVisitor<'a> {
    writer: Writer<'a>,
    /// No field written yet (no space before the next one).
    is_empty: bool,
    result: fmt::Result,
}

/// Whether `str`'s `Debug` writes `value` unchanged between its quotes.
fn plain(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

impl PlainVisitor<'_> {
    /// Whether `field` can be written here rather than by `DefaultVisitor`.
    fn direct(&self, field: &Field) -> bool {
        self.result.is_ok()
            && !self.writer.has_ansi_escapes()
            && field.name() != "message"
            && !field.name().starts_with("log.")
    }

    /// Writes the separator and `name=`, as `DefaultVisitor` does.
    fn name(&mut self, field: &Field) -> fmt::Result {
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.writer.write_char(' ')?;
        }
        let name = field.name();
        self.writer
            .write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_char('=')
    }

    /// Hands one field to `DefaultVisitor`.
    fn default(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        // It writes nothing for the `log.` fields (already in the line's
        // metadata), not even a separator.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }

    fn display(&mut self, field: &Field, value: impl fmt::Display) {
        self.result = self
            .name(field)
            .and_then(|()| write!(self.writer, "{value}"));
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.direct(field) && plain(value) {
            self.result = self.name(field).and_then(|()| {
                self.writer.write_char('"')?;
                self.writer.write_str(value)?;
                self.writer.write_char('"')
            });
        } else {
            self.default(field, |v| v.record_str(field, value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.direct(field) {
            self.display(field, value);
        } else {
            self.default(field, |v| v.record_u64(field, value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.direct(field) {
            self.display(field, value);
        } else {
            self.default(field, |v| v.record_i64(field, value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.direct(field) {
            self.display(field, value);
        } else {
            self.default(field, |v| v.record_bool(field, value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.direct(field) {
            self.display(field, format_args!("{value:?}"));
        } else {
            self.default(field, |v| v.record_f64(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.default(field, |v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.direct(field) {
            self.display(field, format_args!("{value:?}"));
        } else {
            self.default(field, |v| v.record_debug(field, value));
        }
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::format::DefaultFields;

    use super::PlainFields;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer \"failure\"")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// Every kind of field, with values that `Debug` escapes and values it
    /// leaves alone, inside a span with fields of its own.
    fn events() {
        let span = tracing::info_span!("request", method = %"POST", route = "/v1/x/{id}", n = 3);
        let _entered = span.enter();
        tracing::info!(
            route = "/v1/screenings/{id}/review",
            request_id = "01a2116e-1f02-779e-8125-427b1da5b9e2",
            status = 200u16,
            latency_ms = 0.678_607_000_000_000_1,
            outcome = Some("likely_candidate"),
            replayed = Some(true),
            missing = None::<&str>,
            "request"
        );
        tracing::warn!(
            quote = "say \"no\"",
            backslash = "a\\b",
            control = "line\nbreak\ttab\u{1b}[31m",
            unicode = "Ménière — naïve ✓",
            combining = "\u{301}starts with a mark",
            empty = "",
            apostrophe = "it's",
            r#type = "raw name",
            negative = -42i64,
            big = u128::MAX,
            tiny = 1e-7,
            huge = 1e300,
            nan = f64::NAN,
            whole = 2.0,
            no = false,
            debug = ?vec!["a", "b\"c"],
            display = %"shown as is",
            "a \"message\" with\nescapes \u{1b}[0m"
        );
        let error = Outer(io::Error::other("inner \u{1b} cause"));
        tracing::error!(
            error = &error as &(dyn std::error::Error + 'static),
            "failed"
        );
        tracing::info!(message = "only a message");
        tracing::info!(first = "x");
    }

    fn output<N>(fields: N, ansi: bool) -> String
    where
        N: for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static,
    {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(fields)
            .with_ansi(ansi)
            .with_target(false)
            .without_time()
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, events);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn writes_every_field_exactly_as_the_default_fields_do() {
        for ansi in [false, true] {
            let (default, plain) = (
                output(DefaultFields::new(), ansi),
                output(PlainFields, ansi),
            );
            assert_eq!(plain, default, "ansi: {ansi}");
            // Five events; the message with a line break takes two lines.
            assert_eq!(default.lines().count(), 6, "{default}");
        }
        // The fast paths were taken: a plain string is quoted as is.
        let plain = output(PlainFields, false);
        assert!(
            plain.contains(
                "request{method=POST route=\"/v1/x/{id}\" n=3}: request route=\"/v1/screenings/{id}/review\" \
                 request_id=\"01a2116e-1f02-779e-8125-427b1da5b9e2\" status=200 latency_ms=0.6786070000000001 \
                 outcome=\"likely_candidate\" replayed=true\n"
            ),
            "{plain}"
        );
    }
}
