//! Backups of the SQLite database that restore: a consistent copy taken
//! while the service runs (`VACUUM INTO`, never a file copy of a live WAL
//! database), checked before the command reports; and the lock that keeps a
//! restore (`store::restore`) and a running service apart. PostgreSQL has
//! its own tools: `pg_dump` and `pg_restore`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

use anyhow::{Context, bail};
use sqlx::{Connection, Row};

pub(super) const DB_FILE: &str = super::SQLITE_FILE;
const LOCK_FILE: &str = "facet-screen.lock";

/// A lock on a data directory: shared by every `serve` using it, exclusive
/// for a restore. Held until dropped (or the process ends).
pub struct DataLock(#[allow(dead_code)] File);

impl DataLock {
    fn take(dir: &Path, operation: libc::c_int) -> std::io::Result<DataLock> {
        if !dir.exists() {
            // Private whatever the umask, as the store makes it.
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(LOCK_FILE))?;
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DataLock(file))
    }

    /// For `serve`: several may share a directory; none while a restore runs.
    pub fn shared(dir: &Path) -> anyhow::Result<DataLock> {
        DataLock::take(dir, libc::LOCK_SH)
            .with_context(|| format!("{} is being restored (or cannot be locked)", dir.display()))
    }

    /// For a restore: no service may hold the directory.
    pub fn exclusive(dir: &Path) -> anyhow::Result<DataLock> {
        DataLock::take(dir, libc::LOCK_EX).with_context(|| {
            format!(
                "a service is using {}: stop it before restoring",
                dir.display()
            )
        })
    }
}

/// What a database file holds, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub screenings: i64,
    pub events: i64,
    pub keys: i64,
}

impl std::fmt::Display for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} screenings, {} history events, {} keys",
            self.screenings, self.events, self.keys
        )
    }
}

/// Opens a SQLite file read-only, runs `PRAGMA integrity_check`, counts.
pub(super) async fn inspect(file: &Path) -> anyhow::Result<Inventory> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("cannot open {} as a database", file.display()))?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a facet-screen database", file.display()))?
        .try_get(0)?;
    if check != "ok" {
        bail!("{} fails its integrity check: {check}", file.display());
    }
    let inventory = count(&mut conn)
        .await
        .with_context(|| format!("{} is not a facet-screen database", file.display()))?;
    conn.close().await?;
    Ok(inventory)
}

/// What the database on `conn` holds.
pub(super) async fn count(conn: &mut sqlx::AnyConnection) -> anyhow::Result<Inventory> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM screenings) AS screenings, \
                (SELECT COUNT(*) FROM screening_events) AS events, \
                (SELECT COUNT(*) FROM api_keys) AS keys",
    )
    .fetch_one(conn)
    .await?;
    Ok(Inventory {
        screenings: row.try_get("screenings")?,
        events: row.try_get("events")?,
        keys: row.try_get("keys")?,
    })
}

/// Copies the database of `data_dir` to `dest` (a new file, 0600), while
/// the service may be writing, and checks the copy.
pub async fn backup(data_dir: &Path, dest: &Path) -> anyhow::Result<Inventory> {
    super::install_default_drivers();
    let db = data_dir.join(DB_FILE);
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    // A folder that is not there is said as such, not blamed on the file.
    let folder = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist (make it first, say with mkdir -p)",
            dest.display(),
            folder.display()
        );
    }
    if dest.exists() {
        bail!(
            "{} already exists: a backup is written to a new file, never over one",
            dest.display()
        );
    }
    // An empty, private file: VACUUM INTO fills it, keeping the mode.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .with_context(|| format!("cannot create {}", dest.display()))?;
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o600))?;
    let result = async {
        let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display())).await?;
        sqlx::query("PRAGMA busy_timeout = 10000")
            .execute(&mut conn)
            .await?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest.to_string_lossy().into_owned())
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        inspect(dest).await
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}
