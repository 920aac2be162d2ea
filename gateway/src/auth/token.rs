//! Access tokens: short-lived HS256 JWTs naming the user, the role and the account's
//! security version, and the extractor that turns `Authorization: Bearer ...` into an
//! [`AuthUser`] or a 401. A token whose version is behind the account's (see `stamps`) was
//! cut by a demotion, a suspension, a new password or signing out everywhere.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::user::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The roles that run the shop.
pub const STAFF: &[Role] = &[Role::Staff, Role::Admin];

pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    pub role: Role,
    /// The account's security version when the token was issued. Tokens from before
    /// versions existed read as 0, which holds only while the account has changed nothing.
    #[serde(default)]
    pub sv: u32,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

pub fn issue_access_token(
    secret: &[u8],
    user: Uuid,
    role: Role,
    security_version: u32,
    now: i64,
) -> Result<String, ApiError> {
    let claims = Claims {
        sub: user,
        role,
        sv: security_version,
        iat: now,
        exp: now + ACCESS_TOKEN_TTL.as_secs() as i64,
        jti: Uuid::new_v4(),
    };
    // Only an empty secret is refused here, and the config never lets one through.
    let key = EncodingKey::from_secret(secret).map_err(ApiError::internal)?;
    encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(ApiError::internal)
}

/// The caller, from a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub role: Role,
}

impl AuthUser {
    /// Who acts, as command metadata records it.
    pub fn actor(&self) -> commands::handler::Actor {
        commands::handler::Actor {
            user_id: Some(self.user_id),
            role: self.role.as_str().into(),
        }
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(Role::as_str)
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }
}

/// A caller acting as a customer without an access token: a registrant, or whoever holds
/// an e-mailed link of `user_id`.
pub fn customer(user_id: Option<Uuid>) -> commands::handler::Actor {
    commands::handler::Actor {
        user_id,
        role: Role::Customer.as_str().into(),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized(
                "an Authorization: Bearer <access_token> header is required".into(),
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the Authorization header must be Bearer <access_token>".into(),
                )
            })?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        // An empty secret (the only refusal) is our fault, not the caller's: a 500.
        let key = DecodingKey::from_secret(state.jwt_secret.expose().as_bytes())
            .map_err(ApiError::internal)?;
        let data =
            decode::<Claims>(token.trim(), &key, &validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::Unauthorized("the access token has expired; refresh it".into())
                }
                _ => ApiError::Unauthorized("the access token is not valid".into()),
            })?;
        let claims = data.claims;
        match state.stamps.current(claims.sub).await? {
            None => Err(ApiError::Unauthorized(
                "the access token names no account".into(),
            )),
            Some(stamp) if stamp.version != claims.sv || stamp.suspended => {
                Err(ApiError::Unauthorized(
                    "the access token was revoked (the account's role, status or password \
                     changed, or it signed out everywhere); sign in again"
                        .into(),
                ))
            }
            Some(_) => Ok(AuthUser {
                user_id: claims.sub,
                role: claims.role,
            }),
        }
    }
}
