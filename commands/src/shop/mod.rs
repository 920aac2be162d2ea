//! The store's settings (issue 22 item 5): staff replace the settings document; every
//! storefront reads it. One aggregate in one stream (`domain::shop::STORE_SETTINGS_ID`),
//! read whole from the write side: what a read answers is what the next command decides on.
//!
//! - [`settings`]: [`store_settings`], [`replace_settings`].
//! - [`error`]: [`ShopError`], at the bottom.

pub mod error;
pub mod settings;

pub use error::ShopError;
pub use settings::{replace_settings, settings_stream, store_settings, ShopDecided};
