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
use domain::id::PriceRuleId;
use sqlx::PgPool;
use uuid::Uuid;

use super::book::RuleSet;
use super::views::PriorPrice;
use crate::catalog::views::ProductView;
use crate::views::Money;

/// What the live rules say of one SKU now, which the history may not have recorded yet.
pub struct Asked {
    pub sku: Uuid,
    /// Priced below its list price now.
    pub promoted: bool,
    /// When the rules pricing it now opened their windows (the latest), if they have one.
    pub since: Option<DateTime<Utc>>,
}

/// Each SKU's window and the lowest price in it, for the SKUs of `asked` that have one.
///
/// The window ends where the history says the current promotion began. Which promotion is
/// current is the live rules' word, though: a SKU at list price now has its window end
/// now, and one whose promotion the history has not recorded yet (a window that opened
/// before the scheduler's next sweep) has it end when its rules' windows opened.
pub async fn lowest_30_days(
    pool: &PgPool,
    asked: &[Asked],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, (DateTime<Utc>, i64, String)>, sqlx::Error> {
    let rows: Vec<(Uuid, DateTime<Utc>, Option<i64>, String)> = sqlx::query_as(
        "with a as (select * from unnest($1::uuid[], $2::bool[], $3::timestamptz[])
                      as a(sku, promoted, since)),
              s as (select k.sku, k.currency,
                           case when a.promoted then coalesce(k.promoted_since, a.since, $4)
                                else $4 end as upto
                      from price_history.skus k join a using (sku))
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
    .bind(asked.iter().map(|a| a.sku).collect::<Vec<_>>())
    .bind(asked.iter().map(|a| a.promoted).collect::<Vec<_>>())
    .bind(asked.iter().map(|a| a.since).collect::<Vec<_>>())
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(sku, upto, low, currency)| low.map(|low| (sku, (upto, low, currency))))
        .collect())
}

/// Adds the prior price to each view's `pricing` (priced by `set`).
pub async fn with_prior_prices(
    pool: &PgPool,
    set: &RuleSet,
    views: &mut [ProductView],
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let asked: Vec<Asked> = views
        .iter()
        .filter_map(|v| {
            let p = v.pricing.as_ref()?;
            Some(Asked {
                sku: v.id,
                promoted: p.price.amount < p.list_price.amount,
                since: p
                    .rules
                    .iter()
                    .filter_map(|r| set.starts_at(PriceRuleId::new(r.rule_id)))
                    .max(),
            })
        })
        .collect();
    let found = lowest_30_days(pool, &asked, now).await?;
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
