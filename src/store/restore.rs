//! Restoring a SQLite backup without putting the data in place at risk. The
//! backup is copied beside the database, and every check runs on that copy:
//! that it is a SQLite file, `PRAGMA integrity_check` and
//! `foreign_key_check`, each migration it records against this binary's
//! (known, the same checksum, finished), and, once migrated, its schema
//! against the one this binary makes (tables, indexes, and the triggers that
//! keep the history append-only). Only then is the copy renamed over the
//! database, in one atomic step. On any failure the copy is removed and
//! nothing else was touched: the old database stays as it was, and `serve`
//! starts on it.
//!
//! A backup with fewer migrations (an older release's) is accepted: the
//! migrations that `serve` would run at its next start are run on the copy
//! instead, so that one that fails is found before the swap, and `serve`
//! starts on a database already up to date. A backup with a migration this
//! binary does not know (a newer release's) is refused: this binary cannot
//! know what that migration changed, and `serve` would refuse to start on
//! it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, Connection, Row};

use super::SQLITE_MIGRATIONS;
use super::backup::{DB_FILE, DataLock, Inventory, count, inspect};

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    pub inventory: Inventory,
    /// The backup's latest migration and this binary's, when the backup
    /// was older and was migrated forward.
    pub migrated: Option<(i64, i64)>,
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.inventory)
    }
}

/// Puts the backup `src` in place as the database of `data_dir`, once a copy
/// of it has passed every check and been migrated; on any failure, nothing
/// in `data_dir` is changed.
pub async fn restore(data_dir: &Path, src: &Path, force: bool) -> anyhow::Result<Restored> {
    super::install_default_drivers();
    let _lock = DataLock::exclusive(data_dir)?;
    let unchanged = || {
        format!(
            "{} cannot be restored; nothing was changed in {}",
            src.display(),
            data_dir.display()
        )
    };
    is_sqlite(src).with_context(unchanged)?;
    let db = data_dir.join(DB_FILE);
    if db.exists() && !force {
        let existing = inspect(&db).await;
        if !matches!(
            existing,
            Ok(Inventory {
                screenings: 0,
                keys: 0,
                ..
            })
        ) {
            bail!(
                "{} already holds data: restore with --force to replace it",
                db.display()
            );
        }
    }
    let copy = data_dir.join(format!("{DB_FILE}.restoring"));
    remove_with_journals(&copy);
    let checked = async {
        copy_file(src, &copy)?;
        check_and_migrate(&copy).await
    }
    .await;
    let restored = match checked {
        Ok(restored) => restored,
        Err(e) => {
            remove_with_journals(&copy);
            return Err(e.context(unchanged()));
        }
    };
    if let Err(e) = swap(&copy, &db) {
        remove_with_journals(&copy);
        return Err(anyhow::Error::from(e).context(unchanged()));
    }
    Ok(restored)
}

/// SQLite's own header, before anything opens the file.
fn is_sqlite(file: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut header = [0u8; 16];
    File::open(file)
        .and_then(|mut f| f.read_exact(&mut header))
        .ok()
        .filter(|()| &header == b"SQLite format 3\0")
        .with_context(|| format!("{} is not a SQLite database", file.display()))
}

fn copy_file(src: &Path, dest: &Path) -> anyhow::Result<()> {
    let mut from = File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    std::io::copy(&mut from, &mut to)?;
    to.sync_all()?;
    Ok(())
}

fn remove_with_journals(file: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(file, suffix));
    }
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Every check, on the copy; then its migrations, and its schema.
async fn check_and_migrate(copy: &Path) -> anyhow::Result<Restored> {
    let mut conn = AnyConnection::connect(&format!("sqlite://{}?mode=rw", copy.display()))
        .await
        .context("cannot open it as a database")?;
    let result = async {
        integrity(&mut conn).await?;
        let applied = applied_migrations(&mut conn).await?;
        check_migrations(&applied, &SQLITE_MIGRATIONS).map_err(anyhow::Error::msg)?;
        // As the service's connections do.
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut conn)
            .await?;
        SQLITE_MIGRATIONS
            .run(&mut conn)
            .await
            .context("migrating it forward failed")?;
        check_schema(&mut conn).await?;
        let inventory = count(&mut conn).await?;
        let latest = SQLITE_MIGRATIONS.iter().map(|m| m.version).max();
        let theirs = applied.iter().map(|m| m.version).max();
        let migrated = match (theirs, latest) {
            (Some(theirs), Some(latest)) if theirs < latest => Some((theirs, latest)),
            _ => None,
        };
        anyhow::Ok(Restored {
            inventory,
            migrated,
        })
    }
    .await;
    conn.close().await?;
    result
}

