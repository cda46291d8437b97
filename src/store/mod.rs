//! Persistence: SQLite (a file, by default) or PostgreSQL, through one set of
//! portable queries. Each backend has its own migrations (run at start-up).
//! Races (idempotency keys, reviews) are settled by the database: a unique
//! key, and updates guarded by the state they expect. Every write
//! transaction starts with a write, so SQLite takes its lock at once.
//! Every write begins with `begin_write` or `write_pool`, or is handed to a
//! writer (`screenings::submit`): each marks the request as committing
//! (`committing`), so that its deadline waits for the outcome.

pub mod backup;
mod batch;
mod changes;
mod committing;
mod export;
mod history;
mod keys;
mod pg_writer;
pub mod replay;
pub mod restore;
mod rows;
mod screenings;
mod stats;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

pub use changes::LastChange;
pub use committing::Committing;
pub use export::{ExportLine, ExportPages};
pub use keys::{IDEMPOTENCY_KEYS_KEPT, LastAdmin, Purged, Revocation};
pub use screenings::{Creation, NewScreening, StoredAnswers};

/// This binary's migrations, for each backend.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A failure of the database: what the store answers when it could not do
/// what was asked. Outcomes (not found, already reviewed, the last
/// administrator key, ...) are answered as values, never as errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot take the request now (busy, locked, full, out of
    /// connections, unreachable): nothing was written; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Db(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// Says truthfully whether a failure is passing (`Unavailable`) or a
    /// fault (`Db`): SQLite's BUSY, LOCKED, IOERR, FULL and CANTOPEN, and
    /// PostgreSQL's connection, resource, shutdown, serialization and
    /// deadlock classes, pass.
    fn from(e: sqlx::Error) -> Self {
        let passing = match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    // SQLSTATE.
                    ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                        || ["40001", "40P01", "55P03"].contains(&code.as_ref())
                } else {
                    // SQLite's extended result code: the primary code is its low byte.
                    code.parse::<u32>()
                        .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 13 | 14))
                }
            }
            _ => false,
        };
        if passing {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Db(Box::new(e))
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// As for sqlx's errors: SQLite's BUSY, LOCKED, IOERR, FULL and
    /// CANTOPEN pass, anything else is a fault.
    fn from(e: rusqlite::Error) -> Self {
        let passing = e
            .sqlite_error()
            .is_some_and(|f| matches!(f.extended_code & 0xff, 5 | 6 | 10 | 13 | 14));
        if passing {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Db(Box::new(e))
        }
    }
}

/// The SQLite WAL file is cut back to this size (bytes) whenever it is
/// reset, on every connection that writes (`PRAGMA journal_size_limit`).
/// Without it the file keeps the largest size it ever grew to: a long
/// reader with writes meanwhile once left 930 MB behind.
pub(crate) const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// Creations are written apart from the pool: by one thread grouping
/// them into one commit on SQLite, by a few connections of their own on
/// PostgreSQL.
#[derive(Clone)]
enum Writer {
    Sqlite(batch::Writer),
    Postgres(pg_writer::Writer),
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// The pool's connections exports may hold at once: all but one, so
    /// that the API routes always have one (`export`).
    export_connections: std::sync::Arc<tokio::sync::Semaphore>,
    /// Who writes creations.
    writer: Writer,
    /// The URL, on PostgreSQL (for LISTEN on its own connection).
    postgres_url: Option<std::sync::Arc<str>>,
}

/// The SQLite database's file name in a data directory.
pub const SQLITE_FILE: &str = "facet-screen.db";

/// The SQLite database's URL for a data directory.
pub fn sqlite_url(data_dir: &Path) -> std::io::Result<String> {
    Ok(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(SQLITE_FILE).display()
    ))
}

/// The database file of a SQLite URL, if it names one.
fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(':')).then(|| Path::new(path))
}

/// Makes the data private whatever the umask: the directory 0700 when this
/// creates it, the database file 0600 (SQLite gives its WAL and shared
/// memory files the same mode). An existing directory that others can read
/// is left as the operator made it, with a warning.
fn prepare_private(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // The mode given is masked by the umask; say it again, exactly.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    } else if std::fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            "the data directory can be read by other users of this machine: chmod 700 it"
        );
    }
    if !file.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)?;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

impl Store {
    /// Connects and runs the migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            if let Some(file) = sqlite_file(url) {
                prepare_private(file)?;
            }
            Backend::Sqlite
        } else {
            anyhow::bail!("DATABASE_URL must start with postgres:// or sqlite:");
        };
        let connections = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 10,
        };
        let options = AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            // No ping before each use (a round trip to the database): a
            // connection the server dropped fails its query instead, which
            // is answered 503 with nothing written (sqlx still tests each
            // connection as it goes back to the pool).
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // A write waiting on a lock gives up (55P03: 503,
                        // try again) rather than hold its request for ever:
                        // the request deadline no longer cuts off a write
                        // that was handed to the database.
                        conn.execute("SET lock_timeout = '10s'").await?;
                    }
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so that a commit
                        // survives power loss, not only a process crash; the
                        // WAL file cut back to a bounded size once it is reset.
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
                        )))
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let writer = match backend {
            Backend::Sqlite => Writer::Sqlite(batch::Writer::start(sqlite_file(url).ok_or_else(
                || anyhow::anyhow!("a SQLite DATABASE_URL must name a file (sqlite://PATH)"),
            )?)?),
            Backend::Postgres => {
                Writer::Postgres(pg_writer::Writer::start(url.into(), pg_writer::CONNECTIONS))
            }
        };
        let postgres_url = (backend == Backend::Postgres).then(|| url.into());
        Ok(Store {
            pool,
            export_connections: std::sync::Arc::new(tokio::sync::Semaphore::new(
                connections as usize - 1,
            )),
            writer,
            postgres_url,
        })
    }

    /// A write transaction, begun: the request is committing from here.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        committing::mark();
        Ok(self.pool.begin().await?)
    }

    /// The pool, for a write of one statement: the request is committing
    /// from here.
    fn write_pool(&self) -> &AnyPool {
        committing::mark();
        &self.pool
    }

    /// The pool's connections: (open, idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Screenings waiting for review, all clinics (a metric).
    pub async fn pending_review_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM screenings WHERE status = 'pending_review'")
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    /// The database answers, and the creation writer (on SQLite) runs.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if let Writer::Sqlite(w) = &self.writer
            && !w.healthy()
        {
            return Err(StoreError::Unavailable(
                "the creation writer is restarting".into(),
            ));
        }
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
