//! Creations on PostgreSQL: a few connections of their own (not from the
//! pool), each held by a task that takes the next waiting creation and
//! writes it in one statement, so one round trip. A pooled connection
//! costs two more per query (sqlx tests each connection as it goes back to
//! the pool), which halved creations under load.
//!
//! The statement is atomic on its own: the idempotency key is claimed
//! first, and the screening and its first event are written only if it was
//! (or none was sent). A key another request holds makes it write nothing
//! (`KeyTaken`); one it holds uncommitted makes it wait for that commit, as
//! a transaction would. PostgreSQL groups concurrent commits itself.
//!
//! A creation is answered once its statement has committed; a caller that
//! stops waiting does not stop the write, and finds it by its idempotency
//! key. A connection is opened when first needed and again after it
//! fails; a creation that meets a connection that cannot be opened is
//! answered `Unavailable`, with nothing written.

use std::sync::Arc;

use sqlx::{Connection, Executor, PgConnection, Postgres, Row};
use tokio::sync::{Mutex, mpsc};

use super::StoreError;
use super::screenings::{Inserted, Job, NewScreening, created_event_data, to_json};
use crate::screening::ScreeningId;
use crate::screening::record::{EventKind, IdempotencyKey};

/// Connections writing creations, per instance, each opened when first
/// needed. Paired runs at 32 clients on 2 cores: 4 gave about 3,600
/// creations/s, 8 about 4,200, 16 about 4,900 (within the noise of 8, for
/// twice the connections each instance may hold).
pub const CONNECTIONS: usize = 8;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writing tasks on the database at `url`; they stop when
    /// every `Writer` is dropped.
    pub fn start(url: Arc<str>, connections: usize) -> Writer {
        let (jobs, rx) = mpsc::channel(1024);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..connections {
            tokio::spawn(work(url.clone(), rx.clone()));
        }
        Writer { jobs }
    }

    /// Where creations are handed to it (`screenings::submit`).
    pub fn jobs(&self) -> &mpsc::Sender<Job> {
        &self.jobs
    }
}

async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    // As on the pool's connections: a write waiting on a lock gives up
    // (55P03: 503, try again) rather than hold its request for ever.
    conn.execute("SET lock_timeout = '10s'").await?;
    // The statement only inserts (and looks up one key): its plan never
    // depends on the values, so it is planned once, not per creation.
    conn.execute("SET plan_cache_mode = force_generic_plan")
        .await?;
    Ok(conn)
}

async fn work(url: Arc<str>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let Some(job) = rx.lock().await.recv().await else {
            return; // every sender is gone
        };
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match connect(&url).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    let _ = job.reply.send(Err(StoreError::Unavailable(e.to_string())));
                    continue;
                }
            },
        };
        let result = insert(c, &job.new, job.key.as_ref()).await;
        if let Err(e) = &result
            && !matches!(e, sqlx::Error::Database(_) | sqlx::Error::ColumnNotFound(_))
        {
            // The connection may be broken: the next creation opens another.
            conn = None;
        }
        let _ = job.reply.send(result.map_err(StoreError::from));
    }
}

async fn insert(
    conn: &mut PgConnection,
    new: &NewScreening,
    key: Option<&IdempotencyKey>,
) -> Result<Inserted, sqlx::Error> {
    let id = ScreeningId::new();
    let suggested = new.evaluation.outcome;
    let written: i64 = sqlx::query::<Postgres>(
        "WITH k AS ( \
           INSERT INTO idempotency_keys (clinic, key, request_hash, screening_id, created_at) \
           SELECT $1, $10, $11, $2, $6 WHERE $12 \
           ON CONFLICT (clinic, key) DO NOTHING RETURNING 1 \
         ), s AS ( \
           INSERT INTO screenings (id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at, priority, external_ref) \
           SELECT $2, $1, 'pending_review', $3, NULL, $4, $5, 1, NULL, $6, $6, $7, $8 \
           WHERE NOT $12 OR EXISTS (SELECT 1 FROM k) \
           RETURNING id \
         ), e AS ( \
           INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
           SELECT $9, s.id, 1, $13, $6, $14, $15 FROM s \
         ) \
         SELECT COUNT(*) AS n FROM s",
    )
    .bind(new.clinic.as_str())
    .bind(id.to_string())
    .bind(suggested.as_str())
    .bind(new.answers.json.get())
    .bind(new.evaluation_json.get())
    .bind(&new.at)
    .bind(suggested.precedence())
    .bind(new.answers.external_ref.as_deref())
    .bind(ScreeningId::new().to_string())
    .bind(key.map(IdempotencyKey::as_str).unwrap_or_default())
    .bind(&new.request_hash)
    .bind(key.is_some())
    .bind(EventKind::Created.as_str())
    .bind(to_json(&new.actor))
    .bind(created_event_data(suggested))
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    match (written, key) {
        (1, _) => Ok(Inserted::New(id)),
        (_, Some(key)) => Ok(Inserted::KeyTaken(key.clone())),
        (n, None) => Err(sqlx::Error::Protocol(format!(
            "a creation wrote {n} screenings"
        ))),
    }
}
