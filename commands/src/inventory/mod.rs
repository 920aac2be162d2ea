//! Inventory's use cases for staff: receiving stock, correcting a count, and the
//! low-stock threshold of a SKU; the warehouses stock is kept in. Reservations belong to
//! the checkout saga (`crate::checkout`), which reserves and releases stock as orders move.
//!
//! - [`stock`]: [`receive_stock`], [`adjust_stock`], [`set_low_stock_threshold`],
//!   [`transfer_stock`].
//! - [`warehouses`]: [`create_warehouse`], [`deactivate_warehouse`], [`find_warehouse`],
//!   the warehouse codes' uniqueness.

pub mod stock;
pub mod warehouses;

pub use stock::{
    adjust_stock, receive_stock, set_low_stock_threshold, transfer_stock, StockAdjustment,
    StockDecided, StockError, StockReceipt, StockTransfer,
};
pub use warehouses::{
    create_warehouse, deactivate_warehouse, find_warehouse, NewWarehouse, WarehouseDecided,
    WarehouseUseError, WAREHOUSE_CODE,
};
