//! The log's writer: each line is appended to a buffer in memory, and a
//! thread of its own writes what has gathered to the output, in one call,
//! a few milliseconds after the first line of a batch arrived.
//!
//! `tracing-appender`'s non-blocking writer, used before, hands every line
//! over a channel and wakes its thread for it: under load its thread spun
//! and woke for each request, about 5 µs of CPU per request on two cores
//! (`benches/load.py`, docs/benchmarks-history.md: 49 -> 43 µs per evaluation, 12%).
//! Here a request takes a lock, copies its line and, for the first line of a
//! batch only, wakes the thread.
//!
//! Never blocking: a request never waits for the output. Past `HIGH_WATER`
//! bytes waiting (an output that does not keep up, such as a pipe nobody
//! reads), a line is dropped and counted (`facet_log_lines_dropped_total`),
//! and once writing resumes one warning says how many were lost. Lines a
//! failed write lost (a closed pipe) are counted too. At exit the guard
//! writes what is left, waiting for the output `EXIT_DEADLINE` at most.

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the thread lets a batch gather after its first line.
const GATHER: Duration = Duration::from_millis(20);
/// Bytes waiting past which a line is dropped.
const HIGH_WATER: usize = 4 << 20;
/// How long the exit waits for what is left to be written.
pub const EXIT_DEADLINE: Duration = Duration::from_secs(2);
/// The metric counting the lines dropped.
pub const DROPPED_METRIC: &str = "facet_log_lines_dropped_total";

/// The writer given to the subscriber (cheap to clone).
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

/// Writes what is left and stops the thread, when dropped.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    finished: mpsc::Receiver<()>,
}

struct Shared {
    state: Mutex<State>,
    /// The thread waits here for a first line (or the end).
    line_waiting: Condvar,
}

#[derive(Default)]
struct State {
    waiting: Vec<u8>,
    /// Lines lost since the last warning.
    dropped: u64,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves bytes, not a broken state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self, lines: u64) {
        self.lock().dropped += lines;
        metrics::counter!(DROPPED_METRIC).increment(lines);
    }
}

/// A batched writer to `out`, and the guard that flushes it at exit.
// PANIC SAFETY: made once, first thing at start-up; a process that cannot
// start a thread then cannot serve either, and stops with the reason.
#[allow(clippy::expect_used)]
pub fn writer<W: Write + Send + 'static>(mut out: W) -> (Batched, FlushOnDrop) {
    let shared = Arc::new(Shared {
        state: Mutex::default(),
        line_waiting: Condvar::new(),
    });
    let inner = shared.clone();
    let (done, finished) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut spare = Vec::new();
            // Whether the last write reached the output.
            let mut writing = true;
            loop {
                let mut state = inner.lock();
                while state.waiting.is_empty() && !state.closed {
                    state = inner
                        .line_waiting
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if !state.closed {
                    // Let the batch gather (the end cuts it short).
                    state = inner
                        .line_waiting
                        .wait_timeout(state, GATHER)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                std::mem::swap(&mut state.waiting, &mut spare);
                let closed = state.closed;
                // Writing has resumed: say what was lost while it could not
                // (into the buffer just emptied, so this line has room).
                let dropped = if writing {
                    std::mem::take(&mut state.dropped)
                } else {
                    0
                };
                drop(state);
                if dropped > 0 {
                    tracing::warn!(
                        dropped,
                        "log lines were dropped: the log's output did not keep up"
                    );
                }
                // An output that fails (a closed pipe) loses its lines: the
                // service goes on, and no line waits for it.
                writing = out.write_all(&spare).and_then(|()| out.flush()).is_ok();
                if !writing {
                    inner.lost(spare.iter().filter(|b| **b == b'\n').count() as u64);
                }
                spare.clear();
                if closed && inner.lock().waiting.is_empty() {
                    let _ = done.send(());
                    return;
                }
            }
        })
        .expect("the log thread starts");
    (
        Batched(shared.clone()),
        FlushOnDrop {
            shared,
            thread: Some(thread),
            finished,
        },
    )
}

impl Drop for FlushOnDrop {
    /// Writes what is left, unless the output takes longer than
    /// `EXIT_DEADLINE`: a stalled output never holds the exit.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.line_waiting.notify_one();
        if self.finished.recv_timeout(EXIT_DEADLINE).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

impl Write for Batched {
    /// Never waits: a line that does not fit under `HIGH_WATER` is dropped
    /// and counted.
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut state = shared.lock();
        if state.waiting.len() + line.len() > HIGH_WATER {
            drop(state);
            shared.lost(1);
            return Ok(line.len());
        }
        let first = state.waiting.is_empty();
        state.waiting.extend_from_slice(line);
        drop(state);
        if first {
            shared.line_waiting.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = Batched;

    fn make_writer(&'a self) -> Batched {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that records what it was given, slowly.
    #[derive(Clone, Default)]
    struct Slow(Arc<Mutex<Vec<u8>>>);

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(1));
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_by_the_end() {
        let out = Slow::default();
        let (writer, guard) = writer(out.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        w.write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 8_000);
        for t in 0..4 {
            let mine: Vec<_> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<_> = (0..2_000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected, "thread {t}: lost, torn or reordered lines");
        }
    }

    #[test]
    fn a_line_is_written_soon_without_waiting_for_more() {
        let out = Slow::default();
        let (mut writer, _guard) = writer(out.clone());
        writer.write_all(b"alone\n").unwrap();
        let started = std::time::Instant::now();
        while out.0.lock().unwrap().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "a lone line was not written"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(&*out.0.lock().unwrap(), b"alone\n");
    }

    /// An output that takes nothing until its gate is opened.
    struct Gated(Arc<(Mutex<bool>, Condvar)>, Arc<Mutex<usize>>);

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, cv) = &*self.0;
            let mut o = open.lock().unwrap();
            while !*o {
                o = cv.wait(o).unwrap();
            }
            *self.1.lock().unwrap() += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn open(gate: &Arc<(Mutex<bool>, Condvar)>) {
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
    }

    #[test]
    fn past_the_high_water_mark_lines_are_dropped_and_counted_never_waited_for() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let written = Arc::new(Mutex::new(0));
        let (writer, guard) = writer(Gated(gate.clone(), written.clone()));
        let mut line = vec![b'x'; 64 * 1024 - 1];
        line.push(b'\n');
        let lines = 3 * HIGH_WATER / line.len();
        let mut w = writer.clone();
        let (sent, all_sent) = mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..lines {
                w.write_all(&line).unwrap();
            }
            sent.send(()).unwrap();
        });
        all_sent
            .recv_timeout(Duration::from_secs(30))
            .expect("a line waited for the output");
        let dropped = writer.0.lock().dropped as usize;
        assert!(dropped > 0, "nothing was dropped past the high-water mark");
        open(&gate);
        drop(guard);
        let written = *written.lock().unwrap() / (64 * 1024);
        assert_eq!(written + dropped, lines, "each line written or counted");
    }

    #[test]
    fn a_stalled_output_holds_the_exit_for_the_deadline_at_most() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (mut writer, guard) = writer(Gated(gate.clone(), Arc::default()));
        writer.write_all(b"never read\n").unwrap();
        let (ended, exited) = mpsc::channel();
        std::thread::spawn(move || {
            drop(guard);
            ended.send(()).unwrap();
        });
        exited
            .recv_timeout(EXIT_DEADLINE + Duration::from_secs(10))
            .expect("the exit waited for a stalled output past its deadline");
        open(&gate);
    }
}
