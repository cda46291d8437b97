//! Group commit: creations are written by one task, as many as are waiting
//! (up to `MAX_BATCH`) in one transaction, each in a savepoint of its own so
//! that one that fails or finds its idempotency key taken is undone alone.
//! Every creation is answered only after its transaction commits, so a 201
//! still means committed, with one synchronous commit for the whole group
//! instead of one each.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

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
}

impl Writer {
    /// Starts the writer on `pool`; it stops when every `Writer` is dropped.
    pub fn start(pool: AnyPool) -> Writer {
        let (jobs, rx) = mpsc::channel(1024);
        tokio::spawn(run(pool, rx));
        Writer { jobs }
    }

    pub async fn submit(
        &self,
        new: NewScreening,
        key: Option<IdempotencyKey>,
    ) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { new, key, reply })
            .await
            .map_err(|_| StoreError::Corrupt("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the writer has stopped".into()))?
    }
}

async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = write(&pool, &batch).await;
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// Writes the batch in one transaction; one result per job.
async fn write(pool: &AnyPool, batch: &[Job]) -> Vec<Result<Inserted, StoreError>> {
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return batch.iter().map(|_| Err(shared(&e))).collect(),
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let result = async {
            sqlx::query("SAVEPOINT creation").execute(&mut *tx).await?;
            let inserted = Store::insert_screening(&mut tx, &job.new, job.key.as_ref()).await;
            let undo = !matches!(inserted, Ok(Inserted::New(_)));
            if undo {
                sqlx::query("ROLLBACK TO SAVEPOINT creation")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("RELEASE SAVEPOINT creation")
                .execute(&mut *tx)
                .await?;
            inserted
        }
        .await;
        results.push(result);
    }
    if let Err(e) = tx.commit().await {
        return batch.iter().map(|_| Err(shared(&e))).collect();
    }
    results
}

/// One database error, reported to every job it affected.
fn shared(e: &sqlx::Error) -> StoreError {
    tracing::error!(error = %e, "a group of creations failed");
    StoreError::Corrupt(format!("the transaction failed: {e}"))
}
