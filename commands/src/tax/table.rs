//! Reading and changing the store's tax table.

use domain::tax::{TaxCommand, TaxState, TaxTable, TaxZone, TAX_TABLE_ID};

use super::error::TaxUseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The table as a command left it.
#[derive(Debug, Clone)]
pub struct TaxDecided {
    pub table: TaxState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

fn stream() -> String {
    CommandHandler::<TaxTable>::stream_id(TAX_TABLE_ID)
}

/// The table now: every rate, and whether prices include tax.
pub async fn tax_table(handlers: &Handlers) -> Result<TaxState, TaxUseError> {
    let (table, _) = handlers
        .tax
        .load(&stream())
        .await
        .map_err(|e| TaxUseError::Failed(e.to_string()))?;
    Ok(table)
}

async fn decide(
    handlers: &Handlers,
    command: TaxCommand,
    meta: &CommandMeta,
) -> Result<TaxDecided, TaxUseError> {
    let handled = handlers
        .tax
        .handle(&stream(), command, meta.clone())
        .await?;
    Ok(TaxDecided {
        table: tax_table(handlers).await?,
        position: handled.position,
    })
}

/// Sets the rate of `zone` (parts per million), replacing the one it had. Setting the
/// same rate and name again appends nothing.
#[tracing::instrument(skip_all, err)]
pub async fn set_rate(
    handlers: &Handlers,
    zone: TaxZone,
    rate_ppm: u32,
    name: String,
    meta: &CommandMeta,
) -> Result<TaxDecided, TaxUseError> {
    let command = TaxCommand::SetRate {
        zone,
        rate_ppm,
        name,
    };
    decide(handlers, command, meta).await
}

/// Removes the rate of `zone`: addresses there fall back to their country's rate, or none.
#[tracing::instrument(skip_all, err)]
pub async fn remove_rate(
    handlers: &Handlers,
    zone: TaxZone,
    meta: &CommandMeta,
) -> Result<TaxDecided, TaxUseError> {
    decide(handlers, TaxCommand::RemoveRate { zone }, meta).await
}

/// Says whether the store's prices include tax. Orders placed before keep the way they
/// were taxed: each line records it.
#[tracing::instrument(skip_all, err)]
pub async fn set_prices_include_tax(
    handlers: &Handlers,
    include: bool,
    meta: &CommandMeta,
) -> Result<TaxDecided, TaxUseError> {
    decide(handlers, TaxCommand::SetPricesIncludeTax { include }, meta).await
}

/// How an order shipped to `address` is taxed now: the rate of its region, else of its
/// country, else none, and whether the store's prices include tax (ADR 0006).
pub async fn tax_terms(
    handlers: &Handlers,
    address: &domain::value::Address,
) -> Result<domain::order::TaxTerms, TaxUseError> {
    let table = tax_table(handlers).await?;
    Ok(domain::order::TaxTerms {
        rate_ppm: table.rate_for(address).rate_ppm,
        inclusive: table.prices_include_tax,
    })
}
