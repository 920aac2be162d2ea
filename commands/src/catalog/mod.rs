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
//!   [`reject_submission`] sends a vendor's submission back with a reason.
//! - [`sellers`] (issue 23): what a vendor may do now: a store not approved puts nothing
//!   new on sale, a trusted store's publish goes live, a vendor keeps only its own SKUs'
//!   stock ([`may_stock`]).
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
pub mod sellers;
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
pub use publishing::{publish_product, reject_submission, unpublish_product};
pub use sellers::{may_stock, SellerRefusal};
pub use variants::{
    create_variant, remove_variant, update_variant, NewVariant, VariantChange, VariantDecided,
};
