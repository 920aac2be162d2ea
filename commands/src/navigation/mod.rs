//! The storefront's menus (issue 22 item 6): staff replace a menu's tree of links; every
//! storefront reads it. One aggregate per menu (`navigation-header`, `-footer`,
//! `-mobile`), read whole from the write side.
//!
//! - [`menus`]: [`menu`], [`replace_menu`] (which checks that every linked category and
//!   product exists, on the write side).
//! - [`error`]: [`NavigationUseError`], at the bottom.

pub mod error;
pub mod menus;

pub use error::NavigationUseError;
pub use menus::{menu, menu_stream, replace_menu, MenuDecided};
