//! The customer segments a signed-in customer is priced for: `new_customers` until the
//! analytics read model counts a paid order of theirs, and their RFM segment from
//! `analytics.customer_rfm`. Read once a minute at most per customer: segments move by
//! days, and the scoring view ranks every customer.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use domain::pricing::{Customer, Segment};
use moka::sync::Cache;
use uuid::Uuid;

use crate::error::ApiError;
use sqlx::PgPool;

fn cache() -> &'static Cache<Uuid, Customer> {
    static CACHE: OnceLock<Cache<Uuid, Customer>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(60))
            .build()
    })
}

/// The segments of `user_id`.
pub async fn of(pool: &PgPool, user_id: Uuid) -> Result<Customer, ApiError> {
    if let Some(hit) = cache().get(&user_id) {
        return Ok(hit);
    }
    let orders: Option<i64> = sqlx::query_scalar(
        "select sum(orders)::bigint from analytics.customers where user_id = $1",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    let mut segments = BTreeSet::new();
    if orders.unwrap_or(0) == 0 {
        segments.insert(Segment::NewCustomers);
    } else {
        let rfm: Vec<String> = sqlx::query_scalar(
            "select distinct segment from analytics.customer_rfm where user_id = $1",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?;
        segments.extend(rfm.into_iter().map(|name| Segment::Rfm { name }));
    }
    let customer = Customer { segments };
    cache().insert(user_id, customer.clone());
    Ok(customer)
}
