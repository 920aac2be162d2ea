//! [`RuleBook`]: the live price rules in memory, indexed by what they cover, so pricing a
//! product or a cart touches only the rules that can apply to it (ADR 0008), and every
//! reader of a price (product reads, the cart, checkout) prices with the same set.
//!
//! The set is loaded whole from the `pricing` read model (enabled rules whose window has
//! not ended), with the category tree from the `catalog` one (a category rule covers the
//! subcategories). It is current while both read models have reached the last rule and
//! category event the `$all` feed has delivered ([`Followed::moved`]); a later event makes
//! the next reader load it again, once the read models have applied it. So a rule staff
//! just saved prices the next request, on every gateway, within the feed's lag. While the
//! feed is down the set is kept [`UNFOLLOWED_TTL`] at most.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use commands::store::Position;
use domain::id::{CategoryId, PriceRuleId, ProductId, UserId, VariantId};
use domain::pricing::{
    price_lines, Customer, PriceRuleTerms, PricedLine, PricingError, PricingLine, Rule,
};
use sqlx::types::Json;
use sqlx::PgPool;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::views::{AppliedView, ProductPricing};
use crate::error::ApiError;
use crate::followed::Followed;
use crate::views::Money;
use commands::pricing::{PriceSource, Pricer};
use projections::checkpoint::position_in;
use projections::checkpoint::waiter::Waiter;

/// How long a set is used while the `$all` feed is down and cannot say it changed.
pub const UNFOLLOWED_TTL: Duration = Duration::from_secs(1);
/// How long a load waits for the read models to apply a change the feed announced.
const CATCH_UP: Duration = Duration::from_secs(2);

/// The live rules, indexed by scope, and the category tree.
#[derive(Default)]
pub struct RuleSet {
    /// How far the `pricing` and `catalog` read models had come when this was read.
    pub rules_at: Position,
    pub categories_at: Position,
    loaded: Option<Instant>,
    generation: u64,
    rules: Vec<Rule>,
    store: Vec<usize>,
    by_product: HashMap<Uuid, Vec<usize>>,
    by_variant: HashMap<Uuid, Vec<usize>>,
    by_category: HashMap<Uuid, Vec<usize>>,
    by_vendor: HashMap<Uuid, Vec<usize>>,
    /// Each category's path from the root, itself included.
    paths: HashMap<Uuid, Vec<Uuid>>,
}

/// One line to price, as the catalog knows it.
pub use commands::pricing::ToPrice as Item;

impl RuleSet {
    fn new(rules: Vec<Rule>, paths: HashMap<Uuid, Vec<Uuid>>) -> RuleSet {
        let mut set = RuleSet {
            paths,
            ..RuleSet::default()
        };
        for (i, rule) in rules.iter().enumerate() {
            use domain::pricing::Scope;
            let index = match &rule.terms.scope {
                Scope::Store => {
                    set.store.push(i);
                    continue;
                }
                Scope::Product { product_id } => (&mut set.by_product, product_id.as_uuid()),
                Scope::Variant { variant_id } => (&mut set.by_variant, variant_id.as_uuid()),
                Scope::Category { category_id } => (&mut set.by_category, category_id.as_uuid()),
                Scope::Vendor { vendor_id } => (&mut set.by_vendor, vendor_id.as_uuid()),
            };
            index.0.entry(index.1).or_default().push(i);
        }
        set.rules = rules;
        set
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The engine's line for `item`: with its category's ancestors, for category scopes.
    pub fn line(&self, item: &Item) -> PricingLine {
        let categories = self
            .paths
            .get(&item.category_id)
            .map_or_else(|| vec![item.category_id], Clone::clone);
        PricingLine {
            product_id: ProductId::new(item.product_id),
            variant_id: item.variant_id.map(VariantId::new),
            categories: categories.into_iter().map(CategoryId::new).collect(),
            vendor_id: item.vendor_id.map(UserId::new),
            unit_price: item.unit_price,
            quantity: item.quantity,
        }
    }

    /// The rules whose scope may cover one of `lines`, each once.
    pub fn candidates(&self, lines: &[PricingLine]) -> Vec<Rule> {
        let mut picked: Vec<usize> = self.store.clone();
        for l in lines {
            let mut add = |index: &HashMap<Uuid, Vec<usize>>, key: Uuid| {
                if let Some(found) = index.get(&key) {
                    picked.extend_from_slice(found);
                }
            };
            add(&self.by_product, l.product_id.as_uuid());
            if let Some(v) = l.variant_id {
                add(&self.by_variant, v.as_uuid());
            }
            for c in &l.categories {
                add(&self.by_category, c.as_uuid());
            }
            if let Some(v) = l.vendor_id {
                add(&self.by_vendor, v.as_uuid());
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked.into_iter().map(|i| self.rules[i].clone()).collect()
    }

    /// `items` priced at `at` for `customer`, in their order.
    pub fn price(
        &self,
        at: DateTime<Utc>,
        customer: &Customer,
        items: &[Item],
    ) -> Result<Vec<PricedLine>, PricingError> {
        let lines: Vec<PricingLine> = items.iter().map(|i| self.line(i)).collect();
        let rules = self.candidates(&lines);
        price_lines(&rules, at, customer, &lines)
    }

    /// One unit of `item` for every customer at `at`, as a product answer shows it.
    pub fn unit_pricing(&self, at: DateTime<Utc>, item: &Item) -> ProductPricing {
        let one = Item {
            quantity: 1,
            ..*item
        };
        let currency = item.unit_price.currency;
        let money = |amount: i64| Money::from(domain::money::Money::new(amount, currency));
        let Some(priced) = self
            .price(at, &Customer::default(), &[one])
            .ok()
            .and_then(|mut p| p.pop())
        else {
            return ProductPricing {
                list_price: item.unit_price.into(),
                price: item.unit_price.into(),
                discount: money(0),
                rules: Vec::new(),
                lowest_30_days: None,
            };
        };
        ProductPricing {
            list_price: money(priced.list_total),
            price: money(priced.total),
            discount: money(priced.list_total - priced.total),
            rules: priced
                .applied()
                .into_iter()
                .map(|a| AppliedView {
                    rule_id: a.rule_id.as_uuid(),
                    rule_version: a.rule_version,
                    rule_name: self.name(a.rule_id).map(str::to_owned),
                    amount_off: a.amount_off,
                })
                .collect(),
            lowest_30_days: None,
        }
    }

    /// A number that changes whenever the set is loaded again: a cached answer priced by
    /// an older set is keyed apart.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The name of rule `id`, for explanations.
    pub fn name(&self, id: PriceRuleId) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.terms.name.as_str())
    }

    /// When the rule's window opens; `None` when it is open from the start or unknown.
    pub fn starts_at(&self, id: PriceRuleId) -> Option<DateTime<Utc>> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.terms.window.starts_at)
    }
}

