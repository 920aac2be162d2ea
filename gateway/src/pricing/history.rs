//! The lowest price of the 30 days before a promotion (the EU Omnibus rules' "prior
//! price"), from the `price_history` read model, on product answers.
//!
//! The window ends when the SKU's current run of prices below its list price began, or
//! now when it is at list price; it opens 30 days earlier. The lowest price is over every
//! price in force at some instant of the window: the one in force when it opened (however
//! old) and each later one. A SKU with no price in force in the window (listed since it
//! closed) has no figure: it never falls back to an older price.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::views::PriorPrice;
use crate::catalog::views::ProductView;
use crate::views::Money;

/// Each SKU's window and the lowest price in it, for the SKUs of `skus` that have one.
pub async fn lowest_30_days(
    pool: &PgPool,
    skus: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, (DateTime<Utc>, i64, String)>, sqlx::Error> {
    let rows: Vec<(Uuid, DateTime<Utc>, Option<i64>, String)> = sqlx::query_as(
        "with s as (select sku, currency, coalesce(promoted_since, $2) as upto
                      from price_history.skus where sku = any($1))
         select s.sku, s.upto,
                (select min(c.price) from price_history.changes c
                  where c.sku = s.sku and c.at < s.upto
                    and c.at >= coalesce((select max(o.at) from price_history.changes o
                                           where o.sku = s.sku
                                             and o.at <= s.upto - interval '30 days'),
                                         s.upto - interval '30 days')),
                s.currency
           from s",
    )
    .bind(skus)
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(sku, upto, low, currency)| low.map(|low| (sku, (upto, low, currency))))
        .collect())
}

/// Adds the prior price to each view's `pricing`.
pub async fn with_prior_prices(
    pool: &PgPool,
    views: &mut [ProductView],
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let ids: Vec<Uuid> = views.iter().map(|v| v.id).collect();
    let found = lowest_30_days(pool, &ids, now).await?;
    for v in views {
        let (Some(pricing), Some((upto, low, currency))) = (v.pricing.as_mut(), found.get(&v.id))
        else {
            continue;
        };
        if *currency != pricing.price.currency {
            continue;
        }
        pricing.lowest_30_days = Some(PriorPrice::new(*low, &pricing.price, *upto));
    }
    Ok(())
}

impl PriorPrice {
    fn new(lowest: i64, price: &Money, upto: DateTime<Utc>) -> PriorPrice {
        let off = lowest - price.amount;
        PriorPrice {
            price: Money {
                amount: lowest,
                currency: price.currency.clone(),
            },
            window_from: upto - chrono::Duration::days(30),
            window_to: upto,
            discount: Money {
                amount: off,
                currency: price.currency.clone(),
            },
            // Whole percent, rounded half away from zero; none against a free price.
            discount_percent: (lowest > 0).then(|| {
                let (n, d) = (i128::from(off) * 100, i128::from(lowest));
                i64::try_from((n + n.signum() * d / 2) / d).unwrap_or(0)
            }),
        }
    }
}
