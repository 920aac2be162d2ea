//! One SKU's stock as staff change it: units received into a warehouse, a count corrected
//! with a reason, the threshold below which it counts as low. The inventory aggregate keeps
//! on hand at or above what is reserved (invariant 6); these use cases only name the
//! warehouse (the default one when none is given) and answer the stock after the change.

use domain::inventory::{
    Inventory, InventoryCommand, InventoryError, InventoryState, DEFAULT_WAREHOUSE,
};
use domain::value::Sku;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};

/// Units received into a warehouse.
#[derive(Debug, Clone)]
pub struct StockReceipt {
    pub sku: Sku,
    /// Above 0.
    pub quantity: u32,
    /// The default warehouse when absent.
    pub warehouse: Option<String>,
}

/// A correction of a warehouse's count.
#[derive(Debug, Clone)]
pub struct StockAdjustment {
    pub sku: Sku,
    /// Units to add (positive) or take away (negative); not 0.
    pub delta: i64,
    /// Why (a count, damage, loss).
    pub reason: String,
    /// The default warehouse when absent.
    pub warehouse: Option<String>,
}

/// A SKU's stock as the command left it.
#[derive(Debug, Clone)]
pub struct StockDecided {
    pub sku: Sku,
    pub state: InventoryState,
    /// Events appended.
    pub appended: u64,
    /// Where the command's events sit in `$all`; `None` when it appended nothing.
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// The inventory aggregate refuses it (a zero quantity, no reason, too little on hand).
    #[error(transparent)]
    Rejected(InventoryError),
    #[error(transparent)]
    Store(StoreError),
    /// The command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<InventoryError>> for StockError {
    fn from(e: CommandError<InventoryError>) -> Self {
        match e {
            CommandError::Rejected(e) => StockError::Rejected(e),
            CommandError::Store(e) => StockError::Store(e),
            other => StockError::Failed(other.to_string()),
        }
    }
}

/// Runs one inventory command on `sku`'s stream and reads the stock after it.
async fn decide(
    h: &Handlers,
    sku: Sku,
    command: InventoryCommand,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    let stream = CommandHandler::<Inventory>::stream_id(&sku);
    let handled = h.inventory.handle(&stream, command, meta.clone()).await?;
    let (state, _) = h.inventory.load(&stream).await?;
    Ok(StockDecided {
        sku,
        state,
        appended: handled.events.len() as u64,
        position: handled.position,
    })
}

/// Books received units into a warehouse.
#[tracing::instrument(skip_all, fields(sku = %receipt.sku))]
pub async fn receive_stock(
    h: &Handlers,
    receipt: StockReceipt,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    let command = InventoryCommand::ReceiveStock {
        sku: receipt.sku.clone(),
        warehouse: receipt
            .warehouse
            .unwrap_or_else(|| DEFAULT_WAREHOUSE.into()),
        quantity: receipt.quantity,
    };
    decide(h, receipt.sku, command, meta).await
}

/// Corrects a warehouse's count by `delta`, with a reason.
#[tracing::instrument(skip_all, fields(sku = %adjustment.sku))]
pub async fn adjust_stock(
    h: &Handlers,
    adjustment: StockAdjustment,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    let command = InventoryCommand::AdjustStock {
        sku: adjustment.sku.clone(),
        warehouse: adjustment
            .warehouse
            .unwrap_or_else(|| DEFAULT_WAREHOUSE.into()),
        delta: adjustment.delta,
        reason: adjustment.reason,
    };
    decide(h, adjustment.sku, command, meta).await
}

/// Sets the available count below which `sku` counts as low on stock.
#[tracing::instrument(skip_all, fields(%sku))]
pub async fn set_low_stock_threshold(
    h: &Handlers,
    sku: Sku,
    threshold: u32,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    decide(
        h,
        sku,
        InventoryCommand::SetLowStockThreshold { threshold },
        meta,
    )
    .await
}
