//! The rule set in use, replaceable while the service runs (SIGHUP). A
//! request takes the current set once and keeps it to the end, so an
//! evaluation in flight finishes on the rule set it started with, and its
//! response names that set's version and digest.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::RuleSet;

#[derive(Clone)]
pub struct LiveRules(Arc<ArcSwap<RuleSet>>);

impl LiveRules {
    pub fn new(rules: RuleSet) -> Self {
        LiveRules(Arc::new(ArcSwap::from_pointee(rules)))
    }

    /// The rule set in use now; keep it for the whole of one operation.
    pub fn current(&self) -> Arc<RuleSet> {
        self.0.load_full()
    }

    /// Puts `rules` in use for every operation that starts from now on;
    /// returns the set it replaces.
    pub fn replace(&self, rules: RuleSet) -> Arc<RuleSet> {
        self.0.swap(Arc::new(rules))
    }
}
