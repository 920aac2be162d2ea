//! The tail of `$all`, shared by every subscription of a store.
//!
//! Readers of `$all` only see rows below the oldest transaction in flight (see the module
//! docs of [`crate::store`]). One task per store, the tail, follows `$all` for every
//! subscription: it wakes on appends made in this process at once, on appends made
//! elsewhere through `LISTEN/NOTIFY`, and otherwise polls slowly; a wake can find nothing
//! readable yet while an older transaction is still open, so after an empty wake it looks
//! again on a short, growing delay. Every append announces its position (the notification
//! carries it to other processes), and while an announced position is beyond what the
//! tail has read, the delay stops growing at [`OWED_RETRY`]: however long an older
//! transaction hides an event, the tail picks it up soon after. It keeps the latest
//! events in memory, and a subscription that has caught up takes them from there:
//! however many projections, the relay and process managers follow the store, the head
//! of `$all` is read once. A subscription behind the tail's window (catching up, or
//! slow) reads the store itself.

use std::collections::VecDeque;
use std::sync::Weak;
use std::time::Duration;

use tokio::sync::watch;

use super::horizon::{head_position, read_all};
use super::state::{bump, Inner};
use super::window::Window;

/// How many events a subscription reads per query.
pub(super) const SUBSCRIPTION_BATCH: usize = 512;
/// A subscriber with nothing to do still looks this often, in case a wake was lost.
pub(super) const IDLE_POLL: Duration = Duration::from_millis(500);
/// The first retry after a wake that found nothing readable.
const FIRST_RETRY: Duration = Duration::from_millis(2);
/// The longest pause between looks while an announced event is not readable yet.
const OWED_RETRY: Duration = Duration::from_millis(32);

/// The tail: reads `$all` from its end as it grows, into the shared window.
pub(super) async fn follow(store: Weak<Inner>, mut wake: watch::Receiver<u64>) {
    // After a wake that found nothing: how long until looking again.
    let mut retry: Option<Duration> = None;
    loop {
        let Some(inner) = store.upgrade() else { return };
        let pool = inner.pool.clone();
        let after = {
            // Stop only if nobody subscribed meanwhile; `ensure_tail` takes the same lock.
            let mut tail = inner.lock_tail();
            if inner.grown.receiver_count() == 0 || pool.is_closed() {
                tail.running = false;
                tail.window = None;
                return;
            }
            tail.window.as_ref().map(Window::head)
        };
        drop(inner);
        let Some(after) = after else {
            // Starting: the window begins at the end of `$all`; subscriptions further back
            // read the store until they reach it.
            match head_position(&pool).await {
                Ok(head) => {
                    let Some(inner) = store.upgrade() else { return };
                    inner.lock_tail().window = Some(Window {
                        base: head,
                        events: VecDeque::new(),
                    });
                    bump(&inner.grown);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the tail of $all could not find its end; retrying");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
            continue;
        };
        // Woken since the last look: if the read below finds nothing, an older transaction
        // still holds the horizon, and the short retries must start now; the wake is
        // spent, and none may follow.
        let woke = wake.borrow_and_update().has_changed();
        let read = read_all(&pool, after, SUBSCRIPTION_BATCH).await;
        // Whether an append is known to have gone past what the tail has read.
        let mut owed = false;
        match read {
            Ok(batch) if !batch.is_empty() => {
                let Some(inner) = store.upgrade() else { return };
                if let Some(window) = inner.lock_tail().window.as_mut() {
                    window.extend(batch);
                }
                bump(&inner.grown);
                retry = None;
                continue;
            }
            Ok(_) => {
                let Some(inner) = store.upgrade() else { return };
                owed = inner.announced() > after;
                if (woke || owed) && retry.is_none() {
                    retry = Some(FIRST_RETRY);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the tail of $all could not read the store; retrying");
                retry = None;
            }
        }
        let wait = retry.unwrap_or(IDLE_POLL);
        #[cfg(test)]
        if owed && wait == IDLE_POLL {
            if let Some(inner) = store.upgrade() {
                inner
                    .idle_while_owed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let woken = tokio::select! {
            changed = wake.changed() => changed.is_ok(),
            _ = tokio::time::sleep(wait) => false,
        };
        retry = if woken {
            Some(FIRST_RETRY)
        } else if owed {
            retry.map(|d| (d * 2).min(OWED_RETRY))
        } else {
            retry
                .map(|d| (d * 2).min(IDLE_POLL))
                .filter(|d| *d < IDLE_POLL)
        };
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use sqlx::postgres::PgPool;
    use uuid::Uuid;

    use super::*;
    use crate::store::postgres::PgEventStore;
    use crate::store::{NewEvent, Position};

    fn new_event(bytes: usize) -> NewEvent {
        NewEvent {
            id: Uuid::new_v4(),
            event_type: "Noted".into(),
            schema_version: 1,
            data: serde_json::json!({ "text": "x".repeat(bytes) }),
            metadata: serde_json::json!({}),
        }
    }

    /// The tail can spend an append's wake on a read that was already under way, then find
    /// the event still hidden behind an older open transaction. It must keep looking on
    /// short retries until that transaction ends, not wait for the next wake or the idle
    /// poll: at the end of a burst there is no next wake. The older transaction is held
    /// past the idle poll, so growing retries would have given up by then; the test asserts
    /// the order of things, not a time: the event arrives, and the tail never settled into
    /// its idle poll while it knew of the unread append.
    #[sqlx::test(migrator = "crate::database::MIGRATOR")]
    async fn an_event_held_back_by_an_older_transaction_arrives_soon_after_it_shows(pool: PgPool) {
        use crate::store::{EventStore, ExpectedVersion};
        use std::sync::atomic::Ordering;
        let store = PgEventStore::new(pool.clone());
        let mut sub = store.subscribe_all(Position::START).await.unwrap();
        // Only a guard against a stall: a slow machine may take long, never this long.
        let mut next = async || {
            tokio::time::timeout(Duration::from_secs(60), sub.next())
                .await
                .expect("the subscription stalled")
                .expect("the subscription ended")
                .unwrap()
        };
        for round in 0..3 {
            // A batch large enough that the tail is still reading it when the next
            // append announces itself.
            let big: Vec<NewEvent> = (0..400).map(|_| new_event(8_000)).collect();
            store
                .append(&format!("big-{round}"), ExpectedVersion::Any, big)
                .await
                .unwrap();
            let mut older = pool.begin().await.unwrap();
            sqlx::query("select pg_current_xact_id()")
                .execute(&mut *older)
                .await
                .unwrap();
            let hidden = new_event(10);
            let hidden_id = hidden.id;
            store
                .append(&format!("late-{round}"), ExpectedVersion::Any, vec![hidden])
                .await
                .unwrap();
            for _ in 0..400 {
                let big = next().await;
                assert!(big.stream_id.starts_with("big-"));
            }
            // Longer than the idle poll: retries that grew without bound would have
            // stopped by now. A longer hold only makes the test stricter.
            tokio::time::sleep(IDLE_POLL + Duration::from_millis(100)).await;
            older.commit().await.unwrap();
            assert_eq!(next().await.id, hidden_id, "round {round}");
            assert_eq!(
                store.inner.idle_while_owed.load(Ordering::Relaxed),
                0,
                "round {round}: the tail waited for its idle poll with the event unread"
            );
        }
    }
}
