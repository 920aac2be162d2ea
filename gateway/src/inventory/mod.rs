//! Inventory's own routes, beside the stock counts the catalog serves (`crate::catalog`'s
//! `/inventory`, `/inventory/{sku}`, receive and adjust): each handler extracts what it
//! needs, calls one use case of `commands::inventory` or reads one read model, and answers
//! a typed view.
//!
//! - [`thresholds`]: `PUT /inventory/{sku}/threshold` and `GET /inventory/alerts`, the SKUs
//!   below their low-stock threshold and since when.
//! - [`warehouses`]: `/warehouses`: create, list, one, deactivate.
//! - [`transfer`]: `POST /inventory/{sku}/transfer`, between two warehouses.
//! - [`report`]: `GET /inventory/report`, stock per SKU and warehouse with days of cover,
//!   JSON or CSV.
//! - [`query`]: the strict paging of these lists (400 `invalid_query`, as every
//!   `/inventory` list answers).

mod query;
mod report;
mod thresholds;
mod transfer;
mod warehouses;

use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

/// Every inventory route of this module, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(thresholds::router())
        .merge(warehouses::router())
        .merge(transfer::router())
        .merge(report::router())
}

/// Inventory's part of the OpenAPI document.
pub struct InventoryApi;

impl OpenApi for InventoryApi {
    fn openapi() -> utoipa::openapi::OpenApi {
        let mut doc = thresholds::ThresholdsApi::openapi();
        doc.merge(warehouses::WarehousesApi::openapi());
        doc.merge(transfer::TransferApi::openapi());
        doc.merge(report::ReportApi::openapi());
        doc
    }
}
