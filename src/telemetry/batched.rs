//! The log's writer: each line is appended to a buffer in memory, and a
//! thread of its own writes what has gathered to the output, in one call,
//! a few milliseconds after the first line of a batch arrived.
//!
//! `tracing-appender`'s non-blocking writer, used before, hands every line
//! over a channel and wakes its thread for it: under load its thread spun
//! and woke for each request, about 5 µs of CPU per request on two cores
//! (`benches/load.py`, the README's table). Here a request takes a lock,
//! copies its line and, for the first line of a batch only, wakes the
//! thread.
//!
//! Never lossy: past `HIGH_WATER` bytes waiting (an output that does not
//! keep up), a line waits for room rather than being dropped. The guard
//! writes what is left when it is dropped, at exit.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the thread lets a batch gather after its first line.
const GATHER: Duration = Duration::from_millis(20);
/// Bytes waiting past which a line waits for the thread to write.
const HIGH_WATER: usize = 4 << 20;

/// The writer given to the subscriber (cheap to clone).
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

/// Writes what is left and stops the thread, when dropped.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// The thread waits here for a first line (or the end).
    line_waiting: Condvar,
    /// Lines wait here for room.
    room: Condvar,
}

#[derive(Default)]
struct State {
    waiting: Vec<u8>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves bytes, not a broken state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A batched writer to `out`, and the guard that flushes it at exit.
pub fn writer<W: Write + Send + 'static>(mut out: W) -> (Batched, FlushOnDrop) {
    let shared = Arc::new(Shared {
        state: Mutex::default(),
        line_waiting: Condvar::new(),
        room: Condvar::new(),
    });
    let inner = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut spare = Vec::new();
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
                drop(state);
                inner.room.notify_all();
                // An output that fails (a closed pipe) loses its lines: the
                // service goes on, and no line waits for it.
                let _ = out.write_all(&spare).and_then(|()| out.flush());
                spare.clear();
                if closed && inner.lock().waiting.is_empty() {
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
        },
    )
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.line_waiting.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut state = shared.lock();
        while state.waiting.len() >= HIGH_WATER && !state.closed {
            shared.line_waiting.notify_one();
            state = shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
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

    #[test]
    fn past_the_high_water_mark_a_line_waits_rather_than_being_dropped() {
        // An output that does not take anything until released.
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
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
        let written = Arc::new(Mutex::new(0));
        let (writer, guard) = writer(Gated(gate.clone(), written.clone()));
        let line = vec![b'x'; 64 * 1024];
        let total = HIGH_WATER * 3;
        let mut w = writer.clone();
        let sender = std::thread::spawn(move || {
            for _ in 0..total / line.len() {
                w.write_all(&line).unwrap();
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!sender.is_finished(), "the lines did not wait for room");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        sender.join().unwrap();
        drop(guard);
        assert_eq!(*written.lock().unwrap(), total);
    }
}
