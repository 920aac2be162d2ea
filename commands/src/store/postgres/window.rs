//! The latest events of `$all`, which the tail keeps so that subscriptions that have caught
//! up read them from memory rather than the store.

use std::collections::VecDeque;

use crate::store::{Position, RecordedEvent};

/// How many of the latest events of `$all` the tail keeps for its subscriptions.
pub(super) const TAIL_WINDOW: usize = 8192;

/// The latest events of `$all`, contiguous.
pub(super) struct Window {
    /// The position just before `events[0]`.
    pub(super) base: Position,
    pub(super) events: VecDeque<RecordedEvent>,
}

impl Window {
    pub(super) fn head(&self) -> Position {
        self.events.back().map_or(self.base, |e| e.position)
    }

    /// Up to `limit` events after `after`, or `None` when `after` is not in the window.
    pub(super) fn after(&self, after: Position, limit: usize) -> Option<Vec<RecordedEvent>> {
        let start = if after == self.base {
            0
        } else {
            self.events
                .binary_search_by_key(&after, |e| e.position)
                .ok()?
                + 1
        };
        Some(self.events.range(start..).take(limit).cloned().collect())
    }

    pub(super) fn extend(&mut self, batch: Vec<RecordedEvent>) {
        self.events.extend(batch);
        let excess = self.events.len().saturating_sub(TAIL_WINDOW);
        if let Some(last_dropped) = self.events.drain(..excess).next_back() {
            self.base = last_dropped.position;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::Value;
    use uuid::Uuid;

    use super::*;

    fn event(commit: u64, prepare: u64) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::new_v4(),
            stream_id: "order-1".into(),
            revision: 0,
            position: Position::new(commit, prepare),
            event_type: "OrderPlaced".into(),
            schema_version: 1,
            data: Value::Null,
            metadata: Value::Null,
            recorded_at: Utc::now(),
        }
    }

    fn positions(events: &[RecordedEvent]) -> Vec<(u64, u64)> {
        events
            .iter()
            .map(|e| (e.position.commit, e.position.prepare))
            .collect()
    }

    #[test]
    fn a_window_answers_only_from_positions_it_holds() {
        let mut w = Window {
            base: Position::new(10, 3),
            events: VecDeque::new(),
        };
        assert_eq!(w.after(Position::new(10, 3), 5), Some(vec![]));
        w.extend(vec![event(12, 4), event(12, 5), event(15, 6)]);
        assert_eq!(w.head(), Position::new(15, 6));
        let all = w.after(Position::new(10, 3), 5).unwrap();
        assert_eq!(positions(&all), [(12, 4), (12, 5), (15, 6)]);
        let rest = w.after(Position::new(12, 4), 1).unwrap();
        assert_eq!(positions(&rest), [(12, 5)]);
        assert_eq!(w.after(Position::new(15, 6), 5), Some(vec![]));
        // Before the window, between its events, or past its head: the store must answer.
        assert!(w.after(Position::START, 5).is_none());
        assert!(w.after(Position::new(11, 0), 5).is_none());
        assert!(w.after(Position::new(16, 0), 5).is_none());
    }

    #[test]
    fn a_full_window_forgets_its_oldest_events() {
        let mut w = Window {
            base: Position::START,
            events: VecDeque::new(),
        };
        w.extend((1..=TAIL_WINDOW as u64 + 2).map(|i| event(i, i)).collect());
        assert_eq!(w.events.len(), TAIL_WINDOW);
        assert_eq!(w.base, Position::new(2, 2));
        assert!(w.after(Position::new(1, 1), 1).is_none());
        let next = w.after(Position::new(2, 2), 1).unwrap();
        assert_eq!(positions(&next), [(3, 3)]);
    }
}
