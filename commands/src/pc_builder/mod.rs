//! The PC builder's use cases (issue 24): create a build, set its parts, share it by a
//! link, and put the whole build in the caller's cart. Each takes the
//! [`Handlers`](crate::handlers::Handlers), typed input and the request's
//! [`CommandMeta`](crate::handler::CommandMeta), and answers the build with its
//! compatibility (or, for the cart, the cart) or a [`PcBuilderError`].
//!
//! # Layout
//!
//! - [`parts`]: the catalog's side of a build: each component's product, checked to exist,
//!   be on sale and be a part of its slot; and what a use case answers ([`BuildOutcome`]).
//! - [`builds`]: creating, changing and sharing a build; the build a share token names.
//! - [`cart`]: the build into the caller's cart, whole or not at all.
//! - [`error`]: [`PcBuilderError`], at the bottom.

pub mod builds;
pub mod cart;
pub mod error;
pub mod parts;

pub use builds::{create_build, set_components, share_build, shared_build, PC_BUILD_SHARE_KIND};
pub use cart::add_to_cart;
pub use error::PcBuilderError;
pub use parts::{BuildOutcome, PartFacts};
