//! The tokens of verification and reset links.
//!
//! What a user receives is `base64url(user id ‖ token id ‖ HMAC-SHA256(secret, purpose ‖
//! user id ‖ token id)[..16])`, unpadded so it sits in a URL's query without escaping. The
//! user's stream records only the token id and its expiry; the gateway checks the MAC before
//! it sends `ConfirmEmail` or `ResetPassword`, and the notifier computes the same token
//! again when it renders a link, so no secret is ever stored, in the log or in a read model.
//!
//! So the token exists in one place only: in the message the notifier hands to its
//! transport, at send time. The events, NATS, exports and the `notifications` read model
//! carry the token id, which opens nothing without this key; the outbox API renders links
//! withheld (`domain::notification::Links::Withheld`) and holds no way to sign one.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::id::UserId;
use domain::notification::LinkTokens;
use domain::user::{TokenId, TokenPurpose};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Bytes of the MAC kept in a token: 128 bits, beyond guessing within a token's lifetime.
const TAG_LEN: usize = 16;
const TOKEN_LEN: usize = 16 + 16 + TAG_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
}

/// Issues and opens the tokens of verification and reset links.
#[derive(Clone)]
pub struct EmailTokens {
    secret: Arc<[u8]>,
}

impl std::fmt::Debug for EmailTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailTokens(***)")
    }
}

impl EmailTokens {
    /// Tokens keyed by `secret` (the engine uses `JWT_SECRET`; the purpose prefix inside
    /// the MAC keeps the two uses apart).
    pub fn new(secret: &[u8]) -> Self {
        EmailTokens {
            secret: secret.into(),
        }
    }

    fn tag(&self, purpose: TokenPurpose, user: Uuid, token: Uuid) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"ultramarket-email-token:v1:");
        mac.update(purpose.as_str().as_bytes());
        mac.update(user.as_bytes());
        mac.update(token.as_bytes());
        mac
    }

    /// The token the user receives for `token_id`.
    pub fn issue(&self, purpose: TokenPurpose, user: UserId, token_id: TokenId) -> String {
        let (user, token) = (user.as_uuid(), token_id.as_uuid());
        let tag = self.tag(purpose, user, token).finalize().into_bytes();
        let mut raw = Vec::with_capacity(TOKEN_LEN);
        raw.extend_from_slice(user.as_bytes());
        raw.extend_from_slice(token.as_bytes());
        raw.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The user and token id inside `token`, once its MAC for `purpose` checks out.
    pub fn open(
        &self,
        purpose: TokenPurpose,
        token: &str,
    ) -> Result<(UserId, TokenId), TokenError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| TokenError::Malformed)?;
        if raw.len() != TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let user = Uuid::from_slice(&raw[..16]).map_err(|_| TokenError::Malformed)?;
        let id = Uuid::from_slice(&raw[16..32]).map_err(|_| TokenError::Malformed)?;
        // `verify_truncated_left` compares in constant time.
        self.tag(purpose, user, id)
            .verify_truncated_left(&raw[32..])
            .map_err(|_| TokenError::BadSignature)?;
        Ok((UserId::new(user), TokenId::new(id)))
    }
}

/// The notifier signs the links it renders with the same key the gateway opens them with.
impl LinkTokens for EmailTokens {
    fn issue(&self, purpose: TokenPurpose, user: UserId, token_id: TokenId) -> String {
        EmailTokens::issue(self, purpose, user, token_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::notification::{link_of, token_of, Links, Template};

    #[test]
    fn tokens_are_unpadded_base64url() {
        let tokens = EmailTokens::new(b"k");
        for _ in 0..50 {
            let token = tokens.issue(
                TokenPurpose::VerifyEmail,
                UserId::new(Uuid::new_v4()),
                TokenId::new(Uuid::new_v4()),
            );
            assert_eq!(token.len(), 64);
            assert!(!token.contains(['+', '/', '=']), "{token}");
        }
        assert_eq!(URL_SAFE_NO_PAD.encode(b"\xfb\xff"), "-_8");
        for garbage in ["a", "ab*d", "abc="] {
            assert_eq!(
                tokens.open(TokenPurpose::VerifyEmail, garbage),
                Err(TokenError::Malformed)
            );
        }
    }

    #[test]
    fn tokens_open_only_with_their_secret_and_purpose() {
        let tokens = EmailTokens::new(b"secret one");
        let user = UserId::new(Uuid::new_v4());
        let id = TokenId::new(Uuid::new_v4());
        let token = tokens.issue(TokenPurpose::VerifyEmail, user, id);
        assert_eq!(token.len(), 64);
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, &token),
            Ok((user, id))
        );
        assert_eq!(
            tokens.open(TokenPurpose::ResetPassword, &token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            EmailTokens::new(b"secret two").open(TokenPurpose::VerifyEmail, &token),
            Err(TokenError::BadSignature)
        );
        // Another user's id with this tag.
        let mut forged = URL_SAFE_NO_PAD.decode(&token).unwrap();
        forged[0] ^= 1;
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, &URL_SAFE_NO_PAD.encode(forged)),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, "short"),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn links_carry_the_recomputed_token() {
        let tokens = EmailTokens::new(b"k");
        let user = Uuid::new_v4();
        let token_id = Uuid::new_v4();
        let data =
            serde_json::json!({ "user_id": user, "token_id": token_id, "first_name": "Ann" });
        let body = Template::VerifyEmail
            .body(&data, "https://shop.example/", Links::Signed(&tokens))
            .unwrap();
        let link = link_of(&body).unwrap();
        assert!(link.starts_with("https://shop.example/verify-email?token="));
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, token_of(link).unwrap()),
            Ok((UserId::new(user), TokenId::new(token_id)))
        );
        assert!(body.starts_with("Hello Ann,"));
    }
}
