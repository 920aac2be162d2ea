//! Appends announced across processes: the notifier sends one `NOTIFY` per burst of this
//! process's appends, carrying the furthest position reached; the `LISTEN` task wakes the
//! tail on other processes' announcements. When either fails, subscribers fall back to
//! polling.

use std::sync::{Arc, Weak};

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::state::{bump, Inner};
use super::tail::IDLE_POLL;
use crate::store::Position;

/// The channel appends are announced on to other processes.
const NOTIFY_CHANNEL: &str = "um_store_events";

/// Sends one `NOTIFY` per burst of appends, outside their transactions: a `NOTIFY` inside
/// the append would take PostgreSQL's global notify lock at commit and serialize every
/// writer's commit behind it.
pub(super) async fn notifier(store: Weak<Inner>, request: Arc<Notify>) {
    loop {
        request.notified().await;
        let Some(inner) = store.upgrade() else { return };
        let pool = inner.pool.clone();
        let announced = inner.announced().to_string();
        drop(inner);
        if let Err(e) = sqlx::query("select pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(announced)
            .execute(&pool)
            .await
        {
            if matches!(e, sqlx::Error::PoolClosed) {
                return;
            }
            tracing::debug!(error = %e, "could not announce appended events");
        }
    }
}

pub(super) async fn listen(store: Weak<Inner>) {
    loop {
        let Some(inner) = store.upgrade() else { return };
        let wake = inner.wake.clone();
        let pool = inner.pool.clone();
        drop(inner);
        if wake.receiver_count() > 0 {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed; subscribers fall back to polling");
                    } else {
                        loop {
                            tokio::select! {
                                received = listener.try_recv() => match received {
                                    Ok(Some(notification)) => match (
                                        notification.payload().parse::<Position>(),
                                        store.upgrade(),
                                    ) {
                                        (Ok(at), Some(inner)) => inner.announce(at),
                                        // From a version that announced no position.
                                        _ => bump(&wake),
                                    },
                                    Ok(None) => bump(&wake),
                                    // Shutting down: the pool closed under it.
                                    Err(sqlx::Error::PoolClosed) => break,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "LISTEN connection failed; subscribers fall back to polling");
                                        break;
                                    }
                                },
                                _ = wake.closed() => break,
                            }
                        }
                    }
                }
                Err(sqlx::Error::PoolClosed) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not LISTEN; subscribers fall back to polling");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
        // Stop only if nobody subscribed again meanwhile; the check and the flag share the
        // lock `ensure_listener` takes.
        let Some(inner) = store.upgrade() else { return };
        let mut running = inner
            .listener_running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if inner.wake.receiver_count() == 0 || inner.pool.is_closed() {
            *running = false;
            return;
        }
    }
}
