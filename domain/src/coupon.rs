//! A coupon: a percentage or a fixed amount off, a validity window, usage limits overall
//! and per customer, a minimum order, and an optional scope (products and categories) whose
//! lines alone are discounted. The code's uniqueness is the command side's job
//! (`commands::unique`).
//!
//! A redemption counts only when the coupon takes something off: a coupon below its
//! minimum, or with no line in its scope, is refused ([`CouponError::NotApplicable`] and
//! [`CouponError::BelowMinimumOrder`]) rather than used up for nothing. The terms change
//! by `CouponUpdated` (every term but the code); `CouponCreated` v1 events written before
//! scopes existed read as coupons for everything (`scope` defaults to empty).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CategoryId, CouponId, OrderId, ProductId, UserId};
use crate::money::{Money, MoneyError, MAX_TOTAL};

pub struct Coupon;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CouponDiscount {
    /// Basis points of the subtotal (1,000 = 10%).
    Percent {
        basis_points: u32,
    },
    Fixed {
        amount: Money,
    },
}

/// The most products, and the most categories, one scope names.
pub const MAX_SCOPE: usize = 100;

/// Which lines a coupon discounts: those of the products named, and those filed directly
/// in the categories named (not their subcategories). Both empty: every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CouponScope {
    #[serde(default)]
    pub product_ids: Vec<ProductId>,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
}

impl CouponScope {
    /// Whether the scope names nothing, so the coupon applies to every line.
    pub fn is_everything(&self) -> bool {
        self.product_ids.is_empty() && self.category_ids.is_empty()
    }

