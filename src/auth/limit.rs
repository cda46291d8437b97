//! Per-key request rate limit (the `governor` crate's GCRA).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AuthError;

pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl RateLimiter {
    /// `per_minute` requests a minute per key, in bursts of up to that many.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// The seconds to wait when `key` is over its limit.
    pub fn check(&self, key: &str) -> Result<(), AuthError> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                AuthError::TooManyRequests(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            })
    }
}
