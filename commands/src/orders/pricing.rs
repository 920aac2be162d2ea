//! The catalog as an order or a cart line prices it: the product on sale now, from the
//! catalog's write side (a read model could be behind a price change).

use domain::catalog::{Product, ProductRecord, ProductStatus};
use uuid::Uuid;

use crate::handler::CommandHandler;
use crate::handlers::Handlers;

/// The catalog's write side could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading product {product_id}: {cause}")]
pub struct CatalogUnreadable {
    pub product_id: Uuid,
    pub cause: String,
}

/// The product `id` if it exists and is on sale now; `None` otherwise.
pub async fn product_on_sale(
    handlers: &Handlers,
    id: Uuid,
) -> Result<Option<ProductRecord>, CatalogUnreadable> {
    let (p, _) = handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(id))
        .await
        .map_err(|e| CatalogUnreadable {
            product_id: id,
            cause: e.to_string(),
        })?;
    Ok(p.created.filter(|p| p.status == ProductStatus::Active))
}
