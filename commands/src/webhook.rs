//! Signed webhooks, whoever sends them (a payment provider, a carrier): the signature
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` and its time window.
//!
//! The signature covers the timestamp, so a captured request cannot be sent again later
//! with a fresh time; the window bounds how long one can be replayed as it is. Each
//! receiver keeps its own replay cache in PostgreSQL (`payment::ReplayCache` by
//! signature, `shipping`'s by the carrier's webhook id), so every gateway process refuses
//! what another one took.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far ahead of our clock a signature's time may be: the provider's clock and ours
/// differ a little, but a time further ahead would stretch the window of a replay.
pub const FUTURE_SKEW: Duration = Duration::from_secs(30);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing or malformed (expected t=<unix seconds>,v1=<hex>)")]
    Malformed,
    #[error("the signature does not match the body")]
    BadSignature,
    #[error("the signature is {0} s old, beyond the tolerance")]
    Stale(i64),
    #[error("the signature's time is {0} s ahead of the server's clock")]
    Future(i64),
    #[error("this signature was received before")]
    Replayed,
}

/// Signs and checks provider webhooks: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
/// so a captured body cannot be replayed later or altered.
pub struct WebhookSigner {
    secret: Vec<u8>,
    tolerance: Duration,
}

impl WebhookSigner {
    pub fn new(secret: impl Into<Vec<u8>>, tolerance: Duration) -> Self {
        WebhookSigner {
            secret: secret.into(),
            tolerance,
        }
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    pub fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        let t = at.timestamp();
        let tag = self.mac(t, body).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("t={t},v1={hex}")
    }

    /// Checks `header` against `body` at `now`; answers the signature's tag (hex), the key
    /// of the replay cache. The tag is checked before the time, so a sender without the
    /// secret learns nothing from the answer.
    pub fn verify(
        &self,
        header: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, WebhookError> {
        let mut t = None;
        let mut v1 = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = v.parse::<i64>().ok(),
                Some(("v1", v)) => v1 = decode_hex(v).map(|bytes| (v.to_ascii_lowercase(), bytes)),
                _ => {}
            }
        }
        let (Some(t), Some((tag, v1))) = (t, v1) else {
            return Err(WebhookError::Malformed);
        };
        // The comparison inside `verify_slice` takes constant time.
        self.mac(t, body)
            .verify_slice(&v1)
            .map_err(|_| WebhookError::BadSignature)?;
        let age = now.timestamp().saturating_sub(t);
        if age > 0 && age.unsigned_abs() > self.tolerance.as_secs() {
            return Err(WebhookError::Stale(age));
        }
        if age < 0 && age.unsigned_abs() > FUTURE_SKEW.as_secs() {
            return Err(WebhookError::Future(-age));
        }
        Ok(tag)
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_are_signed_and_checked_in_their_window() {
        let signer = WebhookSigner::new(b"whsec_test".to_vec(), Duration::from_secs(300));
        let now = Utc::now();
        let body = br#"{"type":"payment.captured","order_id":"x"}"#;
        let header = signer.sign(body, now);
        let tag = header.split_once("v1=").unwrap().1.to_owned();
        assert_eq!(signer.verify(&header, body, now), Ok(tag));
        assert_eq!(
            signer.verify(
                &header,
                br#"{"type":"payment.captured","order_id":"y"}"#,
                now
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            signer.verify(&header, body, now + chrono::Duration::minutes(10)),
            Err(WebhookError::Stale(600))
        );
        // Signed 10 minutes ahead of our clock: refused, not taken as "10 minutes old".
        let ahead = signer.sign(body, now + chrono::Duration::minutes(10));
        assert_eq!(
            signer.verify(&ahead, body, now),
            Err(WebhookError::Future(600))
        );
        // A few seconds of clock skew pass.
        let skewed = signer.sign(body, now + chrono::Duration::seconds(5));
        assert!(signer.verify(&skewed, body, now).is_ok());
        assert_eq!(
            signer.verify("v1=zz", body, now),
            Err(WebhookError::Malformed)
        );
        let other = WebhookSigner::new(b"another".to_vec(), Duration::from_secs(300));
        assert_eq!(
            other.verify(&header, body, now),
            Err(WebhookError::BadSignature)
        );
    }
}
