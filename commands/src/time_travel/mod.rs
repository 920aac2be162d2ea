//! Time travel (issue 25): an aggregate's state as of a version or a time, folded from its
//! stream with the domain's own `evolve`, so what staff and auditors see is what the
//! command side saw. `umctl state` and `umctl diff` print it; the console's state page and
//! stepper show it as JSON ([`debug_json`]). The aggregate is chosen by the stream's
//! category.
//!
//! Folding reads events as they are stored: a sealed personal field cannot be decoded by the
//! domain, so callers first read each one as its erasure placeholder
//! ([`crate::privacy::as_erased`]) or open it.

pub mod debug_json;

use chrono::{DateTime, Utc};
use domain::aggregate::{Aggregate, DomainEvent, EventDecodeError};
use domain::cart::Cart;
use domain::catalog::{Category, Product};
use domain::coupon::Coupon;
use domain::inventory::Inventory;
use domain::order::Order;
use domain::payment::Payment;
use domain::user::User;

use crate::store::{category_of, RecordedEvent};

/// Where in a stream to stop folding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Latest,
    /// Up to and including this revision.
    Version(u64),
    /// The events recorded at or before this time.
    Time(DateTime<Utc>),
}

#[derive(Debug, thiserror::Error)]
pub enum TimeTravelError {
    #[error("streams of category {0:?} are not an aggregate with a state")]
    NotAnAggregate(String),
    #[error("{stream} revision {revision}: {error}")]
    Undecodable {
        stream: String,
        revision: u64,
        error: EventDecodeError,
    },
    #[error("stream {stream:?} has no version {version} (its last is {last})")]
    NoSuchVersion {
        stream: String,
        version: u64,
        last: u64,
    },
    #[error("stream {0:?} had no events by then")]
    NothingYet(String),
}

/// Categories whose streams are aggregates the domain can fold: those [`state`] knows.
pub const AGGREGATES: [&str; 22] = [
    "user",
    "category",
    "product",
    "inventory",
    "cart",
    "coupon",
    "order",
    "payment",
    "session",
    "warehouse",
    "tax",
    "price_rule",
    "shop",
    "configuration",
    "navigation",
    "pc_build",
    "shipment",
    "vendor",
    "review",
    "shipping_rates",
    "returns",
    "vendor_ledger",
];

/// The events of a stream (all of them, in order) up to `as_of`; at least one.
pub fn upto(
    events: Vec<RecordedEvent>,
    as_of: AsOf,
    stream: &str,
) -> Result<Vec<RecordedEvent>, TimeTravelError> {
    let cut: Vec<RecordedEvent> = match as_of {
        AsOf::Latest => events,
        AsOf::Version(v) => {
            let last = events.last().map_or(0, |e| e.revision);
            if v > last {
                return Err(TimeTravelError::NoSuchVersion {
                    stream: stream.to_owned(),
                    version: v,
                    last,
                });
            }
            events.into_iter().filter(|e| e.revision <= v).collect()
        }
        AsOf::Time(t) => events.into_iter().filter(|e| e.recorded_at <= t).collect(),
    };
    if cut.is_empty() {
        return Err(TimeTravelError::NothingYet(stream.to_owned()));
    }
    Ok(cut)
}

/// The state of `stream` folded from `events` (from its first), as its `{:#?}` text; with
/// no events, the state before the first.
pub fn state(stream: &str, events: &[RecordedEvent]) -> Result<String, TimeTravelError> {
    fold_by_category(stream, events)
}

fn fold<A: Aggregate>(events: &[RecordedEvent]) -> Result<String, TimeTravelError>
where
    A::State: std::fmt::Debug,
{
    let mut state = A::State::default();
    for e in events {
        let event = A::Event::from_data(&e.event_type, e.schema_version, e.data.clone()).map_err(
            |error| TimeTravelError::Undecodable {
                stream: e.stream_id.clone(),
                revision: e.revision,
                error,
            },
        )?;
        state = A::evolve(state, &event);
    }
    Ok(format!("{state:#?}"))
}

fn fold_by_category(stream: &str, events: &[RecordedEvent]) -> Result<String, TimeTravelError> {
    match category_of(stream) {
        "user" => fold::<User>(events),
        "category" => fold::<Category>(events),
        "product" => fold::<Product>(events),
        "inventory" => fold::<Inventory>(events),
        "cart" => fold::<Cart>(events),
        "coupon" => fold::<Coupon>(events),
        "order" => fold::<Order>(events),
        "payment" => fold::<Payment>(events),
        "session" => fold::<domain::session::Session>(events),
        "warehouse" => fold::<domain::inventory::Warehouse>(events),
        "tax" => fold::<domain::tax::TaxTable>(events),
        "price_rule" => fold::<domain::pricing::PriceRule>(events),
        "shop" => fold::<domain::shop::Shop>(events),
        "configuration" => fold::<domain::configuration::Configuration>(events),
        "navigation" => fold::<domain::navigation::Menu>(events),
        "pc_build" => fold::<domain::pc_builder::PcBuild>(events),
        "shipment" => fold::<domain::shipping::Shipment>(events),
        "vendor" => fold::<domain::vendors::Vendor>(events),
        "review" => fold::<domain::reviews::Review>(events),
        "shipping_rates" => fold::<domain::shipping::ShippingRates>(events),
        "returns" => fold::<domain::returns::OrderReturns>(events),
        "vendor_ledger" => fold::<domain::ledger::VendorLedger>(events),
        other => Err(TimeTravelError::NotAnAggregate(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aggregate_listed_is_folded_and_nothing_else() {
        for category in AGGREGATES {
            let stream = format!("{category}-1");
            assert!(state(&stream, &[]).is_ok(), "{category}");
            let json = debug_json::parse(&state(&stream, &[]).unwrap());
            assert!(json.is_ok(), "{category}: {json:?}");
        }
        assert!(matches!(
            state("unique-1", &[]),
            Err(TimeTravelError::NotAnAggregate(_))
        ));
    }
}
