//! Group commit on SQLite: creations are written by one thread that owns a
//! connection of its own (rusqlite, statements prepared once and reused),
//! as many as are waiting (up to `MAX_BATCH`) in one transaction with one
//! synchronous commit (`synchronous = FULL`, as on every connection). Every
//! creation is answered only after its transaction commits, so a 201 still
//! means committed.
//!
//! One creation is three statements: its idempotency key is looked up
//! first (the transaction holds SQLite's write lock from its start, so no
//! other writer can claim the key meanwhile), and a key already taken
//! writes nothing, so no savepoint is needed.
//!
//! Truthful under failure: any error inside the group (say SQLITE_FULL,
//! IOERR or BUSY, which roll back the whole transaction) abandons it, and
//! its creations are then written one transaction each, so that each answer
//! says what happened to that creation. The thread is supervised: if it
//! panics, or its connection cannot be opened, it starts again after a
//! pause; `healthy()` is false meanwhile (`/readyz` answers 503), the
//! creations of a group it held are answered `Unavailable`, and those
//! waiting are written once it is back.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::StoreError;
use super::rows::{created_event_data, to_json};
use super::screenings::{Inserted, Job, NewScreening};
use crate::screening::IdempotencyKey;
use crate::screening::ScreeningId;
use crate::screening::events::EventKind;

const MAX_BATCH: usize = 64;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
}

impl Writer {
    /// Opens the writer's connection to the database file `file` (already
    /// migrated) and starts it, supervised; it stops when every `Writer`
    /// is dropped.
    pub fn start(file: &Path) -> anyhow::Result<Writer> {
        let conn = open(file)?;
        let (jobs, rx) = mpsc::channel(1024);
        let healthy = Arc::new(AtomicBool::new(true));
        let file = file.to_path_buf();
        let flag = healthy.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || supervise(&file, conn, rx, &flag))?;
        Ok(Writer { jobs, healthy })
    }

    /// False while the writer is being restarted after a failure.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Where creations are handed to it (`screenings::submit`).
    pub fn jobs(&self) -> &mpsc::Sender<Job> {
        &self.jobs
    }
}

/// Runs the writer, and runs it again if it panics or cannot open its
/// connection.
fn supervise(file: &Path, conn: Connection, mut rx: mpsc::Receiver<Job>, healthy: &AtomicBool) {
    let mut conn = Some(conn);
    loop {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut conn = match conn.take() {
                Some(conn) => conn,
                None => open(file)?,
            };
            healthy.store(true, Ordering::Relaxed);
            run(&mut conn, &mut rx);
            Ok::<_, rusqlite::Error>(())
        }));
        healthy.store(false, Ordering::Relaxed);
        match run {
            Ok(Ok(())) => return, // every sender is gone
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the creation writer cannot open the database; trying again")
            }
            Err(_) => tracing::error!("the creation writer failed; restarting it"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open(file: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // As every connection of the pool: WAL, and a commit that survives
    // power loss, not only a process crash.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The connection that resets the WAL most often: it cuts the file back.
    conn.pragma_update(None, "journal_size_limit", super::WAL_SIZE_LIMIT)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Writes groups until every sender is gone.
fn run(conn: &mut Connection, rx: &mut mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = write(conn, &batch);
        for (job, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting can still find its creation by
            // its idempotency key.
            let _ = job.reply.send(result);
        }
    }
}

/// Writes the batch in one transaction or, if that fails, each creation in
/// a transaction of its own; one true result per job.
fn write(conn: &mut Connection, batch: &[Job]) -> Vec<Result<Inserted, StoreError>> {
    let together = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let results = batch
            .iter()
            .map(|job| insert(&tx, &job.new, job.key.as_ref()))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        tx.commit()?;
        Ok::<_, rusqlite::Error>(results)
    })();
    match together {
        Ok(results) => results.into_iter().map(Ok).collect(),
        Err(e) => {
            // Nothing of the group was committed (the transaction rolled
            // back when dropped): write each alone.
            tracing::warn!(error = %e, size = batch.len(), "a group of creations failed; writing them one by one");
            batch
                .iter()
                .map(|job| {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let inserted = insert(&tx, &job.new, job.key.as_ref())?;
                    tx.commit()?;
                    Ok(inserted)
                })
                .map(|r: rusqlite::Result<Inserted>| r.map_err(StoreError::from))
                .collect()
        }
    }
}

/// Writes one new screening, its first event and its idempotency key
/// inside the caller's transaction, or nothing if the key is taken.
fn insert(
    conn: &Connection,
    new: &NewScreening,
    key: Option<&IdempotencyKey>,
) -> rusqlite::Result<Inserted> {
    if let Some(key) = key {
        let taken = conn
            .prepare_cached("SELECT 1 FROM idempotency_keys WHERE clinic = ?1 AND key = ?2")?
            .exists(params![new.clinic.as_str(), key.as_str()])?;
        if taken {
            return Ok(Inserted::KeyTaken(key.clone()));
        }
    }
    let screening = ScreeningId::new();
    let id = screening.to_string();
    let suggested = new.evaluation.outcome;
    conn.prepare_cached(
        "INSERT INTO screenings (id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at, priority, external_ref) \
         VALUES (?1, ?2, 'pending_review', ?3, NULL, ?4, ?5, 1, NULL, ?6, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        new.clinic.as_str(),
        suggested.as_str(),
        new.answers.json.get(),
        new.evaluation_json.get(),
        new.at,
        suggested.precedence(),
        new.answers.external_ref,
    ])?;
    // The first event of a new screening: seq 1, no need to look.
    conn.prepare_cached(
        "INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        ScreeningId::new().to_string(),
        id,
        EventKind::Created.as_str(),
        new.at,
        to_json(&new.actor),
        created_event_data(suggested),
    ])?;
    if let Some(key) = key {
        // Not taken a moment ago, under the same write lock: a conflict
        // here is a fault, and abandons the group.
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (clinic, key, request_hash, screening_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            new.clinic.as_str(),
            key.as_str(),
            new.request_hash,
            id,
            new.at
        ])?;
    }
    Ok(Inserted::New(screening))
}
