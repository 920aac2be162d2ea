//! The tax table's use cases (issue 21, ADR 0006): staff set and remove the rate of a zone
//! (a country, or one of its regions) and say whether the store's prices include tax;
//! checkout reads the table to tax each order line.
//!
//! The table is one aggregate in one stream (`domain::tax::TAX_TABLE_ID`), small and read
//! whole, so [`tax_table`] answers it from the write side: what staff read is what the next
//! checkout applies, with no read model to wait for.
//!
//! - [`table`]: [`tax_table`], [`set_rate`], [`remove_rate`], [`set_prices_include_tax`],
//!   and [`tax_terms`], how checkout taxes an order shipped to an address.
//! - [`error`]: [`TaxUseError`], at the bottom.

pub mod error;
pub mod table;

pub use error::TaxUseError;
pub use table::{remove_rate, set_prices_include_tax, set_rate, tax_table, tax_terms, TaxDecided};
