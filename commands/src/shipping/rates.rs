//! The store's shipping zones, methods and rates, and what shipping an order costs.
//!
//! The rates are one aggregate in one stream (`domain::shipping::rates`), read whole from
//! the write side like the tax table: a checkout needs them exact at its moment, and the
//! gateway caches them between changes. What an order weighs comes from the catalog: the
//! attribute `weight_grams` of a line's variant, else of its product (a whole number of
//! grams); a product without it weighs nothing to the rates.

use domain::catalog::ProductRecord;
use domain::id::{ProductId, VariantId};
use domain::money::Money;
use domain::shipping::{
    Consignment, Destination, Quote, QuoteError, RatesCommand, RatesError, RatesState,
    ShippingRates, ShippingZone, SHIPPING_RATES_ID,
};

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::pricing::product_on_sale;
use crate::store::{Position, StoreError};

/// The catalog attribute that holds a product's (or a variant's) weight in grams.
pub const WEIGHT_ATTRIBUTE: &str = "weight_grams";

/// Why a rates use case did not go through.
#[derive(Debug, thiserror::Error)]
pub enum RatesUseError {
    /// A field of a zone the rules refuse, named by its path.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no such shipping zone")]
    UnknownZone,
    #[error("{0}")]
    Full(String),
    /// No quote: an unknown method, one that does not serve the address, or an address
    /// no zone serves.
    #[error(transparent)]
    Quote(QuoteError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<RatesError>> for RatesUseError {
    fn from(e: CommandError<RatesError>) -> Self {
        match e {
            CommandError::Rejected(RatesError::Invalid { field, message }) => {
                RatesUseError::Invalid { field, message }
            }
            CommandError::Rejected(RatesError::UnknownZone(_)) => RatesUseError::UnknownZone,
            CommandError::Rejected(e @ RatesError::TooManyZones) => {
                RatesUseError::Full(e.to_string())
            }
            CommandError::Store(e) => RatesUseError::Store(e),
            other => RatesUseError::Failed(other.to_string()),
        }
    }
}

/// The rates as a command left them.
#[derive(Debug, Clone)]
pub struct RatesDecided {
    pub rates: RatesState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

/// The id of the rates stream.
pub fn rates_stream() -> String {
    CommandHandler::<ShippingRates>::stream_id(SHIPPING_RATES_ID)
}

/// Every zone with its methods and rates now.
pub async fn shipping_rates(handlers: &Handlers) -> Result<RatesState, RatesUseError> {
    let (rates, _) = handlers
        .shipping_rates
        .load(&rates_stream())
        .await
        .map_err(|e| RatesUseError::Failed(e.to_string()))?;
    Ok(rates)
}

async fn decide(
    handlers: &Handlers,
    command: RatesCommand,
    meta: &CommandMeta,
) -> Result<RatesDecided, RatesUseError> {
    let handled = handlers
        .shipping_rates
        .handle(&rates_stream(), command, meta.clone())
        .await?;
    Ok(RatesDecided {
        rates: shipping_rates(handlers).await?,
        position: handled.position,
    })
}

/// Sets a zone whole (staff): its areas, methods and rates, replacing the zone of the
/// same code. The same zone again appends nothing.
#[tracing::instrument(skip_all, fields(zone = %zone.code), err)]
pub async fn set_zone(
    handlers: &Handlers,
    zone: ShippingZone,
    meta: &CommandMeta,
) -> Result<RatesDecided, RatesUseError> {
    decide(handlers, RatesCommand::SetZone(Box::new(zone)), meta).await
}

/// Removes a zone: its areas are no longer served.
#[tracing::instrument(skip_all, err)]
pub async fn remove_zone(
    handlers: &Handlers,
    code: String,
    meta: &CommandMeta,
) -> Result<RatesDecided, RatesUseError> {
    decide(handlers, RatesCommand::RemoveZone { code }, meta).await
}

/// What one unit of `variant` (or the product) weighs: the variant's `weight_grams`,
/// else the product's, else nothing.
pub fn unit_weight(product: &ProductRecord, variant: Option<VariantId>) -> i64 {
    let grams = |attributes: &serde_json::Map<String, serde_json::Value>| {
        attributes
            .get(WEIGHT_ATTRIBUTE)
            .and_then(serde_json::Value::as_i64)
            .filter(|g| *g >= 0)
    };
    variant
        .and_then(|v| product.variants.iter().find(|x| x.variant_id == v))
        .and_then(|v| grams(&v.attributes))
        .or_else(|| grams(&product.attributes))
        .unwrap_or(0)
}

/// What `lines` (product, variant, quantity) weigh together, from the catalog now. A
/// product no longer on sale weighs nothing here: checkout refuses it on its own terms.
pub async fn weight_of(
    handlers: &Handlers,
    lines: Vec<(ProductId, Option<VariantId>, u32)>,
) -> Result<i64, RatesUseError> {
    let mut total: i64 = 0;
    for (product_id, variant_id, quantity) in lines {
        let product = product_on_sale(handlers, product_id.as_uuid())
            .await
            .map_err(|e| RatesUseError::Failed(e.to_string()))?;
        if let Some(p) = product {
            total = total
                .saturating_add(unit_weight(&p, variant_id).saturating_mul(i64::from(quantity)));
        }
    }
    Ok(total)
}

/// Every method that ships an order of `weight_grams` worth `value` to `to`, cheapest
/// first.
pub async fn quote(
    handlers: &Handlers,
    to: &Destination,
    weight_grams: i64,
    value: Money,
) -> Result<Vec<Quote>, RatesUseError> {
    let rates = shipping_rates(handlers).await?;
    Ok(rates.quotes(
        to,
        &Consignment {
            weight_grams,
            value,
        },
    ))
}

/// What checkout charges for shipping: the quote of `method`, else of the cheapest method
/// serving the address; `None` in a store without shipping zones (it ships free, as
/// before there were rates).
pub async fn charge(
    handlers: &Handlers,
    to: &Destination,
    weight_grams: i64,
    value: Money,
    method: Option<&str>,
) -> Result<Option<Quote>, RatesUseError> {
    let rates = shipping_rates(handlers).await?;
    rates
        .charge(
            to,
            &Consignment {
                weight_grams,
                value,
            },
            method,
        )
        .map_err(RatesUseError::Quote)
}
