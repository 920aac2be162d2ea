//! The `price_history` read model (issue 24): what one unit of each SKU cost every customer
//! over time, and so the lowest price of the 30 days before a promotion (the EU Omnibus
//! rules' "prior price").
//!
//! A SKU is a product (its id) or one of its variants (the variant's id). Its price is the
//! price engine's (`domain::pricing::price_lines`) for one unit, for a customer in no
//! segment, under the rules this read model keeps from the `price_rule-<id>` streams; its
//! list price and where it is filed come from the `product-<id>` and `category-<id>`
//! streams. Each event that can move a price reprices the SKUs it covers at the event's
//! own time, and a rule's window opening or closing (the scheduler's `PriceRuleActivated`
//! and `PriceRuleExpired`) at the window's instant, not the sweep's. So the history is a
//! fold of the log alone: a rebuild writes the same rows.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::catalog::{Category, CategoryEvent, Product, ProductEvent};
use domain::id::{CategoryId, PriceRuleId, ProductId, UserId, VariantId};
use domain::money::{Currency, Money};
use domain::pricing::{
    price_lines, Customer, PriceRule, PriceRuleEvent, PriceRuleState, PriceRuleTerms, PricingLine,
    Rule, Scope,
};
use domain::Aggregate;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::pricing::scope_columns;
use crate::runtime::{decode, Projection, ProjectionError};

pub struct PriceHistoryProjection;

#[async_trait]
impl Projection for PriceHistoryProjection {
    fn name(&self) -> &'static str {
        "price_history"
    }

    fn schema(&self) -> &'static str {
        "price_history"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/price_history.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        match event.category() {
            c if c == PriceRule::CATEGORY || c == Category::CATEGORY => true,
            c if c == Product::CATEGORY => matches!(
                event.event_type.as_str(),
                "ProductCreated"
                    | "ProductUpdated"
                    | "ProductPriceChanged"
                    | "VariantAdded"
                    | "VariantUpdated"
                    | "VariantRemoved"
            ),
            _ => false,
        }
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(id) = event.stream_uuid() else {
            return Ok(());
        };
        match event.category() {
            c if c == Product::CATEGORY => apply_product(tx, id, decode(event)?).await?,
            c if c == Category::CATEGORY => apply_category(tx, id, decode(event)?).await?,
            _ => apply_rule(tx, id, decode(event)?).await?,
        }
        Ok(())
    }
}

/// A SKU as the engine needs it, with its price now and since when.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Sku {
    sku: Uuid,
    product_id: Uuid,
    variant_id: Option<Uuid>,
    /// The category's path from the root, itself last.
    categories: Vec<Uuid>,
    vendor_id: Option<Uuid>,
    currency: String,
    /// The list price to price with (a caller sets a new one here) ...
    list_price: i64,
    /// ... and the one the row holds.
    stored_list: i64,
    price: i64,
    since: DateTime<Utc>,
    promoted_since: Option<DateTime<Utc>>,
}

const SKU_COLUMNS: &str = "sku, product_id, variant_id, categories, vendor_id, currency, \
                           list_price, list_price as stored_list, price, since, promoted_since";

/// `condition` is one of this file's literals, never input.
async fn skus_where(
    tx: &mut PgConnection,
    condition: &'static str,
    id: Option<Uuid>,
) -> Result<Vec<Sku>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SKU_COLUMNS} from skus where {condition} order by sku"
    )))
    .bind(id)
    .fetch_all(&mut *tx)
    .await
}

/// The SKUs a rule of `scope` covers.
async fn covered(tx: &mut PgConnection, scope: &Scope) -> Result<Vec<Sku>, sqlx::Error> {
    match scope {
        Scope::Store => skus_where(tx, "true", None).await,
        Scope::Product { product_id } => {
            skus_where(tx, "product_id = $1", Some(product_id.as_uuid())).await
        }
        Scope::Variant { variant_id } => {
            skus_where(tx, "sku = $1", Some(variant_id.as_uuid())).await
        }
        Scope::Category { category_id } => {
            skus_where(tx, "$1 = any(categories)", Some(category_id.as_uuid())).await
        }
        Scope::Vendor { vendor_id } => {
            skus_where(tx, "vendor_id = $1", Some(vendor_id.as_uuid())).await
        }
    }
}

