//! The catalog's routes: categories, products and their stock. Each handler extracts what
//! it needs, then calls one use case of `commands::catalog` or `commands::inventory` (a
//! command) or one read of the catalog read model (a query), and answers a typed view.
//!
//! - [`products`]: `/products`: create, change, archive; the listing, search, one product.
//! - [`categories`]: `/categories`: create; the tree, one category, its products.
//! - [`stock`]: `/inventory` (staff): receive, adjust; one SKU, every SKU.
//! - [`publishing`]: `/products/{id}/publish` and `/unpublish`.
//! - [`images`]: `/products/{id}/images`: add, remove.
//! - [`variants`]: `/products/{id}/variants`: add (with opening stock), change, remove.
//! - [`listing`]: the product listing's filters and the read model's product rows.
//! - [`views`]: `ProductView`, `CategoryView`, `StockView` and their parts, built from the
//!   write side's state and from the read model's rows.
//! - [`problems`]: how each use case's error answers (its problem `code`).
//! - [`params`] and [`cache`]: the strict query strings and the answer cache of the reads.
//!
//! Browsing needs no account; a token, when sent, must be valid, and staff (with it) also
//! see drafts and archived products (`status=`) and stock counts. A vendor sees their own
//! drafts by id. Commands answer what they just decided, with `X-Consistency-Token`; a
//! query that sends the token back waits until the catalog read model covers it.

pub(crate) mod cache;
mod categories;
mod images;
pub(crate) mod listing;
pub(crate) mod params;
mod problems;
mod products;
mod publishing;
mod stock;
mod variants;
pub mod views;

pub(crate) use categories::choices as category_choices;
pub(crate) use stock::stock_of;

use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

/// Every catalog route, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(products::router())
        .merge(categories::router())
        .merge(stock::router())
        .merge(publishing::router())
        .merge(images::router())
        .merge(variants::router())
}

/// The catalog's part of the OpenAPI document.
pub struct CatalogApi;

impl OpenApi for CatalogApi {
    fn openapi() -> utoipa::openapi::OpenApi {
        let mut doc = products::ProductsApi::openapi();
        doc.merge(categories::CategoriesApi::openapi());
        doc.merge(stock::StockApi::openapi());
        doc.merge(publishing::PublishingApi::openapi());
        doc.merge(images::ImagesApi::openapi());
        doc.merge(variants::VariantsApi::openapi());
        doc
    }
}
