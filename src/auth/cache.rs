//! Verified keys, kept in memory by digest so that a request does not wait
//! on the database to know its caller. Revocation always wins:
//!
//! - a revocation through this process empties the cache before it answers;
//! - a revocation anywhere else bumps a counter in the database, which a
//!   watcher reads every 250 ms (`confirm`); on PostgreSQL a NOTIFY also
//!   empties the cache as the revocation commits (`invalidate`);
//! - the cache is used only while the watcher has read the counter within
//!   the last second: a stalled watcher, or a lost database, turns the
//!   cache off rather than trust it;
//! - a lookup that started before an invalidation never refills the cache
//!   (each is tagged with the epoch it started in);
//! - only known, usable keys are kept, at most `MAX_KEYS`; expiry is checked
//!   on every request, cached or not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{KeyInfo, RawDigest};

/// The most keys kept; beyond, the cache starts again empty.
pub const MAX_KEYS: usize = 10_000;
/// How old the watcher's last reading may be for the cache to be used.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// How often the watcher reads the key generation.
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Inner {
    /// By the digest's bytes (not its hex form), each key's record shared
    /// with the requests that use it.
    keys: HashMap<RawDigest, Arc<KeyInfo>>,
    /// When the watcher last read the generation, and what it read.
    confirmed: Option<(Instant, i64)>,
}

#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
    /// Bumped by every invalidation.
    epoch: AtomicU64,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The epoch to tag a lookup with, taken before it starts.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The cached key of `digest`, if the cache may be trusted now.
    pub fn get(&self, digest: &RawDigest) -> Option<Arc<KeyInfo>> {
        let inner = self.lock();
        let (at, _) = inner.confirmed?;
        if at.elapsed() > FRESH_FOR {
            return None;
        }
        inner.keys.get(digest).cloned()
    }

    /// Keeps a key looked up from the database in epoch `epoch`, unless an
    /// invalidation came since.
    pub fn put(&self, digest: &RawDigest, key: &Arc<KeyInfo>, epoch: u64) {
        let mut inner = self.lock();
        // Checked under the lock that `invalidate` takes to clear.
        if self.epoch() != epoch || inner.confirmed.is_none() {
            return;
        }
        if inner.keys.len() >= MAX_KEYS {
            inner.keys.clear();
        }
        inner.keys.insert(*digest, key.clone());
    }

    /// Drops every cached key (a key was revoked).
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        inner.keys.clear();
    }

    /// The watcher read `generation` just now: the cache stays usable for
    /// `FRESH_FOR`, and is emptied first if the generation changed.
    pub fn confirm(&self, generation: i64) {
        let mut inner = self.lock();
        if inner.confirmed.is_some_and(|(_, g)| g != generation) {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            inner.keys.clear();
        }
        inner.confirmed = Some((Instant::now(), generation));
    }

    pub fn len(&self) -> usize {
        self.lock().keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Clinic, Role};

    const D: RawDigest = [7; 32];

    fn key(id: &str) -> Arc<KeyInfo> {
        Arc::new(KeyInfo {
            id: id.into(),
            clinic: Clinic::parse("c").unwrap(),
            role: Role::Intake,
            label: "l".into(),
            created_at: String::new(),
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        })
    }

    #[test]
    fn nothing_is_trusted_before_the_watcher_has_read_the_generation() {
        let cache = KeyCache::default();
        cache.put(&D, &key("a"), cache.epoch());
        assert!(cache.get(&D).is_none());
        cache.confirm(0);
        cache.put(&D, &key("a"), cache.epoch());
        assert_eq!(cache.get(&D).unwrap().id, "a");
    }

    #[test]
    fn a_changed_generation_or_an_invalidation_empties_it() {
        let cache = KeyCache::default();
        cache.confirm(7);
        cache.put(&D, &key("a"), cache.epoch());
        cache.confirm(7);
        assert!(cache.get(&D).is_some(), "same generation: kept");
        cache.confirm(8);
        assert!(cache.get(&D).is_none(), "a revocation somewhere");
        cache.put(&D, &key("a"), cache.epoch());
        cache.invalidate();
        assert!(cache.get(&D).is_none(), "a revocation here");
    }

    #[test]
    fn a_lookup_that_began_before_an_invalidation_does_not_refill_it() {
        let cache = KeyCache::default();
        cache.confirm(1);
        let started = cache.epoch();
        cache.invalidate();
        cache.put(&D, &key("a"), started);
        assert!(cache.get(&D).is_none());
    }

    #[test]
    fn a_stale_reading_turns_the_cache_off() {
        let cache = KeyCache::default();
        cache.confirm(1);
        cache.put(&D, &key("a"), cache.epoch());
        cache.lock().confirmed = Some((Instant::now() - FRESH_FOR * 2, 1));
        assert!(cache.get(&D).is_none());
    }

    #[test]
    fn it_is_bounded() {
        let cache = KeyCache::default();
        cache.confirm(1);
        for i in 0..MAX_KEYS + 5 {
            let mut d = [0; 32];
            d[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.put(&d, &key("a"), cache.epoch());
        }
        assert!(cache.len() <= MAX_KEYS);
    }
}
