//! The price port of the write side (issue 24, ADR 0008): the cart and checkout price lines through a
//! [`Pricer`] that a [`PriceSource`] gives them for a customer. The gateway's source holds
//! the live rules in memory (ADR 0008); without one, lines are at list price.
//!
//! The engine itself is `domain::pricing`; this only says where the rules and the
//! customer's segments come from, which is a read model's business, not the use case's.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::catalog::{Offer, ProductRecord};
use domain::money::Money;
use domain::pricing::{price_lines, Customer, PricedLine, PricingError, PricingLine};
use uuid::Uuid;

/// One line to price, as the catalog's write side knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToPrice {
    pub product_id: Uuid,
    pub variant_id: Option<Uuid>,
    /// The product's own category; the pricer adds its ancestors.
    pub category_id: Uuid,
    pub vendor_id: Option<Uuid>,
    /// One unit's list price.
    pub unit_price: Money,
    pub quantity: u32,
}

impl ToPrice {
    /// `quantity` of `product` as `offer` (its variant, when it names one) sells it.
    pub fn of(product: &ProductRecord, offer: &Offer, quantity: u32) -> ToPrice {
        ToPrice {
            product_id: product.product_id.as_uuid(),
            variant_id: offer.variant_id.map(|v| v.as_uuid()),
            category_id: product.category_id.as_uuid(),
            vendor_id: product.vendor_id.map(|v| v.as_uuid()),
            unit_price: offer.price,
            quantity,
        }
    }
}

/// Prices lines for one customer with one rule set.
pub trait Pricer: Send + Sync {
    /// `lines` priced at `at`, in their order. The engine refuses two lines of one
    /// product and variant, and a line above the bounds of money.
    fn price(&self, at: DateTime<Utc>, lines: &[ToPrice]) -> Result<Vec<PricedLine>, PricingError>;

    /// One unit of `line` alone, as a product page shows it: what a cart line's snapshot
    /// records, and what checkout compares to tell a price the shopper did not see.
    fn unit_price(&self, at: DateTime<Utc>, line: &ToPrice) -> Money {
        let one = ToPrice {
            quantity: 1,
            ..*line
        };
        let total = self
            .price(at, &[one])
            .ok()
            .and_then(|mut p| p.pop())
            .map_or(line.unit_price.amount, |p| p.total);
        Money::new(total, line.unit_price.currency)
    }
}

/// Gives a [`Pricer`] for a customer (`None`: a guest) with the rules live now.
#[async_trait]
pub trait PriceSource: Send + Sync {
    async fn pricer(&self, customer: Option<Uuid>) -> Result<Arc<dyn Pricer>, String>;
}

/// No rules: every line at its list price.
pub struct ListPrices;

impl Pricer for ListPrices {
    fn price(&self, at: DateTime<Utc>, lines: &[ToPrice]) -> Result<Vec<PricedLine>, PricingError> {
        let lines: Vec<PricingLine> = lines
            .iter()
            .map(|l| PricingLine {
                product_id: domain::id::ProductId::new(l.product_id),
                variant_id: l.variant_id.map(domain::id::VariantId::new),
                categories: vec![domain::id::CategoryId::new(l.category_id)],
                vendor_id: l.vendor_id.map(domain::id::UserId::new),
                unit_price: l.unit_price,
                quantity: l.quantity,
            })
            .collect();
        price_lines(&[], at, &Customer::default(), &lines)
    }
}

/// Where a process's use cases get their prices: set once at start-up by the process that
/// serves prices (the gateway); unset, lines are at list price.
#[derive(Default)]
pub struct Prices(OnceLock<Arc<dyn PriceSource>>);

impl Prices {
    /// Sets the source; a second call is ignored (the first source stays).
    pub fn set(&self, source: Arc<dyn PriceSource>) {
        let _ = self.0.set(source);
    }

    /// The pricer for `customer` now: the source's, or list prices without one.
    pub async fn pricer(&self, customer: Option<Uuid>) -> Result<Arc<dyn Pricer>, String> {
        match self.0.get() {
            Some(source) => source.pricer(customer).await,
            None => Ok(Arc::new(ListPrices)),
        }
    }
}
