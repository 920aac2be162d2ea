//! One SKU's stock as staff change it: units received into a warehouse, a count corrected
//! with a reason, the threshold below which it counts as low. The inventory aggregate keeps
//! on hand at or above what is reserved (invariant 6); these use cases name the warehouse
//! (the default one when none is given), check that it exists (`super::warehouses`), and
//! answer the stock after the change.

use domain::inventory::{
    Inventory, InventoryCommand, InventoryError, InventoryState, DEFAULT_WAREHOUSE,
};
use domain::value::Sku;

use crate::catalog::claims::SKU;
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};
use crate::unique;

use super::warehouses::{find_warehouse, WarehouseUseError};

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

/// Units moved from one warehouse to another.
#[derive(Debug, Clone)]
pub struct StockTransfer {
    pub sku: Sku,
    pub from: String,
    pub to: String,
    /// Above 0, at most what `from` has available.
    pub quantity: u32,
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
    /// No product or variant claims the SKU and no stock ever moved under it.
    #[error("no product, variant or stock has SKU {0}")]
    UnknownSku(Sku),
    /// The warehouse named is neither the default one nor one created.
    #[error("no warehouse has code {0:?}")]
    UnknownWarehouse(String),
    /// The warehouse was deactivated: it receives nothing more.
    #[error("warehouse {0:?} is deactivated and receives nothing")]
    InactiveWarehouse(String),
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

impl From<WarehouseUseError> for StockError {
    fn from(e: WarehouseUseError) -> Self {
        match e {
            WarehouseUseError::Store(e) => StockError::Store(e),
            other => StockError::Failed(other.to_string()),
        }
    }
}

/// The warehouse a movement names, the default one when it names none; refused unless it
/// exists (the default one always does) and, for stock coming in, is active.
async fn warehouse(
    h: &Handlers,
    named: Option<String>,
    incoming: bool,
) -> Result<String, StockError> {
    let Some(code) = named else {
        return Ok(DEFAULT_WAREHOUSE.into());
    };
    if code == DEFAULT_WAREHOUSE {
        return Ok(code);
    }
    match find_warehouse(h, &code).await? {
        None => Err(StockError::UnknownWarehouse(code)),
        Some(w) if incoming && !w.active => Err(StockError::InactiveWarehouse(code)),
        Some(_) => Ok(code),
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
        warehouse: warehouse(h, receipt.warehouse, true).await?,
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
        warehouse: warehouse(h, adjustment.warehouse, adjustment.delta > 0).await?,
        delta: adjustment.delta,
        reason: adjustment.reason,
    };
    decide(h, adjustment.sku, command, meta).await
}

/// Sets the available count below which `sku` counts as low on stock. The SKU must be
/// known, a product's or a variant's or one whose stock has moved: a threshold on a typo
/// would open a stream nobody sells from, and its alert would never mean anything.
#[tracing::instrument(skip_all, fields(%sku))]
pub async fn set_low_stock_threshold(
    h: &Handlers,
    sku: Sku,
    threshold: u32,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    let (state, _) = h
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(&sku))
        .await?;
    if state.sku.is_none()
        && unique::owner_of(h, SKU, sku.as_str())
            .await
            .map_err(StockError::Store)?
            .is_none()
    {
        return Err(StockError::UnknownSku(sku));
    }
    decide(
        h,
        sku,
        InventoryCommand::SetLowStockThreshold { threshold },
        meta,
    )
    .await
}

/// Moves units between two warehouses: one command, so its two events (out of `from`, into
/// `to`) are appended together or not at all. `from` must exist (a deactivated warehouse
/// can still be emptied); `to` must take stock in.
#[tracing::instrument(skip_all, fields(sku = %transfer.sku))]
pub async fn transfer_stock(
    h: &Handlers,
    transfer: StockTransfer,
    meta: &CommandMeta,
) -> Result<StockDecided, StockError> {
    let stream = CommandHandler::<Inventory>::stream_id(&transfer.sku);
    let (state, _) = h.inventory.load(&stream).await?;
    if state.sku.is_none() {
        return Err(StockError::UnknownSku(transfer.sku));
    }
    let command = InventoryCommand::TransferStock {
        sku: transfer.sku.clone(),
        from: warehouse(h, Some(transfer.from), false).await?,
        to: warehouse(h, Some(transfer.to), true).await?,
        quantity: transfer.quantity,
    };
    decide(h, transfer.sku, command, meta).await
}
