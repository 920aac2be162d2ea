//! The `carts` read model: `carts`, `cart_items`, the `coupons` whose terms let a cart
//! show its discount and whose use staff list (`coupon_redemptions`), each product's
//! category (`product_categories`, for coupons scoped to categories), lines saved for later
//! (`cart_saved_items`) and live share links by their token's hash (`cart_shares`). Money
//! is minor units plus currency.
//!
//! Totals are recomputed from the stored lines after every change of a cart, so applying an
//! event twice (the runner's checkpoint prevents it, a rebuild relies on it) leaves the same
//! numbers. The discount is a preview: it follows the coupon's kind, amount, minimum order,
//! scope and whether it is still active, not its validity window, which depends on the
//! clock, nor its limits;
//! checkout redeems the coupon against the write side and prices the order afresh.
//!
//! Sums saturate at the bounds of `bigint` instead of failing: the rules keep every total
//! far below them (`domain::money::MAX_TOTAL`), but an event written before the bounds
//! existed (a price of 2^62) is still history, and a read model that refused it would park
//! it for good.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::cart::{CartEvent, CartLine};
use domain::coupon::{preview_discount, CouponDiscount, CouponEvent, CouponTerms};
use domain::money::{Currency, Money};
use domain::value::Quantity;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, event_time, Projection, ProjectionError};

pub struct CartsProjection;

