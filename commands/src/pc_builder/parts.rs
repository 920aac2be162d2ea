//! The catalog's side of a build: each component's product, checked to exist, be on sale
//! and be a part of the slot it was put in; and what a use case answers, the build with
//! its parts and their compatibility.
//!
//! The products are read from the write side (their streams), as checkout reads them: a
//! build is checked against the catalog as it stands, not as a read model last saw it.

use std::collections::BTreeMap;

use domain::catalog::{Product, ProductRecord, ProductStatus};
use domain::id::ProductId;
use domain::money::Money;
use domain::pc_builder::{
    compatibility, default_rules, part_slot, BuildRecord, Compatibility, Component,
};
use serde_json::{Map, Value};

use super::error::PcBuilderError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::store::Position;

/// What a build shows of one of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartFacts {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub price: Money,
    /// Still on sale: a part taken off sale since it was chosen stays in the build, and
    /// cannot go to the cart until it is replaced.
    pub on_sale: bool,
    pub attributes: Map<String, Value>,
}

impl From<&ProductRecord> for PartFacts {
    fn from(p: &ProductRecord) -> Self {
        PartFacts {
            product_id: p.product_id,
            sku: p.sku.as_str().to_owned(),
            name: p.name.clone(),
            price: p.price,
            on_sale: p.status == ProductStatus::Active,
            attributes: p.attributes.clone(),
        }
    }
}

/// A build after a use case: its parts as the catalog has them now, their compatibility
/// under the store's rules, the share token when this use case made one (shown this once),
/// and where the use case's last event sits in `$all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutcome {
    pub build: BuildRecord,
    pub parts: BTreeMap<ProductId, PartFacts>,
    pub compatibility: Compatibility,
    pub share_token: Option<String>,
    pub position: Option<Position>,
}

/// The product `id`, whatever its status; `None` if it was never created.
pub async fn product(
    handlers: &Handlers,
    id: ProductId,
) -> Result<Option<ProductRecord>, PcBuilderError> {
    let (p, _) = handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(id))
        .await
        .map_err(|e| PcBuilderError::Failed(format!("product {id}: {e}")))?;
    Ok(p.created)
}

/// Each component's product, refused by the component's index unless it exists, is on
/// sale and is a part of the component's slot (its `pc_slot` attribute).
pub async fn checked_parts(
    handlers: &Handlers,
    components: &[Component],
) -> Result<BTreeMap<ProductId, PartFacts>, PcBuilderError> {
    let mut parts = BTreeMap::new();
    for (i, c) in components.iter().enumerate() {
        let p = product(handlers, c.product_id).await?.ok_or_else(|| {
            PcBuilderError::invalid(format!("components[{i}].product_id"), "no such product")
        })?;
        if p.status != ProductStatus::Active {
            return Err(PcBuilderError::invalid(
                format!("components[{i}].product_id"),
                "the product is not on sale",
            ));
        }
        match part_slot(&p.attributes) {
            Some(slot) if slot == c.slot => {}
            Some(slot) => {
                return Err(PcBuilderError::invalid(
                    format!("components[{i}].slot"),
                    format!(
                        "the product is a {} part, not a {} part",
                        slot.as_str(),
                        c.slot.as_str()
                    ),
                ))
            }
            None => {
                return Err(PcBuilderError::invalid(
                    format!("components[{i}].product_id"),
                    "the product is not a PC part (it has no `pc_slot` attribute)",
                ))
            }
        }
        parts.insert(p.product_id, PartFacts::from(&p));
    }
    Ok(parts)
}

/// The build with its parts as the catalog has them now (a product gone since is left
/// out of `parts`, and the rules warn they could not check it) and their compatibility.
pub async fn outcome(
    handlers: &Handlers,
    build: BuildRecord,
    share_token: Option<String>,
    positions: &[Option<Position>],
) -> Result<BuildOutcome, PcBuilderError> {
    let mut parts = BTreeMap::new();
    for c in &build.components {
        if let Some(p) = product(handlers, c.product_id).await? {
            parts.insert(p.product_id, PartFacts::from(&p));
        }
    }
    let compatibility = compatibility(&default_rules(), &build.components, |id| {
        parts.get(&id).map(|p| p.attributes.clone())
    });
    Ok(BuildOutcome {
        build,
        parts,
        compatibility,
        share_token,
        position: positions.iter().flatten().max().copied(),
    })
}
