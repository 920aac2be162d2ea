//! The confirm step every changing action goes through: a page that says what will
//! happen, asks why (the reason is recorded with the action), and posts the session's
//! form token with it. No script asks; the page is the question.

use axum::extract::rejection::FormRejection;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::page::PageError;
use super::session::Signed;
use crate::error::ApiError;
use crate::state::AppState;

/// What a confirm form sends.
#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub csrf: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// The form, after its CSRF token and the read-only switch are checked.
pub fn accepted(
    state: &AppState,
    signed: &Signed,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<ReasonForm, PageError> {
    let Form(form) = body.map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?;
    signed.check_csrf(form.csrf.as_deref())?;
    crate::operations::writable(state)?;
    Ok(form)
}

/// The confirm form: `what` says what will happen, the reason field asks why, the
/// button (`label`) posts to `action`; "Cancel" leads back to `back`.
pub fn form(
    signed: &Signed,
    action: &str,
    label: &str,
    back: &str,
    reason: &str,
    what: Markup,
) -> Markup {
    form_with(signed, action, label, back, reason, what, html! {})
}

/// [`form`] for an action that takes values: `fields` go into the form, above the reason.
pub fn form_with(
    signed: &Signed,
    action: &str,
    label: &str,
    back: &str,
    reason: &str,
    what: Markup,
    fields: Markup,
) -> Markup {
    html! {
        section.confirm aria-labelledby="confirm-heading" {
            h2 #confirm-heading { "Confirm" }
            (what)
            form.confirm method="post" action=(action) hx-boost="false" {
                input type="hidden" name="csrf" value=(signed.csrf);
                (fields)
                div.field {
                    label for="reason" { "Reason (recorded with the action)" }
                    input #reason name="reason" type="text" value=(reason) required maxlength="500" autocomplete="off";
                }
                div.buttons {
                    button #confirm type="submit" { (label) }
                    a.cancel href=(back) { "Cancel" }
                }
            }
        }
    }
}

/// The notice on every operations page of a read-only console.
pub fn read_only_notice(state: &AppState) -> Markup {
    html! {
        @if state.config.console_read_only {
            p.notice #read-only role="status" {
                "This console is read-only (CONSOLE_READ_ONLY): it shows everything and changes nothing."
            }
        }
    }
}
