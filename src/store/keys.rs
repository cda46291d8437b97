//! API keys: stored as their SHA-256 digest only.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::rows::clinic;
use super::{Store, StoreError};
use crate::auth::{Clinic, KeyInfo, NewKey, Role};
use crate::screening::timestamp;

fn key(row: &AnyRow) -> Result<KeyInfo, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(KeyInfo {
        id: row.try_get("id")?,
        clinic: clinic(&row.try_get::<String, _>("clinic")?)?,
        role: role
            .parse::<Role>()
            .map_err(|_| StoreError::Corrupt(format!("role {role}")))?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Whether a revocation may end a clinic's last active administrator key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastAdmin {
    /// Refused (`Revocation::LastAdmin`): the clinic would have no
    /// administrator left.
    Keep,
    /// Revoked all the same (the operator's `keys revoke --force`: say, a
    /// key that leaked); `keys create` makes another.
    Revoke,
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The key as it is now: revoked (by this revocation or an earlier one).
    Revoked(KeyInfo),
    /// No such key (in the clinic named).
    NotFound,
    /// Kept: the last active administrator key of this clinic.
    LastAdmin(Clinic),
}

/// What the revocation's transaction did.
enum Revoked {
    /// Revoked, now or before; or no such key.
    Done,
    LastAdmin(Clinic),
}

/// The PostgreSQL channel told of every revocation.
pub const KEYS_CHANNEL: &str = "facet_screen_keys";

impl Store {
    /// Stores a key minted by `auth::NewKey::mint`: its digest, never the
    /// secret.
    pub async fn insert_key(&self, new: &NewKey) -> Result<KeyInfo, StoreError> {
        sqlx::query("INSERT INTO api_keys (id, secret_hash, clinic, role, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&new.id)
            .bind(&new.digest)
            .bind(new.clinic.as_str())
            .bind(new.role.as_str())
            .bind(new.label.as_str())
            .bind(timestamp(chrono::Utc::now()))
            .bind(new.expires.at().map(timestamp))
            .execute(self.write_pool())
            .await?;
        self.key_by_id(&new.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a key just stored is missing".into()))
    }

    /// On a database with no key and no earlier first-run key, stores `new`
    /// (an admin key); `None` otherwise. Safe against instances starting
    /// together.
    pub async fn bootstrap_admin(&self, new: &NewKey) -> Result<Option<KeyInfo>, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query("INSERT INTO bootstrap (name, at) VALUES ('first_admin_key', $1) ON CONFLICT (name) DO NOTHING")
            .bind(timestamp(chrono::Utc::now()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let existing: i64 = sqlx::query("SELECT COUNT(*) AS n FROM api_keys")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if claimed == 0 || existing > 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        self.insert_key(new).await.map(Some)
    }

    /// Takes back the first-run admin key `id`, which could not be shown:
    /// the key and the mark that it was made go together, so that the next
    /// start makes one again. The key was never used, so nothing refers to it.
    pub async fn undo_bootstrap_admin(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM bootstrap WHERE name = 'first_admin_key'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn key_by_hash(&self, hash: &str) -> Result<Option<KeyInfo>, StoreError> {
        let row = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys WHERE secret_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key).transpose()
    }

    pub async fn key_by_id(&self, id: &str) -> Result<Option<KeyInfo>, StoreError> {
        let row = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key).transpose()
    }

    /// The keys of one clinic, oldest first.
    pub async fn list_clinic_keys(&self, clinic: &Clinic) -> Result<Vec<KeyInfo>, StoreError> {
        let rows = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys WHERE clinic = $1 ORDER BY created_at, id")
            .bind(clinic.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key).collect()
    }

    /// Ends a key of `clinic` at once (again: no change); `NotFound` for a
    /// key of another clinic, exactly as for an unknown id; `LastAdmin` for
    /// the clinic's last active administrator key.
    pub async fn revoke_clinic_key(
        &self,
        clinic: &Clinic,
        id: &str,
    ) -> Result<Revocation, StoreError> {
        if let Revoked::LastAdmin(clinic) = self.revoke(id, Some(clinic), LastAdmin::Keep).await? {
            return Ok(Revocation::LastAdmin(clinic));
        }
        Ok(match self.key_by_id(id).await? {
            Some(key) if &key.clinic == clinic => Revocation::Revoked(key),
            _ => Revocation::NotFound,
        })
    }

    /// Revokes key `id` (of `clinic`, when given) and, in the same
    /// transaction, bumps the key generation that every instance watches to
    /// drop its cached keys; on PostgreSQL, also NOTIFY them at once.
    ///
    /// With `LastAdmin::Keep`, the last active (neither revoked nor
    /// expired) administrator key of its clinic is kept: `Conflict`. The
    /// check and the revocation are one transaction, and revocations run
    /// one at a time: the transaction's first statement writes the key
    /// generation's one row, which takes SQLite's write lock, and on
    /// PostgreSQL that row's lock until the commit. Each statement after it
    /// (READ COMMITTED) sees every revocation committed before, so two
    /// administrators revoking each other at once cannot both succeed.
    async fn revoke(
        &self,
        id: &str,
        clinic: Option<&Clinic>,
        last_admin: LastAdmin,
    ) -> Result<Revoked, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE key_generation SET generation = generation + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let target = sqlx::query(
            "SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys WHERE id = $1 AND ($2 IS NULL OR clinic = $2)",
        )
        .bind(id)
        .bind(clinic.map(Clinic::as_str))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(target) = target.as_ref().map(key).transpose()? else {
            tx.rollback().await?;
            return Ok(Revoked::Done);
        };
        if target.revoked_at.is_some() {
            // Already revoked: nothing changes, not even the generation.
            tx.rollback().await?;
            return Ok(Revoked::Done);
        }
        let now = chrono::Utc::now();
        if last_admin == LastAdmin::Keep && target.role == Role::Admin && target.usable_at(now) {
            let others = sqlx::query(
                "SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys \
                 WHERE clinic = $1 AND role = 'admin' AND revoked_at IS NULL AND id <> $2",
            )
            .bind(target.clinic.as_str())
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let others = others.iter().map(key).collect::<Result<Vec<_>, _>>()?;
            if !others.iter().any(|k| k.usable_at(now)) {
                tx.rollback().await?;
                return Ok(Revoked::LastAdmin(target.clinic));
            }
        }
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(timestamp(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if self.postgres_url.is_some() {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(KEYS_CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Revoked::Done)
    }

    /// The key generation: it changes with every revocation.
    pub async fn key_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT generation FROM key_generation WHERE id = 1")
                .fetch_one(&self.pool)
                .await?
                .try_get("generation")?,
        )
    }

    /// On PostgreSQL, a listener told of every revocation as it commits.
    pub async fn key_listener(&self) -> Option<Result<sqlx::postgres::PgListener, StoreError>> {
        let url = self.postgres_url.as_deref()?;
        Some(
            async {
                let mut listener = sqlx::postgres::PgListener::connect(url).await?;
                listener.listen(KEYS_CHANNEL).await?;
                Ok(listener)
            }
            .await,
        )
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let rows = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, expires_at, revoked_at FROM api_keys ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key).collect()
    }

    /// Ends a key at once; `NotFound` for an unknown id; `LastAdmin` for
    /// the last active administrator key of its clinic, unless
    /// `LastAdmin::Revoke`.
    pub async fn revoke_key(
        &self,
        id: &str,
        last_admin: LastAdmin,
    ) -> Result<Revocation, StoreError> {
        if let Revoked::LastAdmin(clinic) = self.revoke(id, None, last_admin).await? {
            return Ok(Revocation::LastAdmin(clinic));
        }
        Ok(match self.key_by_id(id).await? {
            Some(key) => Revocation::Revoked(key),
            None => Revocation::NotFound,
        })
    }

    pub async fn touch_key(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(timestamp(chrono::Utc::now()))
            .bind(id)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Records a JWT id; false when this issuer already used it (a replay).
    pub async fn claim_jwt_id(
        &self,
        iss: &str,
        jti: &str,
        expires_at: &str,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO cds_jwt_ids (iss, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (iss, jti) DO NOTHING",
        )
        .bind(iss)
        .bind(jti)
        .bind(expires_at)
        .execute(self.write_pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}

/// What one housekeeping run removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub jwt_ids: u64,
    pub idempotency_keys: u64,
}

/// How long an idempotency key is kept, as documented.
pub const IDEMPOTENCY_KEYS_KEPT: chrono::Duration = chrono::Duration::hours(24);

impl Store {
    /// Removes expired CDS JWT ids and idempotency keys older than
    /// `IDEMPOTENCY_KEYS_KEPT`, unless some instance already did within
    /// `every`: `None` then. One transaction; the guarded update of the
    /// job's row lets exactly one of several instances run it.
    pub async fn purge_expired(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        every: chrono::Duration,
    ) -> Result<Option<Purged>, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO housekeeping (job, last_run) VALUES ('purge', '1970-01-01T00:00:00.000000Z') ON CONFLICT (job) DO NOTHING")
            .execute(&mut *tx)
            .await?;
        let due = sqlx::query(
            "UPDATE housekeeping SET last_run = $1 WHERE job = 'purge' AND last_run <= $2",
        )
        .bind(timestamp(now))
        .bind(timestamp(now - every))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if due == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let jwt_ids = sqlx::query("DELETE FROM cds_jwt_ids WHERE expires_at < $1")
            .bind(timestamp(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let idempotency_keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(timestamp(now - IDEMPOTENCY_KEYS_KEPT))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Some(Purged {
            jwt_ids,
            idempotency_keys,
        }))
    }
}
