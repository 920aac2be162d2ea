//! A coupon: a percentage or a fixed amount off, a validity window, usage limits overall
//! and per customer, and a minimum order. The code's uniqueness is the command side's job
//! (`commands::unique`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CouponId, OrderId, UserId};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CouponTerms {
    pub code: String,
    pub discount: CouponDiscount,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: Option<u32>,
    pub max_uses_per_customer: Option<u32>,
    pub min_order: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponCommand {
    Create {
        coupon_id: CouponId,
        terms: CouponTerms,
    },
    Redeem {
        customer: UserId,
        order_id: OrderId,
        subtotal: Money,
        at: DateTime<Utc>,
    },
    /// The order was cancelled: its use of the coupon no longer counts.
    ReleaseRedemption {
        order_id: OrderId,
    },
    Deactivate,
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
}

crate::domain_event!(CouponEvent {
    CouponCreated,
    CouponRedeemed,
    CouponRedemptionReleased,
    CouponDeactivated,
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
    #[error("{0}")]
    Invalid(String),
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

/// What a coupon would take off `subtotal` before it is redeemed, as a cart shows it: the
/// coupon's kind and amount, its minimum order and whether it is still active; zero when
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
) -> Money {
    let zero = Money::zero(subtotal.currency);
    if !active {
        return zero;
    }
    if let Some(min) = min_order {
        if min.currency != subtotal.currency || subtotal.amount < min.amount {
            return zero;
        }
    }
    discount_for(discount, subtotal).unwrap_or(zero)
}

impl CouponState {
    /// [`preview_discount`] of this coupon; zero for one never created.
    pub fn preview(&self, subtotal: Money) -> Money {
        match &self.terms {
            Some(t) => preview_discount(&t.discount, t.min_order, self.active, subtotal),
            None => Money::zero(subtotal.currency),
        }
    }
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
            let code = terms.code.trim().to_uppercase();
            if code.is_empty()
                || code.len() > 64
                || !code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CouponError::Invalid(
                    "code: 1 to 64 of A-Z, 0-9, '-' and '_'".into(),
                ));
            }
            match terms.discount {
                CouponDiscount::Percent { basis_points }
                    if basis_points == 0 || basis_points > 10_000 =>
                {
                    return Err(CouponError::Invalid(
                        "a percentage is 1 to 10,000 basis points".into(),
                    ))
                }
                CouponDiscount::Fixed { amount } if amount.amount <= 0 => {
                    return Err(CouponError::Invalid(
                        "a fixed discount must be positive".into(),
                    ))
                }
                CouponDiscount::Fixed { amount } if amount.amount > MAX_TOTAL => {
                    return Err(CouponError::Invalid(format!(
                        "a fixed discount is at most {MAX_TOTAL} minor units"
                    )))
                }
                _ => {}
            }
            if let Some(min) = terms.min_order {
                if !(0..=MAX_TOTAL).contains(&min.amount) {
                    return Err(CouponError::Invalid(format!(
                        "min_order is 0 to {MAX_TOTAL} minor units"
                    )));
                }
            }
            if let (Some(from), Some(until)) = (terms.valid_from, terms.valid_until) {
                if until <= from {
                    return Err(CouponError::Invalid(
                        "valid_until must be after valid_from".into(),
                    ));
                }
            }
            return Ok(vec![E::CouponCreated {
                coupon_id: *coupon_id,
                terms: CouponTerms {
                    code,
                    ..terms.clone()
                },
            }]);
        }
        let terms = s.terms.as_ref().ok_or(CouponError::NotCreated)?;
        Ok(match cmd {
            C::Create { .. } => unreachable!("handled above"),
            C::Redeem {
                customer,
                order_id,
                subtotal,
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
                if let Some(min) = terms.min_order {
                    if subtotal.checked_sub(min)?.amount < 0 {
                        return Err(CouponError::BelowMinimumOrder(min));
                    }
                }
                vec![E::CouponRedeemed {
                    customer: *customer,
                    order_id: *order_id,
                    discount: discount_for(&terms.discount, *subtotal)?,
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
            C::Deactivate => {
                if s.active {
                    vec![E::CouponDeactivated {}]
                } else {
                    vec![]
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
            preview_discount(&TEN_PERCENT, None, true, usd(5_000)),
            usd(500)
        );
        let fixed = CouponDiscount::Fixed { amount: usd(700) };
        assert_eq!(preview_discount(&fixed, None, true, usd(5_000)), usd(700));
        // Never more than the subtotal.
        assert_eq!(preview_discount(&fixed, None, true, usd(300)), usd(300));
    }

    #[test]
    fn the_preview_is_zero_when_the_coupon_would_be_refused() {
        // Inactive.
        assert_eq!(
            preview_discount(&TEN_PERCENT, None, false, usd(5_000)),
            usd(0)
        );
        // Below the minimum order, and exactly at it.
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(5_001)), true, usd(5_000)),
            usd(0)
        );
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(usd(5_000)), true, usd(5_000)),
            usd(500)
        );
        // A minimum or an amount in another currency.
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            preview_discount(&TEN_PERCENT, Some(Money::new(1, eur)), true, usd(5_000)),
            usd(0)
        );
        let fixed_eur = CouponDiscount::Fixed {
            amount: Money::new(700, eur),
        };
        assert_eq!(preview_discount(&fixed_eur, None, true, usd(5_000)), usd(0));
    }

    #[test]
    fn a_coupon_never_created_previews_nothing() {
        assert_eq!(CouponState::default().preview(usd(5_000)), usd(0));
    }
}
