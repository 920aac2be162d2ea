//! A product as the price engine takes it, read from the catalog read model.

use domain::money::{Currency, Money};
use sqlx::PgPool;
use uuid::Uuid;

use super::book::Item;
use crate::error::ApiError;

/// The product (and its `variant`) as the engine prices one unit of it, from the catalog
/// read model: `None` when there is no such product the viewer may see, `Some(Err)` when
/// the variant is not the product's.
pub async fn catalog_item(
    pool: &PgPool,
    product_id: Uuid,
    variant: Option<Uuid>,
    staff: bool,
) -> Result<Option<Result<Item, ApiError>>, ApiError> {
    let row: Option<(Uuid, Option<Uuid>, i64, String, String)> = sqlx::query_as(
        "select category_id, vendor_id, price, currency, status from catalog.products
          where product_id = $1",
    )
    .bind(product_id)
    .fetch_optional(pool)
    .await?;
    let Some((category_id, vendor_id, price, currency, status)) = row else {
        return Ok(None);
    };
    if status != "active" && !staff {
        return Ok(None);
    }
    let mut item = Item {
        product_id,
        variant_id: None,
        category_id,
        vendor_id,
        unit_price: money(price, &currency)?,
        quantity: 1,
    };
    if let Some(variant_id) = variant {
        let found: Option<(i64, String)> = sqlx::query_as(
            "select price, currency from catalog.variants where variant_id = $1 and product_id = $2",
        )
        .bind(variant_id)
        .bind(product_id)
        .fetch_optional(pool)
        .await?;
        let Some((price, currency)) = found else {
            return Ok(Some(Err(ApiError::invalid_field(
                "variant",
                "the product has no such variant",
            ))));
        };
        item.variant_id = Some(variant_id);
        item.unit_price = money(price, &currency)?;
    }
    Ok(Some(Ok(item)))
}

fn money(amount: i64, currency: &str) -> Result<Money, ApiError> {
    let currency = Currency::parse(currency.trim())
        .map_err(|_| ApiError::internal(format!("a catalog row names currency {currency}")))?;
    Ok(Money::new(amount, currency))
}