async fn category_path(tx: &mut PgConnection, category: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    let path: Option<Vec<Uuid>> =
        sqlx::query_scalar("select path from categories where category_id = $1")
            .bind(category)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(path.unwrap_or_else(|| vec![category]))
}

/// The enabled rules whose scope may cover one of `skus`.
async fn candidates(tx: &mut PgConnection, skus: &[Sku]) -> Result<Vec<Rule>, sqlx::Error> {
    let mut keys: Vec<Uuid> = Vec::new();
    for s in skus {
        keys.push(s.product_id);
        keys.extend(s.variant_id);
        keys.extend(s.vendor_id);
        keys.extend_from_slice(&s.categories);
    }
    keys.sort_unstable();
    keys.dedup();
    let rows: Vec<(Uuid, i32, Json<PriceRuleTerms>)> = sqlx::query_as(
        "select rule_id, version, terms from rules
          where enabled and (scope_id is null or scope_id = any($1))",
    )
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, version, terms)| Rule {
            id: PriceRuleId::new(id),
            version: u32::try_from(version).unwrap_or(0),
            terms: terms.0,
            enabled: true,
        })
        .collect())
}

/// Prices each of `skus` again at its `at` (never before its last change) and records
/// what moved. `fresh` SKUs have no row yet.
async fn reprice(
    tx: &mut PgConnection,
    skus: Vec<Sku>,
    at: impl Fn(&Sku) -> DateTime<Utc>,
    fresh: bool,
) -> Result<(), ProjectionError> {
    if skus.is_empty() {
        return Ok(());
    }
    let rules = candidates(tx, &skus).await?;
    for sku in skus {
        let t = if fresh {
            at(&sku)
        } else {
            at(&sku).max(sku.since)
        };
        let Ok(currency) = Currency::parse(&sku.currency) else {
            continue;
        };
        let line = PricingLine {
            product_id: ProductId::new(sku.product_id),
            variant_id: sku.variant_id.map(VariantId::new),
            categories: sku
                .categories
                .iter()
                .copied()
                .map(CategoryId::new)
                .collect(),
            vendor_id: sku.vendor_id.map(UserId::new),
            unit_price: Money::new(sku.list_price, currency),
            quantity: 1,
        };
        let price = price_lines(&rules, t, &Customer::default(), &[line])
            .ok()
            .and_then(|mut p| p.pop())
            .map_or(sku.list_price, |p| p.total);
        record(tx, &sku, t, price, fresh).await?;
    }
    Ok(())
}

