//! API keys: stored as their SHA-256 digest only.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};
use crate::auth::{Clinic, KeyInfo, Role, Secret, digest};
use crate::screening::ScreeningId;
use crate::screening::record::timestamp;

fn key(row: &AnyRow) -> Result<KeyInfo, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(KeyInfo {
        id: row.try_get("id")?,
        clinic: row.try_get("clinic")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Makes a key; the secret is returned once and never stored.
    pub async fn create_key(
        &self,
        clinic: &Clinic,
        role: Role,
        label: &str,
    ) -> Result<(KeyInfo, Secret), StoreError> {
        let secret = Secret::generate();
        let id = format!("key_{}", ScreeningId::new().to_string().replace('-', ""));
        let hash = digest(secret.expose()).expect("a generated key is well formed");
        sqlx::query("INSERT INTO api_keys (id, secret_hash, clinic, role, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(&hash)
            .bind(clinic.as_str())
            .bind(role.as_str())
            .bind(label)
            .bind(timestamp(chrono::Utc::now()))
            .execute(&self.pool)
            .await?;
        let info = self.key_by_id(&id).await?.ok_or(StoreError::NotFound)?;
        Ok((info, secret))
    }

    /// On a database with no key and no earlier first-run key, makes one
    /// admin key; `None` otherwise. Safe against instances starting together.
    pub async fn bootstrap_admin(&self) -> Result<Option<(KeyInfo, Secret)>, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let clinic = Clinic::parse("default").expect("a valid slug");
        self.create_key(&clinic, Role::Admin, "first-run admin key")
            .await
            .map(Some)
    }

    pub async fn key_by_hash(&self, hash: &str) -> Result<Option<KeyInfo>, StoreError> {
        let row = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, revoked_at FROM api_keys WHERE secret_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key).transpose()
    }

    pub async fn key_by_id(&self, id: &str) -> Result<Option<KeyInfo>, StoreError> {
        let row = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, revoked_at FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key).transpose()
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let rows = sqlx::query("SELECT id, clinic, role, label, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key).collect()
    }

    /// Ends a key at once; `NotFound` for an unknown id.
    pub async fn revoke_key(&self, id: &str) -> Result<KeyInfo, StoreError> {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(timestamp(chrono::Utc::now()))
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.key_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn touch_key(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(timestamp(chrono::Utc::now()))
            .bind(id)
            .execute(&self.pool)
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
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