async fn integrity(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .context("it fails its integrity check")?;
    if problems != ["ok"] {
        bail!(
            "it fails its integrity check: {}",
            problems
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let orphans = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await
        .context("it fails its foreign key check")?;
    if let Some(first) = orphans.first() {
        bail!(
            "it fails its foreign key check: {} rows refer to rows that do not exist (first in {})",
            orphans.len(),
            first.try_get::<String, _>(0).unwrap_or_default()
        );
    }
    Ok(())
}

/// A migration as a database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    version: i64,
    description: String,
    finished: bool,
    checksum: Vec<u8>,
}

async fn applied_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<Applied>> {
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if tables == 0 {
        bail!("it is not a facet-screen database: it records no migrations");
    }
    let rows = sqlx::query(
        "SELECT version, description, CASE WHEN success THEN 1 ELSE 0 END AS finished, checksum \
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .context("it is not a facet-screen database: its migrations cannot be read")?;
    rows.iter()
        .map(|r| {
            Ok(Applied {
                version: r.try_get("version")?,
                description: r.try_get("description")?,
                finished: r.try_get::<i64, _>("finished")? == 1,
                checksum: r.try_get("checksum")?,
            })
        })
        .collect()
}

/// Every migration the database records is one of `known`, with the same
/// checksum, and finished. Fewer than `known` is fine: the rest are run.
fn check_migrations(applied: &[Applied], known: &Migrator) -> Result<(), String> {
    for a in applied {
        let Some(ours) = known.iter().find(|m| m.version == a.version) else {
            return Err(format!(
                "it was migrated by a newer facet-screen: migration {} ({}) is unknown to this binary",
                a.version, a.description
            ));
        };
        if !a.finished {
            return Err(format!(
                "its migration {} ({}) did not finish",
                a.version, a.description
            ));
        }
        if *ours.checksum != *a.checksum {
            return Err(format!(
                "its migration {} ({}) differs from this binary's (another checksum)",
                a.version, a.description
            ));
        }
    }
    Ok(())
}

/// Tables, indexes, triggers and views, with their SQL.
type Schema = std::collections::BTreeMap<(String, String), Option<String>>;

async fn schema(conn: &mut AnyConnection) -> anyhow::Result<Schema> {
    let rows = sqlx::query(
        "SELECT type, name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok(((r.try_get("type")?, r.try_get("name")?), r.try_get("sql")?)))
        .collect()
}

/// The migrated copy's schema is exactly the one this binary makes on an
/// empty database: nothing missing (the history's triggers), changed or
/// added.
async fn check_schema(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let mut fresh = AnyConnection::connect("sqlite::memory:").await?;
    SQLITE_MIGRATIONS.run(&mut fresh).await?;
    let expected = schema(&mut fresh).await?;
    fresh.close().await?;
    let found = schema(conn).await?;
    for ((kind, name), sql) in &expected {
        match found.get(&(kind.clone(), name.clone())) {
            None => bail!("its schema lacks the {kind} {name}"),
            Some(theirs) if theirs != sql => {
                bail!("its {kind} {name} differs from the one this binary makes")
            }
            Some(_) => {}
        }
    }
    if let Some((kind, name)) = found.keys().find(|k| !expected.contains_key(*k)) {
        bail!("its schema has a {kind} {name} that this binary does not make");
    }
    Ok(())
}

/// Renames `copy` over `db`. The old database's WAL and shared memory
/// would be read as the new one's: they are moved aside first (and back, if
/// the rename fails), then removed.
fn swap(copy: &Path, db: &Path) -> std::io::Result<()> {
    let mut aside = Vec::new();
    for suffix in ["-wal", "-shm"] {
        let (from, to) = (
            with_suffix(db, suffix),
            with_suffix(db, &format!("{suffix}.replaced")),
        );
        if from.exists() {
            if let Err(e) = std::fs::rename(&from, &to) {
                put_back(&aside);
                return Err(e);
            }
            aside.push((from, to));
        }
    }
    if let Err(e) = std::fs::rename(copy, db) {
        put_back(&aside);
        return Err(e);
    }
    if let Some(dir) = db.parent() {
        File::open(dir)?.sync_all()?;
    }
    for (_, to) in aside {
        let _ = std::fs::remove_file(to);
    }
    Ok(())
}

fn put_back(aside: &[(PathBuf, PathBuf)]) {
    for (from, to) in aside {
        let _ = std::fs::rename(to, from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(version: i64, checksum: &[u8], finished: bool) -> Applied {
        Applied {
            version,
            description: format!("migration {version}"),
            finished,
            checksum: checksum.to_vec(),
        }
    }

    fn ours() -> Vec<Applied> {
        SQLITE_MIGRATIONS
            .iter()
            .map(|m| recorded(m.version, &m.checksum, true))
            .collect()
    }

    #[test]
    fn this_binarys_migrations_and_fewer_pass() {
        let all = ours();
        assert_eq!(check_migrations(&all, &SQLITE_MIGRATIONS), Ok(()));
        assert_eq!(
            check_migrations(&all[..all.len() - 1], &SQLITE_MIGRATIONS),
            Ok(())
        );
        assert_eq!(check_migrations(&[], &SQLITE_MIGRATIONS), Ok(()));
    }

    #[test]
    fn an_unknown_a_changed_or_an_unfinished_migration_is_named() {
        let mut newer = ours();
        newer.push(recorded(99_990_101_000_000, b"x", true));
        let why = check_migrations(&newer, &SQLITE_MIGRATIONS).unwrap_err();
        assert!(
            why.contains("99990101000000") && why.contains("newer"),
            "{why}"
        );

        let mut changed = ours();
        changed[0].checksum = vec![0];
        let why = check_migrations(&changed, &SQLITE_MIGRATIONS).unwrap_err();
        assert!(
            why.contains(&format!("migration {} ", changed[0].version)) && why.contains("checksum"),
            "{why}"
        );

        let mut unfinished = ours();
        unfinished.last_mut().unwrap().finished = false;
        let why = check_migrations(&unfinished, &SQLITE_MIGRATIONS).unwrap_err();
        assert!(why.contains("did not finish"), "{why}");
    }
}
