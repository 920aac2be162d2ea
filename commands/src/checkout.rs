//! The checkout saga: the process manager that turns a placed order into reserved stock,
//! a paid order into committed stock, and a cancelled or expired one back into stock.
//!
//! ```text
//! OrderPlaced        → reserve every line (all or nothing) → MarkStockReserved
//!                      any line short → release what was reserved → Cancel(out_of_stock)
//! OrderStockReserved → a reservation deadline (RESERVATION_TTL)
//! PaymentCaptured    → MarkPaid            PaymentFailed → RecordPaymentFailed
//! deadline passed    → Cancel(expired)
//! OrderCancelled     → release every line, and the coupon's redemption
//! OrderLinesCancelled → release the cancelled units
//! OrderShipped       → commit every line
//! OrderRefunded      → (in full) release what is still reserved, restock what was sold
//!                      and has not come back already (a return's restock)
//! ```
//!
//! It follows `$all` like a projection and answers with commands. Its state is the event
//! streams themselves plus a checkpoint and a table of deadlines, so a restart anywhere
//! resumes where it stopped; every command it sends has an id derived from the event that
//! caused it, so acting twice on one event appends nothing twice (invariant 3).
//!
//! Events of one order are handled in order, by one of several lanes chosen by order id;
//! different orders proceed in parallel. The checkpoint only moves past an event once it
//! and everything before it are done.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::inventory::{Inventory, InventoryCommand, InventoryError};
use domain::order::{CancellationReason, ChangedBy, Order, OrderCommand, OrderError, OrderEvent};
use domain::payment::PaymentEvent;
use domain::DomainEvent;
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Direction, EventStore, Position, ReadFrom, RecordedEvent, StoreError};

/// Parallel lanes; events of one order always take the same lane.
const LANES: usize = 16;
/// How often progress is saved.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// How often expired reservations are looked for.
const EXPIRY_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Command(String),
}

impl<E: std::error::Error> From<CommandError<E>> for SagaError {
    fn from(e: CommandError<E>) -> Self {
        match e {
            CommandError::Store(s) => SagaError::Store(s),
            other => SagaError::Command(other.to_string()),
        }
    }
}

/// The saga's parts: the handlers it commands through and where it keeps its progress.
#[derive(Clone)]
pub struct Checkout {
    pub store: Arc<dyn EventStore>,
    pub pool: PgPool,
    pub orders: CommandHandler<Order>,
    pub inventory: CommandHandler<Inventory>,
    pub reservation_ttl: Duration,
    /// Distinguishes checkpoints when several sagas share a database (tests).
    pub name: String,
    /// The command side's handlers, through which a cancelled order's coupon redemption
    /// is given back ([`Checkout::releasing_coupons`]); `None`: coupons are left alone.
    pub coupons: Option<Arc<Handlers>>,
}

