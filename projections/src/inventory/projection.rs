//! The `inventory` read model, from the `warehouse-<id>` and `inventory-<SKU>` streams:
//! `warehouses`, `stock` per SKU and warehouse, and `sales` per SKU, warehouse and day.
//!
//! Reservations name the warehouses that hold them, and their release or commit names the
//! same ones, so every event moves exactly the rows it names. The one exception is the
//! commit of a reservation from before warehouses were recorded: like the aggregate, it
//! takes from the SKU's fullest shelf (ties: the greatest code, as the aggregate's ordered
//! map does), so the rows stay equal to the write side's counts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::inventory::{Allocation, InventoryEvent, WarehouseEvent};
use sqlx::PgConnection;

use crate::runtime::projection::{decode, event_time, Projection, ProjectionError};

pub struct InventoryProjection;

/// Adds `on_hand` and `reserved` to the row of `sku` in `warehouse`.
async fn move_stock(
    tx: &mut PgConnection,
    sku: &str,
    warehouse: &str,
    on_hand: i64,
    reserved: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into stock as t (sku, warehouse, on_hand, reserved, updated_at)
         values ($1, $2, $3, $4, $5)
         on conflict (sku, warehouse) do update set
             on_hand = t.on_hand + excluded.on_hand,
             reserved = t.reserved + excluded.reserved,
             updated_at = excluded.updated_at",
    )
    .bind(sku)
    .bind(warehouse)
    .bind(on_hand)
    .bind(reserved)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn sold(
    tx: &mut PgConnection,
    sku: &str,
    warehouse: &str,
    quantity: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into sales as t (sku, warehouse, day, quantity) values ($1, $2, $3, $4)
         on conflict (sku, warehouse, day) do update set quantity = t.quantity + excluded.quantity",
    )
    .bind(sku)
    .bind(warehouse)
    .bind(at.date_naive())
    .bind(quantity)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The warehouse a reservation from before warehouses were recorded ships from: the one
/// with most on hand, ties to the greatest code (byte order, as the aggregate's map).
async fn fullest_shelf(tx: &mut PgConnection, sku: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        r#"select warehouse from stock where sku = $1
            order by on_hand desc, warehouse collate "C" desc limit 1"#,
    )
    .bind(sku)
    .fetch_optional(&mut *tx)
    .await
}

async fn apply_inventory(
    tx: &mut PgConnection,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    use InventoryEvent as E;
    let at = event_time(event);
    let each = |warehouses: &[Allocation]| -> Vec<(String, i64)> {
        warehouses
            .iter()
            .map(|a| (a.warehouse.clone(), i64::from(a.quantity)))
            .collect()
    };
    match decode::<InventoryEvent>(event)? {
        E::StockReceived {
            sku,
            warehouse,
            quantity,
        }
        | E::StockRestocked {
            sku,
            warehouse,
            quantity,
            ..
        }
        | E::StockTransferredIn {
            sku,
            warehouse,
            quantity,
            ..
        } => move_stock(tx, sku.as_str(), &warehouse, quantity.into(), 0, at).await?,
        E::StockAdjusted {
            sku,
            warehouse,
            delta,
            ..
        } => move_stock(tx, sku.as_str(), &warehouse, delta, 0, at).await?,
        E::StockTransferredOut {
            sku,
            warehouse,
            quantity,
            ..
        } => move_stock(tx, sku.as_str(), &warehouse, -i64::from(quantity), 0, at).await?,
        E::StockReserved {
            sku, warehouses, ..
        } => {
            for (w, q) in each(&warehouses) {
                move_stock(tx, sku.as_str(), &w, 0, q, at).await?;
            }
        }
        E::ReservationReleased {
            sku, warehouses, ..
        } => {
            for (w, q) in each(&warehouses) {
                move_stock(tx, sku.as_str(), &w, 0, -q, at).await?;
            }
        }
        E::ReservationCommitted {
            sku,
            quantity,
            warehouses,
            ..
        } => {
            let shipped = if warehouses.is_empty() {
                fullest_shelf(tx, sku.as_str())
                    .await?
                    .map(|w| (w, i64::from(quantity), 0))
                    .into_iter()
                    .collect::<Vec<_>>()
            } else {
                each(&warehouses)
                    .into_iter()
                    .map(|(w, q)| (w, q, q))
                    .collect()
            };
            for (w, q, held) in shipped {
                move_stock(tx, sku.as_str(), &w, -q, -held, at).await?;
                sold(tx, sku.as_str(), &w, q, at).await?;
            }
        }
        E::LowStockThresholdSet { .. } | E::LowStockDetected { .. } => {}
    }
    Ok(())
}

async fn apply_warehouse(
    tx: &mut PgConnection,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    let at = event_time(event);
    match decode::<WarehouseEvent>(event)? {
        WarehouseEvent::WarehouseCreated {
            warehouse_id,
            code,
            name,
            country,
            region,
            priority,
        } => {
            sqlx::query(
                "insert into warehouses (warehouse_id, code, name, country, region, priority,
                                         active, created_at)
                 values ($1, $2, $3, $4, $5, $6, true, $7)
                 on conflict (warehouse_id) do nothing",
            )
            .bind(warehouse_id.as_uuid())
            .bind(code)
            .bind(name)
            .bind(country)
            .bind(region)
            .bind(priority)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        WarehouseEvent::WarehouseDeactivated { warehouse_id, .. } => {
            sqlx::query(
                "update warehouses set active = false, deactivated_at = $2
                  where warehouse_id = $1",
            )
            .bind(warehouse_id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl Projection for InventoryProjection {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn schema(&self) -> &'static str {
        "inventory"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../../schemas/read-models/inventory.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(event.category(), "inventory" | "warehouse")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        match event.category() {
            "inventory" => apply_inventory(tx, event).await,
            "warehouse" => apply_warehouse(tx, event).await,
            _ => Ok(()),
        }
    }
}
