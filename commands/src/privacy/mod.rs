//! Personal data, crypto-shredded (issue 20, ADR 0005): each data subject's personal fields
//! are sealed with a key of their own, and forgetting the person destroys the key.
//!
//! # Layout
//!
//! - `cipher`: the envelope a personal field is stored in, and key wrapping.
//! - `master`: the master key, from `MASTER_KEY` or the embedded default.
//! - `keys`: the data keys, made on first use, cached, erased, re-wrapped on rotation.
//! - `lookup`: the keyed HMAC that names what must be found by a personal value (an
//!   e-mail's uniqueness stream), under the data key of a reserved subject.
//! - `fields`: sealing and opening the declared personal fields of an event's data and
//!   metadata.
//! - `sealed`: the event store as the command side sees it, sealing and opening.

mod cipher;
mod fields;
mod keys;
mod lookup;
mod master;
mod sealed;

pub use cipher::{associated_data, open, seal, subject_of, CipherError, DataKey};
pub use fields::{
    as_erased, erased_subject, is_sealed, notice_erasure, open_data, open_event, open_events,
    open_metadata, seal_data, seal_event, seal_metadata, PrivacyError,
};
pub use keys::{DataKeys, KeyStatus, CACHE_TTL, LOOKUP_SUBJECT};
pub use lookup::LookupKey;
pub use master::{BadMasterKey, MasterKey};
pub use sealed::Sealed;
