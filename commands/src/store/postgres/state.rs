//! What the store and its background tasks share: the pool, the wake and growth counters,
//! the furthest announced position, and the tail's state. The tasks hold it weakly, so they
//! end when the last `PgEventStore` goes.

use std::sync::{Arc, Mutex};

use sqlx::postgres::PgPool;
use tokio::sync::{watch, Notify};

use super::window::Window;
use crate::store::Position;

pub(super) struct Inner {
    pub(super) pool: PgPool,
    /// Bumped after every append in this process and on every notification from others.
    pub(super) wake: watch::Sender<u64>,
    /// The furthest position an append is known to have reached: this process's own,
    /// and those other processes' notifications carry.
    pub(super) announced: Mutex<Position>,
    /// Asks the notifier task to send one `NOTIFY`; bursts of appends coalesce into one.
    pub(super) notify_request: Arc<Notify>,
    pub(super) listener_running: Mutex<bool>,
    pub(super) tail: Mutex<Tail>,
    /// Bumped each time the tail's window grows; every subscription holds a receiver.
    pub(super) grown: watch::Sender<u64>,
    /// How often the tail settled into its idle poll while it knew of an unread append:
    /// never, or such an event waits for the idle poll. Tests read it.
    #[cfg(test)]
    pub(super) idle_while_owed: std::sync::atomic::AtomicU64,
}

/// The shared follower of `$all`.
#[derive(Default)]
pub(super) struct Tail {
    pub(super) running: bool,
    /// `None` until a running tail has found where `$all` ends.
    pub(super) window: Option<Window>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the notifier task see the store is gone and end.
        self.notify_request.notify_one();
    }
}

impl Inner {
    pub(super) fn lock_tail(&self) -> std::sync::MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn announced(&self) -> Position {
        *self.announced.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that an append reached `at`, and wakes the tail.
    pub(super) fn announce(&self, at: Position) {
        {
            let mut announced = self.announced.lock().unwrap_or_else(|e| e.into_inner());
            *announced = (*announced).max(at);
        }
        bump(&self.wake);
    }
}

/// Tells the receivers of a wake or growth counter that something happened.
pub(super) fn bump(counter: &watch::Sender<u64>) {
    counter.send_modify(|n| *n = n.wrapping_add(1));
}
