//! Who may operate, the switch that makes the console and the admin API read-only, and
//! the reason every changing action records.

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

/// Longest reason an action keeps.
const MAX_REASON: usize = 500;

/// The reason given for a changing action, trimmed; a 422 naming `reason` when it is
/// blank or longer than 500 characters.
pub fn reason(text: &str) -> Result<&str, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON {
        return Err(ApiError::invalid_field(
            "reason",
            "say why, in 1 to 500 characters: it is recorded with the action",
        ));
    }
    Ok(text)
}
