//! What a cart or order line buys of a product: the variant it names, or the product
//! itself when it has none. A product with variants is bought as one of them (its own SKU
//! and price); a product without is bought as itself.

use super::product::ProductRecord;
use crate::id::VariantId;
use crate::money::Money;
use crate::value::Sku;

/// The thing a line buys: its variant (if any), SKU and unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub price: Money,
}

/// Why a line's variant does not fit its product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VariantRefusal {
    #[error("the product is sold as one of its variants: name one")]
    Required,
    #[error("the product has no such variant")]
    Unknown,
    #[error("the product has no variants: name none")]
    NoVariants,
}

impl VariantRefusal {
    /// The stable code a client reads.
    pub fn code(self) -> &'static str {
        match self {
            VariantRefusal::Required => "variant_required",
            VariantRefusal::Unknown => "unknown_variant",
            VariantRefusal::NoVariants => "product_has_no_variants",
        }
    }
}

impl ProductRecord {
    /// What a line of this product naming `variant` buys.
    pub fn offer(&self, variant: Option<VariantId>) -> Result<Offer, VariantRefusal> {
        match (variant, self.variants.is_empty()) {
            (None, true) => Ok(Offer {
                variant_id: None,
                sku: self.sku.clone(),
                price: self.price,
            }),
            (None, false) => Err(VariantRefusal::Required),
            (Some(_), true) => Err(VariantRefusal::NoVariants),
            (Some(id), false) => self
                .variants
                .iter()
                .find(|v| v.variant_id == id)
                .map(|v| Offer {
                    variant_id: Some(v.variant_id),
                    sku: v.sku.clone(),
                    price: v.price,
                })
                .ok_or(VariantRefusal::Unknown),
        }
    }
}
