//! Reading and setting configuration values.

use domain::configuration::{ConfigCommand, ConfigState, Configuration, CONFIGURATION_ID};
use serde_json::Value;

use super::error::ConfigUseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The values as a command left them.
#[derive(Debug, Clone)]
pub struct ConfigDecided {
    pub state: ConfigState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

/// The id of the configuration stream.
pub fn config_stream() -> String {
    CommandHandler::<Configuration>::stream_id(CONFIGURATION_ID)
}

/// Every value staff set (keys never set hold their registry default).
pub async fn configuration(handlers: &Handlers) -> Result<ConfigState, ConfigUseError> {
    let (state, _) = handlers
        .configuration
        .load(&config_stream())
        .await
        .map_err(|e| ConfigUseError::Failed(e.to_string()))?;
    Ok(state)
}

/// Sets `key` to `value`, checked against the key's type. Setting what the key holds
/// already appends nothing.
#[tracing::instrument(skip_all, fields(key = %key), err)]
pub async fn set_value(
    handlers: &Handlers,
    key: String,
    value: Value,
    meta: &CommandMeta,
) -> Result<ConfigDecided, ConfigUseError> {
    let handled = handlers
        .configuration
        .handle(
            &config_stream(),
            ConfigCommand::SetValue { key, value },
            meta.clone(),
        )
        .await?;
    Ok(ConfigDecided {
        state: configuration(handlers).await?,
        position: handled.position,
    })
}