impl Checkout {
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        orders: CommandHandler<Order>,
        inventory: CommandHandler<Inventory>,
        reservation_ttl: Duration,
    ) -> Self {
        Checkout {
            store,
            pool,
            orders,
            inventory,
            reservation_ttl,
            name: "checkout".into(),
            coupons: None,
        }
    }

    /// The saga, giving a cancelled order's coupon redemption back through `handlers`
    /// (the process's own, so the coupon's stream has one handler per process).
    pub fn releasing_coupons(mut self, handlers: Arc<Handlers>) -> Self {
        self.coupons = Some(handlers);
        self
    }

    async fn checkpoint(&self) -> Result<Position, SagaError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "select commit_position, prepare_position from process.checkpoints where name = $1",
        )
        .bind(&self.name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or(Position::START, |(c, p)| Position::new(c as u64, p as u64)))
    }

    async fn save_checkpoint(&self, p: Position) -> Result<(), SagaError> {
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

    /// Runs until `shutdown` turns true: follows `$all` from the checkpoint and expires
    /// reservations ([`Checkout::follow`] and [`Checkout::expire`] together).
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), SagaError> {
        tokio::try_join!(self.clone().follow(shutdown.clone()), self.expire(shutdown))?;
        Ok(())
    }

    /// The saga alone: follows `$all` from the checkpoint until `shutdown` turns true.
    ///
    /// On shutdown it stops taking events, lets each lane finish the step it is in (a step
    /// is never cut in half by this process, though a crash may cut it; the step's command
    /// ids make a redo harmless), and saves how far it got. Returning only then matters to
    /// a lease: the next holder starts after this one's last step, not beside it.
    pub async fn follow(self, mut shutdown: watch::Receiver<bool>) -> Result<(), SagaError> {
        let start = self.checkpoint().await?;
        let mut events = self.store.subscribe_all(start).await?;
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
        let mut lane_tasks = tokio::task::JoinSet::new();
        let lanes: Vec<mpsc::UnboundedSender<(u64, RecordedEvent)>> = (0..LANES)
            .map(|_| {
                let (tx, mut rx) = mpsc::unbounded_channel::<(u64, RecordedEvent)>();
                let saga = self.clone();
                let done = done_tx.clone();
                let stopped = shutdown.clone();
                lane_tasks.spawn(async move {
                    while let Some((seq, event)) = rx.recv().await {
                        if *stopped.borrow() || !saga.handle_until_done(&event, &stopped).await {
                            return;
                        }
                        if done.send(seq).is_err() {
                            return;
                        }
                    }
                });
                tx
            })
            .collect();
        drop(done_tx);

        // seq → position of every dispatched event not yet known complete, in order.
        let mut progress = Progress::default();
        let mut next_seq = 0u64;
        let mut last_dispatched = start;
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        loop {
            tokio::select! {
                () = crate::lease::stopped(&mut shutdown) => break,
                next = events.next() => match next {
                    Some(Ok(event)) => {
                        let lane = lane_of(&event);
                        last_dispatched = event.position;
                        progress.in_flight.push_back((next_seq, event.position));
                        if lanes[lane].send((next_seq, event)).is_err() {
                            break;
                        }
                        next_seq += 1;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "checkout saga lost its subscription; resubscribing");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        // Everything dispatched will still complete; resume after the last
                        // dispatched event so nothing is dispatched twice.
                        events = self.store.subscribe_all(last_dispatched).await?;
                    }
                    None => break,
                },
                Some(seq) = done_rx.recv() => {
                    progress.completed.insert(seq);
                }
                _ = tick.tick() => self.save_progress(&mut progress).await,
            }
        }
        drop(lanes);
        while lane_tasks.join_next().await.is_some() {}
        while let Ok(seq) = done_rx.try_recv() {
            progress.completed.insert(seq);
        }
        self.save_progress(&mut progress).await;
        Ok(())
    }

    /// Moves the checkpoint past every event completed along with all before it.
    async fn save_progress(&self, progress: &mut Progress) {
        let mut reached = None;
        while let Some(&(seq, pos)) = progress.in_flight.front() {
            if !progress.completed.remove(&seq) {
                break;
            }
            progress.in_flight.pop_front();
            reached = Some(pos);
        }
        if let Some(pos) = reached {
            if let Err(e) = self.save_checkpoint(pos).await {
                tracing::warn!(error = %e, "checkout saga could not save its checkpoint");
            }
        }
    }

    /// Handles one event, retrying failures of storage until they pass (skipping an event
    /// would strand a reservation or an order) or until `stopped`: `false` when it gave up,
    /// and the event then stays behind the checkpoint for the next run.
    async fn handle_until_done(
        &self,
        event: &RecordedEvent,
        stopped: &watch::Receiver<bool>,
    ) -> bool {
        let mut delay = Duration::from_millis(50);
        loop {
            match self.handle(event).await {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(error = %e, event = %event.id, event_type = %event.event_type, "checkout saga step failed; retrying");
                    let mut stopped = stopped.clone();
                    tokio::select! {
                        () = crate::lease::stopped(&mut stopped) => return false,
                        () = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Reacts to one event of `$all`; other events are ignored.
    pub async fn handle(&self, event: &RecordedEvent) -> Result<(), SagaError> {
        match event.category() {
            "order" => {
                let Ok(order_event) = OrderEvent::from_data(
                    &event.event_type,
                    event.schema_version,
                    event.data.clone(),
                ) else {
                    return Ok(());
                };
                self.on_order_event(event, order_event).await
            }
            "payment" => {
                let Ok(payment_event) = PaymentEvent::from_data(
                    &event.event_type,
                    event.schema_version,
                    event.data.clone(),
                ) else {
                    return Ok(());
                };
                self.on_payment_event(event, payment_event).await
            }
            _ => Ok(()),
        }
    }

    fn meta(event: &RecordedEvent, purpose: &str) -> CommandMeta {
        let correlation = event
            .metadata
            .get("correlation_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or(event.id);
        CommandMeta::caused_by(event.id, correlation, purpose, event.recorded_at)
    }

    async fn on_order_event(&self, event: &RecordedEvent, e: OrderEvent) -> Result<(), SagaError> {
        let order_stream = event.stream_id.as_str();
        match e {
            OrderEvent::OrderPlaced {
                order_id, lines, ..
            } => {
                let mut short = None;
                for line in &lines {
                    let cmd = InventoryCommand::ReserveStock {
                        sku: line.sku.clone(),
                        order_id,
                        quantity: line.quantity,
                    };
                    let stream = CommandHandler::<Inventory>::stream_id(&line.sku);
                    let meta = Self::meta(event, &format!("reserve:{}", line.sku));
                    match self.inventory.handle(&stream, cmd, meta).await {
                        Ok(_) => {}
                        Err(CommandError::Rejected(
                            err @ (InventoryError::InsufficientStock { .. }
                            | InventoryError::ZeroQuantity),
                        )) => {
                            short = Some((line.sku.clone(), err));
                            break;
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
                if let Some((sku, err)) = short {
                    self.release_lines(event, order_id, &lines).await?;
                    let cmd = OrderCommand::Cancel {
                        reason: CancellationReason::OutOfStock,
                        note: Some(format!("{sku}: {err}")),
                        by: ChangedBy::system(),
                        at: event.recorded_at,
                    };
                    return self
                        .order_command(order_stream, cmd, Self::meta(event, "cancel:out_of_stock"))
                        .await;
                }
                let cmd = OrderCommand::MarkStockReserved {
                    at: event.recorded_at,
                };
                match self
                    .orders
                    .handle(order_stream, cmd, Self::meta(event, "stock_reserved"))
                    .await
                {
                    Ok(_) => Ok(()),
                    // Cancelled while its stock was being reserved: give the stock back.
                    Err(CommandError::Rejected(OrderError::InvalidTransition { .. })) => {
                        self.release_lines(event, order_id, &lines).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            OrderEvent::OrderStockReserved { at } => {
                let order_id = order_id_of(order_stream)?;
                let expires_at =
                    at + chrono::Duration::from_std(self.reservation_ttl).unwrap_or_default();
                sqlx::query(
                    "insert into process.reservation_deadlines (order_id, expires_at, correlation_id)
                     values ($1, $2, $3) on conflict (order_id) do nothing",
                )
                .bind(order_id)
                .bind(expires_at)
                .bind(correlation_of(event))
                .execute(&self.pool)
                .await?;
                Ok(())
            }
            OrderEvent::OrderPaid { .. } => self.clear_deadline(order_stream).await,
            OrderEvent::OrderCancelled { .. } => {
                self.clear_deadline(order_stream).await?;
                let (state, _) = self.orders.load(order_stream).await?;
                if let Some(order) = state.placed {
                    self.release_lines(event, order.order_id, &order.lines)
                        .await?;
                    self.release_coupon(event, order.order_id).await?;
                }
                Ok(())
            }
            OrderEvent::OrderShipped { .. } => {
                let (state, _) = self.orders.load(order_stream).await?;
                let Some(order) = state.placed else {
                    return Ok(());
                };
                for line in &order.lines {
                    let stream = CommandHandler::<Inventory>::stream_id(&line.sku);
                    let cmd = InventoryCommand::CommitReservation {
                        order_id: order.order_id,
                    };
                    let meta = Self::meta(event, &format!("commit:{}", line.sku));
                    match self.inventory.handle(&stream, cmd, meta).await {
                        Ok(_) | Err(CommandError::Rejected(InventoryError::NoReservation(_))) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            OrderEvent::OrderLinesCancelled { lines, .. } => {
                let order_id = domain::id::OrderId::from(order_id_of(order_stream)?);
                for line in &lines {
                    let stream = CommandHandler::<Inventory>::stream_id(&line.sku);
                    let cmd = InventoryCommand::ReleaseUnits {
                        order_id,
                        quantity: line.quantity,
                    };
                    let meta = Self::meta(event, &format!("release:{}", line.sku));
                    self.inventory.handle(&stream, cmd, meta).await?;
                }
                Ok(())
            }
            OrderEvent::OrderRefunded { full: true, .. } => {
                let (state, _) = self.orders.load(order_stream).await?;
                let Some(order) = state.placed else {
                    return Ok(());
                };
                // Whatever has not shipped is still reserved; only goods that left the
                // shelf come back to it, less what a return restocked already.
                self.release_lines(event, order.order_id, &order.lines)
                    .await?;
                for line in &order.lines {
                    let stream = CommandHandler::<Inventory>::stream_id(&line.sku);
                    let (stock, _) = self.inventory.load(&stream).await?;
                    let sold = stock.sold.get(&order.order_id).copied().unwrap_or(0);
                    if sold == 0 {
                        continue;
                    }
                    let cmd = InventoryCommand::Restock {
                        order_id: order.order_id,
                        quantity: sold,
                        warehouse: domain::inventory::DEFAULT_WAREHOUSE.into(),
                    };
                    let meta = Self::meta(event, &format!("restock:{}", line.sku));
                    match self.inventory.handle(&stream, cmd, meta).await {
                        // A return's restock landed between the load and the command:
                        // the next delivery of this event restocks what is left.
                        Err(CommandError::Rejected(InventoryError::RestockExceedsSold {
                            ..
                        })) => {
                            return Err(SagaError::Command(format!(
                                "{stream}: sold stock changed while restocking"
                            )))
                        }
                        Ok(_) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_payment_event(
        &self,
        event: &RecordedEvent,
        e: PaymentEvent,
    ) -> Result<(), SagaError> {
        match e {
            PaymentEvent::PaymentCaptured {
                order_id,
                amount,
                reference,
                at,
            } => {
                let cmd = OrderCommand::MarkPaid {
                    amount,
                    payment_reference: reference,
                    at,
                };
                let stream = CommandHandler::<Order>::stream_id(order_id);
                self.order_command(&stream, cmd, Self::meta(event, "paid"))
                    .await
            }
            PaymentEvent::PaymentFailed {
                order_id,
                code,
                message,
                at,
                ..
            } => {
                let cmd = OrderCommand::RecordPaymentFailed { code, message, at };
                let stream = CommandHandler::<Order>::stream_id(order_id);
                self.order_command(&stream, cmd, Self::meta(event, "payment_failed"))
                    .await
            }
            _ => Ok(()),
        }
    }

    /// Sends an order command; a refusal by the order's rules is the order having moved on
    /// (paid, cancelled) and is logged, not retried.
    async fn order_command(
        &self,
        stream: &str,
        cmd: OrderCommand,
        meta: CommandMeta,
    ) -> Result<(), SagaError> {
        match self.orders.handle(stream, cmd, meta).await {
            Ok(_) => Ok(()),
            Err(CommandError::Rejected(e)) => {
                tracing::info!(stream, reason = %e, "checkout saga: the order refused the step");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn release_lines(
        &self,
        event: &RecordedEvent,
        order_id: domain::id::OrderId,
        lines: &[domain::order::PlacedLine],
    ) -> Result<(), SagaError> {
        for line in lines {
            let stream = CommandHandler::<Inventory>::stream_id(&line.sku);
            let cmd = InventoryCommand::ReleaseReservation { order_id };
            let meta = Self::meta(event, &format!("release:{}", line.sku));
            self.inventory.handle(&stream, cmd, meta).await?;
        }
        Ok(())
    }

    /// Gives back the use of the coupon the cancelled order was placed with, whoever
    /// cancelled it (the customer, staff, expiry, missing stock, payment). The code is
    /// in the order's `OrderPlaced`; the command id derives from the cancellation, so a
    /// repeat appends nothing, and an order the coupon was never redeemed for changes
    /// nothing.
    async fn release_coupon(
        &self,
        event: &RecordedEvent,
        order_id: domain::id::OrderId,
    ) -> Result<(), SagaError> {
        let Some(handlers) = &self.coupons else {
            return Ok(());
        };
        let first = self
            .store
            .read_stream(
                &event.stream_id,
                ReadFrom::Revision(0),
                Direction::Forwards,
                1,
            )
            .await?;
        let code = first.first().and_then(|e| {
            match OrderEvent::from_data(&e.event_type, e.schema_version, e.data.clone()) {
                Ok(OrderEvent::OrderPlaced { coupon_code, .. }) => coupon_code,
                _ => None,
            }
        });
        let Some(code) = code else {
            return Ok(());
        };
        let coupon = crate::coupons::coupon_by_code(handlers, &code)
            .await
            .map_err(|e| SagaError::Command(e.to_string()))?;
        let Some((coupon_id, _)) = coupon else {
            return Ok(());
        };
        let stream = CommandHandler::<domain::coupon::Coupon>::stream_id(coupon_id);
        let cmd = domain::coupon::CouponCommand::ReleaseRedemption { order_id };
        handlers
            .coupons
            .handle(&stream, cmd, Self::meta(event, "release-coupon"))
            .await?;
        Ok(())
    }

    async fn clear_deadline(&self, order_stream: &str) -> Result<(), SagaError> {
        sqlx::query("delete from process.reservation_deadlines where order_id = $1")
            .bind(order_id_of(order_stream)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Cancels, as `expired`, every order whose reservation deadline has passed.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> Result<usize, SagaError> {
        let due: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
            "select order_id, correlation_id from process.reservation_deadlines
              where expires_at <= $1 order by expires_at limit 500",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        for (order_id, correlation) in &due {
            let stream = CommandHandler::<Order>::stream_id(order_id);
            let command_id = Uuid::new_v5(order_id, b"expire");
            let meta = CommandMeta::new(
                command_id,
                correlation.unwrap_or(command_id),
                crate::handler::Actor::system(),
                now,
            );
            let cmd = OrderCommand::Cancel {
                reason: CancellationReason::Expired,
                note: Some("payment did not arrive in time".into()),
                by: ChangedBy::system(),
                at: now,
            };
            self.order_command(&stream, cmd, meta).await?;
            sqlx::query("delete from process.reservation_deadlines where order_id = $1")
                .bind(order_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(due.len())
    }

    /// The reservation expiry alone: every [`EXPIRY_EVERY`], cancels what is due, until
    /// `shutdown` turns true (a pass under way finishes first).
    pub async fn expire(self, mut shutdown: watch::Receiver<bool>) -> Result<(), SagaError> {
        let mut tick = tokio::time::interval(EXPIRY_EVERY);
        loop {
            tokio::select! {
                () = crate::lease::stopped(&mut shutdown) => return Ok(()),
                _ = tick.tick() => {
                    if let Err(e) = self.expire_due(Utc::now()).await {
                        tracing::warn!(error = %e, "reservation expiry failed; retrying");
                    }
                }
            }
        }
    }
}

/// Which dispatched events are done, so the checkpoint moves only past a complete prefix.
#[derive(Default)]
struct Progress {
    /// seq and position of every dispatched event not yet passed, in order.
    in_flight: std::collections::VecDeque<(u64, Position)>,
    /// Events done out of order, waiting for those before them.
    completed: BTreeSet<u64>,
}

fn order_id_of(order_stream: &str) -> Result<Uuid, SagaError> {
    order_stream
        .strip_prefix("order-")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| SagaError::Command(format!("{order_stream} is not an order stream")))
}

fn correlation_of(event: &RecordedEvent) -> Option<Uuid> {
    event
        .metadata
        .get("correlation_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// The lane of an event: by order, so one order's events are handled in order.
fn lane_of(event: &RecordedEvent) -> usize {
    let key = match event.category() {
        "order" => event.stream_id.clone(),
        "payment" => event
            .data
            .get("order_id")
            .and_then(|v| v.as_str())
            .map_or_else(|| event.stream_id.clone(), |id| format!("order-{id}")),
        _ => event.stream_id.clone(),
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % LANES as u64) as usize
}
