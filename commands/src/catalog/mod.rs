//! The catalog's use cases: creating categories and products with their uniqueness
//! claims, and changing or archiving a product under the vendor-ownership rule.
//!
//! - [`categories`]: [`create_category`], with its slug claim.
//! - [`products`]: [`create_product`] (SKU and slug claims, given back if the product is
//!   refused), [`update_product`], [`archive_product`], and [`add_variant`] with the
//!   variant's SKU claim.
//! - [`claims`]: the catalog's unique keys and the counted claim both use cases share.
//!
//! Each use case takes the [`Handlers`](crate::handlers::Handlers), typed input and the
//! command's metadata, and answers what it decided (the aggregate's state after it, the
//! events it appended, their position) or a typed error whose variants tell a rule's
//! refusal from a failure of the store.

pub mod categories;
pub mod claims;
pub mod products;

pub use categories::{create_category, CategoryDecided, CreateCategoryError, NewCategory};
pub use products::{
    add_variant, archive_product, create_product, update_product, ChangeProductError,
    CreateProductError, NewProduct, ProductChange, ProductDecided,
};
