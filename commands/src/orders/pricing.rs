//! The catalog as an order or a cart line prices it: the product on sale now, from the
//! catalog's write side (a read model could be behind a price change).

use domain::catalog::{Product, ProductRecord, ProductStatus};
use domain::money::{Money, MAX_PRICE, MAX_TOTAL};
use domain::value::Quantity;
use domain::vendors::VendorStatus;
use uuid::Uuid;

use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::pricing::{Pricer, ToPrice};
use domain::pricing::PricingError;

/// The catalog's write side could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading product {product_id}: {cause}")]
pub struct CatalogUnreadable {
    pub product_id: Uuid,
    pub cause: String,
}

/// The product `id` if it exists and is on sale now; `None` otherwise. A vendor's product
/// is on sale only while the vendor's store is approved: a suspended store's products
/// leave the storefront's read models at once, and the write side sells none of them
/// either (issue 23).
pub async fn product_on_sale(
    handlers: &Handlers,
    id: Uuid,
) -> Result<Option<ProductRecord>, CatalogUnreadable> {
    let unreadable = |cause: String| CatalogUnreadable {
        product_id: id,
        cause,
    };
    let (p, _) = handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(id))
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let Some(product) = p.created.filter(|p| p.status == ProductStatus::Active) else {
        return Ok(None);
    };
    if let Some(vendor) = product.vendor_id {
        let store = crate::vendors::selling_vendor(handlers, vendor.as_uuid())
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        // A vendor account without a store (made before stores existed) sells as before.
        if store.is_some_and(|s| s.status != VendorStatus::Approved) {
            return Ok(None);
        }
    }
    Ok(Some(product))
}

/// Why a line cannot join an order: its field (`quantity` or `product_id`, under the item
/// the client named) and the message. The order's rules refuse the same; checking here
/// names the item the client sent, which the order's merged lines no longer know.
pub type LineRefusal = (&'static str, String);

/// `subtotal` with `quantity` more at `price`, within the bounds of money: a price of at
/// most [`MAX_PRICE`], a line of at most [`Quantity::MAX`] units, a subtotal of at most
/// [`MAX_TOTAL`]. No arithmetic here can overflow: each step is checked.
pub fn add_line(subtotal: Money, price: Money, quantity: u32) -> Result<Money, LineRefusal> {
    if price.amount > MAX_PRICE {
        // A product priced before the bounds existed.
        return Err((
            "product_id",
            format!("the product's price exceeds {MAX_PRICE} minor units; it cannot be sold"),
        ));
    }
    if quantity > Quantity::MAX {
        return Err((
            "quantity",
            format!("a line holds at most {} units", Quantity::MAX),
        ));
    }
    price
        .checked_mul(quantity)
        .and_then(|line| subtotal.checked_add(line))
        .and_then(|s| s.at_most(MAX_TOTAL))
        .map_err(|_| {
            (
                "quantity",
                format!("the order's subtotal would exceed {MAX_TOTAL} minor units"),
            )
        })
}

/// Records on each of `lines` the price rules `pricer` applies to them at `at` (`to_price`
/// names the same lines, in the same order, as the catalog knows them).
pub fn apply_rules(
    pricer: &dyn Pricer,
    at: chrono::DateTime<chrono::Utc>,
    lines: &mut [domain::order::OrderLine],
    to_price: &[ToPrice],
) -> Result<(), PricingError> {
    for (line, priced) in lines.iter_mut().zip(pricer.price(at, to_price)?) {
        line.price_rules = priced.applied();
    }
    Ok(())
}
