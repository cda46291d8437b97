//! A clinic's API keys: made (the secret shown once, only its digest
//! kept), listed (never the key or its digest), revoked. Over HTTP each is
//! scoped to the administrator's own clinic; on the command line the
//! operator reaches every clinic's. Two rules hold both ways: a key does not
//! revoke itself, and a clinic keeps its last active administrator key
//! (unless the operator forces it).

use std::sync::Arc;

use crate::auth::{Auth, Caller, Clinic, KeyInfo, NewKey, Role};
use crate::store::{LastAdmin, Revocation, Store, StoreError};

use super::Unexpected;

/// Why an operation on keys did not happen.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No such key (in the caller's clinic).
    #[error("no such key")]
    NotFound,
    /// The key the request is signed with: revoking it would lock its
    /// administrator out mid-task.
    #[error(
        "this is the key you are signed in with: sign in with another administrator key to revoke it"
    )]
    OwnKey,
    /// The last active (neither revoked nor expired) administrator key of
    /// its clinic.
    #[error(
        "this is the last active administrator key of its clinic: make another administrator key before revoking it"
    )]
    LastAdmin(Clinic),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        KeyError::Unexpected(e.into())
    }
}

/// The keys, and the cache of verified keys a revocation empties.
#[derive(Clone)]
pub struct Keys {
    store: Store,
    /// This process's authentication, when it serves requests: a key
    /// revoked here is refused from its next request on, without waiting
    /// for the watcher.
    auth: Option<Arc<Auth>>,
}

impl Keys {
    /// The keys, for the command line (no cache to empty).
    pub fn new(store: Store) -> Self {
        Keys { store, auth: None }
    }

    /// The keys of a serving process, whose cache a revocation empties.
    pub fn serving(store: Store, auth: Arc<Auth>) -> Self {
        Keys {
            store,
            auth: Some(auth),
        }
    }

    /// Stores a key minted by `NewKey::mint`: its digest, never the secret.
    pub async fn create(&self, new: &NewKey) -> Result<KeyInfo, KeyError> {
        Ok(self.store.insert_key(new).await?)
    }

    /// The keys of `clinic`, oldest first.
    pub async fn list(&self, clinic: &Clinic) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(self.store.list_clinic_keys(clinic).await?)
    }

    /// Every clinic's keys, oldest first (the operator's).
    pub async fn list_all(&self) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(self.store.list_keys().await?)
    }

    /// `caller`, an administrator, revokes key `id` of their clinic: from
    /// its next request on it is refused, here and on every other instance.
    /// Revoking a revoked key changes nothing. Another clinic's key is
    /// `NotFound`, as an unknown one.
    pub async fn revoke(&self, caller: &Caller, id: &str) -> Result<KeyInfo, KeyError> {
        if id == caller.key_id {
            return Err(KeyError::OwnKey);
        }
        let revoked = self.store.revoke_clinic_key(&caller.clinic, id).await?;
        self.revoked(revoked)
    }

    /// The operator revokes key `id`, of any clinic; with `force`, even the
    /// last active administrator key of its clinic (say, one that leaked).
    pub async fn revoke_any(&self, id: &str, force: bool) -> Result<KeyInfo, KeyError> {
        let last_admin = if force {
            LastAdmin::Revoke
        } else {
            LastAdmin::Keep
        };
        let revoked = self.store.revoke_key(id, last_admin).await?;
        self.revoked(revoked)
    }

    fn revoked(&self, revocation: Revocation) -> Result<KeyInfo, KeyError> {
        match revocation {
            Revocation::Revoked(key) => {
                if let Some(auth) = &self.auth {
                    auth.keys.invalidate();
                }
                Ok(key)
            }
            Revocation::NotFound => Err(KeyError::NotFound),
            Revocation::LastAdmin(clinic) => Err(KeyError::LastAdmin(clinic)),
        }
    }

    /// Whether `clinic` has an active (neither revoked nor expired)
    /// administrator key.
    pub async fn has_active_admin(&self, clinic: &Clinic) -> Result<bool, KeyError> {
        let now = chrono::Utc::now();
        Ok(self
            .list(clinic)
            .await?
            .iter()
            .any(|k| k.role == Role::Admin && k.usable_at(now)))
    }
}
