//! A product's variants as first-class parts of the catalog: each has its own SKU
//! (claimed like a product's, and given back when the variant is removed), its own price
//! in the product's currency, attributes, and stock of its own SKU, received through the
//! inventory's use case.

use domain::catalog::{CatalogError, ProductCommand, ProductEvent, Seller, Variant};
use domain::id::{ProductId, VariantId};
use domain::inventory::{Inventory, InventoryState};
use domain::money::Money;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::claims::{self, Claim, SKU};
use super::products::{add_variant, owned, product_stream, ChangeProductError};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::inventory::{receive_stock, StockError, StockReceipt};
use crate::store::Position;

/// A variant to add, with the units of its SKU received into the default warehouse.
#[derive(Debug, Clone)]
pub struct NewVariant {
    pub variant: Variant,
    /// 0 receives nothing.
    pub stock: u32,
}

/// The fields of a variant to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct VariantChange {
    pub name: Option<String>,
    /// In the product's currency.
    pub price: Option<Money>,
    /// Replaces the attributes.
    pub attributes: Option<Map<String, Value>>,
}

/// A variant as the use case left it, with its SKU's stock.
#[derive(Debug, Clone)]
pub struct VariantDecided {
    pub variant: Variant,
    /// The stock of the variant's SKU, summed over warehouses.
    pub stock: InventoryState,
    /// Events appended, the SKU's claim and the stock received included.
    pub appended: u64,
    /// Where the last command's events sit in `$all`.
    pub position: Option<Position>,
}

impl From<StockError> for ChangeProductError {
    fn from(e: StockError) -> Self {
        match e {
            StockError::Store(e) => ChangeProductError::Store(e),
            other => ChangeProductError::Failed(other.to_string()),
        }
    }
}

/// The variant `variant_id` of product `id` and its SKU's stock, as they stand now.
async fn variant_decided(
    h: &Handlers,
    id: ProductId,
    variant_id: VariantId,
    appended: u64,
    position: Option<Position>,
) -> Result<VariantDecided, ChangeProductError> {
    let (p, _) = h.products.load(&product_stream(id)).await?;
    let variant = p
        .created
        .and_then(|p| p.variants.into_iter().find(|v| v.variant_id == variant_id))
        .ok_or(ChangeProductError::Rejected(CatalogError::UnknownVariant(
            variant_id,
        )))?;
    let (stock, _) = h
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(&variant.sku))
        .await?;
    Ok(VariantDecided {
        variant,
        stock,
        appended,
        position,
    })
}

/// Adds a variant to a product as `seller`, its SKU claimed (see [`add_variant`]), then
/// receives its opening stock into the default warehouse.
#[tracing::instrument(skip_all, fields(product_id = %id, sku = %new.variant.sku))]
pub async fn create_variant(
    h: &Handlers,
    id: ProductId,
    new: NewVariant,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<VariantDecided, ChangeProductError> {
    let variant_id = new.variant.variant_id;
    let sku = new.variant.sku.clone();
    let added = add_variant(h, id, new.variant, seller, meta).await?;
    let (mut appended, mut position) = (added.appended, added.position);
    if new.stock > 0 {
        // A second command of the same request: its own id, the same correlation.
        let mut stock_meta = meta.clone();
        stock_meta.command_id = Uuid::new_v5(&meta.command_id, b"stock");
        let receipt = StockReceipt {
            sku,
            quantity: new.stock,
            warehouse: None,
        };
        let received = receive_stock(h, receipt, &stock_meta).await?;
        appended += received.appended;
        position = received.position.or(position);
    }
    variant_decided(h, id, variant_id, appended, position).await
}

/// Changes a variant's name, price or attributes, as `seller`.
#[tracing::instrument(skip_all, fields(product_id = %id, %variant_id))]
pub async fn update_variant(
    h: &Handlers,
    id: ProductId,
    variant_id: VariantId,
    change: VariantChange,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<VariantDecided, ChangeProductError> {
    owned(h, id, seller).await?;
    let command = ProductCommand::UpdateVariant {
        variant_id,
        name: change.name,
        price: change.price,
        attributes: change.attributes,
        at: meta.occurred_at,
    };
    let handled = h
        .products
        .handle(&product_stream(id), command, meta.clone())
        .await?;
    variant_decided(
        h,
        id,
        variant_id,
        handled.events.len() as u64,
        handled.position,
    )
    .await
}

/// Removes a variant as `seller` and gives its SKU back, so that another item may take
/// it. A variant with stock on hand or reserved is refused: its units would go with the
/// SKU to its next owner.
#[tracing::instrument(skip_all, fields(product_id = %id, %variant_id))]
pub async fn remove_variant(
    h: &Handlers,
    id: ProductId,
    variant_id: VariantId,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<Option<Position>, ChangeProductError> {
    let product = owned(h, id, seller).await?;
    if let Some(v) = product.variants.iter().find(|v| v.variant_id == variant_id) {
        let (stock, _) = h
            .inventory
            .load(&CommandHandler::<Inventory>::stream_id(&v.sku))
            .await?;
        if stock.on_hand_total() > 0 || stock.reserved() > 0 {
            return Err(ChangeProductError::VariantHasStock {
                sku: v.sku.as_str().to_owned(),
            });
        }
    }
    let command = ProductCommand::RemoveVariant {
        variant_id,
        at: meta.occurred_at,
    };
    let handled = h
        .products
        .handle(&product_stream(id), command, meta.clone())
        .await?;
    let released: Vec<Claim> = handled
        .events
        .iter()
        .filter_map(|e| match e {
            ProductEvent::VariantRemoved { sku, .. } => Some(Claim {
                kind: SKU,
                key: sku.as_str().to_owned(),
                appended: true,
            }),
            _ => None,
        })
        .collect();
    claims::release(h, &released, id.as_uuid(), meta).await;
    Ok(handled.position)
}
