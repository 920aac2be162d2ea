//! The value shapes every resource's views share: money and pages today; addresses as
//! more than one resource answers with them.
//!
//! A resource's own view lives beside its routes; what several resources show the same way
//! lives here, at the bottom of the gateway, so resources never import one another.

use serde::Serialize;
use utoipa::ToSchema;

/// `{"amount": 1999, "currency": "USD"}`: minor units and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

impl From<domain::money::Money> for Money {
    fn from(m: domain::money::Money) -> Self {
        Money {
            amount: m.amount,
            currency: m.currency.as_str().to_owned(),
        }
    }
}

/// One page of a listing: `items`, the `total` that match, and the `limit` and `offset`
/// that cut the page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}
