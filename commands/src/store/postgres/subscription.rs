//! One subscription to `$all`: it takes events from the tail's window once it has caught
//! up, and reads the store itself while it is behind the window.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::watch;

use super::horizon::read_all;
use super::state::Inner;
use super::tail::{IDLE_POLL, SUBSCRIPTION_BATCH};
use crate::store::{Position, RecordedEvent, StoreError};

pub(super) struct Subscription {
    store: Arc<Inner>,
    after: Position,
    buffer: VecDeque<RecordedEvent>,
    grown: watch::Receiver<u64>,
}

impl Subscription {
    /// A subscription after `after`, woken by the tail's `grown` counter.
    pub(super) fn new(store: Arc<Inner>, after: Position, grown: watch::Receiver<u64>) -> Self {
        Subscription {
            store,
            after,
            buffer: VecDeque::new(),
            grown,
        }
    }

    pub(super) async fn next_event(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.position;
                return Ok(event);
            }
            // Mark the window seen before looking, so growth during the look wakes the
            // next wait instead of being missed.
            self.grown.borrow_and_update();
            let shared = self
                .store
                .lock_tail()
                .window
                .as_ref()
                .and_then(|w| w.after(self.after, SUBSCRIPTION_BATCH));
            let in_window = shared.is_some();
            let batch = match shared {
                Some(batch) => batch,
                None => read_all(&self.store.pool, self.after, SUBSCRIPTION_BATCH).await?,
            };
            if !batch.is_empty() {
                self.buffer.extend(batch);
                continue;
            }
            let woken = tokio::select! {
                changed = self.grown.changed() => changed.is_ok(),
                _ = tokio::time::sleep(IDLE_POLL) => false,
            };
            if !woken && in_window {
                // The tail has said nothing for a while: look once ourselves, so a stuck
                // tail delays events rather than loses them.
                let batch = read_all(&self.store.pool, self.after, SUBSCRIPTION_BATCH).await?;
                self.buffer.extend(batch);
            }
        }
    }
}
