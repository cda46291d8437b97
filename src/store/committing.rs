//! Whether the request being handled has handed a write to the database.
//!
//! The request deadline (`http::deadline`) answers 408 only until then:
//! once a write is on its way, its outcome is the answer, so that no client
//! is told 408 for a key, a screening or a review that was stored. The
//! store marks it itself, as each write begins (`Store::begin_write`,
//! `Store::write_pool`, a creation handed to a writer), so that no handler
//! can forget to. A read that records itself (a screening read, an export)
//! is a write from the moment it records.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

tokio::task_local! {
    /// The mark of the request this task is handling.
    static COMMITTING: Committing;
}

/// One request's mark: set once a write of its own was handed to the
/// database. Outside a request (a command, housekeeping, a task spawned by
/// a handler) nothing is marked.
#[derive(Clone, Debug, Default)]
pub struct Committing(Arc<AtomicBool>);

impl Committing {
    /// `request`, with this as its mark: the writes it makes set it.
    pub fn scope<F: Future>(&self, request: F) -> impl Future<Output = F::Output> {
        COMMITTING.scope(self.clone(), request)
    }

    /// Whether a write was handed to the database within `scope`.
    pub fn begun(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Marks the request this task handles, if any, as committing.
pub(super) fn mark() {
    let _ = COMMITTING.try_with(|c| c.0.store(true, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_marks_its_own_request_only() {
        let (a, b) = (Committing::default(), Committing::default());
        a.scope(async { mark() }).await;
        b.scope(async {}).await;
        assert!(a.begun());
        assert!(!b.begun());
        // Outside any request: nothing to mark, and no panic.
        mark();
        // A task spawned by a handler is outside the request's scope.
        let c = Committing::default();
        c.scope(async { tokio::spawn(async { mark() }).await.unwrap() })
            .await;
        assert!(!c.begun());
    }
}
