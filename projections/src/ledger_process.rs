//! The vendor-ledger process manager (issue 23 item 4): follows `$all` and records in the
//! stores' ledgers what happens to the money of their lines, through `commands::ledger`.
//!
//! ```text
//! OrderPaid                         → record_sales: each store's lines, with its rule
//! OrderCancelled (was paid)         → record_refund "cancelled": every line in full
//! OrderRefunded (full)              → record_refund "refund:<event id>": what is left of every line
//! ReturnRefunded                    → record_return_refund "return:<return id>": the returned lines
//! ```
//!
//! A partial `OrderRefunded` names no line: the one a return makes is recorded from its
//! `ReturnRefunded` (which names them), and a goodwill refund of part of an order is the
//! marketplace's own, not the stores'. A per-line cancellation, once the order records one,
//! is recorded here too, as a refund of that line (see `on_order`).
//!
//! It runs under a lease (one copy at a time) and keeps its checkpoint in
//! `process.checkpoints`. The ledger records a sale once per order and a refund once per
//! key, and every command's id comes from the event that caused it, so an event handled
//! again after a restart appends nothing twice. Events are handled one at a time, in
//! `$all` order: an order's refund never overtakes its sale.

use std::sync::Arc;
use std::time::Duration;

use commands::handler::CommandMeta;
use commands::handlers::Handlers;
use commands::ledger::{self, LedgerUseError, Refunded};
use commands::store::{Position, RecordedEvent, StoreError};
use domain::order::OrderEvent;
use domain::returns::ReturnsEvent;
use domain::DomainEvent;
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

/// The manager's task, lease and checkpoint name.
pub const NAME: &str = "vendor ledger";
/// How often progress is saved while events flow.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum LedgerProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The manager: the command side's handlers it answers through, and where it keeps its
/// progress.
#[derive(Clone)]
pub struct LedgerProcess {
    handlers: Arc<Handlers>,
    pool: PgPool,
    /// Distinguishes checkpoints when several managers share a database (tests).
    pub name: String,
}

impl LedgerProcess {
    pub fn new(handlers: Arc<Handlers>, pool: PgPool) -> Self {
        LedgerProcess {
            handlers,
            pool,
            name: NAME.into(),
        }
    }

