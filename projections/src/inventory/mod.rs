//! The `inventory` read model: warehouses, each SKU's stock per warehouse, and units sold
//! per day ([`projection`]), which the inventory routes and the stock report read.

pub mod projection;

pub use projection::InventoryProjection;
