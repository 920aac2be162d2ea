//! The lowest price of the 30 days before a promotion (the EU Omnibus rules' "prior
//! price"), from the `price_history` read model, on product answers.
//!
//! The window ends when the SKU's current run of prices below its list price began, or
//! now when it is at list price; it opens 30 days earlier. The lowest price is over every
//! price in force at some instant of the window: the one in force when it opened (however
//! old) and each later one. A SKU with no price in force in the window (listed since it
//! closed) has no figure: it never falls back to an older price.

use chrono::{DateTime, Utc};
use domain::id::PriceRuleId;
use projections::price_history::{lowest_30_days, Asked};
use sqlx::PgPool;

use super::book::RuleSet;
use super::views::PriorPrice;
use crate::catalog::views::ProductView;
use crate::views::Money;

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
