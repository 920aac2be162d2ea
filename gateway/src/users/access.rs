//! Who may see and change which account: admins any, everyone else only their own.

use domain::user::Role;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::ApiError;

pub const ADMINS: &[Role] = &[Role::Admin];

/// 404 unless the caller is an admin or `id` is the caller: another's account is not
/// shown to exist, so ids cannot be probed.
pub fn self_or_admin(user: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    if user.role == Role::Admin || user.user_id == id {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such user".into()))
    }
}
