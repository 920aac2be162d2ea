//! A catch-up subscription to `$all` over the adapter's connection.

use std::sync::Arc;
use std::time::Duration;

use eventstore::{SubscribeToAllOptions, Subscription, SubscriptionFilter};

use super::connection::{Connection, Current};
use super::mapping::{all_from, decode, is_system, original, position_of};
use crate::store::{Position, RecordedEvent, StoreError};

/// Pause before subscribing again after a subscription failed.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

/// A catch-up subscription to `$all` that survives failures: after an error the next poll
/// subscribes again after the last event it delivered.
pub(super) struct Follow {
    conn: Arc<Connection>,
    /// The last event delivered, or where the subscription started.
    after: Position,
    /// The server subscription and the generation of the client that opened it.
    live: Option<(u64, Subscription)>,
    failed: bool,
}

impl Follow {
    /// Follows `$all` from just after `after`; it subscribes on its first poll.
    pub(super) fn new(conn: Arc<Connection>, after: Position) -> Self {
        Follow {
            conn,
            after,
            live: None,
            failed: false,
        }
    }

    pub(super) async fn next_event(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if self.live.is_none() {
                if std::mem::take(&mut self.failed) {
                    tokio::time::sleep(RESUBSCRIBE_DELAY).await;
                }
                let Current { generation, client } = self.conn.current();
                // The server filters its own events out; `is_system` below is the guarantee.
                let options = SubscribeToAllOptions::default()
                    .position(all_from(self.after))
                    .filter(SubscriptionFilter::on_event_type().exclude_system_events());
                self.live = Some((generation, client.subscribe_to_all(&options).await));
            }
            let Some((generation, subscription)) = self.live.as_mut() else {
                continue;
            };
            let generation = *generation;
            let next = subscription.next().await;
            let resolved = match next {
                Ok(resolved) => resolved,
                Err(e) => {
                    self.live = None;
                    self.failed = true;
                    return Err(self.conn.unavailable(generation, e));
                }
            };
            let decoded = original(&resolved).and_then(|e| {
                if position_of(e.position) <= self.after || is_system(e) {
                    Ok(None)
                } else {
                    decode(&resolved).map(Some)
                }
            });
            match decoded {
                Ok(Some(event)) => {
                    self.after = event.position;
                    return Ok(event);
                }
                Ok(None) => continue,
                Err(e) => {
                    // Start over before this event, so the next poll meets it again
                    // instead of silently passing it.
                    self.live = None;
                    self.failed = true;
                    return Err(e);
                }
            }
        }
    }
}