/// Writes `sku` (its list price, where it is filed) priced `price` from `t`: a change row
/// and the day's range when the price or list price moved.
async fn record(
    tx: &mut PgConnection,
    sku: &Sku,
    t: DateTime<Utc>,
    price: i64,
    fresh: bool,
) -> Result<(), sqlx::Error> {
    let moved = fresh || price != sku.price || sku.list_price != sku.stored_list;
    let promoted_since = (price < sku.list_price).then(|| sku.promoted_since.unwrap_or(t));
    let since = if moved { t } else { sku.since };
    sqlx::query(
        "insert into skus (sku, product_id, variant_id, categories, vendor_id, currency,
                           list_price, price, since, promoted_since)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (sku) do update set
             categories = excluded.categories, vendor_id = excluded.vendor_id,
             currency = excluded.currency, list_price = excluded.list_price,
             price = excluded.price, since = excluded.since,
             promoted_since = excluded.promoted_since",
    )
    .bind(sku.sku)
    .bind(sku.product_id)
    .bind(sku.variant_id)
    .bind(&sku.categories)
    .bind(sku.vendor_id)
    .bind(&sku.currency)
    .bind(sku.list_price)
    .bind(price)
    .bind(since)
    .bind(promoted_since)
    .execute(&mut *tx)
    .await?;
    if !moved {
        return Ok(());
    }
    // Two changes within one second keep the last: prices are cut to whole seconds.
    sqlx::query(
        "insert into changes (sku, at, currency, list_price, price, promoted)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (sku, at) do update set
             list_price = excluded.list_price, price = excluded.price,
             promoted = excluded.promoted",
    )
    .bind(sku.sku)
    .bind(t)
    .bind(&sku.currency)
    .bind(sku.list_price)
    .bind(price)
    .bind(promoted_since.is_some())
    .execute(&mut *tx)
    .await?;
    // The day's range includes the price it opened at (the last one of an earlier day).
    let opened = if fresh { price } else { sku.price };
    sqlx::query(
        "insert into days (sku, day, currency, low, high, close, list_close)
         values ($1, ($2 at time zone 'UTC')::date, $3, least($4, $5), greatest($4, $5), $5, $6)
         on conflict (sku, day) do update set
             low = least(days.low, excluded.close), high = greatest(days.high, excluded.close),
             close = excluded.close, list_close = excluded.list_close",
    )
    .bind(sku.sku)
    .bind(t)
    .bind(&sku.currency)
    .bind(opened)
    .bind(price)
    .bind(sku.list_price)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn apply_product(
    tx: &mut PgConnection,
    product: Uuid,
    e: ProductEvent,
) -> Result<(), ProjectionError> {
    match e {
        ProductEvent::ProductCreated {
            category_id,
            price,
            vendor_id,
            at,
            ..
        } => {
            let sku = Sku {
                sku: product,
                product_id: product,
                variant_id: None,
                categories: category_path(tx, category_id.as_uuid()).await?,
                vendor_id: vendor_id.map(|v| v.as_uuid()),
                currency: price.currency.to_string(),
                list_price: price.amount,
                stored_list: price.amount,
                price: price.amount,
                since: at,
                promoted_since: None,
            };
            reprice(tx, vec![sku], |_| at, true).await
        }
        ProductEvent::ProductUpdated {
            category_id: Some(category),
            at,
            ..
        } => {
            let path = category_path(tx, category.as_uuid()).await?;
            let mut skus = skus_where(tx, "product_id = $1", Some(product)).await?;
            for s in &mut skus {
                s.categories.clone_from(&path);
            }
            reprice(tx, skus, |_| at, false).await
        }
        ProductEvent::ProductPriceChanged { to, at, .. } => {
            let mut skus = skus_where(tx, "sku = $1", Some(product)).await?;
            for s in &mut skus {
                s.list_price = to.amount;
                s.currency = to.currency.to_string();
            }
            reprice(tx, skus, |_| at, false).await
        }
        ProductEvent::VariantAdded { variant } => {
            let Some(base) = skus_where(tx, "sku = $1", Some(product)).await?.pop() else {
                return Ok(());
            };
            // The event has no time of its own: the variant is listed from the product's
            // last price change, a time every store replays alike.
            let at = base.since;
            let sku = Sku {
                sku: variant.variant_id.as_uuid(),
                variant_id: Some(variant.variant_id.as_uuid()),
                currency: variant.price.currency.to_string(),
                list_price: variant.price.amount,
                stored_list: variant.price.amount,
                price: variant.price.amount,
                promoted_since: None,
                ..base
            };
            reprice(tx, vec![sku], |_| at, true).await
        }
        ProductEvent::VariantUpdated {
            variant_id,
            price: Some(price),
            at,
            ..
        } => {
            let mut skus = skus_where(tx, "sku = $1", Some(variant_id.as_uuid())).await?;
            for s in &mut skus {
                s.list_price = price.amount;
                s.currency = price.currency.to_string();
            }
            reprice(tx, skus, |_| at, false).await
        }
        // Its history stays; it is priced no more.
        ProductEvent::VariantRemoved { variant_id, .. } => {
            sqlx::query("delete from skus where sku = $1")
                .bind(variant_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn apply_category(
    tx: &mut PgConnection,
    category: Uuid,
    e: CategoryEvent,
) -> Result<(), ProjectionError> {
    let parent = match e {
        CategoryEvent::CategoryCreated { parent_id, .. } => {
            let parent = match parent_id {
                Some(p) => category_path(tx, p.as_uuid()).await?,
                None => Vec::new(),
            };
            sqlx::query(
                "insert into categories (category_id, path) values ($1, $2 || $1)
                 on conflict (category_id) do nothing",
            )
            .bind(category)
            .bind(&parent)
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        CategoryEvent::CategoryMoved { parent_id } => parent_id,
        _ => return Ok(()),
    };
    let prefix = match parent {
        Some(p) => category_path(tx, p.as_uuid()).await?,
        None => Vec::new(),
    };
    // The category and every descendant keep their path below it, under the new parent.
    sqlx::query(
        "update categories set path = $2 || path[array_position(path, $1):]
          where $1 = any(path)",
    )
    .bind(category)
    .bind(&prefix)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update skus s set categories = c.path from categories c
          where $1 = any(s.categories) and c.category_id = s.categories[cardinality(s.categories)]",
    )
    .bind(category)
    .execute(&mut *tx)
    .await?;
    // The event has no time: each SKU is repriced from its own last change.
    let skus = skus_where(tx, "$1 = any(categories)", Some(category)).await?;
    reprice(tx, skus, |s| s.since, false).await
}

async fn apply_rule(
    tx: &mut PgConnection,
    rule_id: Uuid,
    e: PriceRuleEvent,
) -> Result<(), ProjectionError> {
    let row: Option<(i32, bool, Json<PriceRuleTerms>)> =
        sqlx::query_as("select version, enabled, terms from rules where rule_id = $1")
            .bind(rule_id)
            .fetch_optional(&mut *tx)
            .await?;
    let before = match (row, &e) {
        (Some((version, enabled, terms)), _) => PriceRuleState {
            rule: Some(Rule {
                id: PriceRuleId::new(rule_id),
                version: u32::try_from(version).unwrap_or(0),
                terms: terms.0,
                enabled,
            }),
            ..PriceRuleState::default()
        },
        (None, PriceRuleEvent::PriceRuleCreated { .. }) => PriceRuleState::default(),
        (None, _) => return Ok(()),
    };
    let old_scope = before.rule.as_ref().map(|r| r.terms.scope.clone());
    let after = PriceRule::evolve(before, &e);
    let Some(rule) = after.rule else {
        return Ok(());
    };
    let (kind, scope_id) = scope_columns(&rule.terms.scope);
    sqlx::query(
        "insert into rules (rule_id, version, enabled, terms, scope_kind, scope_id)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (rule_id) do update set
             version = excluded.version, enabled = excluded.enabled, terms = excluded.terms,
             scope_kind = excluded.scope_kind, scope_id = excluded.scope_id",
    )
    .bind(rule_id)
    .bind(i32::try_from(rule.version).unwrap_or(i32::MAX))
    .bind(rule.enabled)
    .bind(Json(&rule.terms))
    .bind(kind)
    .bind(scope_id)
    .execute(&mut *tx)
    .await?;
    let window = &rule.terms.window;
    let at = match e {
        PriceRuleEvent::PriceRuleCreated { at, .. }
        | PriceRuleEvent::PriceRuleUpdated { at, .. }
        | PriceRuleEvent::PriceRuleEnabled { at }
        | PriceRuleEvent::PriceRuleDisabled { at } => at,
        // The price moved when the window opened or closed, not when a sweep noticed.
        PriceRuleEvent::PriceRuleActivated { at } => window.starts_at.unwrap_or(at).min(at),
        PriceRuleEvent::PriceRuleExpired { at } => window.ends_at.unwrap_or(at).min(at),
    };
    let mut skus = covered(tx, &rule.terms.scope).await?;
    if let Some(old) = old_scope.filter(|old| *old != rule.terms.scope) {
        skus.extend(covered(tx, &old).await?);
        skus.sort_by_key(|s| s.sku);
        skus.dedup_by_key(|s| s.sku);
    }
    reprice(tx, skus, |_| at, false).await
}

/// What the live rules say of one SKU now, which the history may not have recorded yet.
/// `promoted: true, since: None` takes the history's own word.
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
