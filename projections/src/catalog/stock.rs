//! Stock movements in the `catalog` read model: most of its events, summed per SKU over a
//! batch and written to `stock` in one statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::inventory::InventoryEvent;
use domain::value::Sku;
use sqlx::PgConnection;

use crate::runtime::projection::{column, decode, event_time, ProjectionError};

/// How inventory events move one SKU's counters: one event's, or the sum of a run of them.
pub(super) struct StockChange {
    on_hand: i64,
    reserved: i64,
    sold: i64,
    /// The last threshold set, if any was.
    threshold: Option<i32>,
    alerts: i32,
    /// When the last `LowStockDetected` was recorded, if any was.
    alerted_at: Option<DateTime<Utc>>,
    /// When the last event was recorded.
    at: DateTime<Utc>,
}

impl StockChange {
    pub(super) fn of(event: &RecordedEvent) -> Result<(Sku, StockChange), ProjectionError> {
        let e = decode::<InventoryEvent>(event)?;
        let mut c = StockChange {
            on_hand: 0,
            reserved: 0,
            sold: 0,
            threshold: None,
            alerts: 0,
            alerted_at: None,
            at: event_time(event),
        };
        use InventoryEvent as E;
        let sku = match e {
            E::StockReceived { sku, quantity, .. } => {
                c.on_hand = quantity.into();
                sku
            }
            E::StockAdjusted { sku, delta, .. } => {
                c.on_hand = delta;
                sku
            }
            E::StockReserved { sku, quantity, .. } => {
                c.reserved = quantity.into();
                sku
            }
            E::ReservationReleased { sku, quantity, .. } => {
                c.reserved = -i64::from(quantity);
                sku
            }
            E::ReservationCommitted { sku, quantity, .. } => {
                c.on_hand = -i64::from(quantity);
                c.reserved = -i64::from(quantity);
                c.sold = quantity.into();
                sku
            }
            E::StockRestocked { sku, quantity, .. } => {
                c.on_hand = quantity.into();
                c.sold = -i64::from(quantity);
                sku
            }
            E::LowStockThresholdSet { sku, threshold } => {
                c.threshold = Some(i32::try_from(threshold).unwrap_or(i32::MAX));
                sku
            }
            E::LowStockDetected { sku, .. } => {
                c.alerts = 1;
                c.alerted_at = Some(event_time(event));
                sku
            }
            // A transfer moves stock between warehouses: the SKU's sums do not change.
            E::StockTransferredOut { sku, .. } | E::StockTransferredIn { sku, .. } => sku,
        };
        Ok((sku, c))
    }

    /// `self` then `next`: sums add up, the last threshold and times win.
    fn then(&mut self, next: StockChange) {
        self.on_hand += next.on_hand;
        self.reserved += next.reserved;
        self.sold += next.sold;
        self.threshold = next.threshold.or(self.threshold);
        self.alerts += next.alerts;
        self.alerted_at = next.alerted_at.or(self.alerted_at);
        self.at = next.at;
    }
}

/// The upsert of stock counters from `$rows` (values or a select of eight columns: sku,
/// the three deltas, threshold, alerts, alert time, event time).
macro_rules! upsert_stock {
    ($rows:literal) => {
        concat!(
            "insert into stock as t (sku, on_hand, reserved, sold, low_stock_threshold,
                 low_stock_alerts, last_low_stock_at, updated_at) ",
            $rows,
            " on conflict (sku) do update set
                 on_hand = t.on_hand + excluded.on_hand,
                 reserved = t.reserved + excluded.reserved,
                 sold = t.sold + excluded.sold,
                 low_stock_threshold = coalesce(excluded.low_stock_threshold,
                                                t.low_stock_threshold),
                 low_stock_alerts = t.low_stock_alerts + excluded.low_stock_alerts,
                 last_low_stock_at = coalesce(excluded.last_low_stock_at, t.last_low_stock_at),
                 updated_at = excluded.updated_at"
        )
    };
}

/// Stock movements not yet written, summed per SKU in the order SKUs first appeared.
/// They touch only the counters of `stock`, which no other catalog event writes (a product
/// or variant claiming a SKU sets only its owner), so they commute with everything else in
/// the batch and are written last, together.
#[derive(Default)]
pub(super) struct PendingStock {
    skus: Vec<String>,
    changes: Vec<StockChange>,
    index: HashMap<String, usize>,
}

impl PendingStock {
    pub(super) fn add(&mut self, sku: Sku, change: StockChange) {
        match self.index.get(sku.as_str()) {
            Some(&i) => self.changes[i].then(change),
            None => {
                self.index.insert(sku.as_str().to_owned(), self.skus.len());
                self.skus.push(sku.as_str().to_owned());
                self.changes.push(change);
            }
        }
    }

    /// Writes every pending SKU in one statement.
    pub(super) async fn flush(&mut self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.skus.is_empty() {
            return Ok(());
        }
        let c = &self.changes;
        if let ([sku], [c]) = (&self.skus[..], &c[..]) {
            // One SKU (the runner applying event by event): plain values bind and plan
            // cheaper than arrays.
            sqlx::query(upsert_stock!("values ($1, $2, $3, $4, $5, $6, $7, $8)"))
                .bind(sku)
                .bind(c.on_hand)
                .bind(c.reserved)
                .bind(c.sold)
                .bind(c.threshold)
                .bind(c.alerts)
                .bind(c.alerted_at)
                .bind(c.at)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(upsert_stock!(
                "select * from unnest($1::text[], $2::int8[], $3::int8[], $4::int8[],
                     $5::int4[], $6::int4[], $7::timestamptz[], $8::timestamptz[])"
            ))
            .bind(&self.skus)
            .bind(column(c, |c| c.on_hand))
            .bind(column(c, |c| c.reserved))
            .bind(column(c, |c| c.sold))
            .bind(column(c, |c| c.threshold))
            .bind(column(c, |c| c.alerts))
            .bind(column(c, |c| c.alerted_at))
            .bind(column(c, |c| c.at))
            .execute(&mut *tx)
            .await?;
        }
        *self = PendingStock::default();
        Ok(())
    }
}