fn actor_id(event: &RecordedEvent) -> Option<Uuid> {
    event
        .metadata
        .get("actor_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// The cart's row, created on its first event. A cart belongs to a user when the user
/// acted on it and the cart's id is theirs (the gateway's rule); a guest's cart has none.
async fn ensure_cart(
    tx: &mut PgConnection,
    cart_id: Uuid,
    event: &RecordedEvent,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let user_id = actor_id(event).filter(|a| *a == cart_id);
    sqlx::query(
        "insert into carts (cart_id, user_id, created_at, updated_at) values ($1, $2, $3, $3)
         on conflict (cart_id) do update set user_id = coalesce(carts.user_id, excluded.user_id)",
    )
    .bind(cart_id)
    .bind(user_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A line as `cart_items` and `cart_saved_items` hold it, whichever it came from: an
/// event's [`CartLine`] or a row moved between the two tables.
struct Line<'a> {
    item_id: Uuid,
    product_id: Uuid,
    variant_id: Option<Uuid>,
    sku: &'a str,
    quantity: i32,
    price: i64,
    currency: &'a str,
}

impl<'a> From<&'a CartLine> for Line<'a> {
    fn from(line: &'a CartLine) -> Self {
        Line {
            item_id: line.item_id.as_uuid(),
            product_id: line.product_id.as_uuid(),
            variant_id: line.variant_id.map(|v| v.as_uuid()),
            sku: line.sku.as_str(),
            quantity: line.quantity.get() as i32,
            price: line.unit_price.amount,
            currency: line.unit_price.currency.as_str(),
        }
    }
}

async fn insert_line(
    tx: &mut PgConnection,
    cart_id: Uuid,
    line: &Line<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into cart_items (cart_id, item_id, product_id, sku, quantity, price, currency, subtotal, added_at, variant_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (cart_id, item_id) do nothing",
    )
    .bind(cart_id)
    .bind(line.item_id)
    .bind(line.product_id)
    .bind(line.sku)
    .bind(line.quantity)
    .bind(line.price)
    .bind(line.currency)
    .bind(line.price.saturating_mul(i64::from(line.quantity.max(0))))
    .bind(at)
    .bind(line.variant_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn set_quantity(
    tx: &mut PgConnection,
    cart_id: Uuid,
    item_id: Uuid,
    quantity: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update cart_items set quantity = $3,
                subtotal = least(greatest(price::numeric * $3, -9223372036854775808),
                                 9223372036854775807)::bigint
          where cart_id = $1 and item_id = $2",
    )
    .bind(cart_id)
    .bind(item_id)
    .bind(quantity as i32)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A coupon row: kind, basis points, amount, currency, minimum order and its currency,
/// active, and its scope (products, categories).
type CouponRow = (
    String,
    Option<i32>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    bool,
    Vec<Uuid>,
    Vec<Uuid>,
);

/// What the coupon `code` would take off the cart `cart_id` of `subtotal` now, by the
/// domain's preview rule (the one command answers use too): the minimum against the
/// whole subtotal, the discount on the lines in the coupon's scope (a line is in it by
/// its product, or by the category `product_categories` files the product in); zero when
/// the coupon is unknown.
async fn discount_preview(
    tx: &mut PgConnection,
    cart_id: Uuid,
    code: &str,
    subtotal: Money,
) -> Result<i64, sqlx::Error> {
    let row: Option<CouponRow> = sqlx::query_as(
        "select kind, basis_points, amount, currency, min_order, min_order_currency, active,
                product_ids, category_ids
           from coupons where code = $1",
    )
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((kind, bp, amount, currency, min_order, min_currency, active, products, categories)) =
        row
    else {
        return Ok(0);
    };
    let currency_of = |c: &Option<String>| c.as_deref().and_then(|c| Currency::parse(c).ok());
    // A minimum or an amount whose currency cannot be read can never match the cart's.
    let min_order = match (min_order, currency_of(&min_currency)) {
        (None, _) => None,
        (Some(min), Some(c)) => Some(Money::new(min, c)),
        (Some(_), None) => return Ok(0),
    };
    let discount = match (kind.as_str(), bp, amount, currency_of(&currency)) {
        ("percent", Some(bp), _, _) => CouponDiscount::Percent {
            basis_points: bp.max(0) as u32,
        },
        ("fixed", _, Some(amount), Some(c)) => CouponDiscount::Fixed {
            amount: Money::new(amount, c),
        },
        _ => return Ok(0),
    };
    let in_scope: i64 = if products.is_empty() && categories.is_empty() {
        subtotal.amount
    } else {
        sqlx::query_scalar(
            "select least(greatest(coalesce(sum(i.subtotal), 0), -9223372036854775808),
                          9223372036854775807)::bigint
               from cart_items i left join product_categories p using (product_id)
              where i.cart_id = $1
                and (i.product_id = any($2) or p.category_id = any($3))",
        )
        .bind(cart_id)
        .bind(&products)
        .bind(&categories)
        .fetch_one(&mut *tx)
        .await?
    };
    let in_scope = Money::new(in_scope, subtotal.currency);
    Ok(preview_discount(&discount, min_order, active, subtotal, in_scope).amount)
}

/// Brings the cart's currency, totals and item count in line with its lines and coupon.
async fn recompute(
    tx: &mut PgConnection,
    cart_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sums: Option<(String, i64, i64)> = sqlx::query_as(
        "select min(currency),
                least(greatest(coalesce(sum(subtotal), 0), -9223372036854775808),
                      9223372036854775807)::bigint,
                coalesce(sum(quantity), 0)::bigint
           from cart_items where cart_id = $1 having count(*) > 0",
    )
    .bind(cart_id)
    .fetch_optional(&mut *tx)
    .await?;
    let coupon: Option<String> =
        sqlx::query_scalar("select coupon_code from carts where cart_id = $1")
            .bind(cart_id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    let (currency, subtotal, count) = match sums {
        Some((c, s, n)) => (Some(c), s, n),
        None => (None, 0, 0),
    };
    let discount = match (&currency, &coupon) {
        (Some(c), Some(code)) => match Currency::parse(c.trim()) {
            Ok(c) => discount_preview(tx, cart_id, code, Money::new(subtotal, c)).await?,
            Err(_) => 0,
        },
        _ => 0,
    };
    sqlx::query(
        "update carts set currency = $2, subtotal = $3, discount = $4, total = $5,
                item_count = $6, updated_at = greatest(updated_at, $7)
          where cart_id = $1",
    )
    .bind(cart_id)
    .bind(currency)
    .bind(subtotal)
    .bind(discount)
    .bind(subtotal.saturating_sub(discount))
    .bind(i32::try_from(count).unwrap_or(i32::MAX))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn apply_cart(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    cart_id: Uuid,
) -> Result<(), ProjectionError> {
    let e = decode::<CartEvent>(event)?;
    let at = event_time(event);
    ensure_cart(tx, cart_id, event, at).await?;
    match e {
        CartEvent::CartItemAdded { line, at } => {
            insert_line(tx, cart_id, &Line::from(&line), at).await?
        }
        CartEvent::CartItemQuantityChanged { item_id, quantity } => {
            set_quantity(tx, cart_id, item_id.as_uuid(), quantity.get()).await?
        }
        CartEvent::CartItemRemoved { item_id } => {
            sqlx::query("delete from cart_items where cart_id = $1 and item_id = $2")
                .bind(cart_id)
                .bind(item_id.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::CouponApplied { code } => {
            sqlx::query("update carts set coupon_code = $2 where cart_id = $1")
                .bind(cart_id)
                .bind(&code)
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::CouponRemoved { .. } => {
            sqlx::query("update carts set coupon_code = null where cart_id = $1")
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::CartCheckedOut { order_id, at } => {
            sqlx::query("delete from cart_items where cart_id = $1")
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "update carts set coupon_code = null, last_order_id = $2, checked_out_at = $3
                  where cart_id = $1",
            )
            .bind(cart_id)
            .bind(order_id.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        CartEvent::CartExpired { .. } => {
            for statement in [
                "delete from cart_items where cart_id = $1",
                "delete from cart_saved_items where cart_id = $1",
                "delete from cart_shares where cart_id = $1",
            ] {
                sqlx::query(statement)
                    .bind(cart_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("update carts set coupon_code = null where cart_id = $1")
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::GuestCartMerged { lines, .. } => join_lines(tx, cart_id, &lines, at).await?,
        CartEvent::CartItemSavedForLater { item_id } => {
            save_line(tx, cart_id, item_id.as_uuid(), at).await?
        }
        CartEvent::SavedItemMovedToCart { item_id } => {
            unsave_line(tx, cart_id, item_id.as_uuid(), at).await?
        }
        CartEvent::SavedItemRemoved { item_id } => {
            sqlx::query("delete from cart_saved_items where cart_id = $1 and item_id = $2")
                .bind(cart_id)
                .bind(item_id.as_uuid())
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::CartShared { token_hash, at } => {
            sqlx::query("delete from cart_shares where cart_id = $1")
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into cart_shares (token_hash, cart_id, shared_at) values ($1, $2, $3)
                 on conflict (token_hash) do nothing",
            )
            .bind(&token_hash)
            .bind(cart_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        CartEvent::CartShareRevoked { .. } => {
            sqlx::query("delete from cart_shares where cart_id = $1")
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
        }
        CartEvent::SharedCartCopied { lines, .. } => join_lines(tx, cart_id, &lines, at).await?,
    }
    recompute(tx, cart_id, at).await?;
    sqlx::query("update carts set revision = $2, active_at = $3 where cart_id = $1")
        .bind(cart_id)
        .bind(i64::try_from(event.revision).unwrap_or(i64::MAX))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Lines joining the cart by the domain's rule: a line for a product and SKU already in
/// the cart adds its quantity (capped); any other line joins as it was.
async fn join_lines(
    tx: &mut PgConnection,
    cart_id: Uuid,
    lines: &[CartLine],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for line in lines {
        join_line(tx, cart_id, &Line::from(line), at).await?;
    }
    Ok(())
}

/// One line joining the cart by [`join_lines`]' rule.
async fn join_line(
    tx: &mut PgConnection,
    cart_id: Uuid,
    line: &Line<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let existing: Option<(Uuid, i32)> = sqlx::query_as(
        "select item_id, quantity from cart_items
          where cart_id = $1 and product_id = $2 and sku = $3",
    )
    .bind(cart_id)
    .bind(line.product_id)
    .bind(line.sku)
    .fetch_optional(&mut *tx)
    .await?;
    match existing {
        Some((item_id, quantity)) => {
            let merged = (quantity.max(0) as u32 + line.quantity.max(0) as u32).min(Quantity::MAX);
            set_quantity(tx, cart_id, item_id, merged).await
        }
        None => insert_line(tx, cart_id, line, at).await,
    }
}

/// A line as `cart_items` or `cart_saved_items` holds it.
type StoredLine = (Uuid, String, i32, i64, String, Option<Uuid>);

/// The line `item_id` moves from the cart to its saved list, onto the saved line of the
/// same product and SKU if there is one (the domain's rule).
async fn save_line(
    tx: &mut PgConnection,
    cart_id: Uuid,
    item_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let line: Option<StoredLine> = sqlx::query_as(
        "delete from cart_items where cart_id = $1 and item_id = $2
         returning product_id, sku, quantity, price, currency, variant_id",
    )
    .bind(cart_id)
    .bind(item_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((product_id, sku, quantity, price, currency, variant_id)) = line else {
        return Ok(());
    };
    let joined = sqlx::query(
        "update cart_saved_items set quantity = least(quantity + $4, $5)
          where cart_id = $1 and product_id = $2 and sku = $3",
    )
    .bind(cart_id)
    .bind(product_id)
    .bind(&sku)
    .bind(quantity)
    .bind(Quantity::MAX as i32)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if joined == 0 {
        sqlx::query(
            "insert into cart_saved_items
                 (cart_id, item_id, product_id, sku, quantity, price, currency, saved_at,
                  variant_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(cart_id)
        .bind(item_id)
        .bind(product_id)
        .bind(&sku)
        .bind(quantity)
        .bind(price)
        .bind(&currency)
        .bind(at)
        .bind(variant_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The saved line `item_id` moves back into the cart, joining the line of the same
/// product and SKU if there is one.
async fn unsave_line(
    tx: &mut PgConnection,
    cart_id: Uuid,
    item_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let line: Option<StoredLine> = sqlx::query_as(
        "delete from cart_saved_items where cart_id = $1 and item_id = $2
         returning product_id, sku, quantity, price, currency, variant_id",
    )
    .bind(cart_id)
    .bind(item_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((product_id, sku, quantity, price, currency, variant_id)) = line else {
        return Ok(());
    };
    let line = Line {
        item_id,
        product_id,
        variant_id,
        sku: &sku,
        quantity,
        price,
        currency: &currency,
    };
    join_line(tx, cart_id, &line, at).await
}

/// The coupon's row from its terms: inserted when created, replaced when updated.
async fn upsert_coupon(
    tx: &mut PgConnection,
    coupon_id: Uuid,
    terms: &CouponTerms,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (kind, bp, amount) = match terms.discount {
        CouponDiscount::Percent { basis_points } => ("percent", Some(basis_points as i32), None),
        CouponDiscount::Fixed { amount } => ("fixed", None, Some(amount)),
    };
    let limit = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let products: Vec<Uuid> = terms
        .scope
        .product_ids
        .iter()
        .map(|p| p.as_uuid())
        .collect();
    let categories: Vec<Uuid> = terms
        .scope
        .category_ids
        .iter()
        .map(|c| c.as_uuid())
        .collect();
    sqlx::query(
        "insert into coupons (code, coupon_id, kind, basis_points, amount, currency, min_order,
             min_order_currency, valid_from, valid_until, active, max_uses, max_uses_per_customer,
             product_ids, category_ids, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, $11, $12, $13, $14, $15, $15)
         on conflict (code) do update set coupon_id = excluded.coupon_id, kind = excluded.kind,
             basis_points = excluded.basis_points, amount = excluded.amount,
             currency = excluded.currency, min_order = excluded.min_order,
             min_order_currency = excluded.min_order_currency,
             valid_from = excluded.valid_from, valid_until = excluded.valid_until,
             max_uses = excluded.max_uses, max_uses_per_customer = excluded.max_uses_per_customer,
             product_ids = excluded.product_ids, category_ids = excluded.category_ids,
             updated_at = excluded.updated_at",
    )
    .bind(&terms.code)
    .bind(coupon_id)
    .bind(kind)
    .bind(bp)
    .bind(amount.map(|m| m.amount))
    .bind(amount.map(|m| m.currency.as_str().to_owned()))
    .bind(terms.min_order.map(|m| m.amount))
    .bind(terms.min_order.map(|m| m.currency.as_str().to_owned()))
    .bind(terms.valid_from)
    .bind(terms.valid_until)
    .bind(limit(terms.max_uses))
    .bind(limit(terms.max_uses_per_customer))
    .bind(&products)
    .bind(&categories)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Counts the coupon's uses again from its redemptions, so a replayed event changes
/// nothing.
async fn recount_uses(
    tx: &mut PgConnection,
    coupon_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update coupons set uses = (select count(*) from coupon_redemptions where coupon_id = $1),
                updated_at = greatest(updated_at, $2)
          where coupon_id = $1",
    )
    .bind(coupon_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn apply_coupon(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    coupon_id: Uuid,
) -> Result<(), ProjectionError> {
    let e = decode::<CouponEvent>(event)?;
    let at = event_time(event);
    let set_active = |active: bool| {
        sqlx::query_scalar(
            "update coupons set active = $2, updated_at = greatest(updated_at, $3)
              where coupon_id = $1 returning code",
        )
        .bind(coupon_id)
        .bind(active)
        .bind(at)
    };
    let code: Option<String> = match e {
        CouponEvent::CouponCreated { terms, .. } => {
            // A rebuild meets the code's first coupon again: the created row starts active.
            upsert_coupon(tx, coupon_id, &terms, at).await?;
            sqlx::query("update coupons set active = true where code = $1")
                .bind(&terms.code)
                .execute(&mut *tx)
                .await?;
            Some(terms.code)
        }
        CouponEvent::CouponUpdated { terms } => {
            upsert_coupon(tx, coupon_id, &terms, at).await?;
            Some(terms.code)
        }
        CouponEvent::CouponDeactivated {} => set_active(false).fetch_optional(&mut *tx).await?,
        CouponEvent::CouponReactivated {} => set_active(true).fetch_optional(&mut *tx).await?,
        // Redemptions change what a coupon may still do at checkout, not what it takes off.
        CouponEvent::CouponRedeemed {
            customer,
            order_id,
            discount,
            at: redeemed_at,
        } => {
            sqlx::query(
                "insert into coupon_redemptions
                     (coupon_id, order_id, customer_id, discount, currency, redeemed_at)
                 values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            )
            .bind(coupon_id)
            .bind(order_id.as_uuid())
            .bind(customer.as_uuid())
            .bind(discount.amount)
            .bind(discount.currency.as_str())
            .bind(redeemed_at)
            .execute(&mut *tx)
            .await?;
            recount_uses(tx, coupon_id, at).await?;
            None
        }
        CouponEvent::CouponRedemptionReleased { order_id, .. } => {
            sqlx::query("delete from coupon_redemptions where coupon_id = $1 and order_id = $2")
                .bind(coupon_id)
                .bind(order_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            recount_uses(tx, coupon_id, at).await?;
            None
        }
    };
    if let Some(code) = code {
        // Carts that already carry the code show the coupon's new effect.
        recompute_carts(
            tx,
            "select cart_id from carts where coupon_code = $1",
            &code,
            at,
        )
        .await?;
    }
    Ok(())
}

/// Recomputes every cart `select` (one text or uuid parameter) names.
async fn recompute_carts<T>(
    tx: &mut PgConnection,
    select: &'static str,
    param: T,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    let carts: Vec<Uuid> = sqlx::query_scalar(select)
        .bind(param)
        .fetch_all(&mut *tx)
        .await?;
    for cart_id in carts {
        recompute(tx, cart_id, at).await?;
    }
    Ok(())
}

/// A product's category, from `ProductCreated` and a `ProductUpdated` that moves it.
/// Read from the event's data rather than decoded whole: the carts need one field of the
/// catalog's events, and should not stop at catalog events they do not know.
async fn apply_product(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    product_id: Uuid,
) -> Result<(), ProjectionError> {
    if !matches!(
        event.event_type.as_str(),
        "ProductCreated" | "ProductUpdated"
    ) {
        return Ok(());
    }
    let Some(category_id) = event
        .data
        .get("category_id")
        .and_then(|c| c.as_str())
        .and_then(|c| Uuid::parse_str(c).ok())
    else {
        return Ok(());
    };
    sqlx::query(
        "insert into product_categories (product_id, category_id) values ($1, $2)
         on conflict (product_id) do update set category_id = excluded.category_id",
    )
    .bind(product_id)
    .bind(category_id)
    .execute(&mut *tx)
    .await?;
    // Carts holding the product under a coupon may now see another discount.
    recompute_carts(
        tx,
        "select distinct c.cart_id from carts c join cart_items i using (cart_id)
          where i.product_id = $1 and c.coupon_code is not null",
        product_id,
        event_time(event),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Projection for CartsProjection {
    fn name(&self) -> &'static str {
        "carts"
    }

    fn schema(&self) -> &'static str {
        "carts"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(event.category(), "cart" | "coupon" | "product")
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/carts.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let id = |prefix: &str| {
            event
                .stream_id
                .strip_prefix(prefix)
                .and_then(|s| Uuid::parse_str(s).ok())
        };
        match event.category() {
            "cart" => match id("cart-") {
                Some(cart_id) => apply_cart(tx, event, cart_id).await,
                None => Ok(()),
            },
            "coupon" => match id("coupon-") {
                Some(coupon_id) => apply_coupon(tx, event, coupon_id).await,
                None => Ok(()),
            },
            "product" => match id("product-") {
                Some(product_id) => apply_product(tx, event, product_id).await,
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
