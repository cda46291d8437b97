//! Persistence: SQLite (a file, by default) or PostgreSQL, through one set of
//! portable queries. Each backend has its own migrations (run at start-up).
//! Races (idempotency keys, reviews) are settled by the database: a unique
//! key, and updates guarded by the state they expect. Every write
//! transaction starts with a write, so SQLite takes its lock at once.

mod batch;
mod keys;
mod screenings;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use keys::{IDEMPOTENCY_KEYS_KEPT, Purged};
pub use screenings::{Created, ListFilter, NewScreening};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("the idempotency key was used with another request")]
    IdempotencyMismatch,
    /// The database cannot take the request now (busy, locked, full, out of
    /// connections, unreachable): nothing was written; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Db(sqlx::Error),
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
            StoreError::Db(e)
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// The group-commit writer, on SQLite.
    writer: Option<batch::Writer>,
}

/// The SQLite database's URL for a data directory (created if missing).
pub fn sqlite_url(data_dir: &Path) -> std::io::Result<String> {
    std::fs::create_dir_all(data_dir)?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("facet-screen.db").display()
    ))
}

impl Store {
    /// Connects and runs the migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("DATABASE_URL must start with postgres:// or sqlite:");
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so that a commit
                        // survives power loss, not only a process crash.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let writer = (backend == Backend::Sqlite).then(|| batch::Writer::start(pool.clone()));
        Ok(Store { pool, writer })
    }

    /// The database answers, and the creation writer (on SQLite) runs.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if self.writer.as_ref().is_some_and(|w| !w.healthy()) {
            return Err(StoreError::Unavailable(
                "the creation writer is restarting".into(),
            ));
        }
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
