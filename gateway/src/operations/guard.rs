//! Who may operate, and the switch that makes the console and the admin API read-only.

use domain::user::Role;

use crate::error::ApiError;
use crate::state::AppState;

/// Who reads the operations pages and acts on them: the people who run the shop.
pub const OPERATORS: &[Role] = &[Role::Staff, Role::Admin];

/// A 403 `read_only` when `CONSOLE_READ_ONLY` is set: a production console that shows
/// everything and changes nothing, whoever asks. Every changing admin route and console
/// form asks this first.
pub fn writable(state: &AppState) -> Result<(), ApiError> {
    if state.config.console_read_only {
        Err(ApiError::Refused {
            code: "read_only",
            detail: "the console and the admin API are read-only here (CONSOLE_READ_ONLY is \
                     set): nothing can be changed through them"
                .into(),
        })
    } else {
        Ok(())
    }
}
