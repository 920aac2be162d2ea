//! [`CouponView`], the coupon as staff see it, built `From` the write side's state (a
//! command's answer) and `From` the read model's row (a query's); and [`CouponBody`], the
//! terms staff send.

use chrono::{DateTime, Utc};
use commands::coupons::CouponDecided;
use domain::coupon::{CouponDiscount, CouponScope, CouponTerms};
use domain::id::{CategoryId, ProductId};
use domain::money::Money as DomainMoney;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::read_model::CouponRow;
use crate::views::Money;

/// What a coupon takes off: `{"kind": "percent", "basis_points": 1000}` (10%) or
/// `{"kind": "fixed", "amount": {"amount": 500, "currency": "USD"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_points: Option<u32>,
    /// `percent` or `fixed`.
    pub kind: String,
}

/// The lines a coupon discounts: those of `product_ids`, and those filed directly in
/// `category_ids`. Both empty: every line.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeView {
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    pub product_ids: Vec<Uuid>,
}

/// A coupon: its terms, whether it can be used, and its use so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponView {
    pub active: bool,
    pub code: String,
    pub discount: DiscountView,
    pub id: Uuid,
    /// Orders that may use it in all; null: no limit.
    pub max_uses: Option<i64>,
    /// Orders one customer may use it for; null: no limit.
    pub max_uses_per_customer: Option<i64>,
    /// The smallest order subtotal (all lines, before the discount) it applies to.
    pub min_order: Option<Money>,
    /// `max_uses - uses`; null: no limit.
    pub remaining: Option<i64>,
    pub scope: ScopeView,
    /// Orders using it now: placed with it and not cancelled.
    pub uses: i64,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl CouponView {
    fn remaining(max_uses: Option<i64>, uses: i64) -> Option<i64> {
        max_uses.map(|m| (m - uses).max(0))
    }
}

impl From<&CouponDiscount> for DiscountView {
    fn from(d: &CouponDiscount) -> Self {
        match d {
            CouponDiscount::Percent { basis_points } => DiscountView {
                amount: None,
                basis_points: Some(*basis_points),
                kind: "percent".into(),
            },
            CouponDiscount::Fixed { amount } => DiscountView {
                amount: Some((*amount).into()),
                basis_points: None,
                kind: "fixed".into(),
            },
        }
    }
}

impl From<&CouponDecided> for CouponView {
    fn from(d: &CouponDecided) -> Self {
        let uses = i64::from(d.state.uses());
        let terms = d.state.terms.as_ref();
        let max_uses = terms.and_then(|t| t.max_uses).map(i64::from);
        CouponView {
            active: d.state.active,
            code: terms.map(|t| t.code.clone()).unwrap_or_default(),
            discount: terms.map_or(
                DiscountView {
                    amount: None,
                    basis_points: None,
                    kind: String::new(),
                },
                |t| (&t.discount).into(),
            ),
            id: d.coupon_id,
            max_uses,
            max_uses_per_customer: terms.and_then(|t| t.max_uses_per_customer).map(i64::from),
            min_order: terms.and_then(|t| t.min_order).map(Money::from),
            remaining: CouponView::remaining(max_uses, uses),
            scope: terms.map_or_else(ScopeView::default, |t| ScopeView {
                category_ids: t.scope.category_ids.iter().map(|c| c.as_uuid()).collect(),
                product_ids: t.scope.product_ids.iter().map(|p| p.as_uuid()).collect(),
            }),
            uses,
            valid_from: terms.and_then(|t| t.valid_from),
            valid_until: terms.and_then(|t| t.valid_until),
        }
    }
}

impl From<CouponRow> for CouponView {
    fn from(r: CouponRow) -> Self {
        let max_uses = r.max_uses.map(i64::from);
        let uses = i64::from(r.uses);
        let currency = r.currency.as_deref().unwrap_or("").trim().to_owned();
        CouponView {
            active: r.active,
            code: r.code,
            discount: DiscountView {
                amount: (r.kind == "fixed").then(|| Money::of(r.amount.unwrap_or(0), &currency)),
                basis_points: r.basis_points.map(|b| b.max(0) as u32),
                kind: r.kind,
            },
            id: r.coupon_id,
            max_uses,
            max_uses_per_customer: r.max_uses_per_customer.map(i64::from),
            min_order: r
                .min_order
                .map(|m| Money::of(m, r.min_order_currency.as_deref().unwrap_or("").trim())),
            remaining: CouponView::remaining(max_uses, uses),
            scope: ScopeView {
                category_ids: r.category_ids,
                product_ids: r.product_ids,
            },
            uses,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
        }
    }
}

/// What a coupon takes off, as sent: a percentage in basis points (1 to 10,000; 1,000 =
/// 10%) or a fixed amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscountBody {
    Percent {
        basis_points: u32,
    },
    Fixed {
        #[schema(value_type = Money)]
        amount: DomainMoney,
    },
}

/// A coupon's terms. On `PUT` the `code` may be left out; it cannot change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponBody {
    /// 1 to 64 of A-Z, 0-9, `-` and `_` (any case; stored upper case).
    pub code: Option<String>,
    pub discount: DiscountBody,
    pub valid_from: Option<DateTime<Utc>>,
    /// After `valid_from`.
    pub valid_until: Option<DateTime<Utc>>,
    /// At least 1; absent: no limit.
    pub max_uses: Option<u32>,
    /// At least 1; absent: no limit.
    pub max_uses_per_customer: Option<u32>,
    /// The smallest order subtotal it applies to.
    #[schema(value_type = Option<Money>)]
    pub min_order: Option<DomainMoney>,
    /// Absent: every line.
    #[serde(default)]
    pub scope: ScopeView,
}

impl CouponBody {
    /// The terms, under `code`.
    pub fn into_terms(self, code: String) -> CouponTerms {
        CouponTerms {
            code,
            discount: match self.discount {
                DiscountBody::Percent { basis_points } => CouponDiscount::Percent { basis_points },
                DiscountBody::Fixed { amount } => CouponDiscount::Fixed { amount },
            },
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            max_uses: self.max_uses,
            max_uses_per_customer: self.max_uses_per_customer,
            min_order: self.min_order,
            scope: CouponScope {
                product_ids: self
                    .scope
                    .product_ids
                    .into_iter()
                    .map(ProductId::new)
                    .collect(),
                category_ids: self
                    .scope
                    .category_ids
                    .into_iter()
                    .map(CategoryId::new)
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys_sorted;

    #[test]
    fn a_coupon_view_lists_its_keys_in_order() {
        let view = CouponView {
            active: true,
            code: "SAVE10".into(),
            discount: DiscountView {
                amount: Some(Money::of(500, "USD")),
                basis_points: None,
                kind: "fixed".into(),
            },
            id: Uuid::nil(),
            max_uses: Some(10),
            max_uses_per_customer: None,
            min_order: Some(Money::of(1000, "USD")),
            remaining: Some(7),
            scope: ScopeView::default(),
            uses: 3,
            valid_from: None,
            valid_until: None,
        };
        assert!(keys_sorted(&view));
    }
}
