//! What the coupon routes read of the `carts` read model: `carts.coupons`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One row of `carts.coupons`; money in minor units of the currency beside it.
#[derive(sqlx::FromRow)]
pub struct CouponRow {
    pub code: String,
    pub coupon_id: Uuid,
    pub kind: String,
    pub basis_points: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub min_order: Option<i64>,
    pub min_order_currency: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub max_uses: Option<i32>,
    pub max_uses_per_customer: Option<i32>,
    pub product_ids: Vec<Uuid>,
    pub category_ids: Vec<Uuid>,
    pub uses: i32,
}

const COLUMNS: &str = "code, coupon_id, kind, basis_points, amount, currency, min_order,
    min_order_currency, valid_from, valid_until, active, max_uses, max_uses_per_customer,
    product_ids, category_ids, uses";

pub async fn coupon(pool: &PgPool, code: &str) -> Result<Option<CouponRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from carts.coupons where code = $1"
    )))
    .bind(code)
    .fetch_optional(pool)
    .await
}

/// A page of coupons by code, `active` or not (`None`: both), whose code starts with
/// `prefix`; and how many match in all.
pub async fn page(
    pool: &PgPool,
    active: Option<bool>,
    prefix: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<CouponRow>), sqlx::Error> {
    let filter = "($1::boolean is null or active = $1)
        and ($2::text is null or starts_with(code, $2))";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from carts.coupons where {filter}"
    )))
    .bind(active)
    .bind(prefix)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from carts.coupons where {filter} order by code limit $3 offset $4"
    )))
    .bind(active)
    .bind(prefix)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}
