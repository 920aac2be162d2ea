//! Reading and replacing the store's settings.

use domain::shop::{SettingsDraft, Shop, ShopCommand, ShopState, STORE_SETTINGS_ID};

use super::error::ShopError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The settings as a command left them.
#[derive(Debug, Clone)]
pub struct ShopDecided {
    pub state: ShopState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

/// The id of the settings stream.
pub fn settings_stream() -> String {
    CommandHandler::<Shop>::stream_id(STORE_SETTINGS_ID)
}

/// The settings now (the defaults until staff set them).
pub async fn store_settings(handlers: &Handlers) -> Result<ShopState, ShopError> {
    let (state, _) = handlers
        .shop
        .load(&settings_stream())
        .await
        .map_err(|e| ShopError::Failed(e.to_string()))?;
    Ok(state)
}

/// Replaces the whole settings document with `draft`, every field checked. The same
/// document again appends nothing.
#[tracing::instrument(skip_all, err)]
pub async fn replace_settings(
    handlers: &Handlers,
    draft: SettingsDraft,
    meta: &CommandMeta,
) -> Result<ShopDecided, ShopError> {
    let handled = handlers
        .shop
        .handle(
            &settings_stream(),
            ShopCommand::ReplaceSettings(draft),
            meta.clone(),
        )
        .await?;
    Ok(ShopDecided {
        state: store_settings(handlers).await?,
        position: handled.position,
    })
}
