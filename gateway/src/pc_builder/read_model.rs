//! What the PC builder's routes read of the `pc_builder` read model.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub struct BuildRow {
    pub build_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub name: String,
    pub shared: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A part of a build, with its product's row (absent if the product never reached the
/// read model).
#[derive(sqlx::FromRow)]
pub struct ComponentRow {
    pub build_id: Uuid,
    pub slot: String,
    pub product_id: Uuid,
    pub quantity: i32,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub price_amount: Option<i64>,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub attributes: Option<Json<serde_json::Map<String, serde_json::Value>>>,
}

/// A part on sale in a slot.
#[derive(sqlx::FromRow)]
pub struct PartRow {
    pub product_id: Uuid,
    pub slot: String,
    pub sku: String,
    pub name: String,
    pub price_amount: i64,
    pub currency: String,
    pub attributes: Json<serde_json::Map<String, serde_json::Value>>,
}

const BUILD_COLUMNS: &str = "build_id, owner_id, name, shared, created_at, updated_at";

pub async fn build(pool: &PgPool, id: Uuid) -> Result<Option<BuildRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {BUILD_COLUMNS} from pc_builder.builds where build_id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A page of `owner`'s builds, latest change first, and how many they have.
pub async fn builds_of(
    pool: &PgPool,
    owner: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<BuildRow>), sqlx::Error> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from pc_builder.builds where owner_id = $1")
            .bind(owner)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {BUILD_COLUMNS} from pc_builder.builds where owner_id = $1
          order by updated_at desc, build_id limit $2 offset $3"
    )))
    .bind(owner)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}

/// The parts of the builds `ids`, with their products, in slot and product order.
pub async fn components(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<ComponentRow>, sqlx::Error> {
    sqlx::query_as(
        "select c.build_id, c.slot, c.product_id, c.quantity, p.sku, p.name, p.price_amount,
                p.currency, p.status, p.attributes
           from pc_builder.build_components c
           left join pc_builder.parts p using (product_id)
          where c.build_id = any($1)
          order by c.build_id, c.slot, c.product_id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Every part on sale in `slot`, by name: one range of the `parts_on_sale_by_slot` index.
pub async fn parts_in_slot(pool: &PgPool, slot: &str) -> Result<Vec<PartRow>, sqlx::Error> {
    sqlx::query_as(
        "select product_id, slot, sku, name, price_amount, currency, attributes
           from pc_builder.parts
          where slot = $1 and status = 'active'
          order by name, product_id",
    )
    .bind(slot)
    .fetch_all(pool)
    .await
}
