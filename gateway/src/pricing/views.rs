//! What `/pricing/rules` takes and answers. The scope, adjustment and segment are the
//! domain's own shapes (`domain::pricing`), documented in docs/api.md.

use chrono::{DateTime, Utc};
use domain::pricing::{Adjustment, PriceRuleState, PriceRuleTerms, Scope, Segment, Window};
use projections::runtime::wire_name;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A rule as staff write it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// 1 to 200 characters.
    pub name: String,
    /// `{"kind": "store"}`, or `product` / `variant` / `category` / `vendor` with its id
    /// (`product_id`, `variant_id`, `category_id`, `vendor_id`).
    #[schema(value_type = Object)]
    pub scope: Scope,
    /// `percent_off {basis_points}`, `amount_off {amount}`, `set_price {amount}`,
    /// `tiered {tiers: [{min_quantity, basis_points}]}` or
    /// `buy_x_get_y {buy, get, basis_points}`; `kind` names which.
    #[schema(value_type = Object)]
    pub adjustment: Adjustment,
    /// From this instant (included); cut to whole seconds. Open when absent.
    pub starts_at: Option<DateTime<Utc>>,
    /// Until this instant (excluded); cut to whole seconds. Open when absent.
    pub ends_at: Option<DateTime<Utc>>,
    /// Higher first, ties by rule id; -1,000,000 to 1,000,000, default 0.
    #[serde(default)]
    pub priority: i32,
    /// Whether it combines with other rules; default false.
    #[serde(default)]
    pub stacks: bool,
    /// `{"kind": "all"}` (default), `{"kind": "new_customers"}` or
    /// `{"kind": "rfm", "name": "champions"}`.
    #[schema(value_type = Option<Object>)]
    pub segment: Option<Segment>,
    /// On creation only: enable the rule at once (default false: a draft).
    #[serde(default)]
    pub enabled: bool,
}

impl RuleBody {
    pub fn terms(self) -> (PriceRuleTerms, bool) {
        (
            PriceRuleTerms {
                name: self.name,
                scope: self.scope,
                adjustment: self.adjustment,
                window: Window {
                    starts_at: self.starts_at,
                    ends_at: self.ends_at,
                },
                priority: self.priority,
                stacks: self.stacks,
                segment: self.segment.unwrap_or(Segment::All),
            },
            self.enabled,
        )
    }
}

/// A price rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: Uuid,
    pub name: String,
    /// Raised by each change of terms; an order line records the version it was priced by.
    pub version: u32,
    #[schema(value_type = Object)]
    pub scope: Scope,
    #[schema(value_type = Object)]
    pub adjustment: Adjustment,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub priority: i32,
    pub stacks: bool,
    #[schema(value_type = Object)]
    pub segment: Segment,
    pub enabled: bool,
    /// `draft`, `scheduled`, `active` or `expired`.
    pub status: String,
    pub updated_at: Option<DateTime<Utc>>,
}

impl RuleView {
    pub fn of(state: &PriceRuleState) -> Option<RuleView> {
        let rule = state.rule.as_ref()?;
        let t = &rule.terms;
        Some(RuleView {
            id: rule.id.as_uuid(),
            name: t.name.clone(),
            version: rule.version,
            scope: t.scope.clone(),
            adjustment: t.adjustment.clone(),
            starts_at: t.window.starts_at,
            ends_at: t.window.ends_at,
            priority: t.priority,
            stacks: t.stacks,
            segment: t.segment.clone(),
            enabled: rule.enabled,
            status: wire_name(&state.status),
            updated_at: state.updated_at,
        })
    }
}

/// One rule's part in a price, in the order the engine considered them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub rule_id: Uuid,
    pub rule_version: u32,
    pub rule_name: Option<String>,
    /// `applied`, `not_live`, `not_for_customer`, `not_combinable`, `nothing_off` or
    /// `other_currency`.
    pub outcome: String,
    /// What it took off the line, in minor units (`applied` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_off: Option<i64>,
}

/// A rule that took something off, as a price answer names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppliedView {
    pub rule_id: Uuid,
    pub rule_version: u32,
    pub rule_name: Option<String>,
    /// Minor units off the line.
    pub amount_off: i64,
}

/// One unit's price after the price rules live now, for every customer: what a product
/// answer shows beside its list `price`. A customer's segments can lower it further in
/// their cart (`GET /products/{id}/price` explains a price for the caller).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductPricing {
    /// The list price (the product's or, on a variant, the variant's).
    pub list_price: crate::views::Money,
    /// What one unit costs now.
    pub price: crate::views::Money,
    /// `list_price − price`.
    pub discount: crate::views::Money,
    /// The rules that took something off, in the order applied.
    pub rules: Vec<AppliedView>,
    /// The lowest price of the 30 days before the current promotion began (before now, at
    /// list price), and today's price against it; null when the product had no price in
    /// that window. From the `price_history` read model.
    pub lowest_30_days: Option<PriorPrice>,
}

/// The lowest price one unit had in a 30-day window (the EU Omnibus "prior price"), and
/// the discount today's price is against it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriorPrice {
    pub price: crate::views::Money,
    pub window_from: DateTime<Utc>,
    /// When the current promotion began, or now.
    pub window_to: DateTime<Utc>,
    /// `price − pricing.price`: what today's price is below the lowest one (negative
    /// when dearer).
    pub discount: crate::views::Money,
    /// `discount` as a whole percent of `price`; null when `price` is 0.
    pub discount_percent: Option<i64>,
}
