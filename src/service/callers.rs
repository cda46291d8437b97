//! Who calls: the API key a request presents, checked against the keys on
//! file (`auth` decides, with its cache and rate limit; the keys are looked
//! up here, in the store), and its last use written down at most once a
//! minute.

use std::sync::Arc;

use crate::auth::{Auth, AuthError, Caller, KeyDirectory, KeyInfo};
use crate::store::Store;

use super::Unexpected;

/// The callers of one serving process.
#[derive(Clone)]
pub struct Callers {
    auth: Arc<Auth>,
    store: Store,
}

/// The keys on file, as authentication looks them up.
struct Directory<'a>(&'a Store);

impl KeyDirectory for Directory<'_> {
    async fn key_by_digest(&self, digest: &str) -> Result<Option<KeyInfo>, AuthError> {
        self.0
            .key_by_hash(digest)
            .await
            .map_err(|e| AuthError::Directory(e.to_string()))
    }
}

/// A key's use, due to be written down (`Callers::authenticate`): the
/// caller records it without holding its request.
pub struct LastUse {
    store: Store,
    key_id: String,
}

impl LastUse {
    pub async fn record(self) -> Result<(), Unexpected> {
        Ok(self.store.touch_key(&self.key_id).await?)
    }
}

impl Callers {
    pub fn new(auth: Arc<Auth>, store: Store) -> Self {
        Callers { auth, store }
    }

    /// The caller presenting `authorization` (the header's value): a known,
    /// unrevoked key within its rate; and its use, when it is due to be
    /// written down.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<(Caller, Option<LastUse>), AuthError> {
        let caller = self
            .auth
            .authenticate(&Directory(&self.store), authorization)
            .await?;
        let last_use = self.auth.last_used_due(&caller.key_id).then(|| LastUse {
            store: self.store.clone(),
            key_id: caller.key_id.clone(),
        });
        Ok((caller, last_use))
    }
}
