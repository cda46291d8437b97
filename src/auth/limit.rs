//! Per-key request rate limits (the `governor` crate's GCRA), in a table of
//! bounded size that forgets what it no longer needs.
//!
//! A key is whatever is counted: an API key's id, a CDS client's address,
//! an issuer. Keyed by something a caller chooses before it is
//! authenticated (an address), the table would grow with every new one and
//! never shrink (500,000 addresses once held 67 MiB). So it is pruned of the
//! keys back at their full quota (governor's `retain_recent`: they are then
//! no different from keys never seen) every `PRUNE_EVERY`, and it holds at
//! most `max_keys`: when it is full even after a prune, a new key is
//! refused (429, retry after the quota's period) rather than let the table
//! grow or an old key be forgotten early (which would give its sender a
//! fresh quota). Keys already counted go on being served.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::{NotUntil, Quota};

use super::AuthError;

/// Over the rate: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub u64);

impl From<Wait> for AuthError {
    fn from(Wait(secs): Wait) -> Self {
        AuthError::TooManyRequests(secs)
    }
}

/// How often the table is pruned, at most: on a request that finds the
/// last prune this long ago (and on a new key when the table is full, at
/// most once a second).
const PRUNE_EVERY: Duration = Duration::from_secs(10);
const PRUNE_WHEN_FULL_EVERY: Duration = Duration::from_secs(1);

/// governor's concurrent table, shared so that a key can be looked up
/// before it is counted (the limiter owns its table otherwise).
struct Table<K: Hash + Eq + Clone>(Arc<DashMapStateStore<K>>);

impl<K: Hash + Eq + Clone> StateStore for Table<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for Table<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below)
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&*self.0)
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&*self.0)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&*self.0)
    }
}

pub struct RateLimiter<K: Hash + Eq + Clone = String, C: Clock = DefaultClock> {
    limiter: governor::RateLimiter<K, Table<K>, C, NoOpMiddleware<C::Instant>>,
    table: Arc<DashMapStateStore<K>>,
    clock: C,
    start: C::Instant,
    /// When the table was last pruned, in nanoseconds since `start`.
    pruned: AtomicU64,
    max_keys: usize,
    /// How long a key stays in the table after its last request, at most
    /// (the quota's whole burst replenished).
    period: Duration,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `per_minute` requests a minute per key, in bursts of up to that
    /// many, for at most `max_keys` keys at once.
    pub fn per_minute(per_minute: u32, max_keys: usize) -> Self {
        Self::with_clock(per_minute, max_keys, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> RateLimiter<K, C> {
    fn with_clock(per_minute: u32, max_keys: usize, clock: C) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(n);
        let table = Arc::new(DashMapStateStore::<K>::default());
        RateLimiter {
            limiter: governor::RateLimiter::new(quota, Table(table.clone()), clock.clone()),
            table,
            start: clock.now(),
            clock,
            pruned: AtomicU64::new(0),
            max_keys: max_keys.max(1),
            period: quota.burst_size_replenished_in(),
        }
    }
}

impl<K: Hash + Eq + Clone, C: Clock> RateLimiter<K, C> {
    /// Counts a request of `key`: `Wait` (the seconds to wait) when it is
    /// over its rate, or when it is new and the table is full.
    pub fn check(&self, key: &K) -> Result<(), Wait> {
        self.prune_if_due(PRUNE_EVERY);
        if self.table.len() >= self.max_keys && !self.table.contains_key(key) {
            self.prune_if_due(PRUNE_WHEN_FULL_EVERY);
            if self.table.len() >= self.max_keys {
                return Err(Wait(whole_seconds(self.period)));
            }
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until: NotUntil<C::Instant>| {
                Wait(whole_seconds(not_until.wait_time_from(self.clock.now())))
            })
    }

    /// The keys in the table now.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Forgets the keys back at their full quota, if the last prune was at
    /// least `every` ago; one caller at a time prunes, the others go on.
    fn prune_if_due(&self, every: Duration) {
        let now = u64::from(self.clock.now().duration_since(self.start));
        let last = self.pruned.load(Ordering::Relaxed);
        let every = u64::try_from(every.as_nanos()).unwrap_or(u64::MAX);
        if now.saturating_sub(last) < every
            || self
                .pruned
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Seconds, rounded up (a `Retry-After`).
fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(
        per_minute: u32,
        max_keys: usize,
    ) -> (RateLimiter<u32, FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            RateLimiter::with_clock(per_minute, max_keys, clock.clone()),
            clock,
        )
    }

    #[test]
    fn each_key_has_its_own_quota() {
        let (l, _) = limiter(2, 10);
        assert!(l.check(&1).is_ok() && l.check(&1).is_ok());
        assert_eq!(l.check(&1), Err(Wait(30)));
        assert!(l.check(&2).is_ok());
    }

    #[test]
    fn a_full_table_refuses_one_more_key_and_keeps_serving_the_keys_it_holds() {
        let (l, clock) = limiter(60, 100);
        for k in 0..100 {
            l.check(&k).unwrap();
        }
        assert_eq!(l.len(), 100);
        // One more: refused for a whole period, and not remembered.
        assert_eq!(l.check(&100), Err(Wait(60)));
        assert_eq!(l.len(), 100);
        // Keys already counted are still counted, not refused for being new.
        assert!(l.check(&7).is_ok());
        // Once their quota is back in full they are forgotten, and room is
        // made for new keys.
        clock.advance(Duration::from_secs(61));
        assert!(l.check(&100).is_ok());
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn the_table_is_pruned_as_it_is_used_even_when_not_full() {
        let (l, clock) = limiter(600, 1_000_000);
        for k in 0..5_000 {
            l.check(&k).unwrap();
        }
        assert_eq!(l.len(), 5_000);
        // A minute on, one request prunes what the others left.
        clock.advance(Duration::from_secs(61));
        l.check(&1).unwrap();
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn a_key_over_its_rate_is_not_forgotten_by_a_prune() {
        let (l, clock) = limiter(1, 2);
        l.check(&1).unwrap();
        assert!(l.check(&1).is_err());
        clock.advance(Duration::from_secs(30));
        l.check(&2).unwrap();
        // Full (1 and 2); a prune finds nothing to forget: key 1 still waits.
        assert!(l.check(&3).is_err());
        assert!(l.check(&1).is_err());
    }
}
