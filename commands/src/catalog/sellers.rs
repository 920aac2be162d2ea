//! What a seller may do now (issue 23): a vendor whose store is not approved (suspended,
//! or rejected) puts nothing new on sale; a trusted store's publish goes live without
//! review; and a vendor keeps the stock of its own SKUs only.

use domain::catalog::{Product, ProductCommand, Seller};
use domain::value::Sku;
use domain::vendors::{VendorRecord, VendorStatus};

use super::claims::SKU;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::unique;

/// Why a seller may not act, as the use cases' own errors carry it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SellerRefusal {
    /// The vendor's store is suspended or was rejected.
    #[error("the store is {0}; it sells again once approved")]
    NotSelling(&'static str),
    /// The SKU is another seller's, or no product's.
    #[error("a vendor keeps the stock of its own products only")]
    NotOwner,
    #[error("{0}")]
    Failed(String),
}

/// The store `seller` sells under, when it is a vendor that applied for one: refused
/// unless approved. A vendor account without a store (made a vendor before stores
/// existed) sells as before.
pub async fn selling_store(
    h: &Handlers,
    seller: Seller,
) -> Result<Option<VendorRecord>, SellerRefusal> {
    let Some(vendor) = seller.vendor() else {
        return Ok(None);
    };
    let store = crate::vendors::selling_vendor(h, vendor.as_uuid())
        .await
        .map_err(|e| SellerRefusal::Failed(e.to_string()))?;
    match &store {
        Some(s) if s.status != VendorStatus::Approved => {
            Err(SellerRefusal::NotSelling(s.status.as_str()))
        }
        _ => Ok(store),
    }
}

/// What publishing means for `seller`: staff put a product on sale; a vendor submits it
/// for review, unless its store is trusted, whose publish goes live.
pub async fn publish_command(
    h: &Handlers,
    seller: Seller,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<ProductCommand, SellerRefusal> {
    let store = selling_store(h, seller).await?;
    if store.is_some_and(|s| s.terms.trusted) {
        return Ok(ProductCommand::Publish { at });
    }
    Ok(seller.publish(at))
}

/// Whether `seller` keeps the stock of `sku`: staff any; a vendor that of a SKU of one
/// of its own products (the product's, or a variant's: the SKU's claim names the product).
pub async fn may_stock(h: &Handlers, sku: &Sku, seller: Seller) -> Result<(), SellerRefusal> {
    if seller == Seller::Staff {
        return Ok(());
    }
    let failed = |e: &dyn std::fmt::Display| SellerRefusal::Failed(e.to_string());
    let Some(product_id) = unique::owner_of(h, SKU, sku.as_str())
        .await
        .map_err(|e| failed(&e))?
    else {
        return Err(SellerRefusal::NotOwner);
    };
    let (state, _) = h
        .products
        .load(&CommandHandler::<Product>::stream_id(product_id))
        .await
        .map_err(|e| failed(&e))?;
    match state.created {
        Some(p) if seller.may_change(&p) => {
            selling_store(h, seller).await?;
            Ok(())
        }
        _ => Err(SellerRefusal::NotOwner),
    }
}
