//! [`Viewer`]: the maybe-authenticated caller of a public read. Browsing needs no account,
//! but what an answer shows may depend on who asks (staff see drafts and stock counts, a
//! vendor their own drafts), and a token that is sent must be valid.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::user::Role;
use uuid::Uuid;

use super::token::{AuthUser, STAFF};
use crate::error::ApiError;
use crate::state::AppState;

/// Who is browsing: anyone, or the holder of a valid token. A token that is sent must be
/// valid (401 otherwise): a client that believes it is signed in should learn it is not.
pub struct Viewer(pub Option<AuthUser>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(Viewer(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|u| Viewer(Some(u)))
    }
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.0.as_ref().is_some_and(|u| STAFF.contains(&u.role))
    }

    /// The vendor's user id, when a vendor is browsing.
    pub fn vendor(&self) -> Option<Uuid> {
        self.0
            .as_ref()
            .filter(|u| u.role == Role::Vendor)
            .map(|u| u.user_id)
    }

    /// What answers may differ by: a cache keeps one answer per audience.
    pub fn audience(&self) -> String {
        if self.is_staff() {
            "staff".into()
        } else if let Some(v) = self.vendor() {
            format!("vendor:{v}")
        } else {
            "public".into()
        }
    }
}