    async fn checkpoint(&self) -> Result<Position, LedgerProcessError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "select commit_position, prepare_position from process.checkpoints where name = $1",
        )
        .bind(&self.name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or(Position::START, |(c, p)| Position::new(c as u64, p as u64)))
    }

    async fn save_checkpoint(&self, p: Position) -> Result<(), LedgerProcessError> {
        sqlx::query(
            "insert into process.checkpoints (name, commit_position, prepare_position)
             values ($1, $2, $3)
             on conflict (name) do update set commit_position = excluded.commit_position,
                 prepare_position = excluded.prepare_position, updated_at = now()",
        )
        .bind(&self.name)
        .bind(p.commit as i64)
        .bind(p.prepare as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    fn meta(event: &RecordedEvent) -> CommandMeta {
        let correlation = event
            .metadata
            .get("correlation_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or(event.id);
        CommandMeta::caused_by(event.id, correlation, "vendor-ledger", event.recorded_at)
    }

    /// Reacts to one event of `$all`; other events are ignored.
    pub async fn handle(&self, event: &RecordedEvent) -> Result<(), LedgerUseError> {
        let Some(order_id) = event.stream_uuid() else {
            return Ok(());
        };
        match event.category() {
            "order" => {
                let Ok(e) = OrderEvent::from_data(
                    &event.event_type,
                    event.schema_version,
                    event.data.clone(),
                ) else {
                    return Ok(());
                };
                self.on_order(event, order_id, e).await
            }
            "returns" => {
                if let Ok(ReturnsEvent::ReturnRefunded { return_id, .. }) = ReturnsEvent::from_data(
                    &event.event_type,
                    event.schema_version,
                    event.data.clone(),
                ) {
                    ledger::record_return_refund(
                        &self.handlers,
                        order_id,
                        return_id,
                        &Self::meta(event),
                    )
                    .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_order(
        &self,
        event: &RecordedEvent,
        order_id: Uuid,
        e: OrderEvent,
    ) -> Result<(), LedgerUseError> {
        let meta = Self::meta(event);
        let h = &self.handlers;
        match e {
            // The rule each store had when the order was paid: its stream up to this
            // event's record time, which a replay reads the same.
            OrderEvent::OrderPaid { .. } => {
                ledger::record_sales(h, order_id, event.recorded_at, &meta).await?;
            }
            OrderEvent::OrderCancelled { was_paid: true, .. } => {
                ledger::record_refund(h, order_id, "cancelled", &Refunded::Everything, &meta)
                    .await?;
            }
            OrderEvent::OrderRefunded { full: true, .. } => {
                let key = format!("refund:{}", event.id);
                ledger::record_refund(h, order_id, &key, &Refunded::Everything, &meta).await?;
            }
            // Units cancelled before they shipped: what each line gave back leaves its store's
            // sale, commission and fee in proportion.
            OrderEvent::OrderLinesCancelled { lines, .. } => {
                let key = format!("line-cancel:{}", event.id);
                let given_back = lines
                    .into_iter()
                    .map(|l| (l.sku, l.refund.amount))
                    .collect();
                ledger::record_refund(h, order_id, &key, &Refunded::Lines(given_back), &meta)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Handles one event until it is done, retrying failures of storage; a refusal by
    /// the rules (an order that cannot be read, a line the ledger refuses) is logged and
    /// skipped, since trying again would only be refused again. `false`: stopped first.
    async fn handle_until_done(&self, event: &RecordedEvent, stop: &watch::Receiver<bool>) -> bool {
        let mut delay = Duration::from_millis(50);
        loop {
            match self.handle(event).await {
                Ok(()) => return true,
                Err(
                    e @ (LedgerUseError::Store(_)
                    | LedgerUseError::Failed(_)
                    | LedgerUseError::Provider(_)),
                ) => {
                    tracing::warn!(error = %e, event = %event.id, event_type = %event.event_type, "vendor ledger step failed; retrying");
                }
                Err(e) => {
                    tracing::error!(error = %e, event = %event.id, event_type = %event.event_type, "vendor ledger cannot record this event; skipped");
                    return true;
                }
            }
            let mut stop = stop.clone();
            tokio::select! {
                () = commands::lease::stopped(&mut stop) => return false,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Follows `$all` from the checkpoint until `stop` turns true, saving its progress as
    /// it goes and once more when it stops.
    pub async fn follow(self, mut stop: watch::Receiver<bool>) -> Result<(), LedgerProcessError> {
        let start = self.checkpoint().await?;
        let mut events = self.handlers.store.subscribe_all(start).await?;
        let mut done = start;
        let mut saved = start;
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        loop {
            tokio::select! {
                () = commands::lease::stopped(&mut stop) => break,
                next = events.next() => match next {
                    Some(Ok(event)) => {
                        if !self.handle_until_done(&event, &stop).await {
                            break;
                        }
                        done = event.position;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "vendor ledger lost its subscription; resubscribing");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        events = self.handlers.store.subscribe_all(done).await?;
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    if done != saved {
                        match self.save_checkpoint(done).await {
                            Ok(()) => saved = done,
                            Err(e) => tracing::warn!(error = %e, "vendor ledger could not save its checkpoint"),
                        }
                    }
                }
            }
        }
        if done != saved {
            self.save_checkpoint(done).await?;
        }
        Ok(())
    }
}

/// The manager over `handlers`, until `stop`.
pub async fn run(
    handlers: Arc<Handlers>,
    pool: PgPool,
    stop: watch::Receiver<bool>,
) -> Result<(), LedgerProcessError> {
    LedgerProcess::new(handlers, pool).follow(stop).await
}
