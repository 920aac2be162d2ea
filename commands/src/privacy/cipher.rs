//! The envelope a personal field is stored in (ADR 0005): the field's JSON, encrypted with
//! its subject's data key under XChaCha20-Poly1305, as one string:
//!
//! `um:enc:1:<subject uuid>:<base64url(nonce ‖ ciphertext ‖ tag)>`
//!
//! A string whatever the field's type, so an event stays a JSON object of the same keys.
//! The subject is in clear: a reader must know whose key opens it, and an id is no personal
//! data once the key is gone. The associated data is the event id and the field's path, so
//! a ciphertext copied into another event or field does not open.
//!
//! The nonce is synthetic: an HMAC, under the data key, of the associated data and the
//! plaintext. So a retried command seals its events to the same bytes (the store sees the
//! same append again), while any other value or place gets a nonce of its own; equal
//! plaintexts are linkable only within one field of one event, which is one value.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

const PREFIX: &str = "um:enc:1:";
const NONCE: usize = 24;

/// A data subject's 256-bit key. Never logged, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        DataKey(rand::random())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Why an envelope did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("not an envelope of this engine")]
    NotAnEnvelope,
    /// The key is not the one it was sealed with, or the envelope or its context (event id,
    /// field) was altered.
    #[error("the envelope does not open with this key in this place")]
    Forged,
}

/// Where a field sits, bound into its ciphertext.
pub fn associated_data(event_id: Uuid, path: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + path.len());
    aad.extend_from_slice(event_id.as_bytes());
    aad.extend_from_slice(path.as_bytes());
    aad
}

/// `value`, sealed for `subject` with `key`, bound to `aad`.
pub fn seal(key: &DataKey, subject: Uuid, aad: &[u8], value: &Value) -> String {
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let plaintext = serde_json::to_vec(value).expect("a JSON value serializes");
    let nonce = synthetic_nonce(key, aad, &plaintext);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
    let mut body = Vec::with_capacity(NONCE + sealed.len());
    body.extend_from_slice(&nonce);
    body.extend_from_slice(&sealed);
    format!("{PREFIX}{subject}:{}", URL_SAFE_NO_PAD.encode(body))
}

fn synthetic_nonce(key: &DataKey, aad: &[u8], plaintext: &[u8]) -> [u8; NONCE] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.bytes()).expect("HMAC takes any key");
    mac.update(b"um:nonce:1");
    mac.update(&(aad.len() as u64).to_be_bytes());
    mac.update(aad);
    mac.update(plaintext);
    let digest = mac.finalize().into_bytes();
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(&digest[..NONCE]);
    nonce
}

/// The subject an envelope was sealed for, if `value` is an envelope.
pub fn subject_of(value: &Value) -> Option<Uuid> {
    let (subject, _) = split(value.as_str()?)?;
    Some(subject)
}

fn split(envelope: &str) -> Option<(Uuid, &str)> {
    let rest = envelope.strip_prefix(PREFIX)?;
    let (subject, body) = rest.split_once(':')?;
    Some((subject.parse().ok()?, body))
}

/// The value sealed in `envelope`, with the key and the place it was sealed with.
pub fn open(key: &DataKey, envelope: &str, aad: &[u8]) -> Result<Value, CipherError> {
    let (_, body) = split(envelope).ok_or(CipherError::NotAnEnvelope)?;
    let body = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CipherError::NotAnEnvelope)?;
    if body.len() < NONCE {
        return Err(CipherError::NotAnEnvelope);
    }
    let (nonce, sealed) = body.split_at(NONCE);
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let plaintext = cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
        .map_err(|_| CipherError::Forged)?;
    serde_json::from_slice(&plaintext).map_err(|_| CipherError::Forged)
}

/// Wraps a data key under a key-encrypting key (the master key), bound to its subject:
/// `nonce ‖ ciphertext ‖ tag`.
pub(crate) fn wrap(kek: &[u8; 32], subject: Uuid, key: &DataKey) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(kek.into());
    let nonce: [u8; NONCE] = rand::random();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.bytes(),
                aad: subject.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 encrypts 32 bytes");
    [nonce.as_slice(), &sealed].concat()
}

/// The data key [`wrap`] wrapped for `subject` under `kek`.
pub(crate) fn unwrap(
    kek: &[u8; 32],
    subject: Uuid,
    wrapped: &[u8],
) -> Result<DataKey, CipherError> {
    if wrapped.len() < NONCE {
        return Err(CipherError::NotAnEnvelope);
    }
    let (nonce, sealed) = wrapped.split_at(NONCE);
    let cipher = XChaCha20Poly1305::new(kek.into());
    let plain = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: subject.as_bytes(),
            },
        )
        .map_err(|_| CipherError::Forged)?;
    let bytes: [u8; 32] = plain.try_into().map_err(|_| CipherError::Forged)?;
    Ok(DataKey(bytes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_sealed_field_opens_only_with_its_key_in_its_place() {
        let (key, other) = (DataKey::generate(), DataKey::generate());
        let (subject, event) = (Uuid::new_v4(), Uuid::new_v4());
        let address = json!({"line1": "1 Main St", "city": "Springfield"});
        let aad = associated_data(event, "/shipping_address");
        let envelope = seal(&key, subject, &aad, &address);
        assert!(envelope.starts_with(&format!("um:enc:1:{subject}:")));
        assert!(!envelope.contains("Springfield"));
        assert_eq!(subject_of(&Value::String(envelope.clone())), Some(subject));
        assert_eq!(open(&key, &envelope, &aad), Ok(address.clone()));

        assert_eq!(open(&other, &envelope, &aad), Err(CipherError::Forged));
        let elsewhere = associated_data(Uuid::new_v4(), "/shipping_address");
        assert_eq!(open(&key, &envelope, &elsewhere), Err(CipherError::Forged));
        let other_field = associated_data(event, "/billing_address");
        assert_eq!(
            open(&key, &envelope, &other_field),
            Err(CipherError::Forged)
        );
        // One character of the ciphertext changed (not the last: its spare bits would make
        // it invalid base64 rather than a forgery).
        let mut tampered = envelope.clone().into_bytes();
        let at = tampered.len() - 10;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(open(&key, &tampered, &aad), Err(CipherError::Forged));
        assert_eq!(
            open(&key, "ann@example.com", &aad),
            Err(CipherError::NotAnEnvelope)
        );
        assert_eq!(subject_of(&json!("ann@example.com")), None);
        // A retry seals to the same bytes; the same value elsewhere does not.
        assert_eq!(seal(&key, subject, &aad, &address), envelope);
        let other_event = associated_data(Uuid::new_v4(), "/shipping_address");
        assert_ne!(seal(&key, subject, &other_event, &address), envelope);
        assert_ne!(seal(&key, subject, &aad, &json!({"line1": "2"})), envelope);
    }

    #[test]
    fn a_wrapped_key_unwraps_only_for_its_subject_under_its_master() {
        let (kek, other_kek) = (rand::random::<[u8; 32]>(), rand::random::<[u8; 32]>());
        let (subject, key) = (Uuid::new_v4(), DataKey::generate());
        let wrapped = wrap(&kek, subject, &key);
        assert_eq!(unwrap(&kek, subject, &wrapped), Ok(key));
        assert_eq!(
            unwrap(&other_kek, subject, &wrapped),
            Err(CipherError::Forged)
        );
        assert_eq!(
            unwrap(&kek, Uuid::new_v4(), &wrapped),
            Err(CipherError::Forged)
        );
    }
}