    /// Whether a line of `product`, filed in `category` (unknown: `None`), is in scope.
    pub fn covers(&self, product: ProductId, category: Option<CategoryId>) -> bool {
        self.is_everything()
            || self.product_ids.contains(&product)
            || category.is_some_and(|c| self.category_ids.contains(&c))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CouponTerms {
    pub code: String,
    pub discount: CouponDiscount,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: Option<u32>,
    pub max_uses_per_customer: Option<u32>,
    pub min_order: Option<Money>,
    /// Absent in events from before scopes: everything.
    #[serde(default)]
    pub scope: CouponScope,
}

/// One line of a cart or an order as a coupon sees it: its product, the product's category
/// when known, and the line's subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CouponLine {
    pub product_id: ProductId,
    pub category_id: Option<CategoryId>,
    pub subtotal: Money,
}

/// The lines' subtotal, and the part of it in `scope`; `None` for no lines or lines that
/// cannot be added up (mixed currencies, overflow).
pub fn subtotals(scope: &CouponScope, lines: &[CouponLine]) -> Option<(Money, Money)> {
    let currency = lines.first()?.subtotal.currency;
    let mut all = Money::zero(currency);
    let mut in_scope = Money::zero(currency);
    for l in lines {
        all = all.checked_add(l.subtotal).ok()?;
        if scope.covers(l.product_id, l.category_id) {
            in_scope = in_scope.checked_add(l.subtotal).ok()?;
        }
    }
    Some((all, in_scope))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponCommand {
    Create {
        coupon_id: CouponId,
        terms: CouponTerms,
    },
    /// The coupon's use by an order of `lines`: the minimum is checked against all of
    /// them, the discount taken off those in scope.
    Redeem {
        customer: UserId,
        order_id: OrderId,
        lines: Vec<CouponLine>,
        at: DateTime<Utc>,
    },
    /// The order was cancelled: its use of the coupon no longer counts.
    ReleaseRedemption {
        order_id: OrderId,
    },
    /// New terms; the code stays (the terms' `code` is ignored).
    Update {
        terms: CouponTerms,
    },
    Deactivate,
    Reactivate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CouponEvent {
    CouponCreated {
        coupon_id: CouponId,
        terms: CouponTerms,
    },
    CouponRedeemed {
        customer: UserId,
        order_id: OrderId,
        discount: Money,
        at: DateTime<Utc>,
    },
    CouponRedemptionReleased {
        customer: UserId,
        order_id: OrderId,
    },
    CouponDeactivated {},
    /// The terms from now on, whole (code included, unchanged).
    CouponUpdated {
        terms: CouponTerms,
    },
    CouponReactivated {},
}

crate::domain_event!(CouponEvent {
    CouponCreated,
    CouponRedeemed,
    CouponRedemptionReleased,
    CouponDeactivated,
    CouponUpdated,
    CouponReactivated,
});
impl Upcast for CouponEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CouponState {
    pub terms: Option<CouponTerms>,
    pub active: bool,
    pub redemptions: BTreeMap<OrderId, UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    #[error("the coupon already exists")]
    AlreadyCreated,
    #[error("no such coupon")]
    NotCreated,
    #[error("the coupon is no longer active")]
    Inactive,
    #[error("the coupon is not valid before {0}")]
    NotYetValid(DateTime<Utc>),
    #[error("the coupon expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("the coupon has been used its {0} times")]
    UsageLimitReached(u32),
    #[error("this customer has used the coupon its {0} times")]
    CustomerLimitReached(u32),
    #[error("the order must be at least {0}")]
    BelowMinimumOrder(Money),
    /// The coupon would take nothing off: no line is in its scope, or its amount is in
    /// another currency.
    #[error("{0}")]
    NotApplicable(String),
    /// A term the rules refuse, by the field that carries it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("money: {0}")]
    Money(#[from] MoneyError),
}

/// What `discount` takes off `subtotal`: never more than the subtotal.
pub fn discount_for(discount: &CouponDiscount, subtotal: Money) -> Result<Money, MoneyError> {
    match discount {
        CouponDiscount::Percent { basis_points } => subtotal.percent_bp(*basis_points),
        CouponDiscount::Fixed { amount } => amount.min(subtotal),
    }
}

/// What a coupon would take off a cart of `subtotal`, `in_scope` of it in the coupon's
/// scope, before it is redeemed, as a cart shows it: the coupon's kind and amount, its
/// minimum order (against the whole subtotal) and whether it is still active; zero when
/// it is inactive, below its minimum, or in another currency.
///
/// Its validity window and usage limits are left out on purpose: they depend on the clock
/// and on other customers, so a read model could not keep them current. Checkout redeems
/// the coupon, and `decide` checks everything then.
pub fn preview_discount(
    discount: &CouponDiscount,
    min_order: Option<Money>,
    active: bool,
    subtotal: Money,
    in_scope: Money,
) -> Money {
    let zero = Money::zero(subtotal.currency);
    if !active || in_scope.currency != subtotal.currency {
        return zero;
    }
    if let Some(min) = min_order {
        if min.currency != subtotal.currency || subtotal.amount < min.amount {
            return zero;
        }
    }
    discount_for(discount, in_scope).unwrap_or(zero)
}

impl CouponState {
    /// [`preview_discount`] of this coupon for `lines`; zero for one never created or no
    /// lines.
    pub fn preview(&self, lines: &[CouponLine], currency: crate::money::Currency) -> Money {
        let zero = Money::zero(currency);
        let Some(t) = &self.terms else {
            return zero;
        };
        match subtotals(&t.scope, lines) {
            Some((all, in_scope)) => {
                preview_discount(&t.discount, t.min_order, self.active, all, in_scope)
            }
            None => zero,
        }
    }

    /// How many orders use the coupon now (released redemptions no longer count).
    pub fn uses(&self) -> u32 {
        u32::try_from(self.redemptions.len()).unwrap_or(u32::MAX)
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> CouponError {
    CouponError::Invalid {
        field,
        message: message.into(),
    }
}

/// `terms` as the rules keep them (the code trimmed and upper-cased, the scope sorted and
/// without repeats), or the first term they refuse.
pub fn checked_terms(terms: &CouponTerms) -> Result<CouponTerms, CouponError> {
    let code = terms.code.trim().to_uppercase();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("code", "1 to 64 of A-Z, 0-9, '-' and '_'"));
    }
    match terms.discount {
        CouponDiscount::Percent { basis_points } if basis_points == 0 || basis_points > 10_000 => {
            return Err(invalid(
                "discount.basis_points",
                "a percentage is 1 to 10,000 basis points",
            ))
        }
        CouponDiscount::Fixed { amount } if amount.amount <= 0 => {
            return Err(invalid(
                "discount.amount",
                "a fixed discount must be positive",
            ))
        }
        CouponDiscount::Fixed { amount } if amount.amount > MAX_TOTAL => {
            return Err(invalid(
                "discount.amount",
                format!("a fixed discount is at most {MAX_TOTAL} minor units"),
            ))
        }
        _ => {}
    }
    if let Some(min) = terms.min_order {
        if !(0..=MAX_TOTAL).contains(&min.amount) {
            return Err(invalid(
                "min_order",
                format!("min_order is 0 to {MAX_TOTAL} minor units"),
            ));
        }
    }
    if let (Some(from), Some(until)) = (terms.valid_from, terms.valid_until) {
        if until <= from {
            return Err(invalid(
                "valid_until",
                "valid_until must be after valid_from",
            ));
        }
    }
    if terms.max_uses == Some(0) {
        return Err(invalid("max_uses", "at least 1, or absent for no limit"));
    }
    if terms.max_uses_per_customer == Some(0) {
        return Err(invalid(
            "max_uses_per_customer",
            "at least 1, or absent for no limit",
        ));
    }
    let mut scope = terms.scope.clone();
    scope.product_ids.sort();
    scope.product_ids.dedup();
    scope.category_ids.sort();
    scope.category_ids.dedup();
    if scope.product_ids.len() > MAX_SCOPE {
        return Err(invalid(
            "scope.product_ids",
            format!("at most {MAX_SCOPE} products"),
        ));
    }
    if scope.category_ids.len() > MAX_SCOPE {
        return Err(invalid(
            "scope.category_ids",
            format!("at most {MAX_SCOPE} categories"),
        ));
    }
    Ok(CouponTerms {
        code,
        scope,
        ..terms.clone()
    })
}

impl Aggregate for Coupon {
    const CATEGORY: &'static str = "coupon";
    type State = CouponState;
    type Command = CouponCommand;
    type Event = CouponEvent;
    type Error = CouponError;

    fn decide(s: &CouponState, cmd: &CouponCommand) -> Result<Vec<CouponEvent>, CouponError> {
        use CouponCommand as C;
        use CouponEvent as E;
        if let C::Create { coupon_id, terms } = cmd {
            if s.terms.is_some() {
                return Err(CouponError::AlreadyCreated);
            }
            return Ok(vec![E::CouponCreated {
                coupon_id: *coupon_id,
                terms: checked_terms(terms)?,
            }]);
        }
        let terms = s.terms.as_ref().ok_or(CouponError::NotCreated)?;
        Ok(match cmd {
            C::Create { .. } => unreachable!("handled above"),
            C::Redeem {
                customer,
                order_id,
                lines,
                at,
            } => {
                if s.redemptions.contains_key(order_id) {
                    return Ok(vec![]);
                }
                if !s.active {
                    return Err(CouponError::Inactive);
                }
                if let Some(from) = terms.valid_from.filter(|f| at < f) {
                    return Err(CouponError::NotYetValid(from));
                }
                if let Some(until) = terms.valid_until.filter(|u| at >= u) {
                    return Err(CouponError::Expired(until));
                }
                if let Some(max) = terms.max_uses.filter(|m| s.redemptions.len() as u32 >= *m) {
                    return Err(CouponError::UsageLimitReached(max));
                }
                let used = s.redemptions.values().filter(|c| *c == customer).count() as u32;
                if let Some(max) = terms.max_uses_per_customer.filter(|m| used >= *m) {
                    return Err(CouponError::CustomerLimitReached(max));
                }
                let (subtotal, in_scope) = subtotals(&terms.scope, lines).ok_or_else(|| {
                    CouponError::NotApplicable("the order's lines cannot be added up".into())
                })?;
                if let Some(min) = terms.min_order {
                    let short = subtotal.checked_sub(min).map_err(|_| {
                        CouponError::NotApplicable(format!(
                            "the coupon's minimum is in {}",
                            min.currency
                        ))
                    })?;
                    if short.amount < 0 {
                        return Err(CouponError::BelowMinimumOrder(min));
                    }
                }
                // A coupon that takes nothing off is not used: counting it would spend a
                // customer's (and the coupon's) use on an order it did not discount.
                let discount = discount_for(&terms.discount, in_scope).map_err(|_| {
                    CouponError::NotApplicable(
                        "the coupon's amount is in another currency than the order".into(),
                    )
                })?;
                if discount.amount <= 0 {
                    return Err(CouponError::NotApplicable(
                        "no line of the order is in the coupon's scope".into(),
                    ));
                }
                vec![E::CouponRedeemed {
                    customer: *customer,
                    order_id: *order_id,
                    discount,
                    at: *at,
                }]
            }
            C::ReleaseRedemption { order_id } => match s.redemptions.get(order_id) {
                Some(customer) => vec![E::CouponRedemptionReleased {
                    customer: *customer,
                    order_id: *order_id,
                }],
                None => vec![],
            },
            C::Update { terms: new } => {
                let new = checked_terms(&CouponTerms {
                    code: terms.code.clone(),
                    ..new.clone()
                })?;
                if &new == terms {
                    vec![]
                } else {
                    vec![E::CouponUpdated { terms: new }]
                }
            }
            C::Deactivate => {
                if s.active {
                    vec![E::CouponDeactivated {}]
                } else {
                    vec![]
                }
            }
            C::Reactivate => {
                if s.active {
                    vec![]
                } else {
                    vec![E::CouponReactivated {}]
                }
            }
        })
    }

    fn evolve(mut s: CouponState, event: &CouponEvent) -> CouponState {
        match event {
            CouponEvent::CouponCreated { terms, .. } => {
                s.terms = Some(terms.clone());
                s.active = true;
            }
            CouponEvent::CouponRedeemed {
                customer, order_id, ..
            } => {
                s.redemptions.insert(*order_id, *customer);
            }
            CouponEvent::CouponRedemptionReleased { order_id, .. } => {
                s.redemptions.remove(order_id);
            }
            CouponEvent::CouponDeactivated {} => s.active = false,
            CouponEvent::CouponUpdated { terms } => s.terms = Some(terms.clone()),
            CouponEvent::CouponReactivated {} => s.active = true,
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::USD)
    }

    const TEN_PERCENT: CouponDiscount = CouponDiscount::Percent {
        basis_points: 1_000,
    };

    #[test]
    fn the_preview_takes_the_coupons_share_of_the_subtotal() {
        assert_eq!(
            preview_discount(&TEN_PERCENT, None, true, usd(5_000), usd(5_000)),
            usd(500)
        );
        let fixed = CouponDiscount::Fixed { amount: usd(700) };
        assert_eq!(
            preview_discount(&fixed, None, true, usd(5_000), usd(5_000)),
            usd(700)
        );
        // Never more than the subtotal.
        assert_eq!(
            preview_discount(&fixed, None, true, usd(300), usd(300)),
            usd(300)
        );
    }

    #[test]
    fn the_preview_is_zero_when_the_coupon_would_be_refused() {
        // Inactive.
        assert_eq!(
            preview_discount(&TEN_PERCENT, None, false, usd(5_000), usd(5_000)),
            usd(0)
        );
        // Below the minimum order, and exactly at it.
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(5_001)), true, usd(5_000), usd(5_000)),
            usd(0)
        );
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(5_000)), true, usd(5_000), usd(5_000)),
            usd(500)
        );
        // A minimum or an amount in another currency.
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            preview_discount(
                &TEN_PERCENT,
                Some(Money::new(1, eur)),
                true,
                usd(5_000),
                usd(5_000)
            ),
            usd(0)
        );
        let fixed_eur = CouponDiscount::Fixed {
            amount: Money::new(700, eur),
        };
        assert_eq!(
            preview_discount(&fixed_eur, None, true, usd(5_000), usd(5_000)),
            usd(0)
        );
    }

    #[test]
    fn a_coupon_never_created_previews_nothing() {
        let line = CouponLine {
            product_id: ProductId::new(uuid::Uuid::from_u128(1)),
            category_id: None,
            subtotal: usd(5_000),
        };
        assert_eq!(
            CouponState::default().preview(&[line], Currency::USD),
            usd(0)
        );
    }

    #[test]
    fn the_preview_takes_its_share_of_the_lines_in_scope_only() {
        // Below the minimum on the whole subtotal: nothing.
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(6_000)), true, usd(5_000), usd(2_000)),
            usd(0)
        );
        // At it: a tenth of the 2,000 in scope.
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(5_000)), true, usd(5_000), usd(2_000)),
            usd(200)
        );
        let fixed = CouponDiscount::Fixed { amount: usd(700) };
        assert_eq!(
            preview_discount(&fixed, None, true, usd(5_000), usd(300)),
            usd(300)
        );
    }

    #[test]
    fn a_scope_covers_its_products_and_its_categories_lines() {
        let p = |n| ProductId::new(uuid::Uuid::from_u128(n));
        let c = |n| CategoryId::new(uuid::Uuid::from_u128(n));
        assert!(CouponScope::default().covers(p(1), None));
        let scope = CouponScope {
            product_ids: vec![p(1)],
            category_ids: vec![c(9)],
        };
        assert!(scope.covers(p(1), None));
        assert!(scope.covers(p(2), Some(c(9))));
        assert!(!scope.covers(p(2), Some(c(8))));
        assert!(!scope.covers(p(2), None));
        let line = |n, cat, amount| CouponLine {
            product_id: p(n),
            category_id: cat,
            subtotal: usd(amount),
        };
        assert_eq!(
            subtotals(
                &scope,
                &[
                    line(1, None, 100),
                    line(2, Some(c(9)), 20),
                    line(3, None, 3)
                ]
            ),
            Some((usd(123), usd(120)))
        );
    }
}
