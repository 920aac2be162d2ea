//! The catalog's use cases: creating categories and products with their uniqueness
//! claims, and changing or archiving a product under the vendor-ownership rule.
//!
//! - [`categories`]: [`create_category`], with its slug claim.
//! - [`products`]: [`create_product`] (SKU and slug claims, given back if the product is
//!   refused), [`update_product`], [`archive_product`], and [`add_variant`] with the
//!   variant's SKU claim.
//! - [`claims`]: the catalog's unique keys and the counted claim both use cases share.
//! - [`publishing`]: [`publish_product`], which puts a product on sale for staff and
//!   submits a vendor's draft for review, and [`unpublish_product`].
//! - [`images`]: [`add_image`], [`remove_image`].
//! - [`variants`]: [`create_variant`] (the SKU claimed, opening stock received),
//!   [`update_variant`], [`remove_variant`] (the SKU given back).
//! - [`categories`] also: [`change_category`] (rename, new slug, move without cycles).
//!
//! Each use case takes the [`Handlers`](crate::handlers::Handlers), typed input and the
//! command's metadata, and answers what it decided (the aggregate's state after it, the
//! events it appended, their position) or a typed error whose variants tell a rule's
//! refusal from a failure of the store.

pub mod categories;
pub mod claims;
pub mod images;
pub mod products;
pub mod publishing;
pub mod variants;

pub use categories::{
    change_category, create_category, CategoryChange, CategoryDecided, ChangeCategoryError,
    CreateCategoryError, NewCategory,
};
pub use images::{add_image, remove_image, ImageDecided, NewImage};
pub use products::{
    add_variant, archive_product, create_product, update_product, ChangeProductError,
    CreateProductError, NewProduct, ProductChange, ProductDecided,
};
pub use publishing::{publish_product, unpublish_product};
pub use variants::{
    create_variant, remove_variant, update_variant, NewVariant, VariantChange, VariantDecided,
};
