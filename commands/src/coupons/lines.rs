//! Lines as a coupon's scope sees them: each product's category is the catalog's now
//! (write side), read only when the scope names categories; a product the catalog no
//! longer knows has none, so only a scope naming the product itself covers it.

use domain::catalog::Product;
use domain::coupon::{CouponLine, CouponScope};
use domain::id::ProductId;
use domain::money::Money;

use super::error::CouponsError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;

/// `lines` (a product and the line's subtotal) with the categories `scope` needs.
pub async fn coupon_lines(
    handlers: &Handlers,
    scope: &CouponScope,
    lines: &[(ProductId, Money)],
) -> Result<Vec<CouponLine>, CouponsError> {
    let mut out = Vec::with_capacity(lines.len());
    for &(product_id, subtotal) in lines {
        let category_id = if scope.category_ids.is_empty() {
            None
        } else {
            let (p, _) = handlers
                .products
                .load(&CommandHandler::<Product>::stream_id(product_id))
                .await
                .map_err(|e| CouponsError::Failed(e.to_string()))?;
            p.created.map(|p| p.category_id)
        };
        out.push(CouponLine {
            product_id,
            category_id,
            subtotal,
        });
    }
    Ok(out)
}
