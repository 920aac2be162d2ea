//! What `GET /cart` reads of the `carts` read model: the cart's row, its lines and its
//! saved lines; and what `GET /carts/shared/{token}` reads: a shared cart by its token's
//! hash.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One row of `carts.carts`; money in minor units of `currency` (none while empty).
#[derive(sqlx::FromRow)]
pub struct CartRow {
    pub user_id: Option<Uuid>,
    pub currency: Option<String>,
    pub coupon_code: Option<String>,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    pub item_count: i32,
    pub updated_at: DateTime<Utc>,
}

/// One line of `carts.cart_items`.
#[derive(sqlx::FromRow)]
pub struct CartItemRow {
    pub item_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub quantity: i32,
    pub price: i64,
    pub subtotal: i64,
    pub variant_id: Option<Uuid>,
}

/// A cart as the read model holds it. `owner` is the signed-in caller, for a cart whose
/// row names no user yet.
pub struct StoredCart {
    pub cart_id: Uuid,
    pub owner: Option<Uuid>,
    pub row: CartRow,
    pub items: Vec<CartItemRow>,
    pub saved: Vec<SavedItemRow>,
}

/// One line of `carts.cart_saved_items`.
#[derive(sqlx::FromRow)]
pub struct SavedItemRow {
    pub item_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub quantity: i32,
    pub price: i64,
    pub currency: String,
    pub variant_id: Option<Uuid>,
}

/// The cart's saved lines, oldest saved first.
pub async fn saved_items(pool: &PgPool, cart_id: Uuid) -> Result<Vec<SavedItemRow>, sqlx::Error> {
    sqlx::query_as(
        "select item_id, product_id, sku, quantity, price, currency, variant_id
           from carts.cart_saved_items
          where cart_id = $1 order by saved_at, item_id",
    )
    .bind(cart_id)
    .fetch_all(pool)
    .await
}

/// A shared cart's row: what anyone holding the link may see.
#[derive(sqlx::FromRow)]
pub struct SharedCartRow {
    pub cart_id: Uuid,
    pub currency: Option<String>,
    pub subtotal: i64,
    pub item_count: i32,
    pub shared_at: DateTime<Utc>,
}

/// A shared cart, with its lines.
pub struct SharedCart {
    pub row: SharedCartRow,
    pub items: Vec<CartItemRow>,
}

/// The cart shared under the token whose SHA-256 is `token_hash`, if the link is live.
pub async fn shared_cart(
    pool: &PgPool,
    token_hash: &str,
) -> Result<Option<SharedCart>, sqlx::Error> {
    let row: Option<SharedCartRow> = sqlx::query_as(
        "select c.cart_id, c.currency, c.subtotal, c.item_count, s.shared_at
           from carts.cart_shares s join carts.carts c on c.cart_id = s.cart_id
          where s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let items = items(pool, row.cart_id).await?;
    Ok(Some(SharedCart { row, items }))
}

pub async fn cart(pool: &PgPool, cart_id: Uuid) -> Result<Option<CartRow>, sqlx::Error> {
    sqlx::query_as(
        "select user_id, currency, coupon_code, subtotal, discount, total, item_count, updated_at
           from carts.carts where cart_id = $1",
    )
    .bind(cart_id)
    .fetch_optional(pool)
    .await
}

/// The cart's lines, oldest first.
pub async fn items(pool: &PgPool, cart_id: Uuid) -> Result<Vec<CartItemRow>, sqlx::Error> {
    sqlx::query_as(
        "select item_id, product_id, sku, quantity, price, subtotal, variant_id
           from carts.cart_items
          where cart_id = $1 order by added_at, item_id",
    )
    .bind(cart_id)
    .fetch_all(pool)
    .await
}
