//! What a compiled condition reads: the answers it consults (so that an
//! unknown one is reported missing) and how many lists it quantifies over.

use super::compile::{Cond, Slot};

impl Cond {
    /// How many `some` and `fewer_than` this condition holds.
    pub fn quantifiers(&self) -> usize {
        match self {
            Cond::All(items) | Cond::Any(items) => items.iter().map(Cond::quantifiers).sum(),
            Cond::Not(inner) | Cond::Known(inner) => inner.quantifiers(),
            Cond::Some { .. } | Cond::FewerThan { .. } => 1,
            Cond::Unknown(_) | Cond::Test { .. } | Cond::Compare { .. } => 0,
        }
    }

    /// The top-level fields this condition reads, in order, without repeats.
    pub fn reads(&self, out: &mut Vec<usize>) {
        let mut add = |i: usize| {
            if !out.contains(&i) {
                out.push(i);
            }
        };
        match self {
            Cond::All(items) | Cond::Any(items) => items.iter().for_each(|c| c.reads(out)),
            Cond::Not(inner) | Cond::Known(inner) => inner.reads(out),
            Cond::Compare { left, right, .. } => {
                for slot in [left, right] {
                    if let Slot::Answer(i) = slot
                        && !out.contains(i)
                    {
                        out.push(*i);
                    }
                }
            }
            Cond::Unknown(Slot::Answer(i))
            | Cond::Test {
                at: Slot::Answer(i),
                ..
            } => add(*i),
            Cond::Unknown(Slot::EntryField(_))
            | Cond::Test {
                at: Slot::EntryField(_),
                ..
            } => {}
            Cond::Some { list, .. } | Cond::FewerThan { list, .. } => add(*list),
        }
    }
}
