//! What the commerce pages' forms share: reading a sent form (its CSRF token, the
//! read-only switch, its reason), amounts typed as people write them, and how an action's
//! answer becomes a page: a redirect to what it changed, or the form again under its
//! refusal.

use axum::extract::rejection::FormRejection;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::Markup;
use serde::de::DeserializeOwned;

use super::confirm::ReasonForm;
use super::page::{html, layout, problem, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::state::AppState;

/// Every changing form carries these two.
pub trait Confirmed {
    fn csrf(&self) -> Option<&str>;
    fn reason(&self) -> &str;
}

impl Confirmed for ReasonForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

/// The form, once its token, the read-only switch and its reason are checked: the form and
/// the reason, trimmed. A bad reason is the caller's to show with the form (`Err(Ok)`).
pub fn accepted<F: DeserializeOwned + Confirmed>(
    state: &AppState,
    signed: &Signed,
    body: Result<Form<F>, FormRejection>,
) -> Result<(F, Result<String, ApiError>), PageError> {
    let Form(form) = body.map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?;
    signed.check_csrf(form.csrf())?;
    crate::operations::writable(state)?;
    let reason = crate::operations::reason(form.reason()).map(str::to_owned);
    Ok((form, reason))
}

/// A `303 See Other` to `to`: the page of what the action changed, read afresh.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// The answer to a sent form: `done` on success; a refusal of the request (a bad field, a
/// rule) shows the form again (`again`, with what was sent) under the problem; a 403 or a
/// failure of ours is an error page.
pub fn answered(
    signed: &Signed,
    title: &str,
    result: Result<Response, ApiError>,
    again: impl FnOnce() -> Markup,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => Ok(done),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let body = maud::html! { (problem(&e)) (again()) };
            Ok(html(
                e.status(),
                layout(title, Some(&signed.viewer()), body),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// An amount typed as people write it (`45`, `45.5`, `1,045.00`) in minor units of a
/// two-decimal currency, as `Money`'s display shows it; a 422 naming `field` otherwise.
pub fn amount(field: &str, text: &str) -> Result<i64, ApiError> {
    let bad =
        || ApiError::invalid_field(field, "an amount such as 45.00, with at most two decimals");
    let text = text.trim().replace(',', "");
    let (whole, cents) = match text.split_once('.') {
        Some((w, c)) => (w, c),
        None => (text.as_str(), ""),
    };
    if whole.is_empty() && cents.is_empty() {
        return Err(bad());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(cents) || cents.len() > 2 || whole.len() > 12 {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    Ok(whole * 100 + cents)
}

/// A whole number in `min..=max`; a 422 naming `field` otherwise.
pub fn whole(field: &str, text: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_field(field, format!("a whole number from {min} to {max}"))
        })
}

/// `Some(text)` unless blank.
pub fn given(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_people_write_them() {
        assert_eq!(amount("price", "45").unwrap(), 4_500);
        assert_eq!(amount("price", "45.5").unwrap(), 4_550);
        assert_eq!(amount("price", " 1,045.07 ").unwrap(), 104_507);
        assert_eq!(amount("price", ".99").unwrap(), 99);
        for bad in ["", ".", "4.567", "-3", "12a", "1e3"] {
            assert!(amount("price", bad).is_err(), "{bad:?}");
        }
        assert_eq!(whole("quantity", " 7 ", 1, 10).unwrap(), 7);
        assert!(whole("quantity", "0", 1, 10).is_err());
    }
}
