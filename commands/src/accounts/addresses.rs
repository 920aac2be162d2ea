//! An account's addresses: add, replace, remove (at most `MAX_ADDRESSES`).

use domain::user::UserCommand;
use domain::value::Address;
use uuid::Uuid;

use crate::accounts::account::{self, AccountError};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::store::Position;

/// The address a command named, and where its events sit in `$all`.
#[derive(Debug, Clone, Copy)]
pub struct AddressChanged {
    pub address_id: Uuid,
    pub position: Option<Position>,
}

/// Adds an address to `user_id`. Its id derives from the command id, so a retried
/// request names the same address and adds nothing twice.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn add_address(
    handlers: &Handlers,
    user_id: Uuid,
    label: Option<String>,
    address: Address,
    meta: CommandMeta,
) -> Result<AddressChanged, AccountError> {
    let address_id = Uuid::new_v5(&meta.command_id, b"address");
    let command = UserCommand::AddAddress {
        address_id: address_id.into(),
        label,
        address,
    };
    let handled = handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await?;
    Ok(AddressChanged {
        address_id,
        position: handled.position,
    })
}

/// Replaces address `address_id` of `user_id`.
#[tracing::instrument(skip_all, fields(%user_id, %address_id))]
pub async fn update_address(
    handlers: &Handlers,
    user_id: Uuid,
    address_id: Uuid,
    label: Option<String>,
    address: Address,
    meta: CommandMeta,
) -> Result<AddressChanged, AccountError> {
    let command = UserCommand::UpdateAddress {
        address_id: address_id.into(),
        label,
        address,
    };
    let handled = handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await?;
    Ok(AddressChanged {
        address_id,
        position: handled.position,
    })
}

/// Removes address `address_id` of `user_id`.
#[tracing::instrument(skip_all, fields(%user_id, %address_id))]
pub async fn remove_address(
    handlers: &Handlers,
    user_id: Uuid,
    address_id: Uuid,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    let command = UserCommand::RemoveAddress {
        address_id: address_id.into(),
    };
    Ok(handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await?
        .position)
}
