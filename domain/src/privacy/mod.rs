//! Which fields of which events are personal data (DESIGN invariant 11, ADR 0005).
//!
//! A personal field is declared on the event's Rust type, where its schema is generated:
//!
//! ```ignore
//! #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
//! first_name: Option<String>,
//! ```
//!
//! ([`optional`], [`email`] and [`address`] write the declaration of the usual kinds.)
//!
//! `subject` says whose key seals it: `"$stream"` for the event's own stream (a user's
//! stream is its user), or a JSON pointer to the field of the event that holds the person's
//! id (an order's `/user_id`). `erased` is the value the field reads as once that key is
//! destroyed; it must be a valid value of the field's type, so an aggregate or a read model
//! still decodes the event, and shows the person as erased.
//!
//! The declaration travels into the committed JSON Schema (`schemas/events`), and the write
//! and read sides read it back from the code's schema at run time ([`declared`]): one
//! source. Top-level fields only: a nested value (an address) is sealed whole.
//!
//! # Layout
//!
//! - [`declaration`]: the declaration's vocabulary, which the events' types use.
//! - [`registry`]: every declaration in the code, by category and event type.

pub mod declaration;
pub mod registry;

pub use declaration::{
    address, email, erased_address, optional, personal_fields, BadDeclaration, PersonalField,
    Subject, KEYWORD, METADATA_FIELDS, PERSONS_STREAMS,
};
pub use registry::{declarations, declared, event_schemas, Declarations};
