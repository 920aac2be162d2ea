//! The catalog: categories (a tree) and products with variants, attributes, images and an
//! SEO slug. Uniqueness of SKUs and slugs across the catalog is the command side's job
//! (`commands::unique`); these aggregates keep each product and category consistent.

mod category;
mod offer;
mod product;
mod rules;

pub use category::*;
pub use offer::{Offer, VariantRefusal};
pub use product::*;
pub use rules::{
    CatalogError, MAX_ALT, MAX_ATTRIBUTES, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE,
    MAX_CATEGORY_DEPTH, MAX_DESCRIPTION, MAX_IMAGES, MAX_IMAGE_POSITION, MAX_META_DESCRIPTION,
    MAX_META_TITLE, MAX_NAME, MAX_URL, MAX_VARIANTS,
};
