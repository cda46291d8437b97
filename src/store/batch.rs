//! Group commit on SQLite: creations are written by one task, as many as are
//! waiting (up to `MAX_BATCH`) in one transaction, each in a savepoint of its
//! own so that one whose idempotency key is taken is undone alone. Every
//! creation is answered only after its transaction commits, so a 201 still
//! means committed, with one synchronous commit for the group instead of
//! one each.
//!
//! Truthful under failure: any error inside the group (say SQLITE_FULL,
//! IOERR or BUSY, which roll back the whole transaction) abandons it, and
//! its creations are then written one transaction each, so that each answer
//! says what happened to that creation. The task is supervised: if it
//! panics it is restarted, `healthy()` is false meanwhile (`/readyz` answers
//! 503), and the creations it held are answered `Unavailable`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::screenings::{Inserted, NewScreening};
use super::{Store, StoreError};
use crate::screening::record::IdempotencyKey;

const MAX_BATCH: usize = 64;

struct Job {
    new: NewScreening,
    key: Option<IdempotencyKey>,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
}

impl Writer {
    /// Starts the writer on `pool`, supervised; it stops when every
    /// `Writer` is dropped.
    pub fn start(pool: AnyPool) -> Writer {
        let (jobs, rx) = mpsc::channel(1024);
        let healthy = Arc::new(AtomicBool::new(true));
        tokio::spawn(supervise(pool, Arc::new(Mutex::new(rx)), healthy.clone()));
        Writer { jobs, healthy }
    }

    /// False while the writer is being restarted after a failure.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub async fn submit(
        &self,
        new: NewScreening,
        key: Option<IdempotencyKey>,
    ) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || {
            StoreError::Unavailable(
                "the writer stopped before answering: the creation may not be stored; retry with the same Idempotency-Key".into(),
            )
        };
        self.jobs
            .send(Job { new, key, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Runs the writer, and runs it again if it panics.
async fn supervise(pool: AnyPool, rx: Arc<Mutex<mpsc::Receiver<Job>>>, healthy: Arc<AtomicBool>) {
    loop {
        let run = tokio::spawn(run(pool.clone(), rx.clone()));
        match run.await {
            Ok(()) => return, // every sender is gone
            Err(e) => {
                healthy.store(false, Ordering::Relaxed);
                tracing::error!(error = %e, "the creation writer failed; restarting it");
                tokio::time::sleep(Duration::from_millis(100)).await;
                healthy.store(true, Ordering::Relaxed);
            }
        }
    }
}

async fn run(pool: AnyPool, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut rx = rx.lock().await;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = write(&pool, &batch).await;
        for (job, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting can still find its creation by
            // its idempotency key.
            let _ = job.reply.send(result);
        }
    }
}

/// Writes the batch in one transaction or, if that fails, each creation in
/// a transaction of its own; one true result per job.
async fn write(pool: &AnyPool, batch: &[Job]) -> Vec<Result<Inserted, StoreError>> {
    match write_together(pool, batch).await {
        Ok(results) => results,
        Err(e) => {
            // Nothing of the group was committed: write each alone.
            tracing::warn!(error = %e, size = batch.len(), "a group of creations failed; writing them one by one");
            let mut results = Vec::with_capacity(batch.len());
            for job in batch {
                results.push(Store::insert_alone(pool, &job.new, job.key.as_ref()).await);
            }
            results
        }
    }
}

async fn write_together(
    pool: &AnyPool,
    batch: &[Job],
) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        sqlx::query("SAVEPOINT creation").execute(&mut *tx).await?;
        // Any error abandons the group (the transaction rolls back on drop).
        let inserted = Store::insert_screening(&mut tx, &job.new, job.key.as_ref()).await?;
        if matches!(inserted, Inserted::KeyTaken(_)) {
            sqlx::query("ROLLBACK TO SAVEPOINT creation")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("RELEASE SAVEPOINT creation")
            .execute(&mut *tx)
            .await?;
        results.push(Ok(inserted));
    }
    tx.commit().await?;
    Ok(results)
}
