//! Warehouses as staff create and close them, and the one question every stock movement
//! asks of them: which warehouse, if any, has this code ([`find_warehouse`])?
//!
//! A warehouse's code is unique on the write side (invariant 7): it is claimed for the
//! warehouse's id before the warehouse is created, and given back if the creation is
//! refused. The claim is also how a code is found again: its owner is the warehouse's id,
//! the stream `warehouse-<id>`.

use domain::id::WarehouseId;
use domain::inventory::warehouse::warehouse_code;
use domain::inventory::{
    CreateWarehouse, Warehouse, WarehouseCommand, WarehouseError, WarehouseState,
};

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};
use crate::unique::{self, Kind, UniqueError};

/// A warehouse's code.
pub const WAREHOUSE_CODE: Kind = Kind::public("warehouse_code");

/// A warehouse to create; its id is the caller's (random for a request).
#[derive(Debug, Clone)]
pub struct NewWarehouse {
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub name: String,
    pub country: Option<String>,
    pub region: Option<String>,
    /// 0 when absent.
    pub priority: Option<i32>,
}

/// A warehouse as the command left it.
#[derive(Debug, Clone)]
pub struct WarehouseDecided {
    pub state: WarehouseState,
    pub appended: u64,
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum WarehouseUseError {
    #[error("warehouse code {code:?} is already used")]
    CodeTaken { code: String },
    #[error("no warehouse has code {code:?}")]
    NotFound { code: String },
    /// The warehouse aggregate refuses it (a bad code, name, country or priority).
    #[error(transparent)]
    Rejected(WarehouseError),
    #[error(transparent)]
    Store(StoreError),
    /// The command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<WarehouseError>> for WarehouseUseError {
    fn from(e: CommandError<WarehouseError>) -> Self {
        match e {
            CommandError::Rejected(e) => WarehouseUseError::Rejected(e),
            CommandError::Store(e) => WarehouseUseError::Store(e),
            other => WarehouseUseError::Failed(other.to_string()),
        }
    }
}

impl From<UniqueError> for WarehouseUseError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { key, .. } => WarehouseUseError::CodeTaken { code: key },
            UniqueError::Store(e) => WarehouseUseError::Store(e),
            other => WarehouseUseError::Failed(other.to_string()),
        }
    }
}

/// The stream of the warehouse whose code is `code`, if one was created with it.
async fn stream_of(h: &Handlers, code: &str) -> Result<Option<String>, StoreError> {
    if warehouse_code(code).is_err() {
        return Ok(None);
    }
    Ok(unique::owner_of(h, WAREHOUSE_CODE, code)
        .await?
        .map(|id| CommandHandler::<Warehouse>::stream_id(WarehouseId::new(id))))
}

/// The warehouse whose code is `code`, if one was created with it.
pub async fn find_warehouse(
    h: &Handlers,
    code: &str,
) -> Result<Option<WarehouseState>, WarehouseUseError> {
    let Some(stream) = stream_of(h, code).await? else {
        return Ok(None);
    };
    let (state, _) = h.warehouses.load(&stream).await?;
    Ok(state.warehouse_id.is_some().then_some(state))
}

/// Creates a warehouse with its code claimed.
#[tracing::instrument(skip_all, fields(code = %new.code))]
pub async fn create_warehouse(
    h: &Handlers,
    new: NewWarehouse,
    meta: &CommandMeta,
) -> Result<WarehouseDecided, WarehouseUseError> {
    // A malformed code is refused before it is claimed: the claim's event would keep it.
    let code = warehouse_code(&new.code).map_err(|e| {
        WarehouseUseError::Rejected(WarehouseError::Invalid {
            field: e.field,
            reason: e.message,
        })
    })?;
    let owner = new.warehouse_id.as_uuid();
    unique::claim(h, WAREHOUSE_CODE, &code, owner, meta).await?;
    let command = WarehouseCommand::Create(CreateWarehouse {
        warehouse_id: new.warehouse_id,
        code: code.clone(),
        name: new.name,
        country: new.country,
        region: new.region,
        priority: new.priority.unwrap_or(0),
    });
    let stream = CommandHandler::<Warehouse>::stream_id(new.warehouse_id);
    let handled = match h.warehouses.handle(&stream, command, meta.clone()).await {
        Ok(handled) => handled,
        Err(e) => {
            if let Err(release) = unique::release(h, WAREHOUSE_CODE, &code, owner, meta).await {
                tracing::warn!(error = %release, %code, "a refused warehouse kept its code");
            }
            return Err(e.into());
        }
    };
    let (state, _) = h.warehouses.load(&stream).await?;
    Ok(WarehouseDecided {
        state,
        appended: 1 + handled.events.len() as u64,
        position: handled.position,
    })
}

/// Stops receipts into the warehouse `code`; its stock stays where it is and can still be
/// adjusted or moved out. The code stays its own.
#[tracing::instrument(skip_all, fields(%code))]
pub async fn deactivate_warehouse(
    h: &Handlers,
    code: &str,
    meta: &CommandMeta,
) -> Result<WarehouseDecided, WarehouseUseError> {
    let not_found = || WarehouseUseError::NotFound { code: code.into() };
    let stream = stream_of(h, code).await?.ok_or_else(not_found)?;
    let handled = h
        .warehouses
        .handle(&stream, WarehouseCommand::Deactivate, meta.clone())
        .await
        .map_err(|e| match e {
            CommandError::Rejected(WarehouseError::NotCreated) => not_found(),
            e => e.into(),
        })?;
    let (state, _) = h.warehouses.load(&stream).await?;
    Ok(WarehouseDecided {
        state,
        appended: handled.events.len() as u64,
        position: handled.position,
    })
}

impl From<StoreError> for WarehouseUseError {
    fn from(e: StoreError) -> Self {
        WarehouseUseError::Store(e)
    }
}