/// The current [`RuleSet`], loaded when the log says it changed.
pub struct RuleBook {
    current: RwLock<Arc<RuleSet>>,
    /// One load at a time: a burst after a change loads once.
    loading: Mutex<()>,
    loads: std::sync::atomic::AtomicU64,
}

impl Default for RuleBook {
    fn default() -> Self {
        RuleBook {
            current: RwLock::new(Arc::new(RuleSet::default())),
            loading: Mutex::new(()),
            loads: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl RuleBook {
    pub fn new() -> Arc<RuleBook> {
        Arc::new(RuleBook::default())
    }

    /// How many times the set was loaded since the start (for tests and metrics).
    pub fn loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn fresh(&self, followed: &Followed) -> Option<Arc<RuleSet>> {
        let set = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let loaded = set.loaded?;
        let current = if followed.live() {
            set.rules_at >= followed.moved("price_rule")
                && set.categories_at >= followed.moved("category")
        } else {
            loaded.elapsed() < UNFOLLOWED_TTL
        };
        current.then_some(set)
    }

    /// The live rules now: the cached set when the log has not moved past it.
    pub async fn current(
        &self,
        pool: &PgPool,
        followed: &Followed,
        checkpoints: &Waiter,
    ) -> Result<Arc<RuleSet>, ApiError> {
        if let Some(set) = self.fresh(followed) {
            return Ok(set);
        }
        let _one = self.loading.lock().await;
        if let Some(set) = self.fresh(followed) {
            return Ok(set);
        }
        // Let the read models apply what the feed announced, so the set loaded covers it;
        // past the wait, the set is loaded anyway (and loaded again by the next reader).
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        checkpoints
            .wait_for("pricing", followed.moved("price_rule"), deadline)
            .await?;
        checkpoints
            .wait_for("catalog", followed.moved("category"), deadline)
            .await?;
        let mut set = load(pool).await?;
        set.generation = 1 + self
            .loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let set = Arc::new(set);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = set.clone();
        Ok(set)
    }
}

type RuleRow = (Uuid, i32, Json<PriceRuleTerms>, bool);

/// Reads the set in one repeatable-read transaction: the checkpoints it records are those
/// of the rows it reads.
async fn load(pool: &PgPool) -> Result<RuleSet, ApiError> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let rules_at = position_in(&mut *tx, "pricing").await?;
    let categories_at = position_in(&mut *tx, "catalog").await?;
    // An ended window never opens again, so an ended rule is left out for good.
    let rows: Vec<RuleRow> = sqlx::query_as(
        "select rule_id, version, terms, enabled from pricing.price_rules
          where enabled and (ends_at is null or ends_at > now())
          order by rule_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let paths: Vec<(Uuid, Vec<Uuid>)> =
        sqlx::query_as("select category_id, path from catalog.categories")
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let rules = rows
        .into_iter()
        .map(|(id, version, terms, enabled)| Rule {
            id: PriceRuleId::new(id),
            version: u32::try_from(version).unwrap_or(0),
            terms: terms.0,
            enabled,
        })
        .collect();
    let mut set = RuleSet::new(rules, paths.into_iter().collect());
    set.rules_at = rules_at;
    set.categories_at = categories_at;
    set.loaded = Some(Instant::now());
    Ok(set)
}

/// The gateway's prices for the cart and checkout (`commands::pricing::PriceSource`): the
/// current set of a [`RuleBook`], for the customer's segments.
pub struct BookPrices {
    pub book: Arc<RuleBook>,
    pub pool: PgPool,
    pub followed: Arc<Followed>,
    pub checkpoints: Waiter,
}

struct Priced {
    set: Arc<RuleSet>,
    customer: Customer,
}

impl Pricer for Priced {
    fn price(&self, at: DateTime<Utc>, lines: &[Item]) -> Result<Vec<PricedLine>, PricingError> {
        self.set.price(at, &self.customer, lines)
    }
}

#[async_trait::async_trait]
impl PriceSource for BookPrices {
    async fn pricer(&self, customer: Option<Uuid>) -> Result<Arc<dyn Pricer>, String> {
        let set = self
            .book
            .current(&self.pool, &self.followed, &self.checkpoints)
            .await
            .map_err(|e| format!("loading the price rules: {e}"))?;
        let customer = match customer {
            Some(user) => super::segments::of(&self.pool, user)
                .await
                .map_err(|e| format!("reading the customer's segments: {e}"))?,
            None => Customer::default(),
        };
        Ok(Arc::new(Priced { set, customer }))
    }
}
