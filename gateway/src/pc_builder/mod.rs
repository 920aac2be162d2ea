//! The PC builder over HTTP (issue 24): builds (`/pc-builds`), their parts and
//! compatibility, share links and the cart; the rule set and the parts that fit a build
//! (`/pc-builder`).
//!
//! Commands call one use case of `commands::pc_builder` and answer the build as the write
//! side holds it, with its compatibility and `X-Consistency-Token`; reads come from the
//! `pc_builder` read model, waiting for that token when sent. Compatibility is never
//! stored: every answer runs the pure check of `domain::pc_builder` over the parts'
//! attributes, so the rule set is the only place a rule lives.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the build handlers, and the mapping
//!   of `commands::pc_builder`'s errors to problems.
//! - [`parts`]: the rule set and the compatible parts of a slot.
//! - [`read_model`]: what the reads take from `pc_builder.*`.
//! - [`views`]: the build, its components and compatibility, a part, the rule set, and
//!   the request bodies; built from the write side and from the read model.

pub mod parts;
pub mod read_model;
pub mod routes;
pub mod views;

pub use routes::{router, PcBuilderApi};
