//! Lookup ids that are no personal data (ADR 0005): where a value must be found again by
//! itself (the stream that guards an e-mail's uniqueness), it is named by a keyed HMAC of
//! the value, never by the value or a plain hash of it, which anyone holding a list of
//! addresses could reverse.
//!
//! The HMAC's key is the data key of a reserved subject, [`LOOKUP_SUBJECT`]. So it is made
//! on first use, kept wrapped by the master key, cached, and re-wrapped by a rotation like
//! every data key: the ids stay the same across rotations, and every process with the
//! master key computes the same ones. It is never erased ([`DataKeys::erase`] refuses):
//! that would lose every claim at once. A person's lookups are given back by releasing
//! them (an erasure releases the e-mail's claim); the id itself stays in the log, and only
//! whoever holds the master key and the address can compute it again.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::cipher::DataKey;
use super::keys::{DataKeys, LOOKUP_SUBJECT};
use crate::store::StoreError;

/// Tags this use of HMAC, so the key used elsewhere would never give the same bytes.
const DOMAIN: &[u8] = b"um:lookup:1";

/// The key lookup ids are computed with. Never logged, never serialized.
#[derive(Clone)]
pub struct LookupKey(DataKey);

impl std::fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupKey(..)")
    }
}

impl LookupKey {
    /// The lookup key of `keys`' master key, made on first use.
    pub async fn of(keys: &DataKeys) -> Result<Self, StoreError> {
        match keys.for_sealing(LOOKUP_SUBJECT).await? {
            Some(key) => Ok(LookupKey(key)),
            None => Err(StoreError::Corrupt(format!(
                "the lookup key (subject {LOOKUP_SUBJECT}) was erased: no uniqueness claim \
                 can be found again"
            ))),
        }
    }

    pub fn from_key(key: DataKey) -> Self {
        LookupKey(key)
    }

    /// The id `value` of `kind` is looked up by: HMAC-SHA256 of the kind and the value, its
    /// first 16 bytes as a version 8 UUID. The kind is length-prefixed, so no split of the
    /// same text between kind and value gives the same id.
    pub fn id(&self, kind: &str, value: &str) -> Uuid {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.0.bytes()).expect("HMAC takes any key");
        mac.update(DOMAIN);
        mac.update(&(kind.len() as u64).to_be_bytes());
        mac.update(kind.as_bytes());
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> LookupKey {
        LookupKey::from_key(DataKey::from_bytes([byte; 32]))
    }

    /// The derivation is fixed: changing it would orphan every claim already made. The
    /// expected id was computed apart from this code (Python's `hmac`).
    #[test]
    fn an_id_is_the_keyed_hmac_of_the_kind_and_the_value() {
        let id = key(7).id("email", "ann@example.com");
        assert_eq!(id.to_string(), "6fd82c12-c963-894d-bdc9-e27214e4cfa1");
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(key(7).id("email", "ann@example.com"), id, "deterministic");
    }

    #[test]
    fn an_id_depends_on_the_key_the_kind_and_the_value() {
        let id = key(7).id("email", "ann@example.com");
        assert_ne!(key(8).id("email", "ann@example.com"), id);
        assert_ne!(key(7).id("sku", "ann@example.com"), id);
        assert_ne!(key(7).id("email", "bob@example.com"), id);
        // The boundary between kind and value is part of what is hashed.
        assert_ne!(key(7).id("ab", "c"), key(7).id("a", "bc"));
    }

    /// Without the key, a list of addresses does not give the ids: the plain UUIDv5 of the
    /// text (the old stream names) is not the id.
    #[test]
    fn an_id_is_not_a_plain_hash_of_the_value() {
        let plain = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"email:ann@example.com");
        assert_ne!(key(7).id("email", "ann@example.com"), plain);
        assert!(
            !format!("{:?}", key(7)).contains("7"),
            "the key does not print"
        );
    }

    #[test]
    fn the_lookup_subject_is_no_user_id() {
        assert_eq!(LOOKUP_SUBJECT.get_version_num(), 8);
    }
}
