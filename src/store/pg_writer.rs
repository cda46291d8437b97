//! Creations on PostgreSQL: a few connections of their own (not from the
//! pool), each held by a task that takes the creations waiting (up to
//! `MAX_BATCH`) and writes them in one statement: one round trip and one
//! commit for the group. A pooled connection costs two more round trips per
//! query (sqlx tests each connection as it is taken and as it goes back).
//!
//! The statement is atomic: for each creation the idempotency key is
//! claimed first, and the screening and its first event are written only
//! if it was (or none was sent). A key another request holds makes its
//! creation write nothing (`KeyTaken`); one it holds uncommitted makes the
//! statement wait for that commit, as a transaction would. A key used twice
//! in one group is claimed by its first creation only.
//!
//! Truthful under failure: if the group's statement fails, nothing of it
//! was written, and each creation is written again in a statement of its
//! own, so that each answer says what happened to that creation. A
//! creation is answered once its statement has committed; a caller that
//! stops waiting does not stop the write, and finds it by its idempotency
//! key. A connection is opened when first needed and again after it fails;
//! creations that meet a connection that cannot be opened are answered
//! `Unavailable`, with nothing written.

use std::sync::Arc;

use sqlx::{Connection, Executor, PgConnection, Postgres};
use tokio::sync::{Mutex, mpsc};

use super::StoreError;
use super::rows::{created_event_data, to_json};
use super::screenings::{Inserted, Job, NewScreening};
use crate::screening::IdempotencyKey;
use crate::screening::ScreeningId;
use crate::screening::events::EventKind;

/// Connections writing creations, per instance, each opened when first
/// needed. Paired runs at 32 clients on 2 cores: 4 gave about 3,600
/// creations/s, 8 about 4,200, 16 about 4,900 (within the noise of 8, for
/// twice the connections each instance may hold).
pub const CONNECTIONS: usize = 8;

/// The most creations one statement writes.
const MAX_BATCH: usize = 64;

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
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every sender is gone
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match connect(&url).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    for job in batch.drain(..) {
                        let _ = job.reply.send(Err(StoreError::Unavailable(e.to_string())));
                    }
                    continue;
                }
            },
        };
        let (results, broken) = write(c, &batch).await;
        if broken {
            // The connection may be broken: the next batch opens another.
            conn = None;
        }
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// Whether an error may have left the connection unusable.
fn breaks(e: &sqlx::Error) -> bool {
    !matches!(e, sqlx::Error::Database(_) | sqlx::Error::ColumnNotFound(_))
}

/// Writes the batch in one statement or, if that fails, each creation in
/// a statement of its own, so that each answer says what happened to that
/// creation; one result per job, and whether the connection may be broken.
async fn write(
    conn: &mut PgConnection,
    batch: &[Job],
) -> (Vec<Result<Inserted, StoreError>>, bool) {
    let e = match insert_many(conn, batch).await {
        Ok(results) => return (results, false),
        Err(e) => e,
    };
    if breaks(&e) || batch.len() == 1 {
        // Every creation of the group meets the same failure.
        let broken = breaks(&e);
        let e = StoreError::from(e);
        let each = || match &e {
            StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
            other => StoreError::Db(other.to_string().into()),
        };
        return (batch.iter().map(|_| Err(each())).collect(), broken);
    }
    tracing::warn!(error = %e, size = batch.len(), "a group of creations failed; writing them one by one");
    let mut results = Vec::with_capacity(batch.len());
    let mut broken = false;
    for job in batch {
        if broken {
            // Not tried on a broken connection: answered as unavailable.
            results.push(Err(StoreError::Unavailable(
                "the database connection failed".into(),
            )));
            continue;
        }
        match insert_many(conn, std::slice::from_ref(job)).await {
            Ok(mut one) => results.extend(one.pop()),
            Err(e) => {
                broken = breaks(&e);
                results.push(Err(StoreError::from(e)));
            }
        }
    }
    (results, broken)
}

