//! A coupon: a percentage or a fixed amount off, a validity window, usage limits overall
//! and per customer, and a minimum order. The code's uniqueness is the command side's job
//! (`commands::unique`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CouponId, OrderId, UserId};
use crate::money::{Money, MoneyError};

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
                _ => {}
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
