//! The store's configuration keys (issue 22 item 5): typed feature flags and settings from
//! the registry `domain::configuration::REGISTRY`, set by staff. The values are one
//! aggregate in one stream, read whole from the write side.
//!
//! - [`values`]: [`configuration`], [`set_value`].
//! - [`error`]: [`ConfigUseError`], at the bottom.

pub mod error;
pub mod values;

pub use error::ConfigUseError;
pub use values::{config_stream, configuration, set_value, ConfigDecided};
