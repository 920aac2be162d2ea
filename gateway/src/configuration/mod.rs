//! The store's configuration keys over HTTP (issue 22 item 5): `GET /config` (staff) lists
//! every key of the registry with its value; `GET /config/{key}` reads one (anyone for a
//! public key, staff for the others); `PUT /config/{key}` (staff) sets it, checked against
//! the key's type. Unknown keys are 404.
//!
//! Reads fold the configuration stream on the write side, through the process's
//! [`Followed`](crate::followed::Followed) cache, forgotten whenever the stream changes.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers, the errors' mapping.
//! - [`views`]: [`ConfigEntryView`](views::ConfigEntryView) and [`ConfigBody`](views::ConfigBody).

pub mod routes;
pub mod views;

pub use routes::{router, ConfigApi};
