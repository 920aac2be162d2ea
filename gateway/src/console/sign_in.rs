//! `/admin/login` and `/admin/logout`: the console's sign-in form, its answer, and
//! signing out.

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use maud::html;
use serde::Deserialize;

use super::page::{error_page, html, layout, PageError};
use super::session::{
    check_csrf, cookie, random_token, session_cookie, set_cookie, Signed, CONSOLE_ROLES,
    LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::auth::{sign_in, sign_out, Caller, Claims};
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a console path, nothing else (an open redirect would let
/// a link sign someone in and send them elsewhere).
fn next_or_home(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin") && !n.contains("//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => "/admin".into(),
    }
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

/// The form, with `error` above it when the last try failed.
fn form(status: StatusCode, csrf: &str, next: &str, error: Option<&str>, email: &str) -> Response {
    let body = html! {
        @if let Some(e) = error {
            p.error #problem role="alert" { (e) }
        }
        form.signin method="post" action="/admin/login" hx-boost="false" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            label for="email" { "E-mail" }
            input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.hint { "The same account as the API. Staff, admins, auditors and analysts may sign in." }
    };
    html(status, layout("Sign in", None, body))
}

/// `GET /admin/login`: the form, with a fresh CSRF cookie; to the console when a session
/// is live already.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let next = next_or_home(q.next.as_deref());
    if Signed::of(&state, &headers).await?.is_some() {
        return Ok(see_other(&next));
    }
    let csrf = random_token();
    let mut page = form(StatusCode::OK, &csrf, &next, None, "");
    let set = set_cookie(&state, &headers, LOGIN_COOKIE, &csrf, 3600);
    page.headers_mut()
        .insert(SET_COOKIE, set.parse().map_err(ApiError::internal)?);
    Ok(page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/login`: signs in through the API's own sign-in, refuses a role the
/// console is not for (and ends the session it just began), and starts the console
/// session.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: RequestId,
    ip: ClientIp,
    body: Result<Form<SignInForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(body) = body.map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?;
    let expected = cookie(&headers, LOGIN_COOKIE);
    check_csrf(expected.as_deref(), body.csrf.as_deref())?;
    let csrf = expected.unwrap_or_default();
    let next = next_or_home(body.next.as_deref());
    let caller = Caller {
        request: &request,
        ip: &ip,
    };
    let pair = match sign_in(&state, &body.email, body.password, caller).await {
        Ok(pair) => pair,
        // A wrong password, a suspended account, too many failures: said on the form.
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            return Ok(form(
                status,
                &csrf,
                &next,
                Some(&e.to_string()),
                &body.email,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // The token was issued just now, with our key: its claims are the signed-in account's.
    let key = DecodingKey::from_secret(state.jwt_secret.expose().as_bytes())
        .map_err(ApiError::internal)?;
    let claims = decode::<Claims>(&pair.access_token, &key, &Validation::new(Algorithm::HS256))
        .map_err(ApiError::internal)?
        .claims;
    if !CONSOLE_ROLES.contains(&claims.role) {
        let caller = Caller {
            request: &request,
            ip: &ip,
        };
        sign_out(&state, &pair.refresh_token, caller).await?;
        return Ok(error_page(&ApiError::Forbidden(format!(
            "the console is for staff, admins, auditors and analysts; a {} account cannot use it",
            claims.role.as_str()
        ))));
    }
    super::session::open(
        &state,
        &pair.refresh_token,
        claims.sub,
        claims.role,
        claims.sv,
    )
    .await?;
    let mut answer = see_other(&next);
    let cookies = answer.headers_mut();
    let session = session_cookie(&state, &headers, &pair.refresh_token);
    cookies.append(SET_COOKIE, session.parse().map_err(ApiError::internal)?);
    let spent = set_cookie(&state, &headers, LOGIN_COOKIE, "", 0);
    cookies.append(SET_COOKIE, spent.parse().map_err(ApiError::internal)?);
    Ok(answer)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/logout`: ends the session (its refresh token's family, which the log
/// records) and forgets the cookie.
pub async fn sign_out_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: RequestId,
    ip: ClientIp,
    signed: Signed,
    body: Result<Form<SignOutForm>, FormRejection>,
) -> Result<Response, PageError> {
    let given = body.ok().and_then(|Form(f)| f.csrf);
    signed.check_csrf(given.as_deref())?;
    let caller = Caller {
        request: &request,
        ip: &ip,
    };
    sign_out(&state, &signed.refresh_token, caller).await?;
    super::session::close(&state, &signed.refresh_token).await?;
    let mut answer = see_other("/admin/login");
    let gone = set_cookie(&state, &headers, SESSION_COOKIE, "", 0);
    answer
        .headers_mut()
        .insert(SET_COOKIE, gone.parse().map_err(ApiError::internal)?);
    Ok(answer)
}
