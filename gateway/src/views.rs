//! The value shapes every resource's views share: money, postal addresses and pages; and
//! how a query field left blank reads ([`blank_as_none`]).
//!
//! A resource's own view lives beside its routes; what several resources show the same way
//! lives here, at the bottom of the gateway, so resources never import one another.
//!
//! Views declare their fields in alphabetical order. The answers were first built as
//! `serde_json::Value`s, whose objects list their keys sorted; declaring fields in that
//! order keeps every answer byte for byte what clients have always read. Each view's tests
//! hold it to that ([`keys_sorted`]).

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A query field that is blank reads as absent: what an HTML form sends for an empty input
/// or choice is no filter, for the console's forms and the API alike
/// (`#[serde(default, deserialize_with = "crate::views::blank_as_none")]`).
pub fn blank_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()))
}

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
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

impl Money {
    /// An amount of a read-model row, in the currency its row names.
    pub fn of(amount: i64, currency: &str) -> Self {
        Money {
            amount,
            currency: currency.to_owned(),
        }
    }
}

/// A postal address, as orders take and answer it. Read models store it as JSON of this
/// same shape, so it reads back from them as it went in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    pub city: String,
    /// ISO 3166-1 alpha-2, uppercase.
    pub country: String,
    pub line1: String,
    pub line2: Option<String>,
    pub name: Option<String>,
    pub postal_code: String,
    pub region: Option<String>,
}

impl From<domain::value::Address> for Address {
    fn from(a: domain::value::Address) -> Self {
        Address {
            city: a.city,
            country: a.country,
            line1: a.line1,
            line2: a.line2,
            name: a.name,
            postal_code: a.postal_code,
            region: a.region,
        }
    }
}

/// One SKU's stock in one warehouse, as the catalog's stock rows and inventory's answers
/// both show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WarehouseStock {
    /// `on_hand - reserved` in this warehouse.
    pub available: i64,
    pub on_hand: i64,
    /// Held here by orders not yet shipped or released.
    pub reserved: i64,
    /// The warehouse's code.
    pub warehouse: String,
}

impl WarehouseStock {
    /// Every warehouse of a SKU's write-side state, by code.
    pub fn of(state: &domain::inventory::InventoryState) -> Vec<WarehouseStock> {
        state
            .on_hand
            .iter()
            .map(|(w, &on_hand)| {
                let reserved = state.reserved_in(w);
                WarehouseStock {
                    available: on_hand - reserved,
                    on_hand,
                    reserved,
                    warehouse: w.clone(),
                }
            })
            .collect()
    }
}

/// Whether `view` serializes with every object's keys in sorted order, as the
/// `serde_json::Value` answers it replaced did (see the module's doc).
#[cfg(test)]
pub fn keys_sorted<T: Serialize>(view: &T) -> bool {
    let direct = serde_json::to_string(view).unwrap();
    let sorted = serde_json::to_value(view).unwrap().to_string();
    direct == sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_shapes_keep_their_keys_sorted() {
        assert!(keys_sorted(&Money::of(1999, "USD")));
        let address = domain::value::Address {
            name: Some("Ada".into()),
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            region: None,
            postal_code: "12345".into(),
            country: "US".into(),
        };
        let view = Address::from(address.clone());
        assert!(keys_sorted(&view));
        // What the write side answered: the domain's address as JSON.
        assert_eq!(
            serde_json::to_value(&view).unwrap(),
            serde_json::to_value(&address).unwrap()
        );
    }
}
