//! [`CartOwner`]: whose cart a request acts on, from its headers. A bearer token decides
//! (and must be valid); without one the caller is a guest, known by the token of
//! `X-Guest-Cart` once their first line gave them one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use commands::cart::Shopper;
use commands::handler::Actor;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The header that carries a guest's cart token.
pub const GUEST_HEADER: &str = "x-guest-cart";

/// Whose cart a request acts on.
#[derive(Debug, Clone)]
pub enum CartOwner {
    User(AuthUser),
    /// A guest, by the token of `X-Guest-Cart`; `None` when they sent none yet.
    Guest(Option<Uuid>),
}

impl CartOwner {
    /// The owner as the cart's use cases know them.
    pub fn shopper(&self) -> Shopper {
        match self {
            CartOwner::User(u) => Shopper::Customer(u.user_id),
            CartOwner::Guest(token) => Shopper::Guest(*token),
        }
    }

    /// Who acts, as command metadata records it.
    pub fn actor(&self) -> Actor {
        match self {
            CartOwner::User(u) => u.actor(),
            CartOwner::Guest(_) => Actor {
                user_id: None,
                role: "guest".into(),
            },
        }
    }
}

fn guest_token(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    headers
        .get(GUEST_HEADER)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|t| Uuid::parse_str(t.trim()).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_guest_cart",
                        "X-Guest-Cart must be the token a cart answer gave",
                    )
                })
        })
        .transpose()
}

impl FromRequestParts<AppState> for CartOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return AuthUser::from_request_parts(parts, state)
                .await
                .map(CartOwner::User);
        }
        guest_token(&parts.headers).map(CartOwner::Guest)
    }
}