/// Writes one or several creations in one statement (one round trip, one
/// commit).
/// A key used twice in the batch is claimed by its first creation only;
/// the others are answered `KeyTaken`, and find the screening once this
/// has committed. A key claimed earlier makes its creation write nothing.
async fn insert_many(
    conn: &mut PgConnection,
    batch: &[Job],
) -> Result<Vec<Result<Inserted, StoreError>>, sqlx::Error> {
    let mut claimed = std::collections::HashSet::new();
    let mut rows = Rows::default();
    let mut planned = vec![None; batch.len()];
    // Keys are claimed in one order (clinic, then key) by every group, so
    // that two groups sharing keys wait for each other instead of
    // deadlocking (were one to deadlock all the same, PostgreSQL would
    // abort it, and its creations would be written one by one).
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| {
        let job = &batch[i];
        (
            job.new.clinic.as_str(),
            job.key.as_ref().map(IdempotencyKey::as_str),
        )
    });
    for i in order {
        let job = &batch[i];
        if let Some(key) = &job.key
            && !claimed.insert((job.new.clinic.as_str(), key.as_str()))
        {
            continue;
        }
        let id = ScreeningId::new();
        rows.push(id, &job.new, job.key.as_ref());
        planned[i] = Some(id);
    }
    let written: Vec<String> = sqlx::query_scalar::<Postgres, String>(
        "WITH input AS ( \
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                $7::int8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bool[], \
                                $13::text[], $14::text[]) \
             AS t(clinic, id, suggested, answers, evaluation, at, priority, external_ref, event_id, \
                  key, request_hash, has_key, actor, data) \
         ), k AS ( \
           INSERT INTO idempotency_keys (clinic, key, request_hash, screening_id, created_at) \
           SELECT clinic, key, request_hash, id, at FROM input WHERE has_key \
           ON CONFLICT (clinic, key) DO NOTHING RETURNING screening_id \
         ), s AS ( \
           INSERT INTO screenings (id, clinic, status, suggested, final_outcome, answers, evaluation, answers_version, review, created_at, updated_at, priority, external_ref) \
           SELECT id, clinic, 'pending_review', suggested, NULL, answers, evaluation, 1, NULL, at, at, priority, external_ref \
           FROM input WHERE NOT has_key OR id IN (SELECT screening_id FROM k) \
           RETURNING id \
         ), e AS ( \
           INSERT INTO screening_events (id, screening_id, seq, kind, at, actor, data) \
           SELECT input.event_id, s.id, 1, $15, input.at, input.actor, input.data FROM s JOIN input ON input.id = s.id \
         ) \
         SELECT id FROM s",
    )
    .bind(rows.clinic)
    .bind(rows.id)
    .bind(rows.suggested)
    .bind(rows.answers)
    .bind(rows.evaluation)
    .bind(rows.at)
    .bind(rows.priority)
    .bind(rows.external_ref)
    .bind(rows.event_id)
    .bind(rows.key)
    .bind(rows.request_hash)
    .bind(rows.has_key)
    .bind(rows.actor)
    .bind(rows.data)
    .bind(EventKind::Created.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let written: std::collections::HashSet<String> = written.into_iter().collect();
    Ok(batch
        .iter()
        .zip(planned)
        .map(|(job, id)| match (id, &job.key) {
            (Some(id), _) if written.contains(&id.to_string()) => Ok(Inserted::New(id)),
            (_, Some(key)) => Ok(Inserted::KeyTaken(key.clone())),
            // Without a key a creation is always written, or the statement
            // fails.
            (_, None) => Err(StoreError::Corrupt(
                "a creation without an idempotency key was not written".into(),
            )),
        })
        .collect())
}

/// The columns of a batch, one array each.
#[derive(Default)]
struct Rows<'a> {
    clinic: Vec<&'a str>,
    id: Vec<String>,
    suggested: Vec<&'static str>,
    answers: Vec<&'a str>,
    evaluation: Vec<&'a str>,
    at: Vec<&'a str>,
    priority: Vec<i64>,
    external_ref: Vec<Option<&'a str>>,
    event_id: Vec<String>,
    key: Vec<&'a str>,
    request_hash: Vec<&'a str>,
    has_key: Vec<bool>,
    actor: Vec<String>,
    data: Vec<String>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, id: ScreeningId, new: &'a NewScreening, key: Option<&'a IdempotencyKey>) {
        let suggested = new.evaluation.outcome;
        self.clinic.push(new.clinic.as_str());
        self.id.push(id.to_string());
        self.suggested.push(suggested.as_str());
        self.answers.push(new.answers.json.get());
        self.evaluation.push(new.evaluation_json.get());
        self.at.push(&new.at);
        self.priority.push(suggested.precedence());
        self.external_ref.push(new.answers.external_ref.as_deref());
        self.event_id.push(ScreeningId::new().to_string());
        self.key
            .push(key.map(IdempotencyKey::as_str).unwrap_or_default());
        self.request_hash.push(&new.request_hash);
        self.has_key.push(key.is_some());
        self.actor.push(to_json(&new.actor));
        self.data.push(created_event_data(suggested));
    }
}
