//! A screening's history as one stream: its changes (numbered in the order
//! they committed) and its reads (kept apart, so that a read never waits
//! for a change), merged by the one rule the history has always had: a read
//! goes before the first change that came after it. Read a page at a time,
//! from both streams at once, with where the page ended in each.

use chrono::TimeDelta;

use super::events::Event;

/// How long after a key's last read of a record its next read is still
/// counted with it (one `viewed` event with a count); `None`: every read is
/// an event of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewWindow(Option<TimeDelta>);

impl ViewWindow {
    /// Unless set: 15 minutes.
    pub const DEFAULT_SECONDS: u64 = 15 * 60;
    /// The longest window: a day.
    pub const MAX_SECONDS: u64 = 86_400;

    /// `seconds` long (at most a day); 0 keeps every read apart.
    pub fn seconds(seconds: u64) -> ViewWindow {
        let seconds = seconds.min(Self::MAX_SECONDS) as i64;
        ViewWindow((seconds > 0).then(|| TimeDelta::seconds(seconds)))
    }

    /// The window; `None` when every read is kept apart.
    pub fn get(self) -> Option<TimeDelta> {
        self.0
    }
}

/// Where a page of a history ended, in both of its streams, and how many
/// events came before (the next event's `seq` is one more).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryCursor {
    /// Events already given.
    pub position: i64,
    /// The last change given (its `seq` in the table), 0 for none.
    pub seq: i64,
    /// The last read given: its first time and its row, "" and 0 for none.
    pub view_at: String,
    pub view_n: i64,
}

/// A page of a history, oldest first, and where the next one starts.
pub struct HistoryPage {
    pub events: Vec<Event>,
    /// `None` on the last page.
    pub next: Option<HistoryCursor>,
}

/// An event with its place in its own stream: a change's `seq`, a read's
/// row.
pub struct Placed {
    pub place: i64,
    pub event: Event,
}

/// The events of a history after a cursor, each stream in its own order,
/// as read.
pub struct Streams {
    pub changes: Vec<Placed>,
    pub reads: Vec<Placed>,
}

/// Which comes next, given the next change and the next read of each
/// stream: a read goes before the first change that came after it; `None`
/// when both are done.
fn read_comes_first(change: Option<&Event>, read: Option<&Event>) -> Option<bool> {
    match (change, read) {
        (Some(c), Some(r)) => Some(r.at < c.at),
        (Some(_), None) => Some(false),
        (None, Some(_)) => Some(true),
        (None, None) => None,
    }
}

/// One whole history: changes keep their order; a read goes before the
/// first change that came after it; numbered from 1.
pub fn merge(changes: Vec<Event>, reads: Vec<Event>) -> Vec<Event> {
    let mut events = Vec::with_capacity(changes.len() + reads.len());
    let (mut changes, mut reads) = (changes.into_iter().peekable(), reads.into_iter().peekable());
    while let Some(read) = read_comes_first(changes.peek(), reads.peek()) {
        let next = if read { reads.next() } else { changes.next() };
        let Some(mut event) = next else { break };
        event.seq = events.len() as i64 + 1;
        events.push(event);
    }
    events
}

/// The page of up to `limit` events after `after`, numbered on from its
/// position, from `streams` read after `after`. Each stream must hold one
/// event more than the page shows when it has one: the page then never
/// runs out of either stream before it is full, and what is left says
/// whether there is a next page.
pub fn page(streams: Streams, after: &HistoryCursor, limit: u32) -> HistoryPage {
    let mut changes = streams.changes.into_iter().peekable();
    let mut reads = streams.reads.into_iter().peekable();
    let mut cursor = after.clone();
    let mut events = Vec::new();
    while events.len() < limit as usize {
        let Some(read) = read_comes_first(
            changes.peek().map(|c| &c.event),
            reads.peek().map(|r| &r.event),
        ) else {
            break;
        };
        let next = if read { reads.next() } else { changes.next() };
        let Some(Placed { place, mut event }) = next else {
            break;
        };
        if read {
            (cursor.view_at, cursor.view_n) = (event.at.clone(), place);
        } else {
            cursor.seq = place;
        }
        cursor.position += 1;
        event.seq = cursor.position;
        events.push(event);
    }
    let next = (changes.peek().is_some() || reads.peek().is_some()).then_some(cursor);
    HistoryPage { events, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::Actor;
    use crate::screening::events::{EventData, EventKind};

    fn event(kind: EventKind, at: &str) -> Event {
        Event {
            seq: 0,
            data: EventData::read(kind, "{}".into()).unwrap(),
            at: at.into(),
            actor: Actor {
                key_id: "k".into(),
                label: "l".into(),
                clinician: None,
            },
        }
    }

    fn kinds(events: &[Event]) -> Vec<(i64, EventKind, String)> {
        events
            .iter()
            .map(|e| (e.seq, e.data.kind(), e.at.clone()))
            .collect()
    }

    #[test]
    fn a_read_goes_before_the_first_change_after_it_and_changes_keep_their_order() {
        use EventKind::*;
        // Two changes out of time order (numbered under the lock in the
        // order they committed), reads around them.
        let changes = vec![
            event(Created, "1"),
            event(CdsFeedback, "5"),
            event(Reviewed, "4"),
        ];
        let reads = vec![
            event(Viewed, "0"),
            event(Viewed, "3"),
            event(Viewed, "5"),
            event(Viewed, "6"),
        ];
        let expected = [
            (Viewed, "0"),
            (Created, "1"),
            (Viewed, "3"),
            (CdsFeedback, "5"),
            (Reviewed, "4"),
            (Viewed, "5"),
            (Viewed, "6"),
        ];
        assert_eq!(
            kinds(&merge(changes, reads)),
            expected
                .iter()
                .enumerate()
                .map(|(i, (k, at))| (i as i64 + 1, *k, at.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_page_ends_where_its_last_event_was_in_each_stream_and_says_if_more_follow() {
        use EventKind::*;
        let placed = |place, kind, at| Placed {
            place,
            event: event(kind, at),
        };
        let after = HistoryCursor {
            position: 10,
            seq: 2,
            view_at: "0".into(),
            view_n: 7,
        };
        // Read with one more than a page of 2 from each stream.
        let streams = || Streams {
            changes: vec![placed(3, Reviewed, "2"), placed(4, CdsFeedback, "4")],
            reads: vec![placed(8, Viewed, "1"), placed(9, Viewed, "3")],
        };
        let first = page(streams(), &after, 2);
        assert_eq!(
            kinds(&first.events),
            [(11, Viewed, "1".into()), (12, Reviewed, "2".into())]
        );
        assert_eq!(
            first.next,
            Some(HistoryCursor {
                position: 12,
                seq: 3,
                view_at: "1".into(),
                view_n: 8,
            })
        );
        // All of what is left fits: the last page.
        let last = page(streams(), &after, 4);
        assert_eq!(last.events.len(), 4);
        assert_eq!(last.next, None);
    }

    #[test]
    fn a_window_of_zero_keeps_every_read_apart() {
        assert_eq!(ViewWindow::seconds(0).get(), None);
        assert_eq!(ViewWindow::seconds(900).get(), Some(TimeDelta::minutes(15)));
        assert_eq!(
            ViewWindow::seconds(u64::MAX).get(),
            Some(TimeDelta::days(1))
        );
    }
}
