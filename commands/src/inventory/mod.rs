//! Inventory's use cases for staff: receiving stock, correcting a count, and the
//! low-stock threshold of a SKU. Reservations belong to the checkout saga
//! (`crate::checkout`), which reserves and releases stock as orders move.
//!
//! - [`stock`]: [`receive_stock`], [`adjust_stock`], [`set_low_stock_threshold`].

pub mod stock;

pub use stock::{
    adjust_stock, receive_stock, set_low_stock_threshold, StockAdjustment, StockDecided,
    StockError, StockReceipt,
};
