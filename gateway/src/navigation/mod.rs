//! The storefront's menus over HTTP (issue 22 item 6): `GET /navigation/{menu}` for
//! anyone (a whole menu in one request), `PUT /navigation/{menu}` for staff, which replaces
//! its tree. The menus are `header`, `footer` and `mobile`.
//!
//! Reads fold the menu's stream on the write side, through the process's
//! [`Followed`](crate::followed::Followed) cache, forgotten whenever the stream changes.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers, the errors' mapping.
//! - [`views`]: [`MenuView`](views::MenuView), [`MenuItemView`](views::MenuItemView),
//!   [`LinkView`](views::LinkView) and [`MenuBody`](views::MenuBody).

pub mod routes;
pub mod views;

pub use routes::{router, NavigationApi};
